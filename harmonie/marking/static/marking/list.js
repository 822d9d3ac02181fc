/* Harmonie — the unit-harmonisation list (R-UNIT-3). The filter form states the whole
 * filter on every change (hx-get on the page's path, issue 13 item 1); here its empty
 * fields and the default sort are left out of the request, so the address pushed to the
 * history reads like the filter (« ?departments=088&mark_min=8 »). */
(function () {
  "use strict";
  var form = document.getElementById("script-filters");
  if (!form) { return; }
  form.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt !== form) { return; }
    // htmx 2 hands a proxy of the request's FormData: its own methods apply.
    var parameters = event.detail.parameters;
    var names = [];
    parameters.forEach(function (_value, name) { if (names.indexOf(name) < 0) { names.push(name); } });
    names.forEach(function (name) {
      var values = parameters.getAll(name).map(function (value) { return String(value).trim(); });
      parameters.delete(name);
      values.forEach(function (text) {
        if (text === "" || (name === "sort" && text === "id")) { return; }
        parameters.append(name, text);
      });
    });
  });
}());
