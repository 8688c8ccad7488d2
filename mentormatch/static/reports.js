/* Report charts: data comes from <script type="application/json" id="report-data"> (CSP has
   script-src 'self', so nothing inline). Uses the vendored Chart.js (static/vendor). */
(function () {
  "use strict";
  function readJson(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  var printButton = document.getElementById("print-report");
  if (printButton) {
    printButton.addEventListener("click", function () { window.print(); });
  }
  var data = readJson("report-data");
  var L = readJson("report-labels") || {};
  if (!data || typeof window.Chart === "undefined") { return; }
  var Chart = window.Chart;
  var colors = ["#1f7a4d", "#c0392b", "#7f8c8d", "#2e86c1", "#d68910"];
  var base = {
    responsive: true,
    maintainAspectRatio: false,
    animation: false, // print and screenshots show the final picture at once
    plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } }
  };
  function opts(extra) { return Object.assign({}, base, extra || {}); }
  // Long unit and competency names: wrapped onto lines (at most three) instead of being cut
  // off or drawn over each other.
  function wrap(text, width) {
    var words = String(text || "").split(/\s+/), lines = [], line = "";
    words.forEach(function (w) {
      if (line && (line + " " + w).length > width) { lines.push(line); line = w; }
      else { line = line ? line + " " + w : w; }
    });
    if (line) { lines.push(line); }
    if (lines.length > 3) { lines = lines.slice(0, 3); lines[2] = lines[2] + "…"; }
    return lines;
  }
  // Room for every category label on its own band (horizontal bars): no cut or overlap.
  function fit(id, rows, perRow) {
    var canvas = document.getElementById(id);
    var box = canvas && canvas.parentElement;
    if (box) { box.style.height = Math.max(260, 90 + rows * perRow) + "px"; }
  }
  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) { return null; }
    var chart = new Chart(canvas, config);
    window.mmCharts.push(chart);
    return chart;
  }
  window.mmCharts = [];
  draw("chart-sessions", {
    type: "doughnut",
    data: {
      labels: data.sessions.labels.map(function (k) { return L[k] || k; }),
      datasets: [{ data: data.sessions.values, backgroundColor: colors }]
    },
    options: opts()
  });
  draw("chart-invites", {
    type: "doughnut",
    data: {
      labels: [L.accepted, L.declined, L.unanswered],
      datasets: [{ data: data.invites.values, backgroundColor: [colors[0], colors[1], colors[2]] }]
    },
    options: opts()
  });
  var months = data.trend.map(function (t) { return t.month; });
  draw("chart-trend", {
    type: "bar",
    data: {
      labels: months,
      datasets: [
        { label: L.planned, data: data.trend.map(function (t) { return t.sessions_planned; }),
          backgroundColor: "#aed6f1" },
        { label: L.held, data: data.trend.map(function (t) { return t.sessions_held; }),
          backgroundColor: colors[0] },
        { label: L.hours, type: "line", yAxisID: "hours",
          data: data.trend.map(function (t) { return t.credited_hours; }),
          borderColor: colors[4], backgroundColor: colors[4] }
      ]
    },
    options: opts({ scales: { y: { beginAtZero: true },
                              hours: { position: "right", beginAtZero: true,
                                       grid: { drawOnChartArea: false } } } })
  });
  fit("chart-units", data.units.length, 52);
  draw("chart-units", {
    type: "bar",
    data: {
      labels: data.units.map(function (u) { return wrap(u.label, 18); }),
      datasets: [
        { label: L.matched_pct, data: data.units.map(function (u) { return u.matched_pct; }),
          backgroundColor: colors[3] },
        { label: L.held_pct, data: data.units.map(function (u) { return u.held_pct; }),
          backgroundColor: colors[0] }
      ]
    },
    options: opts({ indexAxis: "y", scales: { x: { min: 0, max: 100 },
                                              y: { ticks: { autoSkip: false } } } })
  });
  fit("chart-competencies", data.competencies.length, 40);
  draw("chart-competencies", {
    type: "bar",
    data: {
      labels: data.competencies.map(function (c) { return wrap(c.label, 22); }),
      datasets: [
        { label: L.base, data: data.competencies.map(function (c) { return c.base; }),
          backgroundColor: colors[2] },
        { label: L.now, data: data.competencies.map(function (c) { return c.now; }),
          backgroundColor: colors[0] }
      ]
    },
    options: opts({ indexAxis: "y", scales: { x: { min: 0, max: 5 },
                                              y: { ticks: { autoSkip: false } } } })
  });
  // Charts sized for the screen are redrawn at print width (and back afterwards).
  function resizeAll() { window.mmCharts.forEach(function (c) { c.resize(); }); }
  window.addEventListener("beforeprint", resizeAll);
  window.addEventListener("afterprint", resizeAll);
  if (window.matchMedia) {
    var print = window.matchMedia("print");
    if (print.addEventListener) { print.addEventListener("change", resizeAll); }
  }
}());
