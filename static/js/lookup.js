// Desk lookup box (templates/people/_lookup_box.html): "/" focuses the box, Enter opens the
// first result once results for the typed text are shown (otherwise Enter searches).
(function () {
  "use strict";
  if (window.xfLookupBound) return;
  window.xfLookupBound = true;
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "/" && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
      var t = ev.target;
      var typing = t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
      if (typing) return;
      var box = document.querySelector("[data-lookup-box] input[name=q]");
      if (box) { ev.preventDefault(); box.focus(); box.select(); }
      return;
    }
    if (ev.key !== "Enter" || ev.ctrlKey || ev.metaKey) return;
    var input = ev.target.closest && ev.target.closest("[data-lookup-box] input[name=q]");
    if (!input) return;
    var form = input.closest("form");
    var results = form.nextElementSibling;
    var first = results && results.querySelector("[data-first]");
    if (first && results.dataset.q === input.value) {
      ev.preventDefault();
      first.click();
    }
  });
  // Remember which text the shown results belong to.
  document.addEventListener("htmx:afterSwap", function (ev) {
    var results = ev.detail.target;
    if (!results || !results.classList || !results.classList.contains("lookup-results")) return;
    var form = results.previousElementSibling;
    var input = form && form.querySelector("input[name=q]");
    if (input) results.dataset.q = input.value;
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".lookup-results").forEach(function (results) {
      var form = results.previousElementSibling;
      var input = form && form.querySelector("input[name=q]");
      if (input && results.children.length) results.dataset.q = input.value;
    });
  });
})();
