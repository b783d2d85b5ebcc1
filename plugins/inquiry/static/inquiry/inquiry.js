// Square Inquiry: on the triage form, choosing a category proposes its
// usual unit (for property management: the estate's property company) and
// its working days, unless the user has picked a unit by hand.
(function () {
  "use strict";
  function wire(root) {
    root.querySelectorAll("select[data-proposals]").forEach(function (cat) {
      if (cat.dataset.wired) { return; }
      cat.dataset.wired = "1";
      var form = cat.form;
      var unit = form.querySelector("select[name=unit_id]");
      var days = form.querySelector("input[name=deadline_days]");
      var proposals = JSON.parse(cat.getAttribute("data-proposals"));
      var touched = false;
      if (unit) { unit.addEventListener("change", function () { touched = true; }); }
      cat.addEventListener("change", function () {
        var p = proposals[cat.value];
        if (!p) { return; }
        if (unit && !touched && p.unit) { unit.value = String(p.unit); }
        if (days && p.days) { days.value = String(p.days); }
      });
    });
  }
  // Loaded late after a boosted navigation: the document is ready already.
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { wire(document); });
  } else {
    wire(document);
  }
  document.addEventListener("htmx:afterSettle", function (ev) { wire(ev.target); });
})();
