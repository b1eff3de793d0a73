// The portal's small behaviours (progressive: every form works without JavaScript).
// Double-submit guard; more behaviour is added by the feature scripts (portal-*.js).
(function () {
  "use strict";
  // 退出查询 / 退出登录 on a shared computer: the unsent form's draft goes too.
  document.addEventListener("submit", function (ev) {
    var action = ev.target.getAttribute("action") || "";
    if (/\/portal\/(leave|logout)\/$/.test(action)) {
      try { window.localStorage.removeItem("xf-portal-submit-draft-v1"); } catch (e) { /* ignore */ }
    }
  });
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.hasAttribute("data-once")) return;
    if (form.dataset.sent === "1") { ev.preventDefault(); return; }
    form.dataset.sent = "1";
    var b = form.querySelector("button[type=submit]");
    if (b) {
      if (!b.hasAttribute("data-label")) b.setAttribute("data-label", b.textContent);
      b.disabled = true; b.setAttribute("aria-busy", "true"); b.textContent = b.getAttribute("data-busy") || "正在提交…";
    }
  });
  // Back button after a submit: the browser may restore the page from its cache with the button
  // still disabled; make the form usable again (the server side refuses a duplicate anyway).
  window.addEventListener("pageshow", function (ev) {
    if (!ev.persisted) return;
    var forms = document.querySelectorAll("form[data-once]");
    for (var i = 0; i < forms.length; i++) {
      delete forms[i].dataset.sent;
      var b = forms[i].querySelector("button[type=submit][aria-busy]");
      if (b) {
        b.disabled = false; b.removeAttribute("aria-busy");
        if (b.hasAttribute("data-label")) b.textContent = b.getAttribute("data-label");
      }
    }
  });
})();
