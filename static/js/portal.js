// The portal's small behaviours (progressive: every form works without JavaScript).
// Double-submit guard; more behaviour is added by the feature scripts (portal-*.js).
(function () {
  "use strict";
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.hasAttribute("data-once")) return;
    if (form.dataset.sent === "1") { ev.preventDefault(); return; }
    form.dataset.sent = "1";
    var b = form.querySelector("button[type=submit]");
    if (b) { b.disabled = true; b.setAttribute("aria-busy", "true"); b.textContent = b.getAttribute("data-busy") || "正在提交…"; }
  });
})();
