// Small per-page behaviour HTMX cannot do: formset rows, double-submit guard, Ctrl+Enter, print.
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
  // 503 (database down, disk full): show the server's message in the message area
  // (HX-Retarget); the form keeps what was typed, to be sent again later.
  document.addEventListener("htmx:beforeSwap", function (ev) {
    if (ev.detail.xhr && ev.detail.xhr.status === 503) {
      ev.detail.shouldSwap = true;
      ev.detail.isError = false;
    }
  });
  // "采用" on a suggestion (intel): put its value into the named select, as if chosen by hand.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-set-field]");
    if (!btn) return;
    var field = document.getElementById(btn.getAttribute("data-set-field"));
    if (!field) return;
    field.value = btn.getAttribute("data-value");
    field.dispatchEvent(new Event("change", { bubbles: true }));
    field.focus();
  });
  // Replaces inline onclick="history.back()" (CSP: no inline handlers).
  document.addEventListener("click", function (ev) {
    if (ev.target.closest && ev.target.closest("[data-back]")) { ev.preventDefault(); history.back(); }
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
      var form = ev.target.closest && ev.target.closest("form");
      if (form) { ev.preventDefault(); form.requestSubmit(); }
    }
  });
  // [data-print]: a 打印 button (no inline script under the CSP).
  document.addEventListener("click", function (ev) {
    if (ev.target.closest && ev.target.closest("[data-print]")) window.print();
  });
})();
