// The live page's controls, over the engine (engine.js), the CLI's number formats (numbers.js), the
// graph's view (graph.js) and training (train.js): the inputs, chain-rule lines as explain writes
// them, backprop replayed edge by edge, and training with a loss curve. Everything the user wrote
// arrives as data in MODEL and is put on the page as text (textContent, attributes), never as
// markup. Hooks for scripts and tests: data-input, data-input-box, data-node + data-field,
// data-action, data-loss; window.autodiffState, autodiffRunning, autodiffLosses(),
// autodiffHeatmap() (README, "The live page").
"use strict";

const nodes = MODEL.nodes;              // [op name or null, [input ids], data, label]
const names = Object.keys(MODEL.inputs);
const consumers = nodes.map(() => []);
nodes.forEach(([, inputs], id) => inputs.forEach((x) => consumers[x].push(id)));
const $ = (selector) => document.querySelector(selector);
const DATA = MODEL.data;
const columns = DATA ? Object.keys(DATA.columns) : [];
const isColumn = (name) => columns.includes(name);
const parameters = names.filter((name) => !isColumn(name));
const PAUSE_MS = 900;                   // a box left alone this long is committed, as Enter does

const format = (x) => formatNumber(x, MODEL.precision);
const explainNumber = (x) => (x === null ? "undefined" : formatGeneral(x, MODEL.explainPrecision));

let values = { ...MODEL.start };        // the inputs' current (good) values
let row = 0;                            // with data: the row the graph shows
if (DATA) for (const name of columns) values[name] = DATA.columns[name][row];
let state = null;                       // run(values): data, grad, locals
let selected = null;
let backwardAt = null;                  // the number of edges shown while replaying backprop, or null
let player = null;
let trainer = null;

// ---- messages: the bar (errors, never moving the controls), notes beside boxes, and one
// announcement per user action in the one live region

// Text is only written when it changes: a write lays the page out again.
function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

function say(text) {
  setText($("#message"), text);
}

function announce(text) {
  $("#status").textContent = text;
}

function note(box, text) {
  const element = document.getElementById(box.getAttribute("aria-describedby"));
  if (element) setText(element, text);
  if (text) box.setAttribute("aria-invalid", "true"); else if (box.hasAttribute("aria-invalid")) box.removeAttribute("aria-invalid");
}

// ---- numbers typed by hand: Python's float syntax for a finite decimal number, else null

const NUMBER = /^\s*[+-]?(\d(_?\d)*(\.(\d(_?\d)*)?)?|\.\d(_?\d)*)([eE][+-]?\d(_?\d)*)?\s*$/;

function parseNumber(text) {
  if (!NUMBER.test(text)) return null;
  const value = Number(text.replace(/_/g, ""));
  return Number.isFinite(value) ? value : null;
}

// ---- the graph

const graph = new GraphView(MODEL, {
  viewport: $("#viewport"), svg: $("#graph"), scene: $("#scene"), edgeLayer: $("#edges"), nodeLayer: $("#nodes"),
  far: $("#far"), overview: $("#overview"),
  attached: (id) => paintNode(id),
  select: (id) => { select(id); announceChain(id); },
});

function paintNode(id) {
  if (state === null) return;
  const element = graph.elements.get(id);
  if (!element) return;
  const data = format(state.data[id]);
  const grad = backwardAt === null ? format(state.grad[id]) : replayedGrad(id);
  const [dataCell, gradCell] = element.querySelectorAll("[data-field]");
  graph.setNumber(dataCell, data);
  graph.setNumber(gradCell, grad);
  const label = `${MODEL.labels[id] || MODEL.symbols[id]}: data ${data}, grad ${grad || "not reached yet"}`;
  if (element.getAttribute("aria-label") !== label) element.setAttribute("aria-label", label);
}

function paintAll() {
  window.autodiffState = state;
  setText($("#value"), format(state.data[MODEL.output]));
  graph.refresh(paintNode);
}

// The program at a point: {state}, or {failure} (a DomainFailure naming the node).
function attempt(point) {
  try {
    return { state: run(point) };
  } catch (failure) {
    if (!(failure instanceof DomainFailure)) throw failure;
    return { failure };
  }
}

function show(result) {
  state = result.state;
  say("");
  graph.setFailed(null);
  paintAll();
  if (selected !== null) explainNode(selected);
  if (backwardAt !== null) showBackward();
  if (heatmap && trainer === null) heatmap.compute(values);
}

function update() {
  const started = performance.now();
  const result = attempt(values);
  window.autodiffLastUpdateMs = performance.now() - started;
  if (result.failure) {
    failed(result.failure);
    return false;
  }
  show(result);
  window.autodiffLastUpdateMs = performance.now() - started;
  return true;
}

function failed(failure) {
  say(`error: ${failure.message} (showing the last good values)`);
  graph.setFailed(failure.id);
}

// ---- inputs: a row each (slider, value box, range, fixed), in groups when there are many;
// with data, the data's columns and the row the graph shows

const sliders = {};
const boxes = {};
const rangeBoxes = {};
const freezes = {};
const ranges = {};                      // name -> [from, to]
const timers = {};
let uid = 0;

function element(tag, attributes, text) {
  const made = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) made.setAttribute(key, String(value));
  if (text !== undefined) made.textContent = text;
  return made;
}

function startRange(value) {
  const span = MODEL.sliderSpan * Math.max(1, Math.abs(value));
  return finiteRange(value - span, value + span, value);
}

// A range whose width is a finite number (a slider works out positions from it).
function finiteRange(low, high, value) {
  low = Math.max(low, -Number.MAX_VALUE);
  high = Math.min(high, Number.MAX_VALUE);
  if (!Number.isFinite(high - low)) {
    if (value >= 0) low = Math.min(0, value); else high = Math.max(0, value);
  }
  return [low, high];
}

function inputRow(name) {
  const n = uid++;
  const value = values[name];
  ranges[name] = startRange(value);
  const rowElement = element("div", { class: "input" });
  rowElement.dataset.row = name;
  rowElement.appendChild(element("span", { class: "name", id: `in${n}-name` }, name));
  const slider = element("input", { type: "range", step: "any", min: ranges[name][0], max: ranges[name][1],
    value, "aria-label": name });
  slider.dataset.input = name;
  const box = element("input", { type: "text", inputmode: "decimal", value: pythonRepr(value), size: 9,
    "aria-label": `${name} value`, "aria-describedby": `in${n}-note` });
  box.dataset.inputBox = name;
  rowElement.append(slider, box);
  rowElement.appendChild(element("span", { class: "note", id: `in${n}-note` }));
  const range = element("span", { class: "range" });
  const ends = {};
  for (const [end, word, k] of [["min", "from", 0], ["max", "to", 1]]) {
    const endBox = element("input", { type: "text", inputmode: "decimal", value: pythonRepr(ranges[name][k]), size: 6,
      "aria-label": `${name} ${word}`, "aria-describedby": `in${n}-range-note` });
    endBox.dataset.range = name;
    endBox.dataset.end = end;
    ends[end] = endBox;
    if (k) range.append(" to ");
    range.appendChild(endBox);
  }
  rowElement.appendChild(range);
  const label = element("label", { class: "fix" });
  const freeze = element("input", { type: "checkbox", "aria-label": `keep ${name} fixed` });
  freeze.dataset.freeze = name;
  freeze.checked = MODEL.fixed.includes(name);
  label.append(freeze, " fixed");
  rowElement.appendChild(label);
  rowElement.appendChild(element("span", { class: "note", id: `in${n}-range-note` }));
  sliders[name] = slider;
  boxes[name] = box;
  rangeBoxes[name] = ends;
  freezes[name] = freeze;
  return rowElement;
}

// Groups: NAME[...] elements under NAME; past MODEL.grouped inputs, names sharing a prefix (w0_*).
function groupOf(name, many) {
  const element_ = /^([^[\]]+)\[/.exec(name);
  if (element_) return `${element_[1]}[…]`;
  const prefix = /^(\p{L}+\d*)_/u.exec(name);
  return many && prefix ? `${prefix[1]}_*` : "";
}

function buildInputs() {
  const list = $("#input-list");
  const groups = new Map();
  const many = parameters.length > MODEL.grouped;
  for (const name of parameters) {
    const key = groupOf(name, many);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(name);
  }
  let first = true;
  for (const [key, members] of groups) {
    if (key && members.length > 1) {
      const details = element("details", { class: "group" });
      details.dataset.groupName = key;
      details.open = first;
      details.appendChild(element("summary", {}, `${key} (${members.length})`));
      for (const name of members) details.appendChild(inputRow(name));
      list.appendChild(details);
    } else {
      for (const name of members) list.appendChild(inputRow(name));
    }
    first = false;
  }
  if (DATA) list.appendChild(dataPanel());
}

function dataPanel() {
  const panel = element("section", { class: "data", "aria-labelledby": "data-title" });
  panel.appendChild(element("h3", { id: "data-title" }, `data: ${DATA.lines.length} row${DATA.lines.length > 1 ? "s" : ""} of ${DATA.source}`));
  const picker = element("div", { class: "buttons" });
  const previous = element("button", { type: "button", "aria-label": "previous row" }, "◀");
  const box = element("input", { id: "row", type: "text", inputmode: "numeric", value: "1", size: 5,
    "aria-label": "the row the graph shows", "aria-describedby": "row-box-note" });
  const next = element("button", { type: "button", "aria-label": "next row" }, "▶");
  picker.append("row ", box, ` of ${DATA.lines.length} `, previous, next);
  panel.appendChild(picker);
  panel.appendChild(element("span", { class: "note", id: "row-box-note" }));
  const table = element("dl", { class: "row-values" });
  for (const name of columns) {
    table.appendChild(element("dt", {}, name));
    const cell = element("dd", {});
    cell.dataset.column = name;
    table.appendChild(cell);
  }
  panel.appendChild(table);
  const go = (k) => {
    row = (k + DATA.lines.length) % DATA.lines.length;
    box.value = String(row + 1);
    note(box, "");
    showRow();
    announce(`row ${row + 1}: ${MODEL.outputName} = ${format(state.data[MODEL.output])}`);
  };
  previous.addEventListener("click", () => go(row - 1));
  next.addEventListener("click", () => go(row + 1));
  const commit = () => {
    const k = parseNumber(box.value);
    if (k === null || !Number.isInteger(k) || k < 1 || k > DATA.lines.length) {
      note(box, `a row from 1 to ${DATA.lines.length}`);
      return;
    }
    go(k - 1);
  };
  box.addEventListener("keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); commit(); } });
  box.addEventListener("change", commit);
  return panel;
}

function showRow() {
  for (const name of columns) values[name] = DATA.columns[name][row];
  document.querySelectorAll("[data-column]").forEach((cell) => {
    cell.textContent = pythonRepr(values[cell.dataset.column]);
  });
  $("#row-note").textContent = ` (row ${row + 1} of ${DATA.lines.length})`;
  update();
}

// The box shows the value unless its text is being edited (focused and changed since).
function showValue(name) {
  const value = values[name];
  const [low, high] = ranges[name];
  const slider = sliders[name];
  if (Number(slider.min) !== low) slider.min = String(low);
  if (Number(slider.max) !== high) slider.max = String(high);
  slider.value = String(value);
  const box = boxes[name];
  if (!(document.activeElement === box && box.dataset.dirty)) {
    const text = pythonRepr(value);
    if (box.value !== text) box.value = text;
    delete box.dataset.dirty;
    note(box, "");
  }
  for (const [end, k] of [["min", 0], ["max", 1]]) {
    const endBox = rangeBoxes[name][end];
    if (document.activeElement !== endBox) endBox.value = pythonRepr(ranges[name][k]);
  }
}

// A value that passed: the range widens to hold it.
function accept(name, value) {
  values[name] = value;
  const [low, high] = ranges[name];
  if (value < low || value > high) ranges[name] = finiteRange(Math.min(low, value), Math.max(high, value), value);
  showValue(name);
  session = null;
}

function commitBox(name) {
  clearTimeout(timers[name]);
  const box = boxes[name];
  const value = parseNumber(box.value);
  if (value === null) {
    note(box, `${JSON.stringify(box.value)} is not a finite number; ${name} stays ${pythonRepr(values[name])}`);
    return `${name}: not a number; it stays ${pythonRepr(values[name])}`;
  }
  if (value === values[name]) { note(box, ""); return null; }
  const result = attempt({ ...values, [name]: value });
  if (result.failure) {
    note(box, `${result.failure.message}; ${name} stays ${pythonRepr(values[name])}`);
    return `${name} refused: ${result.failure.message}`;
  }
  accept(name, value);
  note(box, "");
  show(result);
  return `${MODEL.outputName} = ${format(state.data[MODEL.output])}`;
}

function commitRange(name, end) {
  const box = rangeBoxes[name][end];
  const k = end === "min" ? 0 : 1;
  const value = parseNumber(box.value);
  const word = end === "min" ? "from" : "to";
  if (value === null) {
    note(box, `${word}: ${JSON.stringify(box.value)} is not a finite number`);
    return;
  }
  const next = [...ranges[name]];
  next[k] = value;
  if (!(next[0] < next[1]) || !Number.isFinite(next[1] - next[0])) {
    note(box, `"from" must be below "to" (and the range a finite width); keeping ${pythonRepr(ranges[name][0])} to ${pythonRepr(ranges[name][1])}`);
    return;
  }
  note(box, "");
  ranges[name] = next;
  const inside = Math.min(Math.max(values[name], next[0]), next[1]);
  if (inside !== values[name]) {
    const result = attempt({ ...values, [name]: inside });
    if (result.failure) {
      failed(result.failure);
    } else {
      values[name] = inside;
      session = null;
      show(result);
    }
  }
  showValue(name);
  announce(`${name} from ${pythonRepr(next[0])} to ${pythonRepr(next[1])}`);
}

function bindInputs() {
  for (const name of parameters) {
    const slider = sliders[name];
    const box = boxes[name];
    slider.addEventListener("input", () => {
      const started = performance.now();
      const value = Number(slider.value);
      const result = attempt({ ...values, [name]: value });
      if (result.failure) {
        failed(result.failure);
        slider.value = String(values[name]);      // the thumb never contradicts the value
        return;
      }
      values[name] = value;
      session = null;
      box.value = pythonRepr(value);
      delete box.dataset.dirty;
      note(box, "");
      show(result);
      window.autodiffLastUpdateMs = performance.now() - started;
    });
    slider.addEventListener("change", () => {
      announce($("#message").textContent || `${MODEL.outputName} = ${format(state.data[MODEL.output])}`);
    });
    box.addEventListener("input", () => {
      box.dataset.dirty = "true";
      clearTimeout(timers[name]);
      timers[name] = setTimeout(() => { const said = commitBox(name); if (said) announce(said); }, PAUSE_MS);
    });
    box.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      const said = commitBox(name);
      if (said) announce(said);
    });
    box.addEventListener("change", () => { const said = commitBox(name); if (said) announce(said); });
    for (const [end, endBox] of Object.entries(rangeBoxes[name])) {
      endBox.addEventListener("keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); commitRange(name, end); } });
      endBox.addEventListener("change", () => commitRange(name, end));
    }
    freezes[name].addEventListener("change", () => { session = null; });
  }
  $("#filter").addEventListener("input", () => {
    const wanted = $("#filter").value.trim().toLowerCase();
    document.querySelectorAll("#inputs .input").forEach((rowElement) => {
      rowElement.hidden = wanted !== "" && !rowElement.dataset.row.toLowerCase().includes(wanted);
    });
    document.querySelectorAll("#inputs details.group").forEach((group) => {
      if (wanted !== "") group.open = group.querySelector(".input:not([hidden])") !== null;
    });
  });
}

// ---- the chain rule, as explain writes it

const out = MODEL.outputSymbol;
const d = (id) => `d${out}/d${MODEL.symbols[id]}`;

// explain's line for an edge: numbered as `graph --upto K` counts, its local derivative ∂parent/∂node.
function chainLine(step, upstream, local, number) {
  const [node, parent, , rule, shown, lesson, shared] = step;
  const contribution = upstream === null || local === null ? null : upstream * local;
  const localText = explainNumber(local);
  let middle = `${explainNumber(upstream)} * ${localText}`;
  if (rule !== localText) middle = `${explainNumber(upstream)} * ${shown} = ${middle}`;
  const edge = `${d(parent)} * ∂${MODEL.symbols[parent]}/∂${MODEL.symbols[node]}`;
  const line = `[${number}] ${d(node)} ${shared ? "+=" : "="} ${edge} = ${middle} = ${explainNumber(contribution)}`;
  return lesson ? `${line}   # ${lesson}` : line;
}

function sumLine(node, parts) {
  const terms = parts.map((c) => (c !== null && c < 0 ? `(${explainNumber(c)})` : explainNumber(c))).join(" + ");
  return `${d(node)} = ${terms} = ${explainNumber(state.grad[node])}   (gradients add up)`;
}

function localOf(step) {
  const [, parent, position] = step;
  const local = state.locals[parent] ? state.locals[parent][position] : null;
  return Number.isNaN(local) ? null : local;
}

// The lines and the gradients after the first `edges` edges of the backward pass.
function replay(edges) {
  const lines = [`${d(MODEL.output)} = 1`];
  const grads = nodes.map(() => null);
  const reached = nodes.map(() => false);
  const parts = {};
  grads[MODEL.output] = 1;
  reached[MODEL.output] = true;
  let done = 0;
  let last = null;
  for (const step of MODEL.steps) {
    if (step.length === 1) {
      if (done > 0 && parts[step[0]] && parts[step[0]].length) {
        lines.push(sumLine(step[0], parts[step[0]]));
        parts[step[0]] = [];
      }
      continue;
    }
    if (done === edges) break;
    const [node, parent] = step;
    const upstream = grads[parent];
    const local = localOf(step);
    const contribution = upstream === null || local === null ? null : upstream * local;
    lines.push(chainLine(step, upstream, local, done + 1));
    grads[node] = reached[node] && grads[node] !== null && contribution !== null ? grads[node] + contribution
      : (reached[node] ? null : contribution);
    reached[node] = true;
    if (step[6]) (parts[node] ||= []).push(contribution);
    done += 1;
    last = step;
  }
  return { lines, grads, reached, last };
}

const edgeCount = MODEL.steps.filter((step) => step.length > 1).length;
let replayed = null;

function replayedGrad(id) {
  return replayed && replayed.reached[id] ? format(replayed.grads[id]) : "";
}

function showBackward(follow = false) {
  replayed = replay(backwardAt);
  paintAll();
  const last = replayed.last;
  if (last) {
    const [node, parent, position] = last;
    graph.setCurrent(`${parent}_${position}`);
    if (follow) graph.reveal([node, nodes.length + parent]);
  } else {
    graph.setCurrent(null);
  }
  const line = replayed.lines[replayed.lines.length - 1];
  $("#step-line").textContent = `edge ${backwardAt} of ${edgeCount}: ${line}`;
  $("#step-line").dataset.lines = JSON.stringify(replayed.lines);
}

function backward(to) {
  if (state === null) return;
  backwardAt = Math.max(0, Math.min(edgeCount, to));
  showBackward(true);
  announce($("#step-line").textContent);
}

function endBackward() {
  if (player !== null) { clearInterval(player); player = null; }
  backwardAt = null;
  replayed = null;
  graph.setCurrent(null);
  paintAll();
  $("#step-line").textContent = "";
  announce("every gradient shown");
}

function play() {
  const button = $('[data-action="backward-play"]');
  if (player !== null) {
    clearInterval(player);
    player = null;
    button.textContent = "play";
    announce($("#step-line").textContent);
    return;
  }
  if (backwardAt === null || backwardAt >= edgeCount) { backwardAt = 0; showBackward(true); }
  button.textContent = "pause";
  player = setInterval(() => {
    if (backwardAt >= edgeCount) {
      clearInterval(player);
      player = null;
      button.textContent = "play";
      announce($("#step-line").textContent);
      return;
    }
    backwardAt += 1;
    showBackward(true);
  }, 1000 / Number($("#speed").value));
}

// A value's own chain-rule lines (every edge into it, as in explain) and its paths to the output.
function explainNode(id) {
  if (state === null) return;
  const lines = [];
  if (id === MODEL.output) lines.push(`${d(id)} = 1`);
  const full = replay(edgeCount);
  let index = 1;
  for (const step of MODEL.steps) {
    if (step.length === 1) {
      if (step[0] === id) lines.push(full.lines[index++]);
      else if (full.lines[index] && full.lines[index].startsWith(`${d(step[0])} = `)) index++;
      continue;
    }
    if (step[0] === id) lines.push(full.lines[index]);
    index++;
  }
  if (lines.length === 0) lines.push(`${MODEL.labels[id]} does not feed ${out}: its gradient is 0`);
  const legend = MODEL.legend.length ? `${MODEL.legend.join("\n")}\n` : "";
  $("#chain").textContent = legend + lines.join("\n");
}

function announceChain() {
  const lines = $("#chain").textContent.split("\n");
  announce(lines[lines.length - 1]);
}

function onPath(id) {
  const toOutput = new Set([MODEL.output]);
  for (let k = MODEL.output; k >= 0; k--) if (toOutput.has(k)) nodes[k][1].forEach((x) => toOutput.add(x));
  const found = new Set();
  const stack = [id];
  while (stack.length) {
    const k = stack.pop();
    if (found.has(k) || !toOutput.has(k)) continue;
    found.add(k);
    consumers[k].forEach((c) => stack.push(c));
  }
  return found;
}

function select(id) {
  selected = id;
  graph.setPath(onPath(id));
  explainNode(id);
}

// ---- training: with data, fit's steps on the rows; without, step's nudge at the point

const fitTrainer = DATA ? new FitTrainer(MODEL) : null;
let session = null;
const curve = new LossCurve($("#loss-curve"), DATA ? `${MODEL.outputName} (the rows' sum)` : MODEL.outputName);
const heatmap = MODEL.heatmap ? new Heatmap($("#heatmap-canvas"), $("#heatmap-caption"), MODEL) : null;
let heatmapAt = 0;
window.autodiffStepTimes = [];

function setting(id, check, message) {
  const box = $(`#${id}`);
  const value = parseNumber(box.value);
  if (value === null || !check(value)) { note(box, message); return undefined; }
  note(box, "");
  return value;
}

// The settings as the command line takes them (fit's, or step's), or null with the refusals shown.
function settings() {
  const lr = DATA ? setting("lr", (x) => x > 0, "lr: a finite number above 0, as fit takes it")
    : setting("lr", (x) => x >= 0, "lr: a finite number, 0 or above, as step takes it");
  if (lr === undefined) return null;
  if (!DATA) return { lr };
  const optimizer = $("#optimizer").value;
  const below1 = (x) => x >= 0 && x < 1;
  const found = { lr, optimizer, reduce: $("#reduce").value, momentum: 0.9, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
  if (optimizer === "momentum") found.momentum = setting("momentum", below1, "momentum: at least 0 and below 1");
  if (optimizer === "adam") {
    found.beta1 = setting("beta1", below1, "beta1: at least 0 and below 1");
    found.beta2 = setting("beta2", below1, "beta2: at least 0 and below 1");
    found.eps = setting("eps", (x) => x > 0, "eps: a finite number above 0");
  }
  const batchBox = $("#batch");
  found.batch = null;
  if (batchBox.value.trim() !== "") {
    const batch = setting("batch", (x) => Number.isInteger(x) && x >= 1, "batch: a whole number of rows, 1 or more (empty: every row)");
    if (batch === undefined) return null;
    found.batch = batch;
  } else {
    note(batchBox, "");
  }
  const seedBox = $("#seed");
  if (!/^\s*\d+\s*$/.test(seedBox.value)) { note(seedBox, "seed: a whole number, 0 or more"); return null; }
  note(seedBox, "");
  found.seed = BigInt(seedBox.value.trim());
  if ([found.momentum, found.beta1, found.beta2, found.eps].includes(undefined)) return null;
  return found;
}

function sameSettings(a, b) {
  return Object.keys(a).every((key) => a[key] === b[key]);
}

function steps() {
  const box = $("#steps");
  const value = parseNumber(box.value);
  if (value === null || !Number.isInteger(value) || value < 1 || value > 1e7) {
    note(box, "steps: a whole number from 1 to 10,000,000");
    return null;
  }
  note(box, "");
  return value;
}

const moving = () => parameters.map((name) => !freezes[name].checked);

// One step: fit's (with data) or step's (without). Returns an error message, or null.
function stepOnce(chosen) {
  if (DATA) {
    const mask = moving();
    if (session === null || !sameSettings(session.settings, chosen) || session.mask.some((m, i) => m !== mask[i])) {
      session = fitTrainer.session(chosen, mask);
      session.mask = mask;
    }
    const theta = Float64Array.from(parameters, (name) => values[name]);
    let result;
    try {
      result = fitTrainer.step(session, theta);
    } catch (stop) {
      if (!(stop instanceof TrainingStopped)) throw stop;
      if (session.good) parameters.forEach((name, k) => { values[name] = session.good[k]; });
      session = null;
      return `${stop.message} (stopped at the last parameters with a finite loss)`;
    }
    curve.push(result.loss);
    parameters.forEach((name, k) => { values[name] = result.theta[k]; });
    return null;
  }
  const sign = $("#minimize").checked ? -1 : 1;
  const next = { ...values };
  for (const name of names) {
    const id = MODEL.inputs[name];
    if (!freezes[name].checked && state.grad[id] !== null) next[name] = state.data[id] + sign * chosen.lr * state.grad[id];
  }
  const stepNumber = curve.count;
  const bad = names.find((name) => !Number.isFinite(next[name]));
  if (bad !== undefined) return `step ${stepNumber} sent ${bad} beyond the largest float (stopped at the last good values)`;
  const result = attempt(next);
  if (result.failure) return `step ${stepNumber} left the domain: ${result.failure.message} (stopped at the last good values)`;
  values = next;
  state = result.state;
  curve.push(state.data[MODEL.output]);
  return null;
}

function afterSteps() {
  for (const name of parameters) showValue(name);
  update();
  const last = curve.count ? curve.closing[Math.floor((curve.count - 1) / curve.span)] : state.data[MODEL.output];
  document.querySelector("[data-loss]").textContent = format(last);
  $("#loss-step").textContent = String(DATA ? curve.count : Math.max(0, curve.count - 1));
  curve.draw();
  $("#loss-curve").setAttribute("aria-label", curve.describe());
}

function begin() {
  if (!DATA && curve.count === 0) { curve.first = 0; curve.push(state.data[MODEL.output]); }
  if (DATA && curve.count === 0) curve.first = 1;
}

function stepButton() {
  if (state === null || trainer !== null) return;
  const chosen = settings();
  if (chosen === null) { announce("step refused: see the settings"); return; }
  begin();
  const error = stepOnce(chosen);
  say(error || "");
  afterSteps();
  if (error) say(error);
  announce(error || `step ${$("#loss-step").textContent}: ${$("[data-loss]").textContent}`);
}

function runSteps() {
  if (trainer !== null || state === null) return;
  const chosen = settings();
  const total = steps();
  if (chosen === null || total === null) { announce("run refused: see the settings"); return; }
  begin();
  const before = curve.count;
  const opening = DATA ? null : state.data[MODEL.output];
  let left = total;
  let error = null;
  say("");
  // Steps in tasks of about 12 ms, one after another; the page is drawn at most once a frame,
  // between them, so a frame's drawing never holds the steps up.
  const run_ = { stopped: false, frame: null };
  const channel = new MessageChannel();
  const draw = () => {
    run_.frame = null;
    afterSteps();
    if (heatmap && performance.now() - heatmapAt > 250) { heatmap.compute(values); heatmapAt = performance.now(); }
  };
  const finish = () => {
    if (run_.frame !== null) cancelAnimationFrame(run_.frame);
    channel.port1.close();
    trainer = null;
    afterSteps();
    if (heatmap) heatmap.compute(values);
    window.autodiffRunning = false;
    if (error) say(error);
    const first = opening !== null ? opening : curve.kept[before];
    announce(error || `${curve.count - before} steps: ${MODEL.outputName} ${format(first)} to ${$("[data-loss]").textContent}`);
  };
  const tick = () => {
    if (run_.stopped) return;
    const started = performance.now();
    while (left > 0 && performance.now() - started < 12) {
      error = stepOnce(chosen);
      if (error) { left = 0; break; }
      left -= 1;
      if (curve.count % 1000 === 0) window.autodiffStepTimes.push([curve.count, performance.now()]);
    }
    if (left === 0) { finish(); return; }
    if (run_.frame === null) run_.frame = requestAnimationFrame(draw);
    channel.port2.postMessage(null);
  };
  channel.port1.onmessage = tick;
  run_.stop = () => {
    run_.stopped = true;
    if (run_.frame !== null) cancelAnimationFrame(run_.frame);
    channel.port1.close();
  };
  window.autodiffRunning = true;
  trainer = run_;
  channel.port2.postMessage(null);
}

function stopSteps() {
  if (trainer !== null) {
    trainer.stop();
    trainer = null;
    afterSteps();
    window.autodiffRunning = false;
    announce(`stopped at step ${$("#loss-step").textContent}`);
  }
}

function reset() {
  if (trainer !== null) { trainer.stop(); trainer = null; window.autodiffRunning = false; }
  session = null;
  curve.clear();
  for (const name of parameters) {
    values[name] = MODEL.start[name];
    ranges[name] = startRange(MODEL.start[name]);
    showValue(name);
  }
  update();
  document.querySelector("[data-loss]").textContent = format(state.data[MODEL.output]);
  $("#loss-step").textContent = "0";
  $("#loss-curve").setAttribute("aria-label", curve.describe());
  announce(`reset: ${MODEL.outputName} = ${format(state.data[MODEL.output])}`);
}

// ---- the buttons and the page's start

const actions = {
  "fit": () => graph.fit(), "zoom-in": () => graph.zoom(1.25), "zoom-out": () => graph.zoom(0.8),
  "output": () => graph.focusNode(MODEL.output),
  "step": stepButton, "run": runSteps, "stop": stopSteps, "reset": reset,
  "backward-start": () => backward(0), "backward-prev": () => backward((backwardAt ?? edgeCount) - 1),
  "backward-next": () => backward(backwardAt === null ? 1 : backwardAt + 1),
  "backward-end": endBackward, "backward-play": play,
};

function start() {
  buildInputs();
  bindInputs();
  $("#lr").value = pythonRepr(MODEL.lr);
  $("#minimize").checked = MODEL.isLoss;
  if (DATA) {
    $("#minimize").checked = true;
    $("#minimize").disabled = true;
    $("#minimize").parentNode.title = "fit always minimises the loss";
    $("#train-what").textContent = `${MODEL.outputName} over the rows,`;
  } else {
    $("#fit-settings").hidden = true;
  }
  const showSettings = () => {
    const chosen = $("#optimizer").value;
    document.querySelectorAll("#fit-settings [data-for]").forEach((label) => { label.hidden = label.dataset.for !== chosen; });
  };
  $("#optimizer").addEventListener("change", showSettings);
  showSettings();
  for (const id of ["lr", "steps", "momentum", "beta1", "beta2", "eps", "batch", "seed"]) {
    $(`#${id}`).addEventListener("change", () => { if (id === "steps") steps(); else settings(); });
  }
  document.querySelectorAll("[data-action]").forEach((button) => {
    button.addEventListener("click", () => actions[button.dataset.action]());
  });
  if (heatmap) $("#heatmap").hidden = false;
  if (DATA && MODEL.lastPlace.length) {
    $("#exactness").hidden = false;
    $("#exactness").textContent = `This program uses ${MODEL.lastPlace.join(", ")}: the browser's ` +
      "and the C library's differ in the last place now and then, so a loss may differ from fit's in its last digits.";
  }
  window.autodiffRun = run;
  window.autodiffLosses = () => curve.values();
  window.autodiffHeatmap = () => (heatmap && heatmap.cells ? { xs: heatmap.cells.xs, ys: heatmap.cells.ys, values: heatmap.cells.values } : null);
  window.autodiffGraph = graph;
  window.autodiffValues = () => ({ ...values });
  if (DATA) showRow(); else update();
  window.autodiffRunning = false;
  window.autodiffReady = true;
}

start();
