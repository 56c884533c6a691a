// Draws a journey definition as a graph in SVG: the trigger on top, a box per node with its settings and
// people per node, edges labelled by branch, a + on each edge where the builder may insert a step.
// journey_builder.js owns the definition and draws it again after every edit.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var BOX_W = 200, BOX_H = 84, COL_W = 240, ROW_H = 150, MARGIN = 30, LEFT = 150;
  // What the draw in progress shows, set by draw().
  var def, data, t, readOnly, selected, invalid;

  function sv(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text != null) { node.textContent = text; }
    return node;
  }
  function clip(text, n) { text = String(text == null ? "" : text); return text.length > n ? text.slice(0, n - 1) + "…" : text; }
  function duration(d) {
    if (!d) { return ""; }
    return ["days", "hours", "minutes", "seconds"].filter(function (k) { return d[k]; })
      .map(function (k) { return d[k] + k[0]; }).join(" ");
  }
  // Where each node leads: the JSON slot (as the API names it in errors) and the edge's label.
  function outs(node) {
    if (!node) { return []; }
    if (node.type === "condition") { return [{ slot: "then", to: node.then, label: t("Yes") }, { slot: "else", to: node["else"], label: t("No") }]; }
    if (node.type === "random_split") {
      return (node.branches || []).map(function (b, i) {
        return { slot: "branches." + i + ".next", to: b.next, label: b.percent + "%" + (b.holdout ? " " + t("Holdout") : "") };
      });
    }
    var found = [];
    if ("next" in node) { found.push({ slot: "next", to: node.next, label: node.type === "wait_event" ? clip(node.event, 18) : "" }); }
    if (node.type === "wait_event" && node.timeout_next) { found.push({ slot: "timeout_next", to: node.timeout_next, label: t("Timeout") + " " + duration(node.timeout) }); }
    return found;
  }
  function detail(node) {
    switch (node.type) {
      case "delay": return node.until ? "⏰ " + node.until : duration(node.duration);
      case "wait_event": return node.event + (node.keys && node.keys.length ? " [" + node.keys.join(", ") + "]" : "");
      case "condition":
        var c = node["if"] || {};
        if ("trait" in c) { return c.trait + " " + c.op + " " + (c.value == null ? "" : c.value); }
        if ("in_segment" in c) { return t("Segment") + " " + segmentName(c.in_segment); }
        if ("did_event" in c) { return c.did_event; }
        return t("Combined condition (edit in JSON)");
      case "random_split": return (node.branches || []).map(function (b) { return b.percent + "%"; }).join(" / ");
      case "send": case "webhook":
        var msg = node.message || {};
        return (node.type === "send" ? node.channel + " · " : "") + (msg.template || t("Inline variants (edit in JSON)"));
      case "update_profile": return Object.keys(node.traits || {}).concat((node.tags || []).map(function (x) { return "#" + x; })).join(", ");
      default: return "";
    }
  }
  function segmentName(id) {
    var s = data.segments.filter(function (x) { return x.id === id; })[0];
    return s ? s.name : "#" + id;
  }
  function reentryText(re) {
    if (re.policy === "once_per") { return t("Once per some days") + " (" + re.days + ")"; }
    return t(re.policy === "always" ? "Every time" : "Once");
  }
  function triggerDetail(tr) {
    if (tr.type === "event") { return tr.event + (tr.keys && tr.keys.length ? " [" + tr.keys.join(", ") + "]" : ""); }
    if (tr.type === "segment_entered") { return t("Segment") + " " + segmentName(tr.segment_id); }
    if (tr.type === "date_trait") { return tr.trait + (tr.offset_days ? " +" + tr.offset_days + "d" : ""); }
    return t("An API call");
  }

  // Rows by longest path from the trigger (back edges of loops ignored), columns by parents' positions.
  function layout() {
    var ids = Object.keys(def.nodes || {});
    var depth = {}, order = [], state = {}, back = {};
    function visit(id) {
      state[id] = 1;
      outs(def.nodes[id]).forEach(function (o) {
        if (!(o.to in def.nodes)) { return; }
        if (state[o.to] === 1) { back[id + ">" + o.slot] = true; } else if (!state[o.to]) { visit(o.to); }
      });
      state[id] = 2;
      order.unshift(id);
    }
    if (def.start in (def.nodes || {})) { visit(def.start); }
    ids.forEach(function (id) { if (!state[id]) { visit(id); } });
    order.forEach(function (id) { if (!(id in depth)) { depth[id] = 1; } });
    order.forEach(function (id) {
      outs(def.nodes[id]).forEach(function (o) {
        if (o.to in def.nodes && !back[id + ">" + o.slot]) { depth[o.to] = Math.max(depth[o.to], depth[id] + 1); }
      });
    });
    var rows = [];
    order.forEach(function (id) { (rows[depth[id]] = rows[depth[id]] || []).push(id); });
    var pos = { __trigger__: { x: 0, y: 0 } };
    var parents = {};
    order.forEach(function (id) {
      outs(def.nodes[id]).forEach(function (o) { (parents[o.to] = parents[o.to] || []).push(id); });
    });
    if (def.start in def.nodes) { (parents[def.start] = parents[def.start] || []).push("__trigger__"); }
    rows.forEach(function (row, r) {
      if (!row) { return; }
      var wanted = row.map(function (id, i) {
        var ps = (parents[id] || []).filter(function (p) { return pos[p]; });
        var x = ps.length ? ps.reduce(function (s, p) { return s + pos[p].x; }, 0) / ps.length : i * COL_W;
        return { id: id, x: x, i: i };
      }).sort(function (a, b) { return a.x - b.x || a.i - b.i; });
      var center = wanted.reduce(function (s, w) { return s + w.x; }, 0) / wanted.length;
      wanted.forEach(function (w, i) { pos[w.id] = { x: center + (i - (wanted.length - 1) / 2) * COL_W, y: r * ROW_H }; });
    });
    var minX = Math.min.apply(null, Object.keys(pos).map(function (k) { return pos[k].x; }));
    Object.keys(pos).forEach(function (k) { pos[k].x += LEFT - minX; pos[k].y += MARGIN; });
    return { pos: pos, back: back };
  }

  function box(g, x, y, lines, attrs) {
    var group = sv("g", attrs);
    group.setAttribute("transform", "translate(" + x + "," + y + ")");
    group.appendChild(sv("rect", { width: BOX_W, height: BOX_H, rx: 8, "class": "jb-box" }));
    lines.forEach(function (line, i) {
      if (line) { group.appendChild(sv("text", { x: 10, y: 20 + i * 19, "class": i === 0 ? "jb-title" : i === 1 ? "jb-id" : "jb-detail" }, line)); }
    });
    group.setAttribute("tabindex", "0");
    group.setAttribute("role", "button");
    g.appendChild(group);
    return group;
  }

  function drawEdge(g, from, to, index, count, isBack, label, edgeKey) {
    var x1 = from.x + BOX_W / 2 + (index - (count - 1) / 2) * 70, y1 = from.y + BOX_H;
    var x2 = to.x + BOX_W / 2, y2 = to.y;
    var d, mx, my;
    var skips = !isBack && to.y - from.y > ROW_H + 1;
    if (skips) {
      // An edge past a row runs down a lane left of the boxes instead of through the rows between.
      var lane = Math.min(from.x, to.x) - 24;
      d = "M" + x1 + "," + y1 + " C" + x1 + "," + (y1 + 40) + " " + lane + "," + (y1 + 20) + " " + lane + "," + (y1 + 70) +
        " L" + lane + "," + (y2 - 70) + " C" + lane + "," + (y2 - 20) + " " + x2 + "," + (y2 - 40) + " " + x2 + "," + y2;
      mx = lane; my = (y1 + y2) / 2;
      index = 0; count = 2;  // its label goes left of the lane
    } else if (isBack) {
      var side = Math.max(from.x, to.x) + BOX_W + 40;
      d = "M" + x1 + "," + y1 + " C" + side + "," + (y1 + 40) + " " + side + "," + (y2 - 40) + " " + (to.x + BOX_W) + "," + (y2 + 20);
      mx = side - 10; my = (y1 + y2) / 2;
    } else {
      d = "M" + x1 + "," + y1 + " C" + x1 + "," + (y1 + 50) + " " + x2 + "," + (y2 - 50) + " " + x2 + "," + y2;
      mx = (x1 + x2) / 2; my = (y1 + y2) / 2;
    }
    g.appendChild(sv("path", { d: d, "class": "jb-edge", "marker-end": "url(#jb-arrow)" }));
    if (label) {
      var left = count > 1 && index < (count - 1) / 2;
      g.appendChild(sv("text", { x: left ? mx - 16 : mx + 16, y: my + 4, "class": "jb-label", "text-anchor": left ? "end" : "start" }, label));
    }
    if (!readOnly) {
      var plus = sv("g", { "class": "jb-plus", "data-edge": edgeKey, tabindex: "0", role: "button" });
      plus.setAttribute("transform", "translate(" + mx + "," + my + ")");
      plus.appendChild(sv("title", {}, t("Add a step here")));
      plus.appendChild(sv("circle", { r: 11 }));
      plus.appendChild(sv("text", { y: 5, "text-anchor": "middle" }, "+"));
      g.appendChild(plus);
    }
  }

  function drawCanvas(svg) {
    var lay = layout(), pos = lay.pos;
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    var defs = sv("defs");
    var marker = sv("marker", { id: "jb-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
    marker.appendChild(sv("path", { d: "M0,0 L10,5 L0,10 z", "class": "jb-arrowhead" }));
    defs.appendChild(marker);
    svg.appendChild(defs);
    var edges = sv("g"), boxes = sv("g");
    svg.appendChild(edges);
    svg.appendChild(boxes);
    var tr = def.trigger || {};
    var trig = box(boxes, pos.__trigger__.x, pos.__trigger__.y,
      [t("Trigger"), t({ event: "An event", segment_entered: "Entered a segment", date_trait: "A date trait", api: "An API call" }[tr.type] || ""),
        clip(triggerDetail(tr), 28), clip(t("Re-entry") + ": " + reentryText(def.reentry || {}), 30)],
      { "class": "jb-node jb-trigger", "data-node": "__trigger__" });
    mark(trig, "trigger");
    if (def.start in def.nodes) { drawEdge(edges, pos.__trigger__, pos[def.start], 0, 1, false, "", "__trigger__:start"); }
    Object.keys(def.nodes).forEach(function (id) {
      var node = def.nodes[id], p = pos[id];
      var stats = data.stats[id];
      var lines = [t("type:" + node.type), id, clip(detail(node), 28)];
      if (stats) { lines.push(t("Reached") + " " + stats.reached + " · " + t("Now") + " " + stats.here); }
      var group = box(boxes, p.x, p.y, lines, { "class": "jb-node jb-" + node.type, "data-node": id });
      mark(group, id);
      var os = outs(node);
      os.forEach(function (o, i) {
        if (pos[o.to]) { drawEdge(edges, p, pos[o.to], i, os.length, !!lay.back[id + ">" + o.slot], o.label, id + ":" + o.slot); }
      });
    });
    var maxX = 0, maxY = 0;
    Object.keys(pos).forEach(function (k) { maxX = Math.max(maxX, pos[k].x + BOX_W); maxY = Math.max(maxY, pos[k].y + BOX_H); });
    svg.setAttribute("width", maxX + MARGIN + 60);
    svg.setAttribute("height", maxY + MARGIN);
    svg.setAttribute("viewBox", "0 0 " + (maxX + MARGIN + 60) + " " + (maxY + MARGIN));
  }
  function mark(group, key) {
    var sel = selected.kind === "trigger" ? "trigger" : selected.id;
    if (sel === key) { group.classList.add("jb-selected"); }
    if (invalid[key]) { group.classList.add("jb-invalid"); }
  }

  window.OmniJourneyGraph = {
    outs: function (node, translate) { t = translate; return outs(node); },
    draw: function (svg, view) {
      def = view.def; data = view.data; t = view.t; readOnly = view.readOnly;
      selected = view.selected; invalid = view.invalid;
      drawCanvas(svg);
    }
  };
}());
