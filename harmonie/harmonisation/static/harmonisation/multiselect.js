/* Searchable multi-select (issue 13, item 9; docs/decisions.md): progressive enhancement
   of a <select multiple data-multiselect>. The select stays in the form (hidden), so the
   form data, htmx's linked choices (R-MASS-5: a change re-renders the block) and the
   `s<N>-<key>` renumbering keep working; the widget only reads and writes its options.

   What it shows, all native controls:
   - the chosen values as DSFR dismissible tags (« Retirer … »), so a choice stands out;
   - a search field (type="search", labelled by the select's label) that filters the list;
   - a group of checkboxes, at most LIMIT shown (the rest counted: « affinez la recherche »).
   Keyboard: Tab reaches the search field then the list (one tab stop: roving tabindex);
   ↓ from the search goes to the list, ↑ / ↓ / Début / Fin move in it, Espace checks,
   Échap goes back to the search. A live region says how many values match.
   Each change dispatches `change` on the select (htmx's trigger). When htmx replaces the
   block, `multiselectRemember` / `multiselectRestore` keep the search text and the focus. */
(function () {
  "use strict";
  var LIMIT = 60;
  var SEARCH_FROM = 8; // options from which the search field is shown

  function optionText(option) { return option.textContent.replace(/\s*\(\d+\)\s*$/, ""); }

  function normalise(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function enhance(select) {
    if (select.dataset.enhanced) { return; }
    select.dataset.enhanced = "1";
    var id = select.id;
    var label = document.querySelector("label[for='" + id + "']");
    var labelText = label ? label.textContent.trim() : "";
    var box = document.createElement("div");
    box.className = "hm-ms";
    box.dataset.for = id;

    var chosen = document.createElement("ul");
    chosen.className = "fr-tags-group hm-ms__chosen";
    chosen.id = id + "-chosen";
    chosen.setAttribute("aria-label", "Valeurs choisies : " + labelText);

    var search = document.createElement("input");
    search.type = "search";
    search.className = "fr-input hm-ms__search";
    search.id = id + "-search";
    search.autocomplete = "off";
    search.setAttribute("aria-controls", id + "-options");
    search.setAttribute("aria-describedby", id + "-status");

    var status = document.createElement("p");
    status.className = "fr-hint-text hm-ms__status";
    status.id = id + "-status";
    status.setAttribute("aria-live", "polite");

    var group = document.createElement("div");
    group.className = "hm-ms__options";
    group.id = id + "-options";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", labelText);

    var many = select.options.length >= SEARCH_FROM;
    search.hidden = !many;
    if (label) {
      // The label names the search field (or the list when there is none).
      if (many) { label.setAttribute("for", search.id); } else { label.id = id + "-label"; label.removeAttribute("for"); group.setAttribute("aria-labelledby", label.id); group.removeAttribute("aria-label"); }
    }
    box.appendChild(chosen);
    box.appendChild(search);
    box.appendChild(status);
    box.appendChild(group);
    select.hidden = true;
    select.setAttribute("aria-hidden", "true");
    select.tabIndex = -1;
    select.parentNode.insertBefore(box, select.nextSibling);

    function notify() { select.dispatchEvent(new Event("change", { bubbles: true })); }

    function renderChosen() {
      chosen.innerHTML = "";
      Array.prototype.forEach.call(select.selectedOptions, function (option) {
        if (!option.value) { return; }
        var item = document.createElement("li");
        var tag = document.createElement("button");
        tag.type = "button";
        tag.className = "fr-tag fr-tag--sm fr-tag--dismiss";
        tag.textContent = optionText(option);
        tag.setAttribute("aria-label", "Retirer " + optionText(option));
        tag.dataset.value = option.value;
        tag.id = select.id + "-tag-" + option.index;
        item.appendChild(tag);
        chosen.appendChild(item);
      });
      chosen.hidden = !chosen.children.length;
    }

    function renderOptions() {
      var query = normalise(search.value.trim());
      var shown = 0;
      var matched = 0;
      group.innerHTML = "";
      Array.prototype.forEach.call(select.options, function (option) {
        if (!option.value) { return; }
        if (query && normalise(option.textContent).indexOf(query) === -1 && normalise(option.value).indexOf(query) === -1) { return; }
        matched += 1;
        if (shown >= LIMIT) { return; }
        shown += 1;
        var row = document.createElement("div");
        row.className = "fr-checkbox-group fr-checkbox-group--sm hm-ms__option";
        var box = document.createElement("input");
        box.type = "checkbox";
        box.id = select.id + "-opt-" + option.index;
        box.dataset.index = String(option.index);
        box.checked = option.selected;
        box.tabIndex = -1;
        var text = document.createElement("label");
        text.className = "fr-label";
        text.setAttribute("for", box.id);
        text.textContent = option.textContent;
        row.appendChild(box);
        row.appendChild(text);
        group.appendChild(row);
      });
      var first = group.querySelector("input:checked") || group.querySelector("input");
      if (first) { first.tabIndex = 0; }
      var selected = select.selectedOptions.length;
      var text = matched + " valeur(s)" + (query ? " correspondent à la recherche" : "");
      if (matched > shown) { text += " ; " + shown + " affichée(s) : affinez la recherche"; }
      text += ". " + selected + " choisie(s).";
      status.textContent = text;
      group.hidden = matched === 0 && !query;
    }

    function boxes() { return Array.prototype.slice.call(group.querySelectorAll("input[type=checkbox]")); }

    function focusBox(target) {
      boxes().forEach(function (item) { item.tabIndex = item === target ? 0 : -1; });
      target.focus();
    }

    search.addEventListener("input", renderOptions);
    search.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") {
        var all = boxes();
        if (all.length) { event.preventDefault(); focusBox(all[0]); }
      } else if (event.key === "Enter") {
        event.preventDefault(); // never submit the form from the search field
      }
    });
    group.addEventListener("keydown", function (event) {
      var all = boxes();
      var at = all.indexOf(event.target);
      if (at === -1) { return; }
      var next = null;
      if (event.key === "ArrowDown") { next = all[Math.min(at + 1, all.length - 1)]; }
      else if (event.key === "ArrowUp") { if (at === 0 && many) { event.preventDefault(); search.focus(); return; } next = all[Math.max(at - 1, 0)]; }
      else if (event.key === "Home") { next = all[0]; }
      else if (event.key === "End") { next = all[all.length - 1]; }
      else if (event.key === "Escape" && many) { event.preventDefault(); search.focus(); return; }
      else if (event.key === "Enter") { event.preventDefault(); event.target.click(); return; }
      if (next) { event.preventDefault(); focusBox(next); }
    });
    group.addEventListener("change", function (event) {
      var box = event.target;
      if (!box.dataset || box.dataset.index === undefined) { return; }
      event.stopPropagation();
      select.options[Number(box.dataset.index)].selected = box.checked;
      boxes().forEach(function (item) { item.tabIndex = item === box ? 0 : -1; });
      renderChosen();
      renderOptions();
      var again = document.getElementById(box.id);
      if (again) { focusBox(again); }
      notify();
    });
    chosen.addEventListener("click", function (event) {
      var tag = event.target.closest("button[data-value]");
      if (!tag) { return; }
      Array.prototype.forEach.call(select.options, function (option) {
        if (option.value === tag.dataset.value) { option.selected = false; }
      });
      renderChosen();
      renderOptions();
      (many ? search : (boxes()[0] || search)).focus();
      notify();
    });
    select.addEventListener("hm:refresh", function () { renderChosen(); renderOptions(); });
    renderChosen();
    renderOptions();
  }

  function enhanceAll(scope) {
    (scope || document).querySelectorAll("select[multiple][data-multiselect]").forEach(enhance);
  }

  // Before htmx replaces a block: the search texts and the focused control, by id.
  var remembered = null;
  function remember(scope) {
    var active = document.activeElement;
    var searches = {};
    scope.querySelectorAll(".hm-ms__search").forEach(function (input) {
      if (input.value) { searches[input.id] = input.value; }
    });
    remembered = { searches: searches, focus: active && scope.contains(active) ? active.id : null };
  }
  function restore(scope) {
    enhanceAll(scope);
    if (!remembered) { return; }
    Object.keys(remembered.searches).forEach(function (id) {
      var input = document.getElementById(id);
      if (input) { input.value = remembered.searches[id]; input.dispatchEvent(new Event("input")); }
    });
    var target = remembered.focus && document.getElementById(remembered.focus);
    if (target) {
      if (target.type === "checkbox") {
        target.closest(".hm-ms__options").querySelectorAll("input").forEach(function (item) { item.tabIndex = item === target ? 0 : -1; });
      }
      target.focus();
    }
    remembered = null;
  }

  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.querySelector && event.detail.target.querySelector(".hm-ms")) {
      remember(event.detail.target);
    }
  });
  document.body.addEventListener("htmx:afterSettle", function (event) {
    restore(document);
  });
  window.hmMultiselect = { enhanceAll: enhanceAll };
  enhanceAll(document);
})();
