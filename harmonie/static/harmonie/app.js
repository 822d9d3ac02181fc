/* Harmonie: what every page needs, kept out of the templates so that the
   Content-Security-Policy allows no inline script (docs/decisions.md, "Hardening").
   - htmx requests carry the CSRF token read from <meta name="csrf-token">;
   - a form with data-confirm asks before it is sent;
   - an element with data-height / data-max-height gets that size in pixels (no inline
     style attribute: style-src allows no 'unsafe-inline');
   - a scrolling table is reachable by keyboard (tabindex="0"). */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  document.body.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  function sizes(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var nodes = Array.prototype.slice.call(scope.querySelectorAll("[data-height], [data-max-height]"));
    if (scope.matches && scope.matches("[data-height], [data-max-height]")) nodes.push(scope);
    nodes.forEach(function (node) {
      var height = parseInt(node.getAttribute("data-height"), 10);
      var maxHeight = parseInt(node.getAttribute("data-max-height"), 10);
      if (height > 0) node.style.height = height + "px";
      if (maxHeight > 0) {
        node.style.maxHeight = maxHeight + "px";
        node.style.overflowY = "auto";
      }
    });
  }

  /* A table that scrolls sideways (DSFR's .fr-table on a phone, .hm-table-scroll) must be
     reachable by keyboard to be scrolled (axe « scrollable-region-focusable »): it gets
     tabindex="0", and its caption as its name. */
  function scrollables(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var nodes = Array.prototype.slice.call(
      scope.querySelectorAll(".fr-table > table, .hm-table-scroll, .fr-table__content"));
    nodes.forEach(function (node) {
      if (node.hasAttribute("tabindex")) return;
      if (node.querySelector("a, button, input, select, textarea, [tabindex]")) return;
      node.setAttribute("tabindex", "0");
      var caption = node.querySelector("caption");
      if (caption && !node.hasAttribute("aria-label") && node.tagName !== "TABLE") {
        node.setAttribute("role", "region");
        node.setAttribute("aria-label", caption.textContent.trim());
      }
    });
  }

  function prepare(root) {
    sizes(root);
    scrollables(root);
  }

  prepare(document);
  if (window.htmx) window.htmx.onLoad(prepare);
})();
