// The live page's controls, over the engine (engine.js) and the CLI's number formats (numbers.js):
// the inputs, zoom and pan, chain-rule lines as explain writes them, backprop replayed edge by edge,
// and training with a loss curve. Hooks for scripts and tests: data-input, data-input-box,
// data-node + data-field, data-action, data-loss (README, "The live page").
"use strict";

const nodes = MODEL.nodes;              // [op name or null, [input ids], data, label]
const names = Object.keys(MODEL.inputs);
const consumers = nodes.map(() => []);
nodes.forEach(([, inputs], id) => inputs.forEach((x) => consumers[x].push(id)));
const $ = (selector) => document.querySelector(selector);
const fieldElements = { data: [], grad: [] };
document.querySelectorAll("[data-field]").forEach((el) => {
  fieldElements[el.dataset.field][Number(el.dataset.node)] = el;
});
const shownText = { data: [], grad: [] };

const format = (x) => formatNumber(x, MODEL.precision);
const explainNumber = (x) => (x === null ? "undefined" : formatGeneral(x, MODEL.explainPrecision));

let values = { ...MODEL.start };        // the inputs' current (good) values
let state = null;                       // run(values): data, grad, locals
let selected = null;
let backwardAt = null;                  // the number of edges shown while replaying backprop, or null
let player = null;
let trainer = null;
const trajectory = [];

// ---- messages: one fixed place, never moving the controls

function say(text) {
  $("#message").textContent = text;
}

// ---- numbers typed by hand: a number, or the box is marked and the last good value stays

const NUMBER = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

function parsed(box, what) {
  const text = box.value;
  const value = NUMBER.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(value)) {
    box.setAttribute("aria-invalid", "true");
    say(`${what}: ${JSON.stringify(text)} is not a finite number; keeping the last good value`);
    return null;
  }
  box.removeAttribute("aria-invalid");
  return value;
}

// ---- the graph's numbers

function paint(field, id, text) {
  if (shownText[field][id] !== text && fieldElements[field][id]) {
    fieldElements[field][id].textContent = text;
    shownText[field][id] = text;
  }
}

// A large graph repaints only the values in view and large enough to read (SVG text is what
// costs: thousands of labels take hundreds of milliseconds); the others are brought up to date
// when they come into view. window.autodiffState always holds every number.
const LEVEL_OF_DETAIL = nodes.length > 300;
const READABLE_SCALE = 0.25;
const stale = new Set();
let bounds = null;

function paintNode(id) {
  paint("data", id, format(state.data[id]));
  paint("grad", id, backwardAt === null ? format(state.grad[id]) : replayedGrad(id));
}

function inView(id) {
  const box = bounds[id];
  return !box || (box.x + box.width >= view.x && box.x <= view.x + view.width &&
                  box.y + box.height >= view.y && box.y <= view.y + view.height);
}

function paintAll() {
  window.autodiffState = state;
  $("#value").textContent = format(state.data[MODEL.output]);
  const readable = !LEVEL_OF_DETAIL || viewport.getBoundingClientRect().width / view.width >= READABLE_SCALE;
  nodes.forEach((_, id) => {
    if (LEVEL_OF_DETAIL && (!readable || !inView(id))) { stale.add(id); return; }
    stale.delete(id);
    paintNode(id);
  });
}

function paintStale() {
  if (state === null || !stale.size) return;
  if (viewport.getBoundingClientRect().width / view.width < READABLE_SCALE) return;
  for (const id of [...stale]) {
    if (inView(id)) { stale.delete(id); paintNode(id); }
  }
}

function update() {
  const started = performance.now();
  document.querySelectorAll(".failed").forEach((el) => el.classList.remove("failed"));
  try {
    state = run(values);
  } catch (failure) {
    if (!(failure instanceof DomainFailure)) throw failure;
    say(`error: ${failure.message} (showing the last good values)`);
    const group = document.querySelector(`[data-group="v${failure.id}"]`);
    if (group) group.classList.add("failed");
    window.autodiffLastUpdateMs = performance.now() - started;
    return false;
  }
  say("");
  paintAll();
  if (selected !== null) explainNode(selected);
  if (backwardAt !== null) showBackward();
  window.autodiffLastUpdateMs = performance.now() - started;
  return true;
}

// ---- inputs: slider, value box, range, fixed

const sliders = {};
const boxes = {};
const rangeBoxes = {};
document.querySelectorAll("[data-input]").forEach((el) => { sliders[el.dataset.input] = el; });
document.querySelectorAll("[data-input-box]").forEach((el) => { boxes[el.dataset.inputBox] = el; });
document.querySelectorAll("[data-range]").forEach((el) => {
  (rangeBoxes[el.dataset.range] ||= {})[el.dataset.end] = el;
});

function setInput(name, value, from) {
  const slider = sliders[name];
  if (value < Number(slider.min)) slider.min = String(value);
  if (value > Number(slider.max)) slider.max = String(value);
  if (from !== slider) slider.value = String(value);
  if (from !== boxes[name]) {
    boxes[name].value = pythonRepr(value);           // numbers as the command line writes them
    boxes[name].removeAttribute("aria-invalid");
  }
  rangeBoxes[name].min.value = pythonRepr(Number(slider.min));
  rangeBoxes[name].max.value = pythonRepr(Number(slider.max));
  values[name] = value;
}

function tryValue(name, value, from) {
  const before = values[name];
  setInput(name, value, from);
  if (!update()) setInput(name, before, null);         // outside the domain: back to the last good value
}

for (const name of names) {
  sliders[name].addEventListener("input", () => tryValue(name, Number(sliders[name].value), sliders[name]));
  boxes[name].addEventListener("input", () => {
    const value = parsed(boxes[name], name);
    if (value !== null) tryValue(name, value, boxes[name]);
  });
  for (const [end, box] of Object.entries(rangeBoxes[name])) {
    box.addEventListener("change", () => {
      const value = parsed(box, `${name}: ${end === "min" ? "from" : "to"}`);
      const other = Number(rangeBoxes[name][end === "min" ? "max" : "min"].value);
      const keep = () => { box.value = pythonRepr(Number(sliders[name][end])); };
      if (value === null) { keep(); box.removeAttribute("aria-invalid"); return; }
      if (end === "min" ? value >= other : value <= other) {
        say(`${name}: "from" must be below "to"; keeping ${pythonRepr(Number(sliders[name].min))} to ` +
            `${pythonRepr(Number(sliders[name].max))}`);
        keep();
        return;
      }
      sliders[name][end] = String(value);
      const inside = Math.min(Math.max(values[name], Number(sliders[name].min)), Number(sliders[name].max));
      if (inside !== values[name]) tryValue(name, inside, null);       // the thumb never contradicts the value
      else sliders[name].value = String(values[name]);
    });
  }
}

$("#filter").addEventListener("input", () => {
  const wanted = $("#filter").value.trim().toLowerCase();
  document.querySelectorAll("#inputs .input").forEach((row) => {
    row.hidden = wanted !== "" && !row.dataset.row.toLowerCase().includes(wanted);
  });
  document.querySelectorAll("#inputs details.group").forEach((group) => {
    if (wanted !== "") group.open = group.querySelector(".input:not([hidden])") !== null;
  });
});

// ---- the chain rule, as explain writes it

const out = MODEL.outputSymbol;
const d = (id) => `d${out}/d${MODEL.symbols[id]}`;

function chainLine(step, upstream, local) {
  const [node, parent, , rule, shown, lesson, shared] = step;
  const contribution = upstream === null || local === null ? null : upstream * local;
  const localText = explainNumber(local);
  let middle = `${explainNumber(upstream)} * ${localText}`;
  if (rule !== localText) middle = `${explainNumber(upstream)} * ${shown} = ${middle}`;
  const edge = `${d(parent)} * d${MODEL.symbols[parent]}/d${MODEL.symbols[node]}`;
  const line = `${d(node)} ${shared ? "+=" : "="} ${edge} = ${middle} = ${explainNumber(contribution)}`;
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
    lines.push(chainLine(step, upstream, local));
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
  return replayed.reached[id] ? format(replayed.grads[id]) : "";
}

function showBackward() {
  replayed = replay(backwardAt);
  paintAll();
  document.querySelectorAll(".current").forEach((el) => el.classList.remove("current"));
  const last = replayed.last;
  if (last) {
    const [node, parent] = last;
    for (const group of [`v${node}`, `op${parent}`]) {
      const el = document.querySelector(`[data-group="${group}"]`);
      if (el) el.classList.add("current");
    }
    edgeElements(`v${node}`, `op${parent}`).forEach((el) => el.classList.add("current"));
  }
  const line = replayed.lines[replayed.lines.length - 1];
  $("#step-line").textContent = `edge ${backwardAt} of ${edgeCount}: ${line}`;
  $("#step-line").dataset.lines = JSON.stringify(replayed.lines);
}

function edgeElements(from, to) {
  return [...document.querySelectorAll("g.edge")].filter((edge) => {
    const title = edge.querySelector("title");
    return title && title.textContent === `${from}->${to}`;
  });
}

function backward(to) {
  if (state === null) return;
  backwardAt = Math.max(0, Math.min(edgeCount, to));
  showBackward();
}

function endBackward() {
  backwardAt = null;
  document.querySelectorAll(".current").forEach((el) => el.classList.remove("current"));
  paintAll();
}

function play() {
  if (player !== null) { clearInterval(player); player = null; return; }
  if (backwardAt === null || backwardAt >= edgeCount) backward(0);
  player = setInterval(() => {
    if (backwardAt >= edgeCount) { clearInterval(player); player = null; return; }
    backward(backwardAt + 1);
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

function highlight(id) {
  const toOutput = new Set([MODEL.output]);
  for (let k = MODEL.output; k >= 0; k--) if (toOutput.has(k)) nodes[k][1].forEach((x) => toOutput.add(x));
  const onPath = new Set();
  const stack = [id];
  while (stack.length) {
    const k = stack.pop();
    if (onPath.has(k) || !toOutput.has(k)) continue;
    onPath.add(k);
    consumers[k].forEach((c) => stack.push(c));
  }
  document.querySelectorAll(".onpath").forEach((el) => el.classList.remove("onpath"));
  onPath.forEach((k) => {
    for (const name of [`v${k}`, `op${k}`]) {
      const group = document.querySelector(`[data-group="${name}"]`);
      if (group) group.classList.add("onpath");
    }
  });
  document.querySelectorAll("g.edge").forEach((edge) => {
    const [from, to] = edge.querySelector("title").textContent.split("->");
    const a = Number(from.replace(/^\D+/, ""));
    const b = Number(to.replace(/^\D+/, ""));
    if (onPath.has(a) && onPath.has(b)) edge.classList.add("onpath");
  });
}

function select(id) {
  selected = id;
  highlight(id);
  explainNode(id);
}

document.querySelectorAll("[data-group^='v']").forEach((group) => {
  const id = Number(group.dataset.group.slice(1));
  group.setAttribute("tabindex", "0");
  group.setAttribute("role", "button");
  group.setAttribute("aria-label", `${MODEL.labels[id] || MODEL.symbols[id]}: show its chain rule`);
  group.addEventListener("click", () => select(id));
  group.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); select(id); }
  });
});

// ---- training: the lecture's nudge, once or many times, and the output after each step

function learningRate() {
  return parsed($("#lr"), "lr");
}

function stepOnce(lr) {
  const sign = $("#minimize").checked ? -1 : 1;
  const next = { ...values };
  for (const [name, id] of Object.entries(MODEL.inputs)) {
    const frozen = document.querySelector(`[data-freeze="${name}"]`).checked;
    if (!frozen && state.grad[id] !== null) next[name] = state.data[id] + sign * lr * state.grad[id];
  }
  const before = values;
  values = next;
  try {
    state = run(values);
  } catch (failure) {
    if (!(failure instanceof DomainFailure)) throw failure;
    values = before;
    state = run(values);
    say(`error: a step left the domain: ${failure.message} (stopped at the last good values)`);
    return false;
  }
  for (const name of names) setInput(name, values[name], null);
  record(state.data[MODEL.output]);
  return true;
}

function record(value) {
  if (trajectory.length === 0) trajectory.push(state.data[MODEL.output]);
  else trajectory.push(value);
  drawLoss();
}

function drawLoss() {
  const points = trajectory.filter(Number.isFinite);
  const low = Math.min(...points);
  const high = Math.max(...points);
  const span = high - low || 1;
  const n = Math.max(trajectory.length - 1, 1);
  $("#loss-line").setAttribute("points", trajectory.map((v, i) =>
    `${(200 * i / n).toFixed(2)},${(58 - 56 * (v - low) / span).toFixed(2)}`).join(" "));
  document.querySelector("[data-loss]").textContent = format(trajectory[trajectory.length - 1]);
  $("#loss-step").textContent = String(trajectory.length - 1);
}

function stepButton() {
  if (state === null) return;
  const lr = learningRate();
  if (lr === null) return;
  if (trajectory.length === 0) record(state.data[MODEL.output]);
  if (stepOnce(lr)) { say(""); afterSteps(); }
}

function afterSteps() {
  if (backwardAt !== null) showBackward(); else paintAll();
  if (selected !== null) explainNode(selected);
}

function runSteps() {
  if (trainer !== null || state === null) return;
  const lr = learningRate();
  const total = parsed($("#steps"), "steps");
  if (lr === null || total === null) return;
  if (!Number.isInteger(total) || total < 1 || total > 1e7) {
    say("steps: a whole number from 1 to 10,000,000");
    $("#steps").setAttribute("aria-invalid", "true");
    return;
  }
  if (trajectory.length === 0) record(state.data[MODEL.output]);
  let left = total;
  const tick = () => {
    const started = performance.now();
    while (left > 0 && performance.now() - started < 12) {
      if (!stepOnce(lr)) { left = 0; break; }
      left -= 1;
    }
    afterSteps();
    if (left > 0 && trainer !== null) trainer = requestAnimationFrame(tick);
    else { trainer = null; window.autodiffRunning = false; }
  };
  window.autodiffRunning = true;
  say("");
  trainer = requestAnimationFrame(tick);
}

function stopSteps() {
  if (trainer !== null) cancelAnimationFrame(trainer);
  trainer = null;
  window.autodiffRunning = false;
}

function reset() {
  stopSteps();
  trajectory.length = 0;
  for (const name of names) {
    setInput(name, MODEL.start[name], null);
    const slider = sliders[name];
    const span = 2 * Math.max(1, Math.abs(MODEL.start[name]));
    slider.min = String(MODEL.start[name] - span);
    slider.max = String(MODEL.start[name] + span);
    setInput(name, MODEL.start[name], null);
  }
  update();
  $("#loss-line").setAttribute("points", "");
  document.querySelector("[data-loss]").textContent = format(state.data[MODEL.output]);
  $("#loss-step").textContent = "0";
}

// ---- zoom and pan: wheel or pinch to zoom, drag to pan, keys + - 0 and arrows

const viewport = $("#viewport");
const svg = viewport.querySelector("svg");
const full = svg.viewBox.baseVal;
const home = { x: full.x, y: full.y, width: full.width, height: full.height };
let view = { ...home };
svg.removeAttribute("width");
svg.removeAttribute("height");
svg.setAttribute("preserveAspectRatio", "xMidYMid meet");

function showView() {
  svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.width} ${view.height}`);
  if (LEVEL_OF_DETAIL) paintStale();
}

// Fit the whole graph, but never enlarge it beyond 1.5 times its natural size.
function fit() {
  const box = viewport.getBoundingClientRect();
  const scale = Math.min(box.width / home.width, box.height / home.height, 1.5);
  const width = box.width / scale;
  const height = box.height / scale;
  view = { x: home.x - (width - home.width) / 2, y: home.y - (height - home.height) / 2, width, height };
  showView();
}

// At first, a small graph (the lecture's) is shown with readable text even on a phone, its output
// end in view; a larger one is shown whole.
const READABLE = 0.75;
function initialView() {
  fit();
  const box = viewport.getBoundingClientRect();
  if (nodes.length > 60 || box.width / view.width >= READABLE) return;
  const width = box.width / READABLE;
  const height = box.height / READABLE;
  view = { x: home.x + home.width - width, y: home.y + (home.height - height) / 2, width, height };
  showView();
}

function zoom(factor, clientX, clientY) {
  const box = viewport.getBoundingClientRect();
  const fx = clientX === undefined ? 0.5 : (clientX - box.left) / box.width;
  const fy = clientY === undefined ? 0.5 : (clientY - box.top) / box.height;
  const width = Math.min(Math.max(view.width / factor, home.width / 200), home.width * 20);
  const height = width * view.height / view.width;
  view = { x: view.x + (view.width - width) * fx, y: view.y + (view.height - height) * fy, width, height };
  showView();
}

function pan(dx, dy) {
  view.x += dx * view.width;
  view.y += dy * view.height;
  showView();
}

viewport.addEventListener("wheel", (event) => {
  event.preventDefault();
  zoom(Math.exp(-event.deltaY * 0.0015), event.clientX, event.clientY);
}, { passive: false });

const pointers = new Map();
let pinch = null;
viewport.addEventListener("pointerdown", (event) => {
  if (event.target.closest("g.node")) return;        // a click on a value selects it
  viewport.setPointerCapture(event.pointerId);
  pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
  viewport.classList.add("dragging");
});
viewport.addEventListener("pointermove", (event) => {
  if (!pointers.has(event.pointerId)) return;
  const previous = pointers.get(event.pointerId);
  pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
  const box = viewport.getBoundingClientRect();
  if (pointers.size === 2) {
    const [a, b] = [...pointers.values()];
    const distance = Math.hypot(a.x - b.x, a.y - b.y);
    if (pinch !== null) zoom(distance / pinch, (a.x + b.x) / 2, (a.y + b.y) / 2);
    pinch = distance;
  } else {
    pan(-(event.clientX - previous.x) / box.width, -(event.clientY - previous.y) / box.height);
  }
});
for (const type of ["pointerup", "pointercancel"]) {
  viewport.addEventListener(type, (event) => {
    pointers.delete(event.pointerId);
    pinch = null;
    if (pointers.size === 0) viewport.classList.remove("dragging");
  });
}
viewport.addEventListener("keydown", (event) => {
  if (event.target !== viewport) return;
  const moves = { ArrowLeft: [-0.1, 0], ArrowRight: [0.1, 0], ArrowUp: [0, -0.1], ArrowDown: [0, 0.1] };
  if (event.key in moves) pan(...moves[event.key]);
  else if (event.key === "+" || event.key === "=") zoom(1.25);
  else if (event.key === "-") zoom(0.8);
  else if (event.key === "0" || event.key === "f") fit();
  else return;
  event.preventDefault();
});

// ---- the buttons

const actions = {
  "fit": fit, "zoom-in": () => zoom(1.25), "zoom-out": () => zoom(0.8),
  "step": stepButton, "run": runSteps, "stop": stopSteps, "reset": reset,
  "backward-start": () => backward(0), "backward-prev": () => backward((backwardAt ?? edgeCount) - 1),
  "backward-next": () => backward(backwardAt === null ? 1 : backwardAt + 1),
  "backward-end": endBackward, "backward-play": play,
};
document.querySelectorAll("[data-action]").forEach((button) => {
  button.addEventListener("click", () => actions[button.dataset.action]());
});
$("#lr").addEventListener("input", () => { if (learningRate() !== null) say(""); });
$("#steps").addEventListener("input", () => { if (parsed($("#steps"), "steps") !== null) say(""); });

window.autodiffRun = run;
bounds = (() => {                       // each value's box, in the coordinates of the view box
  const transform = svg.querySelector("g.graph").transform.baseVal.consolidate();
  const m = transform ? transform.matrix : { a: 1, d: 1, e: 0, f: 0 };
  return nodes.map((_, id) => {
    const group = document.querySelector(`[data-group="v${id}"]`);
    if (!group) return null;
    const box = group.getBBox();
    return { x: m.a * box.x + m.e, y: m.d * box.y + m.f, width: m.a * box.width, height: m.d * box.height };
  });
})();
update();
initialView();
window.addEventListener("resize", initialView);
