// Small per-page behaviour HTMX cannot do: formset rows, double-submit guard, Ctrl+Enter.
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-add-row]");
    if (!btn) return;
    var prefix = btn.getAttribute("data-add-row");
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var tpl = document.getElementById("tpl-" + prefix);
    var index = parseInt(total.value, 10);
    var html = tpl.innerHTML.replace(/__prefix__/g, String(index));
    document.getElementById(btn.getAttribute("data-target")).insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    var rows = document.getElementById(btn.getAttribute("data-target")).querySelectorAll("fieldset");
    var first = rows[rows.length - 1].querySelector("input");
    if (first) first.focus();
  });
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.hasAttribute("data-once")) return;
    if (form.dataset.sent === "1") { ev.preventDefault(); return; }
    form.dataset.sent = "1";
    var b = form.querySelector("button[type=submit]");
    if (b) { b.disabled = true; b.textContent = "正在登记…"; }
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
      var form = ev.target.closest && ev.target.closest("form");
      if (form) { ev.preventDefault(); form.requestSubmit(); }
    }
  });
})();
