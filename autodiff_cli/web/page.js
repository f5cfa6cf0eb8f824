// The live page's controls, over the engine (engine.js) and the CLI's number formats (numbers.js).
"use strict";

const nodes = MODEL.nodes;              // [op name or null, [input ids], data, label]
const consumers = nodes.map(() => []);
nodes.forEach(([, inputs], id) => inputs.forEach((x) => consumers[x].push(id)));

function format(x) {
  return formatNumber(x, MODEL.precision);
}

const sliders = {};
const boxes = {};
document.querySelectorAll("[data-input]").forEach((el) => { sliders[el.dataset.input] = el; });
document.querySelectorAll("[data-input-box]").forEach((el) => { boxes[el.dataset.inputBox] = el; });
let state = null;
let selected = null;

function currentValues() {
  const values = {};
  for (const name of Object.keys(MODEL.inputs)) values[name] = parseFloat(boxes[name].value);
  return values;
}

function update() {
  const started = performance.now();
  const message = document.getElementById("message");
  document.querySelectorAll(".failed").forEach((el) => el.classList.remove("failed"));
  try {
    state = run(currentValues());
  } catch (failure) {
    if (!(failure instanceof DomainFailure)) throw failure;
    message.textContent = `error: ${failure.message} (showing the last good values)`;
    message.hidden = false;
    const group = document.querySelector(`[data-group="v${failure.id}"]`);
    if (group) group.classList.add("failed");
    window.autodiffLastUpdateMs = performance.now() - started;
    return;
  }
  message.hidden = true;
  for (const field of ["data", "grad"]) {
    document.querySelectorAll(`[data-field="${field}"]`).forEach((el) => {
      el.textContent = format(state[field][Number(el.dataset.node)]);
    });
  }
  document.querySelector("[data-output]").textContent = format(state.data[MODEL.output]);
  if (selected !== null) explain(selected);
  window.autodiffLastUpdateMs = performance.now() - started;
}

function setInput(name, value, from) {
  const slider = sliders[name];
  if (value < parseFloat(slider.min)) slider.min = String(value);
  if (value > parseFloat(slider.max)) slider.max = String(value);
  if (from !== slider) slider.value = String(value);
  if (from !== boxes[name]) boxes[name].value = String(value);
  document.querySelector(`[data-range="${name}"][data-end="min"]`).value = slider.min;
  document.querySelector(`[data-range="${name}"][data-end="max"]`).value = slider.max;
}

for (const name of Object.keys(MODEL.inputs)) {
  sliders[name].addEventListener("input", () => { setInput(name, parseFloat(sliders[name].value), sliders[name]); update(); });
  boxes[name].addEventListener("input", () => {
    const value = parseFloat(boxes[name].value);
    if (Number.isFinite(value)) { setInput(name, value, boxes[name]); update(); }
  });
  document.querySelectorAll(`[data-range="${name}"]`).forEach((el) => el.addEventListener("change", () => {
    const value = parseFloat(el.value);
    if (Number.isFinite(value)) sliders[name][el.dataset.end] = String(value);
  }));
}

// The lecture's nudge: every input that is not frozen moves along its gradient.
document.getElementById("step").addEventListener("click", () => {
  if (state === null) return;
  const lr = parseFloat(document.getElementById("lr").value);
  const sign = document.getElementById("minimize").checked ? -1 : 1;
  for (const [name, id] of Object.entries(MODEL.inputs)) {
    const frozen = document.querySelector(`[data-freeze="${name}"]`).checked;
    if (!frozen && state.grad[id] !== null) setInput(name, state.data[id] + sign * lr * state.grad[id], null);
  }
  update();
});

// Clicking a value shows its chain-rule lines (as `explain` writes them) and its paths to the output.
function explain(id) {
  const lines = [];
  const o = MODEL.outputSymbol;
  const d = (k) => `d${o}/d${MODEL.symbols[k]}`;
  if (id === MODEL.output) lines.push(`${d(id)} = 1`);
  const shared = MODEL.chain[id].length > 1;
  for (const [parent, k, text] of MODEL.chain[id]) {
    const local = state.locals[parent][k];
    const upstream = state.grad[parent];
    const product = upstream === null ? null : upstream * local;
    const edge = `d${MODEL.symbols[parent]}/d${MODEL.symbols[id]}`;
    lines.push(`${d(id)} ${shared ? "+=" : "="} ${d(parent)} * ${edge} = ${format(upstream)} * ${text} = ` +
               `${format(upstream)} * ${format(local)} = ${format(product)}`);
  }
  if (shared) lines.push(`${d(id)} = ${format(state.grad[id])}`);
  if (lines.length === 0) lines.push(`${MODEL.labels[id]} does not feed ${o}: its gradient is 0`);
  const panel = document.getElementById("chain");
  const legend = MODEL.symbols[id] === MODEL.labels[id] ? "" : `${MODEL.symbols[id]} = ${MODEL.labels[id]}\n`;
  panel.textContent = legend + lines.join("\n");
  panel.hidden = false;
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

document.querySelectorAll("[data-group^='v']").forEach((group) => {
  group.addEventListener("click", () => {
    selected = Number(group.dataset.group.slice(1));
    highlight(selected);
    if (state !== null) explain(selected);
  });
});

update();
