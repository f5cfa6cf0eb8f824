// The engine in the page: forward and backward as autodiff_cli/engine.py runs them, with the same
// refusals, the same messages and the same undefined gradients. MODEL (the graph), OPS (each op's
// forward rule and domain, from the op table) and LOCALS (each node's local derivatives, from the
// op table's rule texts) are written into the page above this script.
"use strict";

class Refusal extends Error {}

class DomainFailure extends Error {
  constructor(id, message, reason) { super(message); this.id = id; this.reason = reason; }
}

// A rule's intermediates must all be finite (the engine's one meaning of a rule): `c` checks each
// op's value in a local derivative, `L` makes a rule that fails it Infinity (too large).
const OVERFLOW = { overflow: true };
function c(value) {
  if (!Number.isFinite(value)) throw OVERFLOW;
  return value;
}
function L(rule) {
  try {
    return rule();
  } catch (error) {
    if (error === OVERFLOW) return Infinity;
    throw error;
  }
}

// Each op as the language runs it: refusing the operands where its value does not exist.
const CHECKED = {};
for (const [name, op] of Object.entries(OPS)) {
  CHECKED[name] = (x, y) => {
    for (const [refuses, message] of op.refuse) if (refuses(x, y)) throw new Refusal(message);
    return op.value(x, y);
  };
}

// The node's local derivatives (its rules), NaN where the op table says one does not exist.
function localDerivatives(id, data) {
  const [op, inputs] = MODEL.nodes[id];
  const locals = LOCALS[id](data);
  const operands = [...inputs.map((x) => data[x]), data[id]];
  OPS[op].undefined.forEach((where, k) => {
    if (where.some(([holds]) => holds(...operands))) locals[k] = NaN;
  });
  return locals;
}

// eval's one-line message: the place, the op and its operands, the reason.
function failure(id, data, reason) {
  const [op, inputs] = MODEL.nodes[id];
  let what = MODEL.labels[id];
  if (op !== null) {
    const operands = inputs.map((x) => (MODEL.constants[x]
      ? pythonRepr(data[x]) : `${MODEL.labels[x]} = ${pythonRepr(data[x])}`));
    what = `${MODEL.opSymbols[id]} (${operands.join(", ")})`;
  }
  const [line, column] = MODEL.positions[id];
  return new DomainFailure(id, `${line ? `line ${line}, column ${column}: ` : ""}${what}: ${reason}`, reason);
}

// A gate's operand (y in when(c, y), unless(c, y): where's branches) is needed only where its gate
// is open; elsewhere its value may not exist (log(x) where x > 0 does not hold). As in the engine,
// a value that fails is dead, and the program fails only if the output needs a dead value.
function liveNodes(data) {
  const live = new Array(MODEL.nodes.length).fill(false);
  live[MODEL.output] = true;
  for (let id = MODEL.output; id >= 0; id--) {
    const [op, inputs] = MODEL.nodes[id];
    if (!live[id] || op === null) continue;
    const gate = OPS[op].gate;
    inputs.forEach((x, k) => { if (!(gate && k === 1 && !gate(data[inputs[0]]))) live[x] = true; });
  }
  return live;
}

function forwardPass(values) {
  const data = MODEL.nodes.map((node) => node[2]);
  const dead = new Array(data.length).fill(null);
  for (const [name, id] of Object.entries(MODEL.inputs)) data[id] = values[name];
  MODEL.nodes.forEach(([op, inputs], id) => {
    if (op === null) return;
    const gate = OPS[op].gate;
    const deadFrom = inputs.find((x, k) => dead[x] && !(gate && k === 1 && !dead[inputs[0]] && !gate(data[inputs[0]])));
    let value;
    try {
      if (deadFrom !== undefined) throw dead[deadFrom];
      try {
        value = CHECKED[op](data[inputs[0]], data[inputs[1]]);
      } catch (refusal) {
        if (refusal instanceof Refusal) throw failure(id, data, refusal.message);
        throw refusal;
      }
      if (!Number.isFinite(value)) throw failure(id, data, MODEL.messages.tooLarge);
    } catch (error) {
      if (!MODEL.gated || !(error instanceof DomainFailure)) throw error;
      dead[id] = error;
      value = NaN;
    }
    data[id] = value;
  });
  if (MODEL.gated) {
    const live = liveNodes(data);
    const first = dead.findIndex((error, id) => error && live[id]);
    if (first >= 0) throw dead[first];
  }
  return data;
}

// d output / d node for every node; null where it does not exist (through an input an op marks
// undefined, where its rule has no value): a constant's; an input's is refused, saying why. A
// gradient too large for a float is an error, but a constant's (a node no input reaches), which is
// null: it never fails a program whose inputs' gradients exist.
function backwardPass(data) {
  const n = MODEL.nodes.length;
  const grad = new Array(n).fill(0);
  const undefinedGrad = new Array(n).fill(false);
  const locals = new Array(n).fill(null);
  const origins = [];
  const live = MODEL.gated ? liveNodes(data) : MODEL.feeds;
  grad[MODEL.output] = 1;
  for (let id = MODEL.output; id >= 0; id--) {
    const [op, inputs] = MODEL.nodes[id];
    if (op === null || !live[id]) continue;
    locals[id] = localDerivatives(id, data);
    inputs.forEach((x, k) => {
      if (!live[x]) {
        // a closed gate's operand: it passes nothing back
      } else if (undefinedGrad[id]) {
        undefinedGrad[x] = true;
      } else if (Number.isNaN(locals[id][k]) && OPS[op].undefined[k].length) {
        undefinedGrad[x] = true;
        origins.push([id, k]);
      } else {
        grad[x] += grad[id] * locals[id][k];
      }
    });
  }
  for (let id = n - 1; id >= 0; id--) {
    if (undefinedGrad[id] || Number.isFinite(grad[id])) continue;
    if (!MODEL.varies[id]) undefinedGrad[id] = true;
    else throw failure(id, data, MODEL.messages.gradientTooLarge);
  }
  if (Object.values(MODEL.inputs).some((id) => undefinedGrad[id])) {
    for (const [id, k] of origins) {
      const [op, inputs] = MODEL.nodes[id];
      if (!MODEL.varies[inputs[k]]) continue;
      const operands = [...inputs.map((x) => data[x]), data[id]];
      const why = OPS[op].undefined[k].find(([holds]) => holds(...operands));
      throw failure(id, data, why ? why[1] : MODEL.messages.noDerivative);
    }
  }
  return { grad: grad.map((g, id) => (undefinedGrad[id] ? null : g)), locals };
}

// Forward, then backward: {data, grad, locals}, or a DomainFailure naming the node.
function run(values) {
  const data = forwardPass(values);
  return { data, ...backwardPass(data) };
}
