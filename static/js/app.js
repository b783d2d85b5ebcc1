// Wangge's only script besides the vendored libraries. No inline scripts:
// the Content-Security-Policy allows scripts from this app only.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // <select class="autosubmit"> submits its form on change (the form keeps a
  // submit button, hidden with JS on, for browsers without JS).
  document.addEventListener("change", function (ev) {
    var el = ev.target;
    if (el.matches && el.matches("select.autosubmit")) {
      if (el.form.requestSubmit) { el.form.requestSubmit(); } else { el.form.submit(); }
    }
  });

  // <button data-confirm="…"> asks before submitting.
  document.addEventListener("click", function (ev) {
    var el = ev.target.closest && ev.target.closest("[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) {
      ev.preventDefault();
      ev.stopPropagation();
    }
  }, true);

  // Error pages come back into #flash for fragment requests: let htmx swap them.
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var status = ev.detail.xhr.status;
    if (status === 404 || status === 403 || status === 400 || status === 409 || status === 422 || status === 500 || status === 429) {
      ev.detail.shouldSwap = true;
      ev.detail.isError = false;
    }
  });

  // The unread count in the header (#inbox-badge) refreshes every 60 s, when
  // a response says so (HX-Trigger: wangge-inbox) and after each htmx request
  // that changed something (not after GETs: polling would refresh it forever).
  document.addEventListener("htmx:afterRequest", function (ev) {
    var elt = ev.detail.elt;
    var verb = ev.detail.requestConfig && ev.detail.requestConfig.verb;
    if (!window.htmx || ev.detail.boosted || (elt && elt.id === "inbox-badge") || !verb || verb.toLowerCase() === "get") { return; }
    var badge = document.getElementById("inbox-badge");
    if (badge) { window.htmx.trigger(document.body, "wangge-inbox"); }
  });

  // Charts: <div class="chart" data-chart='{"type": "bar", ...}'> becomes an
  // ECharts chart when echarts is loaded on the page (only where a chart is shown).
  function drawCharts(root) {
    if (!window.echarts) { return; }
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.drawn) { return; }
      el.dataset.drawn = "1";
      var spec = JSON.parse(el.getAttribute("data-chart"));
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(spec);
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
  document.addEventListener("htmx:afterSettle", function (ev) { drawCharts(ev.target); });

  // Boosted navigation swaps the body, and htmx (allowScriptTags: false)
  // drops the <script> tags that came with it — such as ECharts, which pages
  // with a chart load in {% block scripts %}. Such a page also names the
  // script on an element, <span hidden data-load-script="/static/…"></span>;
  // after a swap it is loaded once (from this app only: the CSP allows
  // nothing else) and the charts are drawn.
  var requested = {};
  document.addEventListener("htmx:afterSettle", function (ev) {
    ev.target.querySelectorAll("[data-load-script]").forEach(function (el) {
      var src = el.getAttribute("data-load-script");
      var present = Array.prototype.some.call(document.scripts, function (s) { return s.getAttribute("src") === src; });
      if (present || requested[src]) { return; }
      requested[src] = true;
      var s = document.createElement("script");
      s.src = src;
      s.addEventListener("load", function () { drawCharts(document); });
      document.head.appendChild(s);
    });
  });
})();
