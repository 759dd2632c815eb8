/* TracPro charts: draws the page's chart data (#chart-data, built by
 * tracpro.charts.poll_charts) with Chart.js and wordcloud2.js.
 *
 * Numbers are formatted for the page language and never abbreviated
 * (1,000,000, not 1M). In right-to-left languages legends and tooltips read
 * right to left and time runs from right to left.
 */
(function () {
  "use strict";

  var root = document.documentElement;
  var rtl = document.dir === "rtl" || root.dir === "rtl";
  var lang = root.lang || "en";
  var text = (document.getElementById("chart-text") || {dataset: {}}).dataset;
  // Latin digits and the Gregorian calendar, like the figures and dates the
  // server writes in tables and exports.
  var numbers = new Intl.NumberFormat(lang, {maximumFractionDigits: 1, numberingSystem: "latn"});
  var days = new Intl.DateTimeFormat(lang, {day: "numeric", month: "short", year: "numeric",
                                            timeZone: "UTC", calendar: "gregory", numberingSystem: "latn"});

  // Colour-blind friendly (Okabe-Ito, then Tableau); "Other" is always grey.
  var PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
                 "#F0E442", "#4E79A7", "#59A14F", "#B07AA1", "#9C755F", "#76B7B2"];
  var OTHER_COLOUR = "#9aa0a6";
  // "No response" (an admin's choice per question) stands apart: pale, outlined.
  var NO_RESPONSE_COLOUR = "#f1f3f5";
  var NO_RESPONSE_BORDER = "#6c757d";

  function colour(index, name) {
    return name === "Other" ? OTHER_COLOUR : PALETTE[index % PALETTE.length];
  }

  function formatNumber(value) {
    return value === null || value === undefined ? "–" : numbers.format(value);
  }

  function formatDate(iso) {
    return days.format(new Date(iso + "T00:00:00Z"));
  }

  function readData() {
    var node = document.getElementById("chart-data");
    return node ? JSON.parse(node.textContent) : null;
  }

  function baseOptions(extra) {
    var options = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      locale: lang,
      interaction: {mode: "index", intersect: false},
      plugins: {
        legend: {position: "bottom", rtl: rtl, textDirection: rtl ? "rtl" : "ltr"},
        tooltip: {rtl: rtl, textDirection: rtl ? "rtl" : "ltr"}
      },
      scales: {
        x: {reverse: rtl, ticks: {autoSkip: true, maxRotation: 0}},
        y: {position: rtl ? "right" : "left", beginAtZero: true,
            ticks: {callback: function (value) { return numbers.format(value); }}}
      }
    };
    return Object.assign(options, extra || {});
  }

  function tooltipNumber(suffix) {
    return function (item) {
      var label = item.dataset.label ? item.dataset.label + ": " : "";
      return label + formatNumber(item.parsed.y) + (suffix || "");
    };
  }

  // Poll page: one chart per question across the poll dates ------------------------------

  var NUMERIC_LABELS = {sum: text.sum, average: text.average, rate: text.rate};

  function numericDatasets(question, mode) {
    return question.series[mode].map(function (series, index) {
      return {
        label: series.label || NUMERIC_LABELS[mode],
        data: series.data,
        borderColor: colour(index),
        backgroundColor: colour(index) + "33",
        fill: question.series[mode].length === 1,
        spanGaps: true,
        tension: 0.2,
        pointRadius: 4,
        pointHoverRadius: 6
      };
    });
  }

  function overTime(canvas, question, data) {
    var labels = data.dates.map(function (date) { return formatDate(date.date); });
    var onClick = function (event, elements) {
      if (elements.length) { window.location.href = data.dates[elements[0].index].url; }
    };
    if (question.type === "numeric") {
      var mode = data.numeric;
      var options = baseOptions({onClick: onClick});
      options.plugins.tooltip.callbacks = {label: tooltipNumber(mode === "rate" ? "%" : "")};
      options.plugins.legend.display = question.series[mode].length > 1;
      return new Chart(canvas, {type: "line", data: {labels: labels, datasets: numericDatasets(question, mode)}, options: options});
    }
    var datasets = question.series.map(function (series, index) {
      var dataset = {label: series.label, data: series.data, counts: series.counts,
                     backgroundColor: colour(index, series.label)};
      if (series.no_response) {
        Object.assign(dataset, {backgroundColor: NO_RESPONSE_COLOUR,
                                borderColor: NO_RESPONSE_BORDER, borderWidth: 1});
      }
      return dataset;
    });
    var stacked = baseOptions({onClick: onClick});
    stacked.scales.x.stacked = true;
    stacked.scales.y.stacked = true;
    stacked.scales.y.max = 100;
    stacked.scales.y.title = {display: true, text: text.share};
    stacked.plugins.tooltip.callbacks = {
      label: function (item) {
        var count = item.dataset.counts[item.dataIndex];
        return item.dataset.label + ": " + formatNumber(item.parsed.y) + "% (" + formatNumber(count) + ")";
      }
    };
    return new Chart(canvas, {type: "bar", data: {labels: labels, datasets: datasets}, options: stacked});
  }

  function switchNumeric(data, mode) {
    data.numeric = mode;
    data.questions.forEach(function (question) {
      if (question.type !== "numeric") { return; }
      var canvas = document.querySelector('[data-question="' + question.id + '"] canvas.js-chart');
      var chart = canvas && Chart.getChart(canvas);
      if (!chart) { return; }
      chart.data.datasets = numericDatasets(question, mode);
      chart.options.plugins.tooltip.callbacks.label = tooltipNumber(mode === "rate" ? "%" : "");
      chart.options.plugins.legend.display = question.series[mode].length > 1;
      chart.update();
    });
    document.querySelectorAll(".js-numeric-toggle [data-numeric]").forEach(function (button) {
      var active = button.dataset.numeric === mode;
      button.classList.toggle("active", active);
      if (active) { button.setAttribute("aria-current", "true"); } else { button.removeAttribute("aria-current"); }
    });
    document.querySelectorAll('.filter-bar input[name="numeric"]').forEach(function (input) { input.value = mode; });
    var url = new URL(window.location.href);
    url.searchParams.set("numeric", mode);
    window.history.replaceState(null, "", url);
  }

  // One poll date: histogram, category bars ---------------------------------------------------

  function oneDate(canvas, question) {
    var options = baseOptions();
    options.plugins.legend.display = false;
    options.scales.y.ticks.precision = 0;
    if (question.type === "numeric") {
      var labels = question.bins.map(function (bin) {
        return bin.low === bin.high ? formatNumber(bin.low) : formatNumber(bin.low) + " – " + formatNumber(bin.high);
      });
      options.plugins.tooltip.callbacks = {label: tooltipNumber("")};
      return new Chart(canvas, {type: "bar", options: options, data: {labels: labels, datasets: [{
        label: text.answers, data: question.bins.map(function (bin) { return bin.count; }),
        backgroundColor: colour(0), barPercentage: 1, categoryPercentage: 0.95}]}});
    }
    options.plugins.tooltip.callbacks = {
      label: function (item) {
        return formatNumber(item.parsed.y) + " (" + formatNumber(question.percents[item.dataIndex]) + "%)";
      }
    };
    var marked = question.no_response || [];
    return new Chart(canvas, {type: "bar", options: options, data: {labels: question.categories, datasets: [{
      label: text.answers, data: question.counts, borderWidth: 1,
      borderColor: question.categories.map(function (name, index) { return marked[index] ? NO_RESPONSE_BORDER : "transparent"; }),
      backgroundColor: question.categories.map(function (name, index) { return marked[index] ? NO_RESPONSE_COLOUR : colour(index, name); })}]}});
  }

  // Word clouds ------------------------------------------------------------------------------

  function drawWords(box, words) {
    var status = box.querySelector(".js-wordcloud-status");
    var card = box.closest("[data-question]") || document;
    var list = card.querySelector(".js-word-list");
    if (list) {
      list.replaceChildren.apply(list, words.map(function (word) {
        var item = document.createElement("li");
        item.textContent = word[0] + " (" + formatNumber(word[1]) + ")";
        return item;
      }));
    }
    if (!words.length) {
      status.textContent = text.noWords;
      return;
    }
    status.hidden = true;
    var canvas = box.querySelector("canvas");
    // wordcloud2 places words left to right; each word still shapes in its own script.
    canvas.setAttribute("dir", "ltr");
    var ratio = window.devicePixelRatio || 1;
    canvas.width = Math.max(box.clientWidth, 200) * ratio;
    canvas.height = 300 * ratio;
    var most = words[0][1];
    WordCloud(canvas, {
      list: words,
      weightFactor: function (count) { return (12 + 36 * count / most) * ratio; },
      fontFamily: "system-ui, 'Noto Sans', 'Noto Sans Arabic', sans-serif",
      color: function (word, weight, size, distance, theta) { return PALETTE[words.findIndex(function (w) { return w[0] === word; }) % PALETTE.length]; },
      rotateRatio: 0,
      shuffle: false,
      gridSize: Math.round(6 * ratio),
      backgroundColor: "transparent",
      drawOutOfBound: false,
      shrinkToFit: true
    });
  }

  function wordClouds(data) {
    var boxes = Array.prototype.slice.call(document.querySelectorAll(".js-wordcloud"));
    if (!boxes.length || typeof WordCloud === "undefined") { return; }
    if (data.questions && !data.words_url) {
      boxes.forEach(function (box) {
        var question = data.questions.find(function (q) { return String(q.id) === box.dataset.question; });
        drawWords(box, (question && question.words) || []);
      });
      return;
    }
    fetch(data.words_url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
      .then(function (payload) {
        boxes.forEach(function (box) { drawWords(box, payload.words[box.dataset.question] || []); });
      })
      .catch(function () {
        boxes.forEach(function (box) { box.querySelector(".js-wordcloud-status").textContent = text.failed; });
      });
  }

  // Filter bar ---------------------------------------------------------------------------------

  function dateRangeFields() {
    document.querySelectorAll(".js-date-range").forEach(function (select) {
      var form = select.form;
      var sync = function () {
        form.querySelectorAll(".js-custom-dates").forEach(function (field) {
          field.hidden = select.value !== "custom";
        });
      };
      select.addEventListener("change", sync);
      sync();
    });
  }

  function legendSwatches() {
    document.querySelectorAll(".legend-swatch[data-index]").forEach(function (swatch) {
      if (swatch.dataset.noResponse) {
        swatch.style.backgroundColor = NO_RESPONSE_COLOUR;
        swatch.style.outline = "1px solid " + NO_RESPONSE_BORDER;
        return;
      }
      swatch.style.backgroundColor = colour(Number(swatch.dataset.index), swatch.dataset.category);
    });
  }

  function init() {
    dateRangeFields();
    legendSwatches();
    var data = readData();
    if (!data || typeof Chart === "undefined") { return; }
    Chart.defaults.font.family = "system-ui, 'Noto Sans', 'Noto Sans Arabic', sans-serif";
    data.questions.forEach(function (question) {
      var canvas = document.querySelector('[data-question="' + question.id + '"] canvas.js-chart');
      if (!canvas) { return; }
      if (data.dates) { overTime(canvas, question, data); } else { oneDate(canvas, question); }
    });
    document.querySelectorAll(".js-numeric-toggle [data-numeric]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        switchNumeric(data, button.dataset.numeric);
      });
    });
    wordClouds(data);
  }

  window.TracProCharts = {colour: colour, formatNumber: formatNumber, formatDate: formatDate,
                          readData: readData, baseOptions: baseOptions, tooltipNumber: tooltipNumber};
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
