/* Recent indicators: the follow-up series against the baseline (Chart.js, through
 * the helpers of charts.js, so numbers, dates and right-to-left layouts behave
 * as on the poll pages), the sum / average / rate switch, and the indicator
 * form's question lists, which follow the chosen poll without a reload.
 */
(function () {
  "use strict";

  var text = (document.getElementById("chart-text") || {dataset: {}}).dataset;
  var MODE_LABELS = {sum: text.sum, average: text.average, rate: text.rate};
  var BASELINE_COLOUR = "#212529";

  // The form: each question list offers only the chosen poll's questions -------------------

  function questionLists() {
    document.querySelectorAll("select[data-poll-field]").forEach(function (select) {
      var poll = document.getElementById("id_" + select.dataset.pollField);
      if (!poll) { return; }
      var options = Array.prototype.slice.call(select.options);
      var sync = function () {
        var chosen = select.value;
        var offered = options.filter(function (option) {
          return !option.value || option.dataset.poll === poll.value;
        });
        select.replaceChildren.apply(select, offered);
        var kept = offered.some(function (option) { return option.value === chosen; });
        select.value = kept ? chosen : "";
        select.disabled = !poll.value;
      };
      poll.addEventListener("change", sync);
      sync();
    });
  }

  // The chart ---------------------------------------------------------------------------

  function datasets(data, mode) {
    var charts = window.TracProCharts;
    var figures = data.modes[mode];
    var stacked = mode === "sum";
    var found = figures.series.map(function (series, index) {
      return {
        label: series.label,
        data: series.data,
        borderColor: charts.colour(index),
        backgroundColor: charts.colour(index) + (stacked ? "66" : "33"),
        fill: stacked ? (index === 0 ? "origin" : "-1") : false,
        stack: "regions",
        spanGaps: true,
        tension: 0.2,
        pointRadius: 3,
        pointHoverRadius: 5
      };
    });
    if (!stacked) {
      found.push({label: text.all, data: figures.total, borderColor: "#6c757d", borderWidth: 3,
                  fill: false, stack: "total", spanGaps: true, tension: 0.2, pointRadius: 3});
    }
    if (figures.baseline !== null) {
      var goal = stacked && data.summary.goal !== null;
      found.push({
        label: goal ? text.goal : text.baseline,
        data: data.dates.map(function () { return figures.baseline; }),
        borderColor: BASELINE_COLOUR,
        borderDash: [6, 4],
        borderWidth: 2,
        fill: false,
        pointRadius: 0,
        stack: "baseline"
      });
    }
    return found;
  }

  function configure(chart, data, mode) {
    var charts = window.TracProCharts;
    chart.data.datasets = datasets(data, mode);
    chart.options.scales.y.stacked = mode === "sum";
    chart.options.scales.y.title = {display: Boolean(data.y_title || MODE_LABELS[mode]),
                                    text: mode === "sum" && data.y_title ? data.y_title : MODE_LABELS[mode]};
    chart.options.plugins.tooltip.callbacks.label = charts.tooltipNumber(mode === "rate" ? "%" : "");
  }

  function draw(canvas) {
    var charts = window.TracProCharts;
    var source = document.getElementById(canvas.dataset.source);
    if (!source || !charts || typeof Chart === "undefined") { return null; }
    var data = JSON.parse(source.textContent);
    var labels = data.dates.map(function (date) {
      return charts.formatDate(date.date) + (date.spoofed ? " (" + text.spoofed + ")" : "");
    });
    var options = charts.baseOptions({
      onClick: function (event, elements) {
        var date = elements.length && data.dates[elements[0].index];
        if (date && date.url) { window.location.href = date.url; }
      }
    });
    options.plugins.tooltip.callbacks = {};
    var chart = new Chart(canvas, {type: "line", data: {labels: labels, datasets: []}, options: options});
    configure(chart, data, data.numeric || "sum");
    chart.update();
    return {chart: chart, data: data};
  }

  function switchMode(drawn, mode) {
    configure(drawn.chart, drawn.data, mode);
    drawn.chart.update();
    document.querySelectorAll(".js-indicator-numeric [data-numeric]").forEach(function (button) {
      var active = button.dataset.numeric === mode;
      button.classList.toggle("active", active);
      if (active) { button.setAttribute("aria-current", "true"); } else { button.removeAttribute("aria-current"); }
    });
    document.querySelectorAll(".js-mode-table").forEach(function (table) {
      table.hidden = table.dataset.mode !== mode;
    });
    document.querySelectorAll('.filter-bar input[name="numeric"]').forEach(function (input) { input.value = mode; });
    var url = new URL(window.location.href);
    url.searchParams.set("numeric", mode);
    window.history.replaceState(null, "", url);
    document.querySelectorAll(".js-export-links a[download]").forEach(function (link) {
      var target = new URL(link.getAttribute("href"), window.location.href);
      target.searchParams.set("numeric", mode);
      link.setAttribute("href", target.search);
    });
  }

  function init() {
    questionLists();
    var drawn = [];
    document.querySelectorAll("canvas.js-indicator-chart").forEach(function (canvas) {
      var result = draw(canvas);
      if (result) { drawn.push(result); }
    });
    if (drawn.length !== 1) { return; }
    document.querySelectorAll(".js-indicator-numeric [data-numeric]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        switchMode(drawn[0], button.dataset.numeric);
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
