/* « Correcteurs » chart (Chart.js): graders ranked from the most lenient to the most
   severe along the x axis, each effect a point with its 95 % interval as a vertical bar,
   the ±tolerance band shaded, flagged graders named under the axis. The table beside
   carries the same values for screen readers (RGAA). Data from json_script: no inline
   script, for the Content-Security-Policy. */
(function () {
  "use strict";
  var COLOURS = { lenient: "#ce0500", severe: "#ce0500", to_review: "#b34000" };
  var band = {
    id: "toleranceBand",
    beforeDatasetsDraw: function (chart, args, options) {
      var y = chart.scales.y;
      var area = chart.chartArea;
      var top = y.getPixelForValue(options.tolerance);
      var bottom = y.getPixelForValue(-options.tolerance);
      var context = chart.ctx;
      context.save();
      context.fillStyle = "rgba(0, 0, 145, 0.08)";
      context.fillRect(area.left, top, area.right - area.left, bottom - top);
      context.strokeStyle = "rgba(0, 0, 145, 0.35)";
      context.setLineDash([4, 4]);
      [top, bottom].forEach(function (pixel) {
        context.beginPath();
        context.moveTo(area.left, pixel);
        context.lineTo(area.right, pixel);
        context.stroke();
      });
      context.restore();
    }
  };
  function draw() {
    var source = document.getElementById("graders-chart-data");
    var canvas = document.getElementById("graders-chart");
    if (!source || !canvas || typeof Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    if (!data) { return; }
    var previous = Chart.getChart(canvas);
    if (previous) { previous.destroy(); }
    var colour = function (index) { return COLOURS[data.flags[index]] || "#000091"; };
    var intervals = data.low.map(function (low, index) {
      return low === null ? null : [low, data.high[index]];
    });
    new Chart(canvas, {
      data: {
        labels: data.labels,
        datasets: [
          {
            type: "bar",
            label: "Intervalle à 95 %",
            data: intervals,
            backgroundColor: data.flags.map(function (flag, index) { return colour(index); }),
            barPercentage: 0.25,
            categoryPercentage: 1.0,
            order: 2
          },
          {
            type: "scatter",
            label: "Effet estimé",
            data: data.effects.map(function (effect, index) { return { x: data.labels[index], y: effect }; }),
            pointBackgroundColor: data.flags.map(function (flag, index) { return colour(index); }),
            pointBorderColor: "#ffffff",
            pointRadius: data.labels.length > 120 ? 2.5 : 4,
            order: 1
          }
        ]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: true, position: "bottom" },
          toleranceBand: { tolerance: data.tolerance },
          tooltip: {
            callbacks: {
              label: function (item) {
                var index = item.dataIndex;
                var low = data.low[index];
                return data.labels[index] + " : " + data.effects[index].toFixed(2).replace(".", ",") +
                  (low === null ? "" : " [" + low.toFixed(2).replace(".", ",") + " ; " +
                  data.high[index].toFixed(2).replace(".", ",") + "]");
              }
            }
          }
        },
        scales: {
          x: {
            type: "category",
            ticks: {
              autoSkip: false,
              maxRotation: 70,
              minRotation: 45,
              callback: function (value, index) { return data.flags[index] ? data.labels[index] : ""; }
            },
            grid: { display: false },
            title: { display: true, text: "Correcteurs, du plus indulgent au plus sévère (signalés nommés)" }
          },
          y: { title: { display: true, text: "Effet (points)" } }
        }
      },
      plugins: [band]
    });
  }
  draw();
})();
