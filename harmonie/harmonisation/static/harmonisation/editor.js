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

  // One execution per simulation (issue 13, item 3): the buttons are disabled and synced
  // on #execution while a request runs (hx-disabled-elt, hx-sync), the form is hidden after
  // a success, and a late answer (« déjà exécutée ») never replaces the success message.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "execution" && target.querySelector("[data-executed]") && event.detail.xhr.status >= 400) {
      event.detail.shouldSwap = false;
    }
  });

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
    var attrs = ["name", "id", "for", "aria-controls", "aria-describedby", "aria-labelledby", "data-for"];
    scenario.querySelectorAll("[name], [id], [for], [aria-controls], [aria-describedby], [aria-labelledby], [data-for]").forEach(function (el) {
      attrs.forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) { el.setAttribute(attr, value.replace(/^[st]\d+-/, prefix)); }
      });
    });
  }

  var restoring = false;
  function renumberQuiet() { restoring = true; renumber(); restoring = false; }

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
      summarise(scenario);
    });
    if (!restoring) { draftSave(); }
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

  // The one-line summary of a folded scenario (issue 13, item 9): « 057 · note ≤ 10 · + 2 ».
  function decimal(value) { return String(value).replace(".", ","); }

  function summarise(scenario) {
    if (!scenario) { return; }
    var target = scenario.querySelector(".hm-scenario__summary");
    if (!target) { return; }
    var parts = [];
    scenario.querySelectorAll("select[multiple]").forEach(function (select) {
      var chosen = Array.prototype.filter.call(select.selectedOptions, function (option) { return option.value; });
      if (!chosen.length) { return; }
      if (chosen.length > 2) {
        var label = document.querySelector("label[for='" + select.id + "'], label[for='" + select.id + "-search'], #" + select.id + "-label");
        parts.push(chosen.length + " " + (label ? label.textContent.trim().toLowerCase() : "valeurs"));
        return;
      }
      parts.push(chosen.map(function (option) {
        var text = option.textContent.replace(/\s*\(\d+\)\s*$/, "");
        return text.length > 28 ? option.value : text;
      }).join(", "));
    });
    var field = function (key) { var el = scenario.querySelector("[name$='-" + key + "']"); return el ? el.value.trim() : ""; };
    var part = scenario.querySelector("select[name$='-mark_part']");
    var what = part && part.value ? "partie " + part.value : "note";
    var low = field("mark_min");
    var high = field("mark_max");
    if (low && high) { parts.push(decimal(low) + " ≤ " + what + " ≤ " + decimal(high)); }
    else if (low) { parts.push(what + " ≥ " + decimal(low)); }
    else if (high) { parts.push(what + " ≤ " + decimal(high)); }
    var filtered = parts.length > 0;
    var action = scenario.querySelector("input[type=radio]:checked");
    var points = field("points");
    if (action && action.value === "reset") { parts.push("réinitialisation"); }
    else if (action) { parts.push((action.value === "lower" ? "− " : "+ ") + (points ? decimal(points) : "?")); }
    if (!filtered) { parts.unshift("tous les candidats"); }
    target.textContent = parts.join(" · ");
  }

  // The draft harmonisation stays in the browser until executed (issue 13, item 2): an
  // expired session sends the coordinator to the login page and back, to the same choices.
  var DRAFT_KEY = "harmonie.editor.draft." + form.dataset.exam;

  var executed = false;
  function draftSave() {
    if (executed) { return; }
    try {
      var fields = [];
      new FormData(form).forEach(function (value, key) {
        if (/^s\d+-/.test(key)) { fields.push([key, value]); }
      });
      window.sessionStorage.setItem(DRAFT_KEY, JSON.stringify({ search: window.location.search, count: scenarios().length, fields: fields }));
    } catch (error) { /* storage unavailable: the draft simply is not kept */ }
  }

  function draftClear() {
    executed = true;
    try { window.sessionStorage.removeItem(DRAFT_KEY); } catch (error) { /* nothing kept */ }
  }

  function draftRestore() {
    var draft = null;
    try { draft = JSON.parse(window.sessionStorage.getItem(DRAFT_KEY) || "null"); } catch (error) { draft = null; }
    if (!draft || draft.search !== window.location.search || !draft.fields || !draft.fields.length) { return false; }
    while (scenarios().length < draft.count) {
      var fresh = template.content.firstElementChild.cloneNode(true);
      rename(fresh, "s" + scenarios().length + "-");
      list.appendChild(fresh);
      htmx.process(fresh);
    }
    renumberQuiet();
    var values = {};
    draft.fields.forEach(function (pair) { (values[pair[0]] = values[pair[0]] || []).push(pair[1]); });
    scenarios().forEach(function (scenario) {
      scenario.querySelectorAll("select, input").forEach(function (el) {
        if (!el.name) { return; }
        var given = values[el.name] || [];
        if (el.tagName === "SELECT") {
          Array.prototype.forEach.call(el.options, function (option) { option.selected = given.indexOf(option.value) !== -1; });
          if (!el.multiple && !given.length && el.options.length) { el.options[0].selected = true; }
        } else if (el.type === "radio") {
          if (given.length) { el.checked = given.indexOf(el.value) !== -1; }
        } else if (el.type !== "hidden") {
          el.value = given.length ? given[0] : "";
        }
      });
      scenario.querySelectorAll("select[multiple]").forEach(function (select) { select.dispatchEvent(new Event("hm:refresh")); });
    });
    // The linked choices are recomputed by the server for what was restored (R-MASS-5).
    scenarios().forEach(function (scenario) {
      var linked = scenario.querySelector("select.hm-linked");
      var chosen = Array.prototype.some.call(scenario.querySelectorAll("select.hm-linked"), function (select) { return select.selectedOptions.length > 0; });
      if (linked && chosen) { htmx.trigger(linked, "change"); }
    });
    var notice = document.getElementById("draft-restored");
    if (notice) { notice.hidden = false; }
    return true;
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
      if (window.hmMultiselect) { window.hmMultiselect.enhanceAll(fresh); }
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
    var scenario = event.target.closest(".hm-scenario");
    togglePoints(scenario);
    summarise(scenario);
    stale();
    draftSave();
  });
  list.addEventListener("input", function (event) {
    if (event.target.classList.contains("hm-ms__search")) { return; }
    summarise(event.target.closest(".hm-scenario"));
    stale();
    draftSave();
  });

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

  // Executed: the draft is done with.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id === "execution" && event.detail.target.querySelector("[data-executed]")) { draftClear(); }
  });

  if (draftRestore()) { renumberQuiet(); } else { renumber(); }
})();
