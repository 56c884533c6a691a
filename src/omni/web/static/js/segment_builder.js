// The segment builder: groups and condition rows drawn from the definition's JSON and written back to it.
// The textarea the form posts is the one source of truth: a builder edit rewrites it, a JSON edit redraws
// the rows. The size comes from /segments/estimate (the page's own partial), and each problem it names by
// JSON path is shown beside the row or group at that path.
import { Unsupported, rootFrom, toJson } from "./segment_grammar.js";
import { rowDrawer } from "./segment_rows.js";

var builder = document.querySelector("[data-segment-builder]");
if (builder) { start(builder); }

function start(root) {
  var form = root.closest("form");
  var textarea = root.querySelector("textarea[name=definition]");
  var treeBox = root.querySelector(".sb-tree");
  var note = root.querySelector("[data-role=note]");
  var estimateBox = root.querySelector("#estimate");
  var jsonBox = root.querySelector("details.sb-json");
  var words = {};
  root.querySelectorAll("#builder-words [data-word]").forEach(function (el) {
    words[el.dataset.word] = el.textContent;
  });
  function t(word) { return words[word] || word; }

  var vocab = null;
  var drawer = null;
  var model = null;
  var estimateTimer = null;
  var jsonTimer = null;
  var estimateSeq = 0;

  function keyInput() { return form ? form.querySelector("input[name=key]") : null; }
  function otherSegments() {
    var own = keyInput() ? keyInput().value : "";
    return vocab.segments.filter(function (s) { return s.value !== own; });
  }
  function hint(text) {
    var p = document.createElement("p");
    p.className = "muted";
    p.textContent = text;
    return p;
  }

  function render() {
    var focused = document.activeElement && treeBox.contains(document.activeElement) ? document.activeElement.id : "";
    treeBox.textContent = "";
    if (model) { treeBox.appendChild(drawer.groupEl(model, "$", 0, null, 0)); }
    if (focused && document.getElementById(focused)) { document.getElementById(focused).focus(); }
  }

  function say(message) {
    note.textContent = message || "";
    note.hidden = !message;
    if (message) { jsonBox.open = true; }
  }

  function changed(redraw) {
    if (redraw) { render(); }
    textarea.value = JSON.stringify(toJson(model), null, 2);
    say("");
    scheduleEstimate();
  }

  function readJson() {
    var parsed;
    try { parsed = JSON.parse(textarea.value); } catch (error) {
      say(t("The JSON cannot be read; the rows show the last definition that could."));
      return;
    }
    try { model = rootFrom(parsed); } catch (error) {
      if (!(error instanceof Unsupported)) { throw error; }
      model = null;
      render();
      say(t("This definition can only be edited as JSON."));
      return;
    }
    say("");
    render();
  }

  function scheduleEstimate() {
    clearTimeout(estimateTimer);
    estimateTimer = setTimeout(estimate, 500);
  }

  function estimate() {
    var seq = ++estimateSeq;
    if (model && !model.negate && !model.items.length) {
      estimateBox.textContent = "";
      estimateBox.appendChild(hint(t("Add a condition to see the size.")));
      showProblems();
      return;
    }
    var body = new FormData();
    body.append("definition", textarea.value);
    body.append("key", keyInput() ? keyInput().value : "");
    var token = form.querySelector("input[name=csrf_token]").value;
    root.dataset.estimating = "true";
    fetch(root.dataset.estimateUrl, {
      method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRF-Token": token }
    }).then(function (answer) {
      if (!answer.ok) { throw new Error("estimate answered " + answer.status); }
      return answer.text();
    }).then(function (html) {
      if (seq !== estimateSeq) { return; }
      estimateBox.innerHTML = html;
      showProblems();
      root.dataset.estimating = "false";
    }).catch(function (error) {
      if (seq !== estimateSeq) { return; }
      root.dataset.estimating = "false";
      estimateBox.textContent = String(error.message || error);
    });
  }

  function targetOf(field) {
    var best = null;
    treeBox.querySelectorAll("[data-path]").forEach(function (node) {
      var path = node.dataset.path;
      var under = field === path || field.indexOf(path + ".") === 0 || field.indexOf(path + "[") === 0;
      if (under && (!best || path.length > best.dataset.path.length)) { best = node; }
    });
    return best;
  }

  function showProblems() {
    treeBox.querySelectorAll(".sb-invalid").forEach(function (node) { node.classList.remove("sb-invalid"); });
    treeBox.querySelectorAll(".sb-problem").forEach(function (node) { node.textContent = ""; });
    estimateBox.querySelectorAll("[data-problem]").forEach(function (problem) {
      var target = targetOf(problem.dataset.problem);
      if (!target) { return; }
      target.classList.add("sb-invalid");
      var slot = target.querySelector(":scope > .sb-problem");
      slot.textContent = problem.dataset.problem + ": " + problem.textContent;
      slot.setAttribute("role", "alert");
    });
  }

  textarea.addEventListener("input", function () {
    clearTimeout(jsonTimer);
    jsonTimer = setTimeout(function () { readJson(); scheduleEstimate(); }, 300);
  });
  if (keyInput()) { keyInput().addEventListener("change", scheduleEstimate); }

  fetch(root.dataset.vocabulary, { credentials: "same-origin" }).then(function (answer) {
    if (!answer.ok) { throw new Error("vocabulary answered " + answer.status); }
    return answer.json();
  }).then(function (loaded) {
    vocab = loaded;
    drawer = rowDrawer({ t: t, vocab: vocab, changed: changed, otherSegments: otherSegments, root: root });
    readJson();
    // A page that already names a problem (a refused save) keeps it until the next edit.
    if (estimateBox.querySelector("[data-estimate]")) { showProblems(); } else { estimate(); }
    root.dataset.state = "ready";
  }).catch(function () {
    say(t("The builder could not load its choices; edit the definition as JSON."));
    root.dataset.state = "failed";
  });
}
