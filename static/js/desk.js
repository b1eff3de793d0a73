// Registration form, desk parts (xinfang.cases.desk): 分类接待 guidance from the JSON data
// block, 信访目的 preset by the desk purpose, ≤5 代表 ticks, removing a known person card.
(function () {
  "use strict";
  var MAX_REPS = 5;
  var dataEl = document.getElementById("desk-guidance-data");
  if (!dataEl) return;
  var data = JSON.parse(dataEl.textContent);
  var box = document.getElementById("desk-guidance");
  var form = document.getElementById("register-form");

  function checked(name) {
    var el = form.querySelector("input[name=" + name + "]:checked");
    return el ? el.value : "";
  }
  function block(title, item) {
    var div = document.createElement("div");
    div.className = "desk-guidance-item";
    var h = document.createElement("strong");
    h.textContent = title + "：" + item.label;
    div.appendChild(h);
    [["接待要点", item.check], ["下一步", item.next]].forEach(function (pair) {
      if (!pair[1] || !pair[1].length) return;
      var p = document.createElement("div");
      p.className = "muted small";
      p.textContent = pair[0];
      div.appendChild(p);
      var ul = document.createElement("ul");
      pair[1].forEach(function (line) {
        var li = document.createElement("li");
        li.textContent = line;
        ul.appendChild(li);
      });
      div.appendChild(ul);
    });
    return div;
  }
  function show(id, on) {
    var el = document.getElementById(id);
    if (el) el.hidden = !on;
  }
  function render() {
    var purpose = checked("desk_purpose");
    var visitor = checked("visitor_type");
    box.textContent = "";
    if (purpose && data.purpose[purpose]) box.appendChild(block("来访目的", data.purpose[purpose]));
    if (visitor && data.visitor[visitor]) box.appendChild(block("来访人", data.visitor[visitor]));
    var donts = document.createElement("p");
    donts.className = "muted";
    donts.textContent = data.donts;
    box.appendChild(donts);
    var psych = document.getElementById("id_psych_referral");
    show("desk-not-ours", purpose === "not_ours");
    show("desk-psych", purpose === "agitated_mind" || (psych && psych.checked));
    // 检举控告: the accused fields appear (kept visible while anything is filled in).
    var acc = document.getElementById("accused-fields");
    var sel = document.getElementById("id_purpose");
    if (acc) {
      var text = document.getElementById("id_accused_text");
      var filled = acc.querySelector("option:checked") || (text && text.value.trim());
      acc.hidden = !((sel && sel.value === "accusation") || filled);
    }
  }
  function repTicks() {
    return form.querySelectorAll("input[data-rep-tick], input[type=checkbox][name^='p-'][name$='-rep']");
  }
  function repCount() {
    var n = 0;
    repTicks().forEach(function (el) { if (el.checked) n += 1; });
    var rows = document.getElementById("rep-rows");
    return n + (rows ? rows.querySelectorAll("fieldset").length : 0);
  }
  function say(text) {
    var el = document.getElementById("desk-rep-alert");
    if (!el) {
      el = document.createElement("div");
      el.id = "desk-rep-alert";
      el.className = "error";
      el.setAttribute("role", "alert");
      var target = document.getElementById("people-rows");
      target.parentNode.insertBefore(el, target);
    }
    el.textContent = text;
    el.hidden = !text;
  }
  form.addEventListener("change", function (ev) {
    var t = ev.target;
    if (t.name === "desk_purpose") {
      var item = data.purpose[t.value];
      var purpose = document.getElementById("id_purpose");
      if (item && purpose && purpose.value !== item.map) {
        purpose.value = item.map;
        purpose.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }
    if (t.matches && t.matches("input[data-rep-tick], input[name$='-rep']") && t.checked) {
      var n = repCount();
      if (n > MAX_REPS) {
        t.checked = false;
        say("集体访最多登记" + MAX_REPS + "名代表（当前" + n + "名），其余人员计入人数即可");
        ev.stopPropagation();
        return;
      }
    }
    if (t.matches && t.matches("input[data-rep-tick], input[name$='-rep']")) say("");
    render();
  });
  form.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-remove-card]");
    if (!btn) return;
    var card = btn.closest("[data-known-card]");
    if (card) card.remove();
    form.dispatchEvent(new Event("change", { bubbles: true }));
  });
  render();
})();
