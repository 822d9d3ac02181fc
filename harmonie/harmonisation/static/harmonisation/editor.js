/* Scenario editor (R-MASS-7): add, remove (never the first), move up and down, renumber;
   copy a scenario's filters to the statistics page; fold scenarios after a simulation;
   draw the BEFORE / AFTER charts; a simulation goes stale as soon as a scenario changes. */
(function () {
  "use strict";
  var form = document.getElementById("harmonisation-form");
  if (!form) { return; }
  var list = document.getElementById("scenarios");
  var template = document.getElementById("scenario-template");
  var charts = [];

  // Domain refusals come back as 4xx fragments with a French message: show them.
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "4..", swap: true, error: false },
    { code: "...", swap: false, error: true }
  ];

  function scenarios() { return Array.prototype.slice.call(list.querySelectorAll(".hm-scenario")); }

  function rename(scenario, prefix) {
    scenario.querySelectorAll("[name], [id], [for]").forEach(function (el) {
      ["name", "id", "for"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) { el.setAttribute(attr, value.replace(/^[st]\d+-/, prefix)); }
      });
    });
  }

  function renumber() {
    var all = scenarios();
    // Two passes: a radio renamed into a group that already has a checked radio would
    // uncheck it, so every scenario first gets a name no other scenario uses.
    all.forEach(function (scenario, index) { rename(scenario, "t" + index + "-"); });
    all.forEach(function (scenario, index) {
      rename(scenario, "s" + index + "-");
      scenario.dataset.index = String(index);
      scenario.querySelector(".hm-number").textContent = String(index + 1);
      scenario.querySelector("[data-action=remove]").hidden = index === 0;
      scenario.querySelector("[data-action=up]").disabled = index === 0;
      scenario.querySelector("[data-action=down]").disabled = index === all.length - 1;
      togglePoints(scenario);
    });
  }

  function togglePoints(scenario) {
    var checked = scenario.querySelector("input[type=radio]:checked");
    var points = scenario.querySelector(".hm-points");
    if (points) { points.hidden = !!checked && checked.value === "reset"; }
  }

  function stale() {
    var block = document.getElementById("execute-block");
    if (block) {
      block.hidden = true;
      document.getElementById("stale-notice").hidden = false;
    }
  }

  function statisticsUrl(scenario) {
    var params = new URLSearchParams();
    scenario.querySelectorAll("select, input").forEach(function (el) {
      var match = (el.name || "").match(/^s\d+-(.+)$/);
      if (!match || match[1] === "action" || match[1] === "points") { return; }
      if (el.tagName === "SELECT") {
        Array.prototype.forEach.call(el.selectedOptions, function (option) {
          if (option.value) { params.append(match[1], option.value); }
        });
      } else if (el.value) {
        params.append(match[1], el.value);
      }
    });
    var query = params.toString();
    return scenario.querySelector("[data-action=copy-stats]").dataset.base + (query ? "?" + query : "");
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("[data-action]");
    if (!button) { return; }
    var action = button.dataset.action;
    var scenario = button.closest(".hm-scenario");
    if (action === "copy-stats") { button.href = statisticsUrl(scenario); return; }
    event.preventDefault();
    if (action === "add") {
      var fresh = template.content.firstElementChild.cloneNode(true);
      rename(fresh, "t" + scenarios().length + "-");
      list.appendChild(fresh);
      htmx.process(fresh);
    } else if (action === "remove" && scenario !== scenarios()[0]) {
      scenario.remove();
    } else if (action === "up" && scenario.previousElementSibling) {
      list.insertBefore(scenario, scenario.previousElementSibling);
    } else if (action === "down" && scenario.nextElementSibling) {
      list.insertBefore(scenario.nextElementSibling, scenario);
    } else {
      return;
    }
    renumber();
    stale();
  });

  list.addEventListener("change", function (event) {
    togglePoints(event.target.closest(".hm-scenario"));
    stale();
  });
  list.addEventListener("input", stale);

  // Fragments of one scenario (linked choices, population) need its position.
  document.body.addEventListener("htmx:configRequest", function (event) {
    var scenario = event.detail.elt.closest && event.detail.elt.closest(".hm-scenario");
    if (scenario) { event.detail.parameters.scenario = scenario.dataset.index; }
  });

  function drawCharts() {
    charts.forEach(function (chart) { chart.destroy(); });
    charts = [];
    var data = document.getElementById("simulation-rows");
    if (!data || typeof Chart === "undefined") { return; }
    var rows = JSON.parse(data.textContent);
    var labels = rows.map(function (row) { return String(row.mark).replace(".", ","); });
    var peak = Math.max.apply(null, rows.map(function (row) { return Math.max(row.before, row.after); }).concat([1]));
    document.querySelectorAll("canvas.hm-chart").forEach(function (canvas) {
      var series = canvas.dataset.series;
      charts.push(new Chart(canvas, {
        type: "bar",
        data: {
          labels: labels,
          datasets: [{
            label: series === "before" ? "Avant" : "Après",
            data: rows.map(function (row) { return row[series]; }),
            backgroundColor: series === "before" ? "#6a6af4" : "#18753c"
          }]
        },
        options: {
          animation: false,
          scales: { y: { beginAtZero: true, suggestedMax: peak }, x: { title: { display: true, text: "Note" } } },
          plugins: { legend: { display: false } }
        }
      }));
    });
  }

  document.body.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target.id === "simulation" && target.querySelector("[data-simulation]")) {
      scenarios().forEach(function (scenario) { scenario.open = false; });
      document.getElementById("stale-notice").hidden = true;
      drawCharts();
    } else if (target.id === "execution" && target.querySelector("[data-executed]")) {
      form.hidden = true;
    }
  });
  // A filter block re-rendered by the server keeps the scenario's numbering.
  document.body.addEventListener("htmx:afterSettle", function () { renumber(); });

  renumber();
})();
