// Training in the page as `autodiff fit` trains (autodiff_cli/training.py), step for step: the loss
// of a step is the output summed (or averaged) over the step's rows at the parameters before the
// update, rows taken a chunk at a time (the array engine's chunk for the program) and each chunk
// summed as NumPy sums it (pairwise); a row where the program leaves its domain is left out and
// counted; --batch's rows drawn by the same splitmix64 and Floyd's algorithm; the optimizers' updates
// in the same operations in the same order. Each row is run by engine.js's `run`, whose numbers are
// eval's. Then the loss curve (axes, drawn from a fixed number of buckets: constant time a step,
// however long the run) and the heatmap of a net of two inputs.
"use strict";

// NumPy's pairwise summation (pairwise_sum in its loops, which ndarray.sum uses on a contiguous
// float64 array): under 8 numbers one after another from 0; up to 128 in eight running sums added
// as a tree; beyond, the two halves (the first a multiple of 8) summed so and added. The reduction
// adds the result to its identity, 0.
function pairwiseSum(a, start, n) {
  if (n < 8) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += a[start + i];
    return sum;
  }
  if (n <= 128) {
    const r = [a[start], a[start + 1], a[start + 2], a[start + 3], a[start + 4], a[start + 5], a[start + 6], a[start + 7]];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[start + i + j];
    let sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) sum += a[start + i];
    return sum;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return pairwiseSum(a, start, half) + pairwiseSum(a, start + half, n - half);
}

function numpySum(a, n) {
  return 0 + pairwiseSum(a, 0, n);
}

// training.Batches: splitmix64, uniform integers without modulo bias, Floyd's algorithm, sorted.
const MASK64 = (1n << 64n) - 1n;
class Batches {
  constructor(seed) { this.state = BigInt(seed) & MASK64; }

  next() {
    this.state = (this.state + 0x9E3779B97F4A7C15n) & MASK64;
    let z = this.state;
    z = ((z ^ (z >> 30n)) * 0xBF58476D1CE4E5B9n) & MASK64;
    z = ((z ^ (z >> 27n)) * 0x94D049BB133111EBn) & MASK64;
    return z ^ (z >> 31n);
  }

  below(n) {
    const big = BigInt(n);
    const limit = (1n << 64n) - ((1n << 64n) % big);
    for (;;) {
      const r = this.next();
      if (r < limit) return Number(r % big);
    }
  }

  draw(count, size) {
    const chosen = new Set();
    for (let j = count - size; j < count; j++) {
      const t = this.below(j + 1);
      chosen.add(chosen.has(t) ? j : t);
    }
    return [...chosen].sort((a, b) => a - b);
  }
}

class TrainingStopped extends Error {}

// The updates of training.Optimizer, in NumPy's order of operations (frozen gradients are 0).
function updater(settings, moving) {
  const { lr } = settings;
  const k = moving.length;
  const masked = (g) => g.map((x, i) => (moving[i] ? x : 0));
  if (settings.optimizer === "sgd") return (theta, g) => theta.map((p, i) => p - lr * masked(g)[i]);
  const m = new Float64Array(k);
  const v = new Float64Array(k);
  if (settings.optimizer === "momentum") {
    return (theta, g) => {
      const gm = masked(g);
      for (let i = 0; i < k; i++) v[i] = settings.momentum * v[i] + gm[i];
      return theta.map((p, i) => p - lr * v[i]);
    };
  }
  const { beta1: b1, beta2: b2, eps } = settings;
  return (theta, g, t) => {
    const gm = masked(g);
    for (let i = 0; i < k; i++) {
      m[i] = b1 * m[i] + (1 - b1) * gm[i];
      v[i] = b2 * v[i] + (1 - b2) * gm[i] * gm[i];
    }
    const correction = Math.sqrt(1 - b2 ** t);
    const rate = lr / (1 - b1 ** t);
    return theta.map((p, i) => p - (rate * m[i]) / (Math.sqrt(v[i]) / correction + eps));
  };
}

const OVERFLOWS = [MODEL.messages.tooLarge, MODEL.messages.gradientTooLarge];

// Training on the page's rows: a session is fit's loop from its start (step 1, the optimizer's
// state at 0, the batches' generator seeded), continued by every step or run with the same
// settings.
class FitTrainer {
  constructor(model) {
    const data = model.data;
    this.source = data.source;
    this.lines = data.lines;
    this.count = data.lines.length;
    this.chunk = data.chunk;
    this.columns = Object.entries(data.columns).map(([name, column]) => [name, Float64Array.from(column)]);
    this.params = Object.keys(model.inputs).filter((name) => !(name in data.columns));
    this.paramIds = this.params.map((name) => model.inputs[name]);
    this.output = model.output;
    this.values = new Float64Array(this.chunk);
    this.grads = this.params.map(() => new Float64Array(this.chunk));
    this.leftOut = new Set();
    this.leftOutTimes = 0;
    this.firstLeftOut = null;
  }

  session(settings, moving) {
    const batched = settings.batch !== null && settings.batch < this.count;
    return { settings, t: 0, update: updater(settings, moving), rng: batched ? new Batches(settings.seed) : null, good: null };
  }

  // The loss and its gradient over `rows` (sorted indices; null for every row) at `theta`.
  evaluate(theta, rows, when, reduce) {
    const point = {};
    this.params.forEach((name, k) => { point[name] = theta[k]; });
    const total = rows === null ? this.count : rows.length;
    let loss = 0;
    const grad = new Float64Array(this.params.length);
    let used = 0;
    let first = null;
    for (let start = 0; start < total; start += this.chunk) {
      const stop = Math.min(total, start + this.chunk);
      let kept = 0;
      for (let q = start; q < stop; q++) {
        const row = rows === null ? q : rows[q];
        for (const [name, column] of this.columns) point[name] = column[row];
        let result;
        try {
          result = run(point);
        } catch (failure) {
          if (!(failure instanceof DomainFailure)) throw failure;
          const message = `${this.source} line ${this.lines[row]}: ${failure.message}`;
          if (OVERFLOWS.includes(failure.reason)) throw new TrainingStopped(`${when}: the loss is not finite, training diverged: ${message}`);
          this.leftOut.add(row);
          this.leftOutTimes += 1;
          this.firstLeftOut = this.firstLeftOut || message;
          first = first || message;
          continue;
        }
        this.values[kept] = result.data[this.output];
        for (let k = 0; k < this.paramIds.length; k++) this.grads[k][kept] = result.grad[this.paramIds[k]];
        kept += 1;
      }
      loss += numpySum(this.values, kept);
      for (let k = 0; k < grad.length; k++) grad[k] += numpySum(this.grads[k], kept);
      used += kept;
    }
    if (used === 0) throw new TrainingStopped(`${when}: every row leaves the program's domain; the first: ${first}`);
    if (reduce === "mean") return { loss: loss / used, grad: grad.map((g) => g / used) };
    return { loss, grad };
  }

  // One step of fit's loop from `theta`: {loss (before the update), theta (after)}; a step that
  // cannot be taken throws TrainingStopped, with session.good the last parameters whose loss was
  // finite.
  step(session, theta) {
    session.t += 1;
    const t = session.t;
    const { settings } = session;
    const rows = session.rng === null ? null : session.rng.draw(this.count, settings.batch);
    const { loss, grad } = this.evaluate(theta, rows, `step ${t}`, settings.reduce);
    if (!Number.isFinite(loss)) throw new TrainingStopped(`step ${t}: the loss is beyond the largest float: training diverged`);
    session.good = Float64Array.from(theta);
    const next = session.update(Float64Array.from(theta), grad, t);
    const culprit = next.findIndex((p) => !Number.isFinite(p));
    if (culprit >= 0) throw new TrainingStopped(`step ${t} sent ${this.params[culprit]} beyond the largest float: training diverged`);
    return { loss, theta: next };
  }
}

// ---- the loss curve: a canvas with axes, drawn from BUCKETS buckets of steps (each its first, last,
// lowest and highest value); when the steps outgrow them, neighbours merge and a bucket holds twice
// as many. A step costs the same however many came before; a frame draws BUCKETS buckets.

const BUCKETS = 256;
const KEPT_STEPS = 1 << 20;      // every value kept up to this many steps (for hovering, and scripts)

class LossCurve {
  constructor(canvas, label) {
    this.canvas = canvas;
    this.label = label;
    this.width = 0;
    this.height = 0;
    new ResizeObserver(() => { this.width = canvas.clientWidth; this.height = canvas.clientHeight; this.draw(); }).observe(canvas);
    canvas.addEventListener("pointermove", (event) => { this.hover = event.offsetX; this.draw(); });
    canvas.addEventListener("pointerleave", () => { this.hover = null; this.draw(); });
    this.clear();
  }

  clear() {
    this.kept = new Float64Array(1024);
    this.count = 0;
    this.first = 0;                      // the step of the first value
    this.span = 1;
    this.low = new Float64Array(BUCKETS);
    this.high = new Float64Array(BUCKETS);
    this.opening = new Float64Array(BUCKETS);
    this.closing = new Float64Array(BUCKETS);
    this.min = Infinity;
    this.max = -Infinity;
    this.hover = null;
    this.draw();
  }

  push(value) {
    if (this.count < KEPT_STEPS) {
      if (this.count === this.kept.length) {
        const grown = new Float64Array(this.kept.length * 2);
        grown.set(this.kept);
        this.kept = grown;
      }
      this.kept[this.count] = value;
    }
    let bucket = Math.floor(this.count / this.span);
    if (bucket >= BUCKETS) {
      for (let j = 0; j < BUCKETS / 2; j++) {
        const a = 2 * j;
        this.low[j] = Math.min(this.low[a], this.low[a + 1]);
        this.high[j] = Math.max(this.high[a], this.high[a + 1]);
        this.opening[j] = this.opening[a];
        this.closing[j] = this.closing[a + 1];
      }
      this.span *= 2;
      bucket = Math.floor(this.count / this.span);
    }
    if (this.count % this.span === 0) {
      this.low[bucket] = value;
      this.high[bucket] = value;
      this.opening[bucket] = value;
    } else {
      this.low[bucket] = Math.min(this.low[bucket], value);
      this.high[bucket] = Math.max(this.high[bucket], value);
    }
    this.closing[bucket] = value;
    this.min = Math.min(this.min, value);
    this.max = Math.max(this.max, value);
    this.count += 1;
  }

  values() {
    return Array.from(this.kept.subarray(0, Math.min(this.count, KEPT_STEPS)));
  }

  describe() {
    if (this.count === 0) return `the ${this.label} per step: no steps yet`;
    return `the ${this.label} per step: ${this.count - 1 + this.first} steps, last ${formatNumber(this.closing[Math.floor((this.count - 1) / this.span)], MODEL.precision)}, lowest ${formatNumber(this.min, MODEL.precision)}, highest ${formatNumber(this.max, MODEL.precision)}`;
  }

  draw() {
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const width = this.width;
    const height = this.height;
    if (!width || !height) return;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const c = canvas.getContext("2d");
    c.setTransform(ratio, 0, 0, ratio, 0, 0);
    c.clearRect(0, 0, width, height);
    c.font = "10px sans-serif";
    c.fillStyle = "#444";
    const left = 52;
    const right = width - 8;
    const top = 14;
    const bottom = height - 16;
    c.strokeStyle = "#888";
    c.lineWidth = 1;
    c.beginPath();
    c.moveTo(left, top);
    c.lineTo(left, bottom);
    c.lineTo(right, bottom);
    c.stroke();
    c.textAlign = "left";
    c.fillText(`${this.label} per step`, left, 10);
    const last = this.count - 1 + this.first;
    c.textAlign = "center";
    c.fillText(String(this.first), left, height - 4);
    if (this.count > 1) c.fillText(String(last), right - 10, height - 4);
    c.fillText("step", (left + right) / 2, height - 4);
    if (this.count === 0) return;
    let low = this.min;
    let high = this.max;
    if (!(high > low)) { low -= 1; high += 1; }
    const y = (v) => bottom - (bottom - top) * (v - low) / (high - low);
    const x = (step) => left + (right - left) * (this.count > 1 ? step / (this.count - 1) : 0);
    c.textAlign = "right";
    c.fillText(formatGeneral(high, 3), left - 4, top + 4);
    c.fillText(formatGeneral(low, 3), left - 4, bottom);
    c.strokeStyle = "#1f6feb";
    c.lineWidth = 1.5;
    c.beginPath();
    const buckets = Math.ceil(this.count / this.span);
    for (let j = 0; j < buckets; j++) {
      const from = j * this.span;
      const to = Math.min(this.count, from + this.span) - 1;
      if (j === 0) c.moveTo(x(from), y(this.opening[j])); else c.lineTo(x(from), y(this.opening[j]));
      if (to > from) {
        c.lineTo(x((from + to) / 2), y(this.low[j]));
        c.lineTo(x((from + to) / 2), y(this.high[j]));
        c.lineTo(x(to), y(this.closing[j]));
      }
    }
    if (this.count === 1) c.arc(x(0), y(this.opening[0]), 2, 0, 2 * Math.PI);
    c.stroke();
    if (this.hover !== null && this.hover >= left && this.hover <= right) {
      const k = Math.round((this.hover - left) / (right - left) * (this.count - 1));
      const value = k < KEPT_STEPS ? this.kept[k] : this.closing[Math.floor(k / this.span)];
      c.strokeStyle = "#999";
      c.beginPath();
      c.moveTo(x(k), top);
      c.lineTo(x(k), bottom);
      c.stroke();
      c.textAlign = "right";
      c.fillStyle = "#222";
      c.fillText(`step ${k + this.first}: ${formatNumber(value, MODEL.precision)}`, right, 10);
    }
  }
}

// ---- the heatmap: a net's output over the plane of its two inputs, with the rows as points
// (TensorFlow Playground's picture), each cell the forward pass at the cell's centre.

const HEAT_CELLS = 40;

class Heatmap {
  constructor(canvas, caption, model) {
    this.canvas = canvas;
    this.caption = caption;
    this.spec = model.heatmap;
    this.model = model;
    this.cells = null;
    this.width = 0;
    new ResizeObserver(() => { this.width = canvas.clientWidth; this.draw(); }).observe(canvas);
  }

  ranges(values) {
    const range = (name) => {
      let low;
      let high;
      const column = this.model.data ? this.model.data.columns[name] : null;
      if (column) {
        low = Math.min(...column);
        high = Math.max(...column);
      } else {
        const span = 2 * Math.max(1, Math.abs(values[name]));
        low = values[name] - span;
        high = values[name] + span;
      }
      const margin = high > low ? (high - low) * 0.15 : 1;
      const limit = Number.MAX_VALUE / 4;              // the plane's width a finite number
      return [Math.max(low - margin, -limit), Math.min(high + margin, limit)];
    };
    return [range(this.spec.x), range(this.spec.y)];
  }

  compute(values) {
    const [[x0, x1], [y0, y1]] = this.ranges(values);
    const xs = [];
    const ys = [];
    for (let i = 0; i < HEAT_CELLS; i++) xs.push(x0 + (x1 - x0) * (i + 0.5) / HEAT_CELLS);
    for (let j = 0; j < HEAT_CELLS; j++) ys.push(y1 - (y1 - y0) * (j + 0.5) / HEAT_CELLS);
    const point = { ...values };
    const cells = ys.map((y) => xs.map((x) => {
      point[this.spec.x] = x;
      point[this.spec.y] = y;
      try {
        return forwardPass(point)[this.spec.node];
      } catch (failure) {
        if (failure instanceof DomainFailure) return null;
        throw failure;
      }
    }));
    this.cells = { xs, ys, values: cells, box: [x0, x1, y0, y1], at: { ...values } };
    this.draw();
  }

  draw() {
    const canvas = this.canvas;
    if (!this.cells || !this.width) return;
    const ratio = window.devicePixelRatio || 1;
    const size = Math.round(this.width * ratio);
    if (canvas.width !== size) { canvas.width = size; canvas.height = size; }
    const c = canvas.getContext("2d");
    const cell = size / HEAT_CELLS;
    let scale = 1;
    for (const row of this.cells.values) for (const v of row) if (v !== null) scale = Math.max(scale, Math.abs(v));
    this.cells.values.forEach((row, j) => row.forEach((v, i) => {
      c.fillStyle = v === null ? "#bbbbbb" : heatColour(v / scale);
      c.fillRect(Math.floor(i * cell), Math.floor(j * cell), Math.ceil(cell) + 1, Math.ceil(cell) + 1);
    }));
    const [x0, x1, y0, y1] = this.cells.box;
    const data = this.model.data;
    const points = [];
    if (data) {
      const xs = data.columns[this.spec.x];
      const ys = data.columns[this.spec.y];
      const targets = this.spec.target ? data.columns[this.spec.target] : null;
      xs.forEach((x, k) => points.push([x, ys[k], targets ? targets[k] : null]));
    } else {
      const at = this.cells.at;
      points.push([at[this.spec.x], at[this.spec.y], this.spec.target ? at[this.spec.target] : null]);
    }
    for (const [x, y, target] of points) {
      const px = (x - x0) / (x1 - x0) * size;
      const py = (y1 - y) / (y1 - y0) * size;
      c.beginPath();
      c.arc(px, py, 4 * ratio, 0, 2 * Math.PI);
      c.fillStyle = target === null ? "#ffffff" : heatColour(Math.sign(target));
      c.fill();
      c.lineWidth = 1.5 * ratio;
      c.strokeStyle = "#222";
      c.stroke();
    }
    const label = this.spec.label;
    const caption = `${label} over ${this.spec.x} → and ${this.spec.y} ↑: blue ${formatGeneral(scale, 3)}, orange ${formatGeneral(-scale, 3)}`;
    if (this.caption.textContent !== caption) this.caption.textContent = caption;
    canvas.setAttribute("aria-label", `heatmap of ${label} over ${this.spec.x} from ${formatGeneral(x0, 3)} to ` +
      `${formatGeneral(x1, 3)} and ${this.spec.y} from ${formatGeneral(y0, 3)} to ${formatGeneral(y1, 3)}, blue for ` +
      `${formatGeneral(scale, 3)}, orange for ${formatGeneral(-scale, 3)}; the rows as dots`);
  }
}

// TensorFlow Playground's colours: orange for -1, white for 0, blue for 1.
function heatColour(t) {
  const s = Math.max(-1, Math.min(1, t));
  const [r, g, b] = s < 0 ? [245, 147, 34] : [8, 119, 189];
  const a = Math.abs(s);
  return `rgb(${Math.round(255 + (r - 255) * a)},${Math.round(255 + (g - 255) * a)},${Math.round(255 + (b - 255) * a)})`;
}
