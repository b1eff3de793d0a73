// 排查报告: "再添加一条" adds a new-item row in place (without JS the button re-renders the form).
(function () {
  "use strict";
  var button = document.getElementById("scr-add-row");
  var rows = document.getElementById("scr-rows");
  var count = document.getElementById("n-count");
  if (!button || !rows || !count) return;
  button.addEventListener("click", function (event) {
    var last = rows.querySelector(".scr-row:last-of-type");
    if (!last) return;
    event.preventDefault();
    var n = parseInt(count.value, 10) || rows.querySelectorAll(".scr-row").length;
    var copy = last.cloneNode(true);
    var old = last.getAttribute("data-row");
    var re = new RegExp("^n-" + old + "-");
    copy.setAttribute("data-row", String(n));
    copy.querySelector("legend").textContent = "新发现的矛盾纠纷 第" + (n + 1) + "条";
    copy.querySelectorAll(".error").forEach(function (e) { e.remove(); });
    copy.querySelectorAll("[name]").forEach(function (el) {
      el.name = el.name.replace(re, "n-" + n + "-");
      if (el.id) el.id = el.id.replace(re, "n-" + n + "-");
      if (el.tagName === "SELECT") el.selectedIndex = 0;
      else if (el.name.slice(-10) === "-headcount") el.value = "1";
      else el.value = "";
    });
    copy.querySelectorAll("label[for]").forEach(function (l) {
      l.htmlFor = l.htmlFor.replace(re, "n-" + n + "-");
    });
    rows.appendChild(copy);
    count.value = String(n + 1);
    var first = copy.querySelector("input, textarea");
    if (first) first.focus();
  });
})();
