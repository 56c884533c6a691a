// Draws the builder's groups and condition rows; each control edits the tree and calls ctx.changed.
import {
  CHANNEL_WORDS, KINDS, METRICS, NUMERIC_OPS, OPS, blank, kindOf, newCond
} from "./segment_grammar.js";

// ctx: t (translate), vocab (the store's names), changed(redraw), otherSegments(), root (for datalists).
export function rowDrawer(ctx) {
  var t = ctx.t;
  var vocab = ctx.vocab;
  var root = ctx.root;
  function changed(redraw) { ctx.changed(redraw); }
  function otherSegments() { return ctx.otherSegments(); }
  // Elements.
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  function idFor(path, field) { return "sb" + path.replace(/[^A-Za-z0-9]+/g, "-") + "-" + field; }

  function selectEl(path, field, label, options, value, onChange) {
    var select = el("select");
    select.id = idFor(path, field);
    select.dataset.field = field;
    select.setAttribute("aria-label", label);
    if (field === "op" || field === "value_type" || field.indexOf("rfm-") === 0) { select.className = "sb-narrow"; }
    var seen = false;
    options.forEach(function (o) {
      var option = el("option", null, o[1]);
      option.value = o[0];
      if (String(o[0]) === String(value)) { option.selected = true; seen = true; }
      select.appendChild(option);
    });
    if (!seen && !blank(value)) {
      // A name the definition uses but the store no longer offers: keep it visible, the estimate says why.
      var kept = el("option", null, String(value));
      kept.value = value;
      kept.selected = true;
      select.appendChild(kept);
    }
    select.addEventListener("change", function () { onChange(select.value); changed(true); });
    return select;
  }

  function inputEl(path, field, label, type, value, onInput, listId) {
    var input = el("input");
    input.type = type;
    input.id = idFor(path, field);
    input.dataset.field = field;
    input.setAttribute("aria-label", label);
    if (type === "number") { input.min = "0"; input.step = "any"; input.inputMode = "decimal"; }
    if (listId) { input.setAttribute("list", listId); }
    input.value = blank(value) ? "" : String(value);
    input.addEventListener("input", function () { onInput(input.value); changed(false); });
    return input;
  }

  function numberOrBlank(text) {
    if (text.trim() === "") { return undefined; }
    var number = Number(text);
    return isNaN(number) ? text : number;
  }

  function options(list) { return list.map(function (o) { return [o.value, o.label]; }); }
  function translated(list) { return list.map(function (pair) { return [pair[0], t(pair[1])]; }); }
  function channelOptions(values) {
    return values.map(function (v) { return [v, t(CHANNEL_WORDS[v] || v)]; });
  }

  function datalist(id, values) {
    if (document.getElementById(id)) { return; }
    var list = el("datalist");
    list.id = id;
    values.forEach(function (v) { var o = el("option"); o.value = v; list.appendChild(o); });
    root.appendChild(list);
  }

  // A comparison's constant: the JSON type picks how the server compares, so the row lets you pick it.
  function typeOf(value) {
    var sample = Array.isArray(value) ? value[0] : value;
    if (typeof sample === "number") { return "number"; }
    if (typeof sample === "boolean") { return "boolean"; }
    return "text";
  }
  function convert(text, type) {
    if (type === "number") { return numberOrBlank(text); }
    if (type === "boolean") { return text === "true"; }
    return text;
  }
  function shown(value) {
    return Array.isArray(value) ? value.join(", ") : (blank(value) ? "" : String(value));
  }

  function compareFields(line, path, cond, numeric) {
    var op = cond.op || "eq";
    line.appendChild(selectEl(path, "op", t("Value"), translated(numeric ? NUMERIC_OPS : OPS), op, function (v) {
      cond.op = v;
      if (v === "exists") { delete cond.value; }
      else if (v === "in" && !Array.isArray(cond.value)) { cond.value = blank(cond.value) ? [] : [cond.value]; }
      else if (v !== "in" && Array.isArray(cond.value)) { cond.value = cond.value[0]; }
      if (["gt", "gte", "lt", "lte"].indexOf(v) >= 0 && typeof cond.value !== "number") {
        cond.value = numberOrBlank(shown(cond.value));
      }
    }));
    if (op === "exists") { return; }
    if (numeric || ["gt", "gte", "lt", "lte"].indexOf(op) >= 0) {
      line.appendChild(inputEl(path, "value", t("Value"), "number", cond.value, function (v) {
        cond.value = numberOrBlank(v);
      }));
      return;
    }
    var type = typeOf(cond.value);
    line.appendChild(selectEl(path, "value_type", t("Value"),
      [["text", t("text")], ["number", t("number")], ["boolean", t("yes / no")]], type, function (v) {
        var parts = Array.isArray(cond.value) ? cond.value.map(String) : [shown(cond.value)];
        var converted = parts.map(function (p) { return v === "boolean" ? p === "true" : convert(p, v); });
        cond.value = op === "in" ? converted : converted[0];
      }));
    if (type === "boolean" && op !== "in") {
      line.appendChild(selectEl(path, "value", t("Value"), [["true", t("yes")], ["false", t("no")]],
        String(cond.value === true), function (v) { cond.value = v === "true"; }));
      return;
    }
    line.appendChild(inputEl(path, "value", t("Value"), "text", shown(cond.value), function (v) {
      cond.value = op === "in"
        ? v.split(",").map(function (p) { return p.trim(); }).filter(Boolean).map(function (p) { return convert(p, type); })
        : convert(v, type);
    }));
  }

  // Words and their number input stay on one line when a row wraps: "in the last [7] days".
  function unit(before, input, after) {
    var span = el("span", "sb-unit");
    if (before) { span.appendChild(el("span", "sb-word", before)); }
    if (input) { span.appendChild(input); }
    if (after) { span.appendChild(el("span", "sb-word", after)); }
    return span;
  }

  function windowFields(line, path, cond) {
    line.appendChild(unit(t("in the last"), inputEl(path, "within_days", t("in the last"), "number",
      cond.within_days, function (v) { cond.within_days = numberOrBlank(v); }), t("days")));
  }

  function channelField(line, path, cond) {
    line.appendChild(selectEl(path, "channel", t("Channel"),
      [["", t("Any channel")]].concat(options(vocab.channels)), cond.channel || "", function (v) {
        cond.channel = v || undefined;
      }));
  }

  function eventFields(box, path, cond, performed) {
    var line = el("div", "sb-line");
    line.appendChild(selectEl(path, "event", t("Event"), options(vocab.events), cond.event, function (v) {
      cond.event = v;
    }));
    if (performed) {
      line.appendChild(unit(t("at least"), inputEl(path, "min_times", t("at least"), "number", cond.min_times,
        function (v) { cond.min_times = numberOrBlank(v); })));
      line.appendChild(unit(t("at most"), inputEl(path, "max_times", t("at most"), "number", cond.max_times,
        function (v) { cond.max_times = numberOrBlank(v); }), t("times")));
    }
    windowFields(line, path, cond);
    channelField(line, path, cond);
    box.appendChild(line);
    var where = Array.isArray(cond.where) ? cond.where : [];
    datalist("sb-properties", vocab.properties);
    where.forEach(function (filter, i) {
      var at = path + ".where[" + i + "]";
      var filterLine = el("div", "sb-line sb-filter");
      filterLine.dataset.path = at;
      filterLine.appendChild(el("span", "sb-word", t("where")));
      filterLine.appendChild(inputEl(at, "property", t("Property"), "text", filter.property, function (v) {
        filter.property = v;
      }, "sb-properties"));
      compareFields(filterLine, at, filter, false);
      filterLine.appendChild(removeButton(at, function () { where.splice(i, 1); }));
      filterLine.appendChild(el("p", "sb-problem"));
      box.appendChild(filterLine);
    });
    var add = el("button", "secondary sb-add", "+ " + t("Add property filter"));
    add.type = "button";
    add.dataset.action = "add-filter";
    add.addEventListener("click", function () {
      cond.where = where.concat([{ property: "", op: "eq", value: "" }]);
      changed(true);
    });
    box.appendChild(add);
  }

  function ordersFields(line, path, cond) {
    var metric = cond.orders;
    line.appendChild(selectEl(path, "orders", t("Orders"), translated(METRICS), metric, function (v) {
      cond.orders = v;
      if (v === "last_days") { delete cond.within_days; }
      if (v === "revenue_top_percent") { cond.op = "lte"; }
    }));
    line.appendChild(selectEl(path, "op", t("Value"), translated(NUMERIC_OPS), cond.op || "eq", function (v) {
      cond.op = v;
    }));
    if (metric === "revenue") {
      // Revenue is stored in minor units; marketers think in the currency's own units.
      var scale = Math.pow(10, vocab.currency_digits);
      var major = typeof cond.value === "number" ? cond.value / scale : cond.value;
      line.appendChild(unit("", inputEl(path, "value", t("Revenue"), "number", major, function (v) {
        var number = numberOrBlank(v);
        cond.value = typeof number === "number" ? Math.round(number * scale) : number;
      }), vocab.currency));
    } else {
      line.appendChild(unit("", inputEl(path, "value", t("Value"), "number", cond.value, function (v) {
        cond.value = numberOrBlank(v);
      }), metric === "last_days" ? t("days") : ""));
    }
    if (metric !== "last_days") { windowFields(line, path, cond); }
    channelField(line, path, cond);
    line.appendChild(selectEl(path, "store", t("Store"),
      [["", t("Any store")]].concat(options(vocab.stores)), cond.store || "", function (v) {
        cond.store = v || undefined;
      }));
    datalist("sb-categories", vocab.categories);
    var category = inputEl(path, "category", t("Category"), "text", cond.category, function (v) {
      cond.category = v.trim() || undefined;
    }, "sb-categories");
    category.placeholder = t("Category");
    line.appendChild(category);
  }

  function rfmFields(line, path, cond) {
    var scores = [["1", "1"], ["2", "2"], ["3", "3"], ["4", "4"], ["5", "5"]];
    ["r", "f", "m"].forEach(function (letter) {
      var range = (cond.rfm && cond.rfm[letter]) || [1, 5];
      var scoreUnit = unit(letter.toUpperCase(), null, "");
      line.appendChild(scoreUnit);
      [0, 1].forEach(function (end) {
        scoreUnit.appendChild(selectEl(path, "rfm-" + letter + end, letter.toUpperCase(), scores, range[end], function (v) {
          var next = range.slice();
          next[end] = Number(v);
          cond.rfm = Object.assign({}, cond.rfm);
          cond.rfm[letter] = next;
        }));
      });
    });
    windowFields(line, path, cond);
  }

  function leafFields(box, path, cond, kind) {
    var line = el("div", "sb-line");
    switch (kind) {
      case "event": case "no_event": eventFields(box, path, cond, kind === "event"); return;
      case "orders": ordersFields(line, path, cond); break;
      case "rfm": rfmFields(line, path, cond); break;
      case "trait":
        line.appendChild(selectEl(path, "trait", t("Trait"), options(vocab.traits), cond.trait, function (v) {
          cond.trait = v;
        }));
        compareFields(line, path, cond, false);
        break;
      case "computed_trait":
        line.appendChild(selectEl(path, "computed_trait", t("Computed trait"), options(vocab.computed_traits),
          cond.computed_trait, function (v) { cond.computed_trait = v; }));
        compareFields(line, path, cond, true);
        break;
      case "tag":
        datalist("sb-tags", vocab.tags);
        line.appendChild(inputEl(path, "tag", t("Tag"), "text", cond.tag, function (v) { cond.tag = v; }, "sb-tags"));
        break;
      case "consent":
        line.appendChild(selectEl(path, "consent", t("Consent"), channelOptions(vocab.consent_channels),
          cond.consent, function (v) { cond.consent = v; }));
        line.appendChild(selectEl(path, "purpose", t("Consent"),
          translated([["marketing", "Marketing"], ["transactional", "Transactional"]]), cond.purpose || "marketing",
          function (v) { cond.purpose = v; }));
        line.appendChild(selectEl(path, "status", t("Consent"),
          translated([["granted", "granted"], ["denied", "denied"], ["unknown", "unknown"]]),
          cond.status || "granted", function (v) { cond.status = v; }));
        break;
      case "reachable":
        line.appendChild(selectEl(path, "reachable", t("Reachable on"), channelOptions(vocab.reachable_channels),
          cond.reachable, function (v) { cond.reachable = v; }));
        break;
      default:
        line.appendChild(selectEl(path, "segment", t("Segment"), options(otherSegments()), cond.segment,
          function (v) { cond.segment = v; }));
    }
    box.appendChild(line);
  }

  function removeButton(path, onRemove) {
    var button = el("button", "sb-remove", "×");
    button.type = "button";
    button.id = idFor(path, "remove");
    button.dataset.action = "remove";
    button.setAttribute("aria-label", t("Remove"));
    button.title = t("Remove");
    button.addEventListener("click", function () { onRemove(); changed(true); });
    return button;
  }

  function negateBox(path, node) {
    var label = el("label", "sb-check");
    var box = el("input");
    box.type = "checkbox";
    box.id = idFor(path, "not");
    box.dataset.field = "not";
    box.checked = node.negate;
    box.addEventListener("change", function () { node.negate = box.checked; changed(true); });
    label.appendChild(box);
    label.appendChild(document.createTextNode(t("NOT")));
    return label;
  }

  function rowEl(node, path, siblings, index) {
    var row = el("div", "sb-row" + (node.negate ? " sb-negated" : ""));
    row.dataset.path = path;
    var kind = kindOf(node.cond);
    row.dataset.kind = kind;
    var leafPath = node.negate ? path + ".not" : path;
    var head = el("div", "sb-line sb-head");
    head.appendChild(negateBox(path, node));
    head.appendChild(selectEl(path, "kind", t("Condition kind"), translated(KINDS), kind, function (v) {
      node.cond = newCond(v, node.cond, vocab, otherSegments());
    }));
    head.appendChild(removeButton(path, function () { siblings.splice(index, 1); }));
    row.appendChild(head);
    leafFields(row, leafPath, node.cond, kind);
    row.appendChild(el("p", "sb-problem"));
    return row;
  }

  function groupEl(node, path, depth, siblings, index) {
    var box = el("fieldset", "sb-group" + (node.negate ? " sb-negated" : ""));
    box.dataset.path = path;
    var inner = node.negate ? path + ".not" : path;
    var own = depth + (node.negate ? 1 : 0);
    var head = el("div", "sb-line sb-head");
    head.appendChild(negateBox(path, node));
    head.appendChild(el("span", "sb-word", t("Match")));
    head.appendChild(selectEl(path, "match", t("Match"),
      [["all", t("all of these")], ["any", t("any of these")]], node.op, function (v) { node.op = v; }));
    if (siblings) { head.appendChild(removeButton(path, function () { siblings.splice(index, 1); })); }
    box.appendChild(head);
    box.appendChild(el("p", "sb-problem"));
    node.items.forEach(function (child, i) {
      var at = inner + "." + node.op + "[" + i + "]";
      box.appendChild(child.group ? groupEl(child, at, own + 1, node.items, i) : rowEl(child, at, node.items, i));
    });
    if (!node.items.length) { box.appendChild(el("p", "muted sb-empty", t("Add a condition to see the size."))); }
    var tools = el("div", "sb-line sb-tools");
    var addRow = el("button", "secondary", "+ " + t("Add condition"));
    addRow.type = "button";
    addRow.id = idFor(path, "add-row");
    addRow.dataset.action = "add-row";
    addRow.addEventListener("click", function () {
      node.items.push({ group: false, negate: false, cond: newCond("event", null, vocab, otherSegments()) });
      changed(true);
    });
    tools.appendChild(addRow);
    // A new group sits one level below this one and its rows one more: both within the reader's MAX_DEPTH.
    if (own + 2 <= vocab.max_depth) {
      var addGroup = el("button", "secondary", "+ " + t("Add group"));
      addGroup.type = "button";
      addGroup.id = idFor(path, "add-group");
      addGroup.dataset.action = "add-group";
      addGroup.addEventListener("click", function () {
        node.items.push({ group: true, op: node.op === "all" ? "any" : "all", negate: false,
          items: [{ group: false, negate: false, cond: newCond("event", null, vocab, otherSegments()) }] });
        changed(true);
      });
      tools.appendChild(addGroup);
    }
    box.appendChild(tools);
    return box;
  }

  return { groupEl: groupEl };
}
