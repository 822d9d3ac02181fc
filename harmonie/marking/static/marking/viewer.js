/* Harmonie — script viewer and marking editor (R-UNIT-4): zoom and pan, page
 * thumbnails, keyboard navigation, annotations drawn over the pages, live totals,
 * saving through PUT /api/v1/scripts/{id}/marking. Vanilla JS, no framework. */
(function () {
  "use strict";
  var root = document.getElementById("viewer");
  var dataNode = document.getElementById("script-data");
  if (!root || !dataNode) { return; }
  var script = JSON.parse(dataNode.textContent);
  var editable = root.dataset.editable === "true";
  var step = script.step;
  var maxMark = script.max_mark;
  var delta = script.delta || 0;
  var state = {
    page: 0,
    zoom: 1,
    annotations: (script.annotations || []).map(function (a) { return Object.assign({}, a); }),
    selected: null,
    dirty: false
  };
  var KIND_LABELS = { comment: "Commentaire", tick: "✓", cross: "✗", highlight: "Surlignage", underline: "Soulignement", appreciation: "Appréciation" };

  var scroll = document.getElementById("viewer-scroll");
  var pageBox = document.getElementById("viewer-page");
  var image = document.getElementById("page-image");
  var layer = document.getElementById("annotation-layer");
  var list = document.getElementById("annotation-list");
  var appreciation = document.getElementById("appreciation");
  var form = document.getElementById("marking-form");
  var message = document.getElementById("save-message");
  var special = document.getElementById("special-mark");
  var zoomLabel = document.getElementById("zoom-level");
  var pageLabel = document.getElementById("page-label");

  function fmt(value) {
    return (Math.round(value * 100) / 100).toString().replace(".", ",");
  }
  function parseMark(text) {
    var cleaned = String(text).trim().replace(",", ".");
    if (cleaned === "" || !/^\d+(\.\d+)?$/.test(cleaned)) { return null; }
    return Number(cleaned);
  }
  function onStep(value) {
    var ratio = value / step;
    return Math.abs(ratio - Math.round(ratio)) < 1e-9;
  }

  /* ---------- pages, zoom, pan ---------- */
  function baseWidth() { return Math.max(300, scroll.clientWidth - 24); }
  function renderPage() {
    if (!image) { return; }
    var width = Math.round(baseWidth() * state.zoom);
    var wanted = width > 1200 ? 2400 : 1200;
    var src = script.pages[state.page] + "?width=" + wanted;
    if (image.getAttribute("src") !== src) { image.setAttribute("src", src); }
    image.style.width = width + "px";
    zoomLabel.textContent = Math.round(state.zoom * 100) + " %";
    pageLabel.textContent = "Page " + (state.page + 1) + " / " + script.pages.length;
    document.querySelectorAll(".viewer-thumb").forEach(function (thumb) {
      thumb.setAttribute("aria-current", Number(thumb.dataset.page) === state.page ? "true" : "false");
    });
    drawAnnotations();
  }
  function setZoom(zoom) {
    state.zoom = Math.min(4, Math.max(0.5, zoom));
    renderPage();
  }
  function goPage(index) {
    if (!script.pages.length) { return; }
    state.page = Math.min(script.pages.length - 1, Math.max(0, index));
    scroll.scrollTop = 0;
    renderPage();
  }
  document.querySelectorAll("[data-zoom]").forEach(function (button) {
    button.addEventListener("click", function () {
      var how = button.dataset.zoom;
      setZoom(how === "in" ? state.zoom * 1.25 : how === "out" ? state.zoom / 1.25 : 1);
    });
  });
  document.querySelectorAll(".viewer-thumb").forEach(function (thumb) {
    thumb.addEventListener("click", function () { goPage(Number(thumb.dataset.page)); });
  });
  scroll.addEventListener("wheel", function (event) {
    if (!event.ctrlKey) { return; }
    event.preventDefault();
    setZoom(event.deltaY < 0 ? state.zoom * 1.1 : state.zoom / 1.1);
  }, { passive: false });

  function currentTool() {
    var checked = document.querySelector("input[name=tool]:checked");
    return checked ? checked.value : "pan";
  }
  function fraction(event) {
    var box = image.getBoundingClientRect();
    return {
      x: Math.min(1, Math.max(0, (event.clientX - box.left) / box.width)),
      y: Math.min(1, Math.max(0, (event.clientY - box.top) / box.height))
    };
  }
  var drag = null;
  scroll.addEventListener("mousedown", function (event) {
    if (event.button !== 0 || event.target.closest(".annotation")) { return; }
    // Clicking the page puts the keyboard there: then the arrows scroll it.
    scroll.focus({ preventScroll: true });
    var tool = currentTool();
    if (tool === "pan" || !editable || !image) {
      drag = { kind: "pan", x: event.clientX, y: event.clientY, left: scroll.scrollLeft, top: scroll.scrollTop };
      scroll.classList.add("is-panning");
    } else {
      drag = { kind: "draw", tool: tool, start: fraction(event) };
      scroll.classList.add("is-drawing");
    }
    event.preventDefault();
  });
  window.addEventListener("mousemove", function (event) {
    if (drag && drag.kind === "pan") {
      scroll.scrollLeft = drag.left - (event.clientX - drag.x);
      scroll.scrollTop = drag.top - (event.clientY - drag.y);
    }
  });
  window.addEventListener("mouseup", function (event) {
    if (!drag) { return; }
    scroll.classList.remove("is-panning", "is-drawing");
    if (drag.kind === "draw") {
      var end = fraction(event);
      addAnnotation(drag.tool, drag.start, end);
    }
    drag = null;
  });

  /* ---------- annotations ---------- */
  function newId() { return "a" + Date.now().toString(36) + Math.random().toString(36).slice(2, 6); }
  function addAnnotation(tool, start, end) {
    var x = Math.min(start.x, end.x), y = Math.min(start.y, end.y);
    var w = Math.abs(end.x - start.x), h = Math.abs(end.y - start.y);
    var annotation = { id: newId(), page: state.page, kind: tool, x: x, y: y, w: 0, h: 0, text: "" };
    if (tool === "highlight") {
      annotation.w = Math.max(w, 0.05); annotation.h = Math.max(h, 0.02);
    } else if (tool === "underline") {
      annotation.w = Math.max(w, 0.05); annotation.h = 0.01;
    } else if (tool === "comment") {
      annotation.text = "Commentaire";
    }
    annotation.w = Math.min(annotation.w, 1 - annotation.x);
    annotation.h = Math.min(annotation.h, 1 - annotation.y);
    state.annotations.push(annotation);
    state.selected = annotation.id;
    markDirty();
    drawAnnotations();
    renderList();
    if (tool === "comment") {
      var input = list.querySelector("input[data-id='" + annotation.id + "']");
      if (input) { input.focus(); input.select(); }
    }
  }
  function drawAnnotations() {
    if (!layer) { return; }
    layer.innerHTML = "";
    state.annotations.forEach(function (a) {
      if (a.kind === "appreciation" || a.page !== state.page) { return; }
      var node = document.createElement("div");
      node.className = "annotation annotation--" + a.kind + (a.id === state.selected ? " is-selected" : "");
      node.style.left = (a.x * 100) + "%";
      node.style.top = (a.y * 100) + "%";
      if (a.kind === "highlight" || a.kind === "underline") {
        node.style.width = (a.w * 100) + "%";
        node.style.height = (a.h * 100) + "%";
      }
      node.textContent = a.kind === "tick" ? "✓" : a.kind === "cross" ? "✗" : a.kind === "comment" ? a.text : "";
      node.title = (KIND_LABELS[a.kind] || a.kind) + (a.author ? " — " + a.author : "");
      node.dataset.testid = "annotation";
      node.setAttribute("data-testid", "annotation-" + a.kind);
      node.addEventListener("click", function () { state.selected = a.id; drawAnnotations(); renderList(); });
      layer.appendChild(node);
    });
  }
  function renderList() {
    list.innerHTML = "";
    state.annotations.forEach(function (a, index) {
      if (a.kind === "appreciation") { return; }
      var item = document.createElement("li");
      item.setAttribute("data-testid", "annotation-item");
      var label = document.createElement("button");
      label.type = "button";
      label.className = "fr-btn fr-btn--tertiary-no-outline fr-btn--sm";
      label.textContent = (KIND_LABELS[a.kind] || a.kind) + " p." + (a.page + 1);
      label.addEventListener("click", function () { state.selected = a.id; goPage(a.page); renderList(); });
      item.appendChild(label);
      if (a.kind === "comment") {
        var input = document.createElement("input");
        input.className = "fr-input";
        input.value = a.text;
        input.dataset.id = a.id;
        input.setAttribute("aria-label", "Texte du commentaire");
        input.setAttribute("data-testid", "comment-text");
        input.disabled = !editable;
        input.addEventListener("input", function () { a.text = input.value; markDirty(); drawAnnotations(); });
        item.appendChild(input);
      }
      if (editable) {
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "fr-btn fr-btn--tertiary-no-outline fr-btn--sm fr-icon-delete-line";
        remove.title = "Supprimer l'annotation";
        remove.textContent = "Supprimer";
        remove.addEventListener("click", function () {
          state.annotations.splice(index, 1); markDirty(); drawAnnotations(); renderList();
        });
        item.appendChild(remove);
      }
      list.appendChild(item);
    });
  }
  var existingAppreciation = state.annotations.find(function (a) { return a.kind === "appreciation"; });
  if (existingAppreciation) { appreciation.value = existingAppreciation.text; }
  appreciation.addEventListener("input", markDirty);

  /* ---------- marks and live totals ---------- */
  var inputs = Array.prototype.slice.call(document.querySelectorAll(".mark-input"));
  var totalHint = document.getElementById("total-hint");
  /* The French refusal of one leaf mark, or "" when it is a mark of the scheme. */
  function markProblem(input, value) {
    var max = Number(input.dataset.max);
    if (value === null) {
      return String(input.value).trim() === ""
        ? "Note manquante pour " + input.dataset.leaf + "."
        : "« " + String(input.value).trim() + " » n'est pas une note : écrivez par exemple 2,5.";
    }
    if (value > max) { return "La note dépasse le maximum de " + fmt(max) + " pour " + input.dataset.leaf + "."; }
    if (!onStep(value)) { return "La note doit suivre le pas de " + fmt(step) + " (par exemple " + fmt(Math.floor(value / step) * step) + ")."; }
    return "";
  }
  /* DSFR error state on the field at once (issue 13 item 6): red group, message under it. */
  function flag(input, problem) {
    var group = input.closest(".fr-input-group");
    var error = document.getElementById("error-" + input.dataset.leaf);
    var shown = Boolean(problem) && !special.value;
    if (group) { group.classList.toggle("fr-input-group--error", shown); }
    input.classList.toggle("fr-input--error", shown);
    input.classList.toggle("is-invalid", shown);
    input.setAttribute("aria-invalid", shown ? "true" : "false");
    if (error) { error.textContent = shown ? problem : ""; error.hidden = !shown; }
  }
  function computeTotals() {
    var values = {}, valid = true;
    inputs.forEach(function (input) {
      var value = parseMark(input.value);
      var problem = markProblem(input, value);
      flag(input, problem);
      if (problem) { valid = false; } else { values[input.dataset.leaf] = value; }
    });
    document.querySelectorAll("output[data-part]").forEach(function (output) {
      var total = 0, complete = true;
      output.dataset.leaves.split(",").forEach(function (code) {
        if (code in values) { total += values[code]; } else { complete = false; }
      });
      output.textContent = complete ? fmt(total) : "—";
    });
    var initial = document.getElementById("initial-total");
    var final = document.getElementById("final-total");
    if (special.value) {
      initial.textContent = special.value; final.textContent = special.value;
    } else if (valid) {
      var sum = inputs.reduce(function (acc, input) { return acc + values[input.dataset.leaf]; }, 0);
      initial.textContent = fmt(sum);
      final.textContent = fmt(Math.min(maxMark, Math.max(0, sum + delta)));
    } else {
      // Never a total that hides a mark over the maximum: no total until it is fixed.
      initial.textContent = "—"; final.textContent = "—";
    }
    if (totalHint) { totalHint.hidden = valid || Boolean(special.value); }
    inputs.forEach(function (input) { input.disabled = !editable || Boolean(special.value); });
    return { values: values, valid: valid };
  }
  inputs.forEach(function (input) {
    input.addEventListener("input", function () { markDirty(); computeTotals(); });
    // Decimal comma everywhere: « 2.5 » is accepted and shown back as « 2,5 ».
    input.addEventListener("change", function () {
      if (parseMark(input.value) !== null) { input.value = input.value.trim().replace(".", ","); }
    });
  });
  special.addEventListener("change", function () { markDirty(); computeTotals(); });

  function markDirty() { state.dirty = true; }

  /* ---------- saving ---------- */
  function showMessage(kind, text) {
    message.innerHTML = "";
    var box = document.createElement("div");
    box.className = "fr-alert fr-alert--sm fr-alert--" + kind;
    var p = document.createElement("p");
    p.textContent = text;
    box.appendChild(p);
    message.appendChild(box);
  }
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!editable) { return; }
      var totals = computeTotals();
      var marks = {};
      if (!special.value) {
        inputs.forEach(function (input) {
          var value = parseMark(input.value);
          marks[input.dataset.leaf] = value === null ? input.value : value;
        });
      }
      var annotations = state.annotations.filter(function (a) { return a.kind !== "appreciation"; });
      var text = appreciation.value.trim();
      if (text) {
        var previous = existingAppreciation || { id: newId(), page: 0, x: 0, y: 0, w: 0, h: 0 };
        annotations.push(Object.assign({}, previous, { kind: "appreciation", text: text }));
      }
      var body = { marks: marks, special_mark: special.value || null, annotations: annotations, version: script.version };
      if (!totals.valid && !special.value) {
        // Refused here, where the fields are: nothing is sent, the first one gets the focus.
        var first = inputs.find(function (input) { return input.getAttribute("aria-invalid") === "true"; });
        showMessage("error", "Correction non enregistrée : corrigez les notes signalées en rouge.");
        if (first) { first.focus(); }
        return;
      }
      fetch(root.dataset.apiUrl, {
        method: "PUT",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": root.dataset.csrf },
        body: JSON.stringify(body)
      }).then(function (response) {
        return response.json().then(function (payload) { return { ok: response.ok, payload: payload }; });
      }).then(function (result) {
        if (result.ok) {
          state.dirty = false;
          // The « D'où vient cette note ? » block listens for it (htmx trigger).
          document.body.dispatchEvent(new CustomEvent("harmonie:marking-saved"));
          sessionStorage.setItem("harmonie-saved", script.id);
          window.location.reload();
        } else {
          var error = result.payload && result.payload.error;
          showMessage("error", error ? error.message : "Enregistrement impossible.");
        }
      }).catch(function () {
        showMessage("error", "Le serveur ne répond pas : la correction n'est pas enregistrée.");
      });
    });
  }
  if (sessionStorage.getItem("harmonie-saved") === script.id) {
    sessionStorage.removeItem("harmonie-saved");
    showMessage("success", "Correction enregistrée (version " + script.version + ").");
  }

  /* ---------- annotations by keyboard (issue 13 item 6) ---------- */
  var keyboard = document.getElementById("keyboard-annotation");
  var status = document.getElementById("viewer-status");
  function percent(id) {
    var value = Number(String(document.getElementById(id).value).replace(",", "."));
    if (!isFinite(value)) { value = 50; }
    return Math.min(100, Math.max(0, value)) / 100;
  }
  function addFromKeyboard() {
    if (!editable || !image) { return; }
    var kind = document.getElementById("kb-kind").value;
    var start = { x: percent("kb-x"), y: percent("kb-y") };
    var end = { x: Math.min(1, start.x + (kind === "highlight" || kind === "underline" ? 0.2 : 0)), y: Math.min(1, start.y + (kind === "highlight" ? 0.03 : 0)) };
    addAnnotation(kind, start, end);
    var added = state.annotations[state.annotations.length - 1];
    var text = document.getElementById("kb-text").value.trim();
    if (kind === "comment" && text) {
      added.text = text;
      drawAnnotations(); renderList();
    }
    if (status) {
      status.textContent = (KIND_LABELS[kind] || kind) + " ajouté page " + (state.page + 1) + " à " +
        Math.round(start.x * 100) + " % de la largeur et " + Math.round(start.y * 100) + " % de la hauteur.";
    }
    if (kind !== "comment" || text) { document.getElementById("kb-add").focus(); }
  }
  if (keyboard) {
    document.getElementById("kb-add").addEventListener("click", addFromKeyboard);
    // Enter in one of its fields adds the annotation (it must not send the marking form).
    keyboard.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && event.target.tagName === "INPUT") { event.preventDefault(); addFromKeyboard(); }
    });
  }

  /* ---------- keyboard ---------- */
  var ARROWS = { ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0] };
  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || event.ctrlKey || event.metaKey || event.altKey) { return; }
    // In the page area the arrows scroll the page; they never change the script there.
    if (scroll.contains(event.target) && ARROWS[event.key]) {
      event.preventDefault();
      scroll.scrollBy({ left: ARROWS[event.key][0] * 60, top: ARROWS[event.key][1] * 60 });
      return;
    }
    var link = null;
    if (event.key === "ArrowLeft" || event.key === "k") { link = document.getElementById("previous-script"); }
    if (event.key === "ArrowRight" || event.key === "j") { link = document.getElementById("next-script"); }
    if (link) { event.preventDefault(); window.location.href = link.href; return; }
    if (event.key === "PageDown") { event.preventDefault(); goPage(state.page + 1); }
    if (event.key === "PageUp") { event.preventDefault(); goPage(state.page - 1); }
    if (event.key === "+" || event.key === "=") { setZoom(state.zoom * 1.25); }
    if (event.key === "-") { setZoom(state.zoom / 1.25); }
    if ((event.key === "Delete" || event.key === "Backspace") && editable && state.selected) {
      state.annotations = state.annotations.filter(function (a) { return a.id !== state.selected; });
      state.selected = null; markDirty(); drawAnnotations(); renderList();
    }
  });
  window.addEventListener("beforeunload", function (event) {
    if (state.dirty) { event.preventDefault(); event.returnValue = ""; }
  });
  window.addEventListener("resize", renderPage);

  computeTotals();
  renderList();
  renderPage();
}());
