// 网上信访 form: live counters, the accused field, co-signer rows added in place, a draft kept
// in this browser (never ID numbers, never files), the result page's copy/print buttons.
// Everything here is an enhancement: the form works the same without JavaScript.
(function () {
  "use strict";
  var DRAFT_KEY = "xf-portal-submit-draft-v1";
  var DRAFT_DAYS = 1;  // a shared computer: the next user should not find it
  var SAVE_EVERY_MS = 4000;

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function store() { try { return window.localStorage; } catch (e) { return null; } }

  // Characters as the server counts them (code points: 𠀀 and 😀 are one each).
  function count(text) { return Array.from(text.replace(/\r\n?/g, "\n").trim()).length; }

  function setupCounters(form) {
    $all("[data-counter-for]", form).forEach(function (out) {
      var input = document.getElementById(out.getAttribute("data-counter-for"));
      if (!input) return;
      var max = parseInt(input.getAttribute("data-count-max") || "0", 10);
      var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      if (described.indexOf(out.id) < 0) { described.push(out.id); input.setAttribute("aria-describedby", described.join(" ")); }
      out.hidden = false;
      function update() {
        var n = count(input.value);
        if (max && n > max) {
          out.textContent = "已输入" + n + "字，超出" + (n - max) + "字（最多" + max + "字）";
          out.classList.add("sub-over");
        } else {
          out.textContent = "已输入" + n + "字" + (max ? "，最多" + max + "字" : "");
          out.classList.remove("sub-over");
        }
      }
      input.addEventListener("input", update);
      input.addEventListener("xf:restored", update);
      update();
    });
  }

  function setupAccused(form) {
    var box = $("[data-accused]", form);
    if (!box) return;
    function update() {
      var checked = $("input[name=purpose]:checked", form);
      box.hidden = !(checked && checked.value === "accusation");
    }
    $all("input[name=purpose]", form).forEach(function (r) { r.addEventListener("change", update); });
    form.addEventListener("xf:restored", update);
    update();
  }

  // --- co-signer rows ---------------------------------------------------------------------
  function renumber(form) {
    var rows = $all("[data-cosigner-row]", form);
    rows.forEach(function (row, i) {
      $all("[id],[for],[name],[aria-describedby]", row).forEach(function (el) {
        ["id", "for", "name", "aria-describedby"].forEach(function (attr) {
          var v = el.getAttribute(attr);
          if (v) el.setAttribute(attr, v.replace(/c-(\d+|__prefix__)-/g, "c-" + i + "-"));
        });
      });
      var num = $("[data-row-number]", row);
      if (num) num.textContent = String(i + 1);
      var remove = $("[data-remove-cosigner]", row);
      if (remove) { remove.hidden = false; remove.textContent = "移除第" + (i + 1) + "位联名人"; }
    });
    var total = $("#id_c-TOTAL_FORMS", form);
    var max = parseInt(total.getAttribute("data-max") || "4", 10);
    total.value = String(rows.length);
    var wrap = $("[data-add-wrap]", form);
    if (wrap) wrap.hidden = rows.length >= max;
    return rows;
  }

  function addRow(form) {
    var tpl = $("#cosigner-template");
    var holder = $("[data-cosigner-rows]", form);
    var total = $("#id_c-TOTAL_FORMS", form);
    var max = parseInt(total.getAttribute("data-max") || "4", 10);
    if (!tpl || !holder || $all("[data-cosigner-row]", form).length >= max) return null;
    holder.appendChild(tpl.content.cloneNode(true));
    var rows = renumber(form);
    return rows[rows.length - 1];
  }

  function setupCosigners(form) {
    var add = $("[data-add-cosigner]", form);
    if (!$("#id_c-TOTAL_FORMS", form)) return;
    renumber(form);
    if (add) add.addEventListener("click", function (ev) {
      ev.preventDefault();
      var row = addRow(form);
      if (row) { var first = $("input", row); if (first) first.focus(); }
    });
    form.addEventListener("click", function (ev) {
      var btn = ev.target.closest ? ev.target.closest("[data-remove-cosigner]") : null;
      if (!btn) return;
      ev.preventDefault();
      var row = btn.closest("[data-cosigner-row]");
      if (row) row.parentNode.removeChild(row);
      renumber(form);
      scheduleSave(form);
      var wrapAdd = $("[data-add-cosigner]", form);
      var rows = $all("[data-cosigner-row]", form);
      var target = rows.length ? $("input", rows[rows.length - 1]) : wrapAdd;
      if (target) target.focus();
    });
  }

  // --- the draft ----------------------------------------------------------------------------
  function savable(el) {
    if (!el.name || el.disabled) return false;
    if (el.type === "file" || el.type === "hidden" || el.type === "submit" || el.type === "button") return false;
    if (/(id_number|phone|address)$/.test(el.name)) return false;  // identity and contact: never kept
    if (el.name === "hp" || el.name === "consent" || el.name === "keep") return false;
    return true;
  }

  var saveTimer = null;
  var dirty = false;
  function save(form) {
    var s = store();
    if (!s) return;
    var purpose = $("input[name=purpose]:checked", form);
    if (purpose && purpose.value === "accusation") {  // 检举控告: nothing of it stays in the browser
      try { s.removeItem(DRAFT_KEY); } catch (e) { /* ignore */ }
      dirty = false;
      return;
    }
    var fields = {};
    var any = false;
    $all("input, select, textarea", form).forEach(function (el) {
      if (!savable(el)) return;
      if (el.type === "radio") { if (el.checked) { fields[el.name] = el.value; any = true; } return; }
      if (el.type === "checkbox") return;
      fields[el.name] = el.value;
      if (el.value && el.tagName !== "SELECT") any = true;
    });
    try {
      if (any) s.setItem(DRAFT_KEY, JSON.stringify({ t: Date.now(), rows: $all("[data-cosigner-row]", form).length, fields: fields }));
      else s.removeItem(DRAFT_KEY);
    } catch (e) { /* storage full or disabled: the draft is a convenience */ }
    dirty = false;
  }
  function scheduleSave(form) {
    dirty = true;
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = setTimeout(function () { save(form); }, 800);
  }

  function restore(form) {
    var s = store();
    if (!s || form.getAttribute("data-fresh") !== "1") return;
    var draft;
    try { draft = JSON.parse(s.getItem(DRAFT_KEY) || "null"); } catch (e) { draft = null; }
    if (!draft || !draft.fields) return;
    if (Date.now() - (draft.t || 0) > DRAFT_DAYS * 86400000) { s.removeItem(DRAFT_KEY); return; }
    while ($all("[data-cosigner-row]", form).length < (draft.rows || 0)) { if (!addRow(form)) break; }
    var restored = false;
    Object.keys(draft.fields).forEach(function (name) {
      var value = draft.fields[name];
      $all("[name='" + name.replace(/'/g, "") + "']", form).forEach(function (el) {
        if (!savable(el)) return;
        if (el.type === "radio") { el.checked = el.value === value; if (el.checked) restored = true; return; }
        if (el.value !== value) { el.value = value; if (value) restored = true; }
      });
    });
    if (!restored) return;
    form.dispatchEvent(new CustomEvent("xf:restored"));
    $all("input, textarea", form).forEach(function (el) { el.dispatchEvent(new CustomEvent("xf:restored")); });
    var notice = $("[data-draft-notice]");
    if (notice) notice.hidden = false;
  }

  function setupDraft(form) {
    restore(form);
    form.addEventListener("input", function () { scheduleSave(form); });
    form.addEventListener("change", function () { scheduleSave(form); });
    setInterval(function () { if (dirty) save(form); }, SAVE_EVERY_MS);
    var clear = $("[data-draft-clear-button]");
    if (clear) clear.addEventListener("click", function () {
      var s = store();
      if (s) s.removeItem(DRAFT_KEY);
      $all("input, select, textarea", form).forEach(function (el) {
        if (!savable(el)) return;
        if (el.type === "radio") el.checked = false;
        else if (el.tagName === "SELECT") el.selectedIndex = 0;
        else el.value = "";
      });
      $all("[data-cosigner-row]", form).slice(1).forEach(function (row) { row.parentNode.removeChild(row); });
      renumber(form);
      form.dispatchEvent(new CustomEvent("xf:restored"));
      $all("input, textarea", form).forEach(function (el) { el.dispatchEvent(new CustomEvent("xf:restored")); });
      var notice = $("[data-draft-notice]");
      if (notice) notice.hidden = true;
      var first = $("input:not([type=hidden])", form);
      if (first) first.focus();
      dirty = false;
    });
  }

  function setupSubmitGuard(form) {
    form.addEventListener("submit", function (ev) {
      var by = ev.submitter;
      if (by && by.hasAttribute("data-add-cosigner")) { ev.preventDefault(); return; } // Enter in a field
      if (form.dataset.sent === "1") { ev.preventDefault(); return; }
      save(form);
      form.dataset.sent = "1";
      var btn = $("[data-final-submit]", form);
      if (btn) { btn.setAttribute("aria-busy", "true"); btn.textContent = btn.getAttribute("data-busy") || "正在提交…"; }
    });
    window.addEventListener("pageshow", function () {
      form.dataset.sent = "";
      var btn = $("[data-final-submit]", form);
      if (btn) { btn.removeAttribute("aria-busy"); btn.textContent = "下一步：核对内容"; }
    });
  }

  // --- the result page ----------------------------------------------------------------------
  function setupDone() {
    if (!$("[data-draft-clear]")) return;
    var s = store();
    if (s) s.removeItem(DRAFT_KEY);
    var status = $("[data-copy-status]");
    $all("[data-copy]").forEach(function (btn) {
      btn.hidden = false;
      btn.addEventListener("click", function () {
        var code = btn.getAttribute("data-copy");
        function ok() { if (status) status.textContent = "已复制查询码 " + code; }
        function fallback() {
          var el = $("#query-code");
          if (!el) return;
          var range = document.createRange();
          range.selectNodeContents(el);
          var sel = window.getSelection();
          sel.removeAllRanges();
          sel.addRange(range);
          try { if (document.execCommand("copy")) { ok(); return; } } catch (e) { /* ignored */ }
          if (status) status.textContent = "请长按或按 Ctrl+C 复制已选中的查询码";
        }
        if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(code).then(ok, fallback);
        else fallback();
      });
    });
    $all("[data-print]").forEach(function (btn) {
      btn.hidden = false;
      btn.addEventListener("click", function () { window.print(); });
    });
  }

  function init() {
    var form = document.getElementById("submit-form");
    if (form) {
      form.classList.add("js");
      setupCosigners(form);
      setupCounters(form);
      setupAccused(form);
      setupDraft(form);
      setupSubmitGuard(form);
      var errors = document.getElementById("pt-errors") || document.getElementById("pt-banner");
      if (errors) errors.focus();
    }
    setupDone();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
