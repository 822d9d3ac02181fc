/* Scenario editor (R-MASS-7): add, remove (never the first), move up and down, renumber;
   copy a scenario's filters to the statistics page; fold scenarios after a simulation;
   draw the BEFORE / AFTER charts (and BEFORE / A / B of a comparison, R-FAIR-4); keep a
   draft A to compare with the edited B; a simulation goes stale as soon as a scenario
   changes. The exact-undo page (R-MASS-14) uses the charts and the execution part. */
(function () {
  "use strict";
  var charts = [];
  var COLOURS = { before: "#6a6af4", after: "#18753c", a: "#18753c", b: "#b34000" };
  var LABELS = { before: "Avant", after: "Après", a: "Version A", b: "Version B" };

  // Domain refusals come back as 4xx fragments with a French message: show them.
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "4..", swap: true, error: false },
    { code: "...", swap: false, error: true }
  ];

  // Every canvas names the JSON rows it draws (`data-rows`) and its series (`data-series`,
  // several on one chart); charts drawn from the same rows share their scale.
  function drawCharts() {
    charts.forEach(function (chart) { chart.destroy(); });
    charts = [];
    if (typeof Chart === "undefined") { return; }
    document.querySelectorAll("canvas.hm-chart").forEach(function (canvas) {
      var data = document.getElementById(canvas.dataset.rows || "simulation-rows");
      if (!data) { return; }
      var rows = JSON.parse(data.textContent);
      var keys = Object.keys(rows[0] || {}).filter(function (key) { return key !== "mark"; });
      var peak = Math.max.apply(null, rows.map(function (row) {
        return Math.max.apply(null, keys.map(function (key) { return row[key]; }));
      }).concat([1]));
      var series = canvas.dataset.series.split(",");
      charts.push(new Chart(canvas, {
        type: "bar",
        data: {
          labels: rows.map(function (row) { return String(row.mark).replace(".", ","); }),
          datasets: series.map(function (key) {
            return { label: LABELS[key], data: rows.map(function (row) { return row[key]; }), backgroundColor: COLOURS[key] };
          })
        },
        options: {
          animation: false,
          scales: { y: { beginAtZero: true, suggestedMax: peak }, x: { title: { display: true, text: "Note" } } },
          plugins: { legend: { display: series.length > 1 } }
        }
      }));
    });
  }

  document.body.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if ((target.id === "simulation" && target.querySelector("[data-simulation]")) || target.id === "comparison") {
      drawCharts();
    } else if (target.id === "execution" && target.querySelector("[data-executed]")) {
      ["harmonisation-form", "undo-form", "comparison"].forEach(function (id) {
        var el = document.getElementById(id);
        if (el) { el.hidden = true; }
      });
    }
  });

  var form = document.getElementById("harmonisation-form");
  if (!form) { return; }
  var list = document.getElementById("scenarios");
  var template = document.getElementById("scenario-template");
  form.addEventListener("submit", function (event) { event.preventDefault(); });

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
    if (action === "keep-a") { keepA(); return; }
    if (action === "drop-a") { dropA(); return; }
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

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id === "simulation" && event.detail.target.querySelector("[data-simulation]")) {
      scenarios().forEach(function (scenario) { scenario.open = false; });
      document.getElementById("stale-notice").hidden = true;
    }
  });

  // « Comparer avec une autre version » (R-FAIR-4): the scenarios as they stand become
  // draft A, kept in the form; the coordinator then edits them into B.
  function scenarioFields() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (/^s\d+-/.test(key)) { params.append(key, value); }
    });
    return params;
  }

  function keepA() {
    var fields = scenarioFields();
    document.getElementById("draft-a").value = fields.toString();
    document.querySelector("[data-testid=draft-a-count]").textContent = String(scenarios().length);
    document.getElementById("compare-banner").hidden = false;
  }

  function dropA() {
    document.getElementById("draft-a").value = "";
    document.getElementById("compare-banner").hidden = true;
    document.getElementById("comparison").innerHTML = "";
  }

  // A filter block re-rendered by the server keeps the scenario's numbering.
  document.body.addEventListener("htmx:afterSettle", function () { renumber(); });

  renumber();
})();
