// The definition grammar of omni/segments/definitions.py as the builder holds it: a tree of groups
// ({group, op, negate, items}) and rows ({negate, cond}), read from the JSON and written back to it.

// Condition keys in the order the server's reader looks for them.
export var LEAVES = ["trait", "computed_trait", "tag", "event", "orders", "rfm", "consent", "reachable", "segment"];
export var KINDS = [
  ["event", "Performed event"], ["no_event", "Did not perform event"], ["orders", "Orders"],
  ["trait", "Trait"], ["computed_trait", "Computed trait"], ["tag", "Tag"], ["consent", "Consent"],
  ["reachable", "Reachable on"], ["segment", "Member of segment"], ["rfm", "RFM scores"]
];
export var OPS = [["eq", "="], ["ne", "≠"], ["gt", ">"], ["gte", "≥"], ["lt", "<"], ["lte", "≤"],
  ["in", "is one of"], ["exists", "is set"]];
export var NUMERIC_OPS = OPS.slice(0, 6);
export var METRICS = [["count", "Order count"], ["revenue", "Revenue"], ["last_days", "Days since last order"],
  ["channels", "Channels bought on"], ["revenue_top_percent", "Top percent by revenue"]];
export var CHANNEL_WORDS = { email: "Email", sms: "SMS", whatsapp: "WhatsApp", line: "LINE", push: "Push",
  in_app: "In-app" };
var KEY_ORDER = {
  trait: ["trait", "op", "value"],
  computed_trait: ["computed_trait", "op", "value"],
  tag: ["tag"],
  event: ["event", "performed", "min_times", "max_times", "within_days", "channel", "where"],
  orders: ["orders", "op", "value", "within_days", "channel", "store", "category"],
  rfm: ["rfm", "within_days"],
  consent: ["consent", "purpose", "status"],
  reachable: ["reachable"],
  segment: ["segment"]
};

export function Unsupported() {}

function leafKey(cond) {
  for (var i = 0; i < LEAVES.length; i++) { if (LEAVES[i] in cond) { return LEAVES[i]; } }
  return null;
}
export function kindOf(cond) {
  var key = leafKey(cond);
  return key === "event" && cond.performed === false ? "no_event" : key;
}
export function isObject(value) { return value !== null && typeof value === "object" && !Array.isArray(value); }

function fromJson(node) {
  if (!isObject(node)) { throw new Unsupported(); }
  var op = "all" in node ? "all" : ("any" in node ? "any" : null);
  if (op) {
    if (!Array.isArray(node[op])) { throw new Unsupported(); }
    return { group: true, op: op, negate: false, items: node[op].map(fromJson) };
  }
  if ("not" in node) {
    var inner = fromJson(node.not);
    if (inner.negate) { throw new Unsupported(); }
    inner.negate = true;
    return inner;
  }
  if (!leafKey(node)) { throw new Unsupported(); }
  // Shapes the rows cannot hold (the server refuses them anyway) stay in the JSON editor.
  if ("where" in node && !(Array.isArray(node.where) && node.where.every(isObject))) { throw new Unsupported(); }
  if ("rfm" in node && !isObject(node.rfm)) { throw new Unsupported(); }
  if (isObject(node.value) || node.value === null) { throw new Unsupported(); }
  return { group: false, negate: false, cond: JSON.parse(JSON.stringify(node)) };
}

export function rootFrom(json) {
  var top = fromJson(json);
  return top.group ? top : { group: true, op: "all", negate: false, items: [top] };
}

export function blank(value) { return value === undefined || value === null || value === ""; }

function clean(cond) {
  var order = KEY_ORDER[leafKey(cond)];
  var out = {};
  order.concat(Object.keys(cond).filter(function (k) { return order.indexOf(k) < 0; })).forEach(function (k) {
    var value = cond[k];
    if (blank(value)) { return; }
    if (k === "value" && cond.op === "exists") { return; }
    if (k === "performed" && value === true) { return; }
    if (k === "where" && !value.length) { return; }
    out[k] = value;
  });
  return out;
}

export function toJson(node) {
  var out;
  if (node.group) {
    out = {};
    out[node.op] = node.items.map(toJson);
  } else {
    out = clean(node.cond);
  }
  return node.negate ? { not: out } : out;
}

function first(options, preferred) {
  var values = options.map(function (o) { return o.value; });
  return values.indexOf(preferred) >= 0 ? preferred : (values[0] || "");
}

export function newCond(kind, old, vocab, segments) {
  var events = vocab.events;
  if ((kind === "event" || kind === "no_event") && old && "event" in old) {
    var kept = JSON.parse(JSON.stringify(old));
    kept.performed = kind === "event";
    if (!kept.performed) { delete kept.min_times; delete kept.max_times; }
    return kept;
  }
  switch (kind) {
    case "event": return { event: first(events, "Product Viewed") };
    case "no_event": return { event: first(events, "Order Completed"), performed: false };
    case "orders": return { orders: "count", op: "gte", value: 1 };
    case "trait": return { trait: first(vocab.traits, "city"), op: "eq", value: "" };
    case "computed_trait": return { computed_trait: first(vocab.computed_traits, ""), op: "gte", value: 1 };
    case "tag": return { tag: vocab.tags[0] || "" };
    case "consent": return { consent: "email", purpose: "marketing", status: "granted" };
    case "reachable": return { reachable: "email" };
    case "segment": return { segment: first(segments, "") };
    default: return { rfm: { r: [4, 5], f: [4, 5], m: [1, 5] } };
  }
}

