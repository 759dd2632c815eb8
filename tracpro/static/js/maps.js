/* TracPro maps: a Leaflet choropleth per question from the page's chart data.
 *
 * Boundaries come from the page itself (simplified GeoJSON); there is no tile
 * layer, so nothing is fetched from outside the server. Numeric questions are
 * coloured by the category their rules give each area's average (or on a
 * light-to-dark scale when the rules have a single category); categorical
 * questions by each area's most common category. Clicking an area filters the
 * page to its region.
 */
(function () {
  "use strict";

  if (typeof L === "undefined" || !window.TracProCharts) { return; }
  var charts = window.TracProCharts;
  var rtl = document.dir === "rtl" || document.documentElement.dir === "rtl";
  var text = (document.getElementById("chart-text") || {dataset: {}}).dataset;
  var EMPTY = "#e9ecef";

  function shade(value, low, high) {
    if (value === null || value === undefined) { return EMPTY; }
    var t = high > low ? (value - low) / (high - low) : 1;
    var light = Math.round(85 - 55 * t);
    return "hsl(205, 70%, " + light + "%)";
  }

  function styler(map) {
    var values = map.areas.map(function (a) { return a.value; }).filter(function (v) { return v !== null; });
    var low = Math.min.apply(null, values);
    var high = Math.max.apply(null, values);
    return function (area) {
      if (!area || area.category === null || area.category === undefined) { return EMPTY; }
      if (map.scale === "value") { return shade(area.value, low, high); }
      return charts.colour(map.categories.indexOf(area.category), area.category);
    };
  }

  function describe(area, numeric) {
    if (!area || area.category === null || area.category === undefined) { return text.noData; }
    if (numeric) { return text.averageAnswer + ": " + charts.formatNumber(area.value) + " (" + area.category + ")"; }
    return text.mostCommon + ": " + area.category;
  }

  // Names come from RapidPro: build the tooltip from text nodes, never HTML.
  function lines(texts) {
    var box = document.createElement("div");
    texts.forEach(function (line, index) {
      var node = document.createElement(index ? "div" : "strong");
      node.textContent = line;
      box.append(node);
    });
    return box;
  }

  function filterTo(region) {
    var url = new URL(window.location.href);
    url.searchParams.set("region", region);
    url.searchParams.delete("page");
    window.location.href = url.toString();
  }

  function legend(node, map, fill) {
    if (!node) { return; }
    var shown = map.scale === "value" ? [] : map.categories.filter(function (name) {
      return map.areas.some(function (area) { return area.category === name; });
    });
    node.replaceChildren.apply(node, shown.map(function (name) {
      var item = document.createElement("span");
      item.className = "me-3 d-inline-flex align-items-center";
      var swatch = document.createElement("span");
      swatch.className = "legend-swatch";
      swatch.style.backgroundColor = fill({category: name});
      item.append(swatch, document.createTextNode(name));
      return item;
    }));
  }

  function draw(box, question, boundaries) {
    var byBoundary = {};
    question.map.areas.forEach(function (area) { byBoundary[area.boundary] = area; });
    var fill = styler(question.map);
    var map = L.map(box, {attributionControl: false, zoomControl: false, scrollWheelZoom: false, zoomSnap: 0.25});
    L.control.zoom({position: rtl ? "topright" : "topleft"}).addTo(map);
    var layer = L.geoJSON(boundaries, {
      style: function (feature) {
        return {color: "#495057", weight: 1, fillOpacity: 0.85, fillColor: fill(byBoundary[feature.id])};
      },
      onEachFeature: function (feature, shape) {
        var area = byBoundary[feature.id];
        var count = area ? charts.formatNumber(area.count) : "0";
        shape.bindTooltip(lines([feature.properties.name, describe(area, question.type === "numeric"),
                                 text.answers + ": " + count]), {sticky: true, direction: "auto"});
        shape.on("click", function () { filterTo(feature.properties.region); });
      }
    }).addTo(map);
    var bounds = layer.getBounds();
    if (bounds.isValid()) { map.fitBounds(bounds, {padding: [8, 8]}); } else { map.setView([0, 0], 1); }
    box.dataset.ready = "1";
    legend(document.querySelector('.js-map-legend[data-question="' + question.id + '"]'), question.map,
           fill);
  }

  function init() {
    var data = charts.readData();
    if (!data || !data.boundaries) { return; }
    data.questions.forEach(function (question) {
      var box = document.querySelector('.js-map[data-question="' + question.id + '"]');
      if (box && question.map) { draw(box, question, data.boundaries); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
