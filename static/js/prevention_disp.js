// 矛盾纠纷登记: the rubric's suggested risk level, live from 涉及人数 and the ticked 风险情形.
// Mirrors xinfang/prevention/rubric.py suggest_risk (the server decides again on submit).
(function () {
  "use strict";
  var LABELS = { low: "低", medium: "中", high: "高", critical: "重大" };
  function suggest(headcount, s) {
    if (s.capital_signal || s.extreme_signal || headcount >= 50) return "critical";
    if (s.collective_signal || headcount >= 20 || s.key_subject || s.repeated) return "high";
    if (headcount >= 5 || s.already_petitioned) return "medium";
    return "low";
  }
  function update() {
    var form = document.getElementById("dispute-form");
    var out = document.getElementById("disp-suggest");
    if (!form || !out) return;
    var head = parseInt((form.querySelector("[name=headcount]") || {}).value, 10) || 1;
    var flags = {};
    form.querySelectorAll("input[name=signals]").forEach(function (box) {
      flags[box.value] = box.checked;
    });
    var level = suggest(head, flags);
    out.textContent = "按评定标准建议：" + LABELS[level] + "风险（低于建议等级须说明理由）";
    document.querySelectorAll(".disp-rubric tr[data-level]").forEach(function (row) {
      row.classList.toggle("disp-suggested", row.getAttribute("data-level") === level);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("dispute-form");
    if (!form || !form.querySelector("input[name=signals]")) return;
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    update();
  });
})();
