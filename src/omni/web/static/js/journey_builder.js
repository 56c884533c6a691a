// The visual journey builder: edits a journey definition in a side panel; journey_graph.js draws it.
// The definition stays the JSON the API takes; every edit rewrites the JSON editor, and the API's own
// validation answers saves, so nothing here second-guesses the server's rules.
(function () {
  "use strict";

  var root = document.getElementById("builder");
  if (!root) { return; }
  var graph = window.OmniJourneyGraph;
  var ID_PREFIX = { delay: "delay", wait_event: "wait", condition: "check", random_split: "split", send: "send",
    update_profile: "update", webhook: "webhook", goal: "goal", exit: "exit" };
  var TYPES = Object.keys(ID_PREFIX);
  var OPS = ["eq", "ne", "gt", "gte", "lt", "lte", "exists", "contains"];

  var data = JSON.parse(document.getElementById("jb-data").textContent);
  var words = {};
  document.querySelectorAll("#jb-words [data-word]").forEach(function (el) { words[el.dataset.word] = el.textContent; });
  var def = JSON.parse(JSON.stringify(data.definition));
  var readOnly = !!data.read_only;
  var selected = { kind: "trigger", id: null };
  var inserting = null;  // {from, slot} while the palette is open
  var invalid = {};      // node id (or "trigger") -> problem texts from the last save
  var svg = document.getElementById("jb-svg");
  var panel = document.getElementById("jb-panel");
  var json = document.getElementById("jb-json");
  var status = document.getElementById("jb-status");
  var problemList = document.getElementById("jb-problems");

  function t(word) { return words[word] || word; }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (attrs[k] === true) { node.setAttribute(k, ""); } else if (attrs[k] !== false && attrs[k] != null) { node.setAttribute(k, attrs[k]); }
    });
    if (text != null) { node.textContent = text; }
    return node;
  }
  function outs(node) { return graph.outs(node, t); }
  function drawCanvas() {
    graph.draw(svg, { def: def, data: data, t: t, readOnly: readOnly, selected: selected, invalid: invalid });
  }
  function csv(text) { return text.split(",").map(function (s) { return s.trim(); }).filter(Boolean); }

  function setOut(id, slot, target) {
    if (id === null) { def.start = target; return; }
    var node = def.nodes[id];
    var m = /^branches\.(\d+)\.next$/.exec(slot);
    if (m) { node.branches[+m[1]].next = target; } else { node[slot] = target; }
  }

  function changed(redrawPanel) {
    json.value = JSON.stringify(def, null, 2);
    drawCanvas();
    if (redrawPanel) { drawPanel(); }
  }

  // Side panel: a form per kind of box; each field writes its value into the definition at once.
  function field(form, label, input) {
    var wrap = el("label", {}, label);
    wrap.appendChild(input);
    if (readOnly) { input.disabled = true; }
    form.appendChild(wrap);
    return input;
  }
  function textInput(value, onChange, attrs) {
    var input = el("input", Object.assign({ value: value == null ? "" : value }, attrs || {}));
    input.addEventListener("input", function () { onChange(input.value); changed(false); });
    return input;
  }
  function numberInput(value, onChange, attrs) {
    return textInput(value, function (v) { onChange(v === "" ? null : Number(v)); }, Object.assign({ type: "number" }, attrs || {}));
  }
  function select(options, value, onChange) {
    var input = el("select");
    options.forEach(function (o) {
      var opt = el("option", { value: o[0] }, o[1]);
      if (String(o[0]) === String(value)) { opt.selected = true; }
      input.appendChild(opt);
    });
    input.addEventListener("change", function () { onChange(input.value); changed(true); });
    return input;
  }
  function checkbox(form, label, checked, onChange) {
    var input = el("input", { type: "checkbox" });
    input.checked = !!checked;
    input.disabled = readOnly;
    input.addEventListener("change", function () { onChange(input.checked); changed(true); });
    var wrap = el("label", { "class": "jb-check" });
    wrap.appendChild(input);
    wrap.appendChild(document.createTextNode(" " + label));
    form.appendChild(wrap);
  }
  function eventInput(value, onChange) { return textInput(value, onChange, { list: "jb-events", required: true }); }
  function durationFields(form, obj, key, optional) {
    var d = obj[key] || {};
    ["days", "hours", "minutes"].forEach(function (unit) {
      field(form, t(unit.charAt(0).toUpperCase() + unit.slice(1)), numberInput(d[unit] || "", function (v) {
        var now = Object.assign({}, obj[key] || {});
        if (v) { now[unit] = v; } else { delete now[unit]; }
        if (Object.keys(now).length || !optional) { obj[key] = now; } else { delete obj[key]; }
        if (optional) { durationSet(obj); }
      }, { min: 0, name: key + "-" + unit }));
    });
  }
  function durationSet(node) {
    // A wait's timeout needs its branch: it starts as the same step as the event's.
    if (node.type !== "wait_event") { return; }
    if (node.timeout && !node.timeout_next) { node.timeout_next = node.next; }
    if (!node.timeout) { delete node.timeout_next; prune(); }
  }
  function templateSelect(msg, onChange) {
    var names = data.templates.map(function (x) { return [x.name, x.name + " (" + x.channels.join(", ") + ")"]; });
    if (msg && msg.variants) { names.unshift(["", t("Inline variants (edit in JSON)")]); }
    return select(names, msg && msg.template, onChange);
  }

  function triggerForm(form) {
    var tr = def.trigger;
    field(form, t("Trigger"), select([["event", t("An event")], ["segment_entered", t("Entered a segment")],
      ["date_trait", t("A date trait")], ["api", t("An API call")]], tr.type, function (v) {
      var fresh = { event: { type: "event", event: "", keys: [] }, segment_entered: { type: "segment_entered", segment_id: (data.segments[0] || {}).id || 1 },
        date_trait: { type: "date_trait", trait: "birthday", annual: true }, api: { type: "api", keys: [] } };
      def.trigger = fresh[v];
    })).name = "trigger-type";
    if (tr.type === "event") {
      field(form, t("Event"), eventInput(tr.event, function (v) { tr.event = v; })).name = "trigger-event";
    }
    if (tr.type === "event" || tr.type === "api") {
      field(form, t("Keys"), textInput((tr.keys || []).join(", "), function (v) { tr.keys = csv(v); },
        { name: "trigger-keys", placeholder: t("Comma-separated property names") }));
    }
    if (tr.type === "event") { filterRows(form, tr); }
    if (tr.type === "segment_entered") {
      field(form, t("Segment"), select(data.segments.map(function (s) { return [s.id, s.name]; }), tr.segment_id,
        function (v) { tr.segment_id = Number(v); })).name = "trigger-segment";
    }
    if (tr.type === "date_trait") {
      field(form, t("Trait"), textInput(tr.trait, function (v) { tr.trait = v; }, { name: "trigger-trait" }));
      field(form, t("Days after the date"), numberInput(tr.offset_days || 0, function (v) { tr.offset_days = v || 0; }));
      checkbox(form, t("Every year"), tr.annual, function (v) { tr.annual = v; });
    }
    form.appendChild(el("h3", {}, t("Journey settings")));
    var re = def.reentry = def.reentry || { policy: "once" };
    field(form, t("Re-entry"), select([["once", t("Once")], ["once_per", t("Once per some days")], ["always", t("Every time")]],
      re.policy, function (v) { re.policy = v; if (v === "once_per") { re.days = re.days || 1; } else { delete re.days; } })).name = "reentry-policy";
    if (re.policy === "once_per") {
      field(form, t("Days"), numberInput(re.days, function (v) { re.days = v; }, { min: 1, name: "reentry-days" }));
    }
    field(form, t("Entry cap"), numberInput(def.entry_cap, function (v) { if (v) { def.entry_cap = v; } else { delete def.entry_cap; } }, { min: 1, name: "entry-cap" }));
    var goal = def.goal || {};
    field(form, t("Goal event"), eventInput(goal.event, function (v) {
      if (v) { def.goal = Object.assign({ keys: [] }, def.goal || {}, { event: v }); } else { delete def.goal; }
    })).name = "goal-event";
    if (def.goal) {
      field(form, t("Keys"), textInput((goal.keys || []).join(", "), function (v) { def.goal.keys = csv(v); }, { name: "goal-keys" }));
      field(form, t("Goal within days"), numberInput((goal.within || {}).days || 7, function (v) { def.goal.within = { days: v || 7 }; }, { min: 1 }));
    }
  }
  function filterRows(form, tr) {
    form.appendChild(el("h3", {}, t("Property filters")));
    (tr.where = tr.where || []).forEach(function (f, i) {
      var row = el("div", { "class": "jb-row" });
      field(row, t("Property"), textInput(f.property, function (v) { f.property = v; }));
      field(row, t("Operator"), select(OPS.map(function (o) { return [o, o]; }), f.op || "eq", function (v) { f.op = v; }));
      field(row, t("Value"), textInput(f.value == null ? "" : JSON.stringify(f.value).replace(/^"|"$/g, ""), function (v) { f.value = typed(v); }));
      if (!readOnly) { row.appendChild(button(t("Remove"), function () { tr.where.splice(i, 1); changed(true); })); }
      form.appendChild(row);
    });
    if (!readOnly) { form.appendChild(button(t("Add a filter"), function () { tr.where.push({ property: "total", op: "gte", value: 0 }); changed(true); })); }
  }
  function typed(text) {
    // Numbers and true/false stay typed, as a marketer means "1000" in a filter on total.
    try { var v = JSON.parse(text); return typeof v === "object" && v !== null ? text : v; } catch (e) { return text; }
  }
  function button(label, onClick, attrs) {
    var b = el("button", Object.assign({ type: "button", "class": "secondary" }, attrs || {}), label);
    b.addEventListener("click", onClick);
    return b;
  }

  function nodeForm(form, id) {
    var node = def.nodes[id];
    if (node.type === "delay") {
      var byTime = "until" in node;
      field(form, t("Wait for"), select([["duration", t("For a while")], ["until", t("Until a time of day")]], byTime ? "until" : "duration", function (v) {
        if (v === "until") { delete node.duration; node.until = "10:00"; } else { delete node.until; node.duration = { hours: 1 }; }
      }));
      if (byTime) { field(form, t("Until a time of day"), textInput(node.until, function (v) { node.until = v; }, { type: "time", name: "until" })); }
      else { durationFields(form, node, "duration", false); }
    } else if (node.type === "wait_event") {
      field(form, t("Event"), eventInput(node.event, function (v) { node.event = v; })).name = "wait-event";
      field(form, t("Keys"), textInput((node.keys || []).join(", "), function (v) { node.keys = csv(v); }, { name: "wait-keys" }));
      form.appendChild(el("h3", {}, t("Time out after")));
      durationFields(form, node, "timeout", true);
    } else if (node.type === "condition") {
      conditionForm(form, node);
    } else if (node.type === "random_split") {
      node.branches.forEach(function (b, i) {
        var row = el("div", { "class": "jb-row" });
        field(row, t("Percent"), numberInput(b.percent, function (v) { b.percent = v; }, { min: 0, max: 100, step: "any", name: "percent-" + i }));
        checkbox(row, t("Holdout"), b.holdout, function (v) {
          node.branches.forEach(function (other) { delete other.holdout; });
          if (v) { b.holdout = true; }
        });
        if (!readOnly && node.branches.length > 2) { row.appendChild(button(t("Remove"), function () { node.branches.splice(i, 1); prune(); changed(true); })); }
        form.appendChild(row);
      });
      if (!readOnly) { form.appendChild(button(t("Add a branch"), function () { node.branches.push({ percent: 0, next: node.branches[0].next }); changed(true); })); }
    } else if (node.type === "send") {
      var choices = data.channels.map(function (c) { return [c, c === "best" ? t("Best channel") : c]; });
      field(form, t("Channel"), select(choices, node.channel, function (v) { node.channel = v; })).name = "channel";
      if (node.channel === "best") {
        field(form, t("Channels to choose from"), textInput((node.channels || ["email", "sms", "line"]).join(", "), function (v) { node.channels = csv(v); }));
      }
      field(form, t("Purpose"), select(data.purposes.map(function (p) { return [p, p]; }), node.purpose || "marketing", function (v) { node.purpose = v; }));
      field(form, t("Template"), templateSelect(node.message, function (v) { if (v) { node.message = { template: v }; } })).name = "template";
      checkbox(form, t("At the person's best hour"), node.at_best_hour, function (v) { if (v) { node.at_best_hour = true; } else { delete node.at_best_hour; } });
    } else if (node.type === "webhook") {
      field(form, t("Template"), templateSelect(node.message, function (v) { if (v) { node.message = { template: v }; } })).name = "template";
    } else if (node.type === "update_profile") {
      var lines = Object.keys(node.traits || {}).map(function (k) { return k + "=" + JSON.stringify(node.traits[k]).replace(/^"|"$/g, ""); }).join("\n");
      var area = el("textarea", { rows: 3, name: "traits" });
      area.value = lines;
      area.addEventListener("input", function () {
        var traits = {};
        area.value.split("\n").forEach(function (line) {
          var at = line.indexOf("=");
          if (at > 0) { traits[line.slice(0, at).trim()] = typed(line.slice(at + 1).trim()); }
        });
        node.traits = traits;
        changed(false);
      });
      field(form, t("Traits (one name=value a line)"), area);
      field(form, t("Tags"), textInput((node.tags || []).join(", "), function (v) { node.tags = csv(v); }, { name: "tags" }));
    } else {
      form.appendChild(el("p", { "class": "muted" }, t("This step has no settings.")));
    }
    if (!readOnly) {
      form.appendChild(button(t("Delete this step"), function () { remove(id); }, { "class": "danger", id: "jb-delete" }));
    }
  }
  function conditionForm(form, node) {
    var c = node["if"] || {};
    var kind = "trait" in c ? "trait" : "in_segment" in c ? "in_segment" : "did_event" in c ? "did_event" : "combined";
    if (kind === "combined") { form.appendChild(el("p", { "class": "muted" }, t("Combined condition (edit in JSON)"))); return; }
    field(form, t("Condition on"), select([["trait", t("A trait")], ["in_segment", t("In a segment")], ["did_event", t("Did an event")]], kind, function (v) {
      node["if"] = v === "trait" ? { trait: "member_tier", op: "eq", value: "" } : v === "in_segment" ? { in_segment: (data.segments[0] || {}).id || 1 }
        : { did_event: "Order Completed", at_least: 1 };
    }));
    if (kind === "trait") {
      field(form, t("Trait"), textInput(c.trait, function (v) { c.trait = v; }));
      field(form, t("Operator"), select(OPS.map(function (o) { return [o, o]; }), c.op || "eq", function (v) { c.op = v; }));
      field(form, t("Value"), textInput(c.value == null ? "" : String(c.value), function (v) { c.value = typed(v); }));
    } else if (kind === "in_segment") {
      field(form, t("Segment"), select(data.segments.map(function (s) { return [s.id, s.name]; }), c.in_segment, function (v) { c.in_segment = Number(v); }));
    } else {
      field(form, t("Event"), eventInput(c.did_event, function (v) { c.did_event = v; }));
      field(form, t("Within days"), numberInput((c.within || {}).days, function (v) { if (v) { c.within = { days: v }; } else { delete c.within; } }, { min: 1 }));
      field(form, t("At least"), numberInput(c.at_least || 1, function (v) { c.at_least = v || 1; }, { min: 1 }));
    }
  }

  function paletteForm(form) {
    form.appendChild(el("h3", {}, t("Pick a step")));
    var grid = el("div", { "class": "jb-palette" });
    TYPES.forEach(function (type) {
      grid.appendChild(button(t("type:" + type), function () { insert(type); }, { "data-type": type }));
    });
    form.appendChild(grid);
    form.appendChild(button(t("Cancel"), function () { inserting = null; drawPanel(); }));
  }

  function drawPanel() {
    while (panel.firstChild) { panel.removeChild(panel.firstChild); }
    var form = el("form", { "class": "jb-form", novalidate: true });
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    if (readOnly) { form.appendChild(el("p", { "class": "notice" }, t("This is an older version: read only."))); }
    if (inserting) {
      paletteForm(form);
    } else if (selected.kind === "node" && def.nodes[selected.id]) {
      var node = def.nodes[selected.id];
      form.appendChild(el("h3", {}, t("type:" + node.type) + " · " + selected.id));
      (invalid[selected.id] || []).forEach(function (p) { form.appendChild(el("p", { "class": "error" }, p)); });
      nodeForm(form, selected.id);
    } else {
      form.appendChild(el("h3", {}, t("Trigger")));
      (invalid.trigger || []).forEach(function (p) { form.appendChild(el("p", { "class": "error" }, p)); });
      triggerForm(form);
    }
    panel.appendChild(form);
  }

  function freshId(type) {
    var n = 1;
    while ((ID_PREFIX[type] + "_" + n) in def.nodes) { n++; }
    return ID_PREFIX[type] + "_" + n;
  }
  function insert(type) {
    var from = inserting.from === "__trigger__" ? null : inserting.from;
    var old = from === null ? def.start : outs(def.nodes[from]).filter(function (o) { return o.slot === inserting.slot; })[0].to;
    var id = freshId(type);
    var keys = (def.trigger && def.trigger.keys) || [];
    var firstFor = function (channel) {
      return (data.templates.filter(function (x) { return x.channels.indexOf(channel) >= 0; })[0] || data.templates[0] || { name: "" }).name;
    };
    var made = {
      delay: { type: "delay", duration: { hours: 1 }, next: old },
      wait_event: { type: "wait_event", event: "Order Completed", keys: keys.slice(), next: old },
      condition: { type: "condition", "if": { trait: "member_tier", op: "eq", value: "" }, then: old, "else": old },
      random_split: { type: "random_split", branches: [{ percent: 50, next: old }, { percent: 50, next: old }] },
      send: { type: "send", channel: "email", message: { template: firstFor("email") }, next: old },
      update_profile: { type: "update_profile", tags: [], next: old },
      webhook: { type: "webhook", message: { template: firstFor("webhook") }, next: old },
      goal: { type: "goal" },
      exit: { type: "exit" }
    }[type];
    def.nodes[id] = made;
    setOut(from, inserting.slot, id);
    inserting = null;
    selected = { kind: "node", id: id };
    prune();
    changed(true);
  }
  // Deleting a step joins what led to it to its one next step; more than one next step would be a guess.
  function remove(id) {
    var nexts = outs(def.nodes[id]).map(function (o) { return o.to; }).filter(function (v, i, all) { return all.indexOf(v) === i; });
    if (nexts.length !== 1) { say(t("Only a step with one next step can be deleted."), true); return; }
    delete def.nodes[id];
    if (def.start === id) { def.start = nexts[0]; }
    Object.keys(def.nodes).forEach(function (other) {
      outs(def.nodes[other]).forEach(function (o) { if (o.to === id) { setOut(other, o.slot, nexts[0]); } });
    });
    delete invalid[id];
    selected = { kind: "trigger", id: null };
    prune();
    changed(true);
  }
  // Steps no path reaches would fail validation; an edit that cut them off meant to drop them.
  function prune() {
    var seen = {}, todo = [def.start];
    while (todo.length) {
      var id = todo.pop();
      if (seen[id] || !(id in def.nodes)) { continue; }
      seen[id] = true;
      outs(def.nodes[id]).forEach(function (o) { todo.push(o.to); });
    }
    Object.keys(def.nodes).forEach(function (id) { if (!seen[id]) { delete def.nodes[id]; } });
  }

  function say(text, bad) {
    status.textContent = text;
    status.className = bad ? "error" : "muted";
  }

  svg.addEventListener("click", function (e) {
    if (e.target.closest("[data-edge]")) {
      var key = e.target.closest("[data-edge]").dataset.edge.split(":");
      inserting = { from: key[0], slot: key[1] };
      drawPanel();
      return;
    }
    var target = e.target.closest("[data-node]");
    if (!target) { return; }
    var id = target.dataset.node;
    inserting = null;
    selected = id === "__trigger__" ? { kind: "trigger", id: null } : { kind: "node", id: id };
    drawCanvas();
    drawPanel();
  });
  svg.addEventListener("keydown", function (e) {
    if ((e.key === "Enter" || e.key === " ") && e.target.closest("[data-edge], [data-node]")) {
      e.preventDefault();
      e.target.dispatchEvent(new MouseEvent("click", { bubbles: true }));
    }
  });
  function readJson(text) {
    var parsed;
    try { parsed = JSON.parse(text); } catch (e) { return null; }
    var ok = parsed && typeof parsed === "object" && parsed.nodes && typeof parsed.nodes === "object" && parsed.trigger && typeof parsed.trigger === "object";
    return ok ? parsed : null;
  }
  json.addEventListener("input", function () {
    var parsed = readJson(json.value);
    if (!parsed) {
      say(t("The JSON is not valid; the canvas shows the last valid journey."), true);
      return;
    }
    def = parsed;
    say("", false);
    drawCanvas();
    drawPanel();
  });

  function showProblems(details) {
    invalid = {};
    while (problemList.firstChild) { problemList.removeChild(problemList.firstChild); }
    var first = null;
    details.forEach(function (d) {
      var text = (d.field ? d.field + ": " : "") + d.rule;
      problemList.appendChild(el("li", {}, text));
      var m = /^(?:body\.definition\.)?nodes\.([A-Za-z0-9_\-]+)/.exec(d.field || "");
      var key = m ? m[1] : /^(?:body\.definition\.)?(trigger|start|reentry|goal|entry_cap)/.test(d.field || "") ? "trigger" : null;
      if (key) { (invalid[key] = invalid[key] || []).push(text); first = first || key; }
    });
    if (first) { selected = first === "trigger" ? { kind: "trigger", id: null } : { kind: "node", id: first }; }
    inserting = null;
    drawCanvas();
    drawPanel();
  }

  function call(method, url, body) {
    return fetch(url, {
      method: method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": root.dataset.csrf },
      body: body ? JSON.stringify(body) : null
    }).then(function (answer) {
      return answer.json().then(function (payload) {
        if (!answer.ok) { var err = new Error("refused"); err.payload = payload; throw err; }
        return payload;
      });
    });
  }
  function save(publish) {
    say("…", false);
    var id = data.journey_id;
    var saving = id
      ? call("PUT", "/v1/journeys/" + id, { definition: def })
      : call("POST", "/v1/journeys", { name: document.getElementById("jb-name").value, definition: def });
    saving.then(function (journey) {
      return publish ? call("POST", "/v1/journeys/" + journey.id + "/activate") : journey;
    }).then(function (journey) {
      say(t(publish ? "Published." : "Saved."), false);
      window.location.assign("/journeys/" + journey.id);
    }).catch(function (err) {
      var e = (err.payload && err.payload.error) || { message: String(err), details: [] };
      say(t("The journey was not saved:") + " " + e.message, true);
      showProblems(e.details && e.details.length ? e.details : [{ field: "", rule: e.message }]);
    });
  }

  var saveButton = document.getElementById("jb-save"), publishButton = document.getElementById("jb-publish");
  if (saveButton) { saveButton.addEventListener("click", function () { save(false); }); }
  if (publishButton) { publishButton.addEventListener("click", function () { save(true); }); }
  var events = el("datalist", { id: "jb-events" });
  data.events.forEach(function (name) { events.appendChild(el("option", { value: name })); });
  root.appendChild(events);
  // The editor may hold a draft the server sent back with its problems: the canvas starts from it.
  var typed0 = readJson(json.value);
  if (typed0) { def = typed0; } else { say(t("The JSON is not valid; the canvas shows the last valid journey."), true); }
  drawCanvas();
  drawPanel();
  root.dataset.ready = "true";
}());
