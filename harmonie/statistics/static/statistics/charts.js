/* Statistics charts (Chart.js), drawn from the JSON beside the tables; redrawn after an
   htmx refresh of the results. The tables carry the same values for screen readers. */
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("stats-chart-data");
    if (!source || typeof Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var series = data[canvas.dataset.chart];
      var previous = Chart.getChart(canvas);
      if (previous) { previous.destroy(); }
      if (!series) { return; }
      var isHistogram = canvas.dataset.chart === "histogram";
      new Chart(canvas, {
        type: "bar",
        data: {
          labels: series.labels.map(function (label) {
            return label.length > 34 ? label.slice(0, 33) + "…" : label;
          }),
          datasets: [{ label: canvas.dataset.label, data: series.values, backgroundColor: "#000091" }]
        },
        options: {
          indexAxis: isHistogram ? "x" : "y",
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: { legend: { display: false } },
          scales: isHistogram
            ? { y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "Copies" } },
                x: { title: { display: true, text: "Note" } } }
            : { x: { min: 0, max: data.max_mark, title: { display: true, text: "Moyenne" } } }
        }
      });
    });
  }
  draw();
  document.body.addEventListener("htmx:afterSettle", draw);
})();
