// The graph on the page, drawn from the layout computed when the page was written (MODEL.layouts:
// each value's box and op's ellipse, and from Graphviz each edge's path). A small graph is drawn
// whole in SVG. A large one is drawn in SVG only where it is in view (a node's box is made when it
// first comes into view, and taken off the page when it leaves), and, zoomed out past reading, as
// an overview on a canvas: painting a frame touches what is in view, never the whole graph, and
// nothing is ever measured by the browser (the boxes' sizes are known). Zoom and pan keep a view
// {x, y, scale} (the graph's point at the viewport's top left, and pixels per unit); a resize keeps
// the view's centre and scale. The graph is one widget for the keyboard: one value at a time can
// be reached with Tab, the arrow keys move to its neighbours, and the focused value is brought
// into view.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const ALL_IN_DOM = 60;         // up to this many nodes, every box is on the page all the time (each text costs a frame time)
const FAR_SCALE = 0.35;        // below this scale a large graph is drawn on the canvas, without text
const HOME_SCALE = 0.5;        // a graph that fits at this scale opens whole; a larger one, readable
const READ_SCALE = 1;          // ... at this scale, on its output end
const MAX_SCALE = 4;
const TOOLBAR = 36;            // px at the top of the view, under the zoom buttons
const LONG_EDGE = 420;         // px along the ranks: a longer edge is drawn light (it crosses other ranks)

function svgElement(name, attributes) {
  const element = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes || {})) element.setAttribute(key, String(value));
  return element;
}

class GraphView {
  // options: viewport (the element sized by the page), svg, scene, edgeLayer, nodeLayer, far and
  // overview (canvases), and callbacks: attached(id) when a value's box comes onto the page (paint
  // it), select(id) (a click, Enter), moved() after the view changes.
  constructor(model, options) {
    Object.assign(this, options);
    this.model = model;
    this.n = model.nodes.length;
    this.large = this.n > ALL_IN_DOM;
    this.metrics = model.layouts[0].metrics;
    this.consumers = model.nodes.map(() => []);
    model.nodes.forEach(([, inputs], i) => inputs.forEach((x) => this.consumers[x].push(i)));
    this.elements = new Map();            // item (node id, or "e" + edge key) -> its element, made once
    this.shown = new Set();               // the items on the page now
    this.stale = new Set();               // values on the page whose numbers are not painted yet
    this.onPath = new Set();              // node ids on the selected value's paths to the output
    this.current = null;                  // the replayed edge's key
    this.currentNodes = new Set();
    this.failed = null;
    this.focusId = model.output;
    this.view = null;
    this.size = { width: 0, height: 0 };
    this.pending = false;
    this.animation = null;
    this.overviewImage = null;
    this.setLayout(model.layouts[0]);
    this.listen();
  }

  // The picture: the layout asked for (rankdir), or the other direction when only that one reads
  // whole on this screen (a phone held upright and a graph drawn left to right), chosen once, when
  // the page first has a size.
  setLayout(layout) {
    const model = this.model;
    this.layout = layout;
    this.lr = layout.rankdir !== "TB";
    // Graph items: value i is i, op i is n + i; boxes [x, y, width, height] (centres).
    this.boxes = [...layout.values, ...layout.ops];
    this.edges = [];
    let e = 0;
    model.nodes.forEach(([op, inputs], i) => {
      if (op === null) return;
      inputs.forEach((x, k) => {
        this.edges.push({ key: `${i}_${k}`, from: x, to: this.n + i, node: x, parent: i, path: layout.edges ? layout.edges[e] : null });
        e += 1;
      });
      this.edges.push({ key: `${i}_o`, from: this.n + i, to: i, node: i, parent: i, path: layout.edges ? layout.edges[e] : null });
      e += 1;
    });
    this.edgeByKey = new Map(this.edges.map((edge) => [edge.key, edge]));
    for (const edge of this.edges) edge.box = this.edgeBox(edge);
    for (const item of this.shown) this.elements.get(item).remove();
    this.shown.clear();
    this.stale.clear();
    this.elements.clear();
    this.overviewImage = null;
    this.columns();
  }

  chooseLayout() {
    const [asked, other] = this.model.layouts;
    if (!other) return;
    const scale = (layout) => Math.min(this.size.width / layout.width, (this.size.height - TOOLBAR) / layout.height);
    const upright = this.size.height > this.size.width;
    const a = scale(asked);
    const o = scale(other);
    let chosen = asked;
    if (a < 0.9 * READ_SCALE) {                         // not readable whole as asked: the one that reads better
      if (Math.max(a, o) >= HOME_SCALE) chosen = o > a ? other : asked;
      else chosen = (upright ? other.rankdir === "TB" : other.rankdir === "LR") ? other : asked;
    }
    if (chosen !== this.layout) this.setLayout(chosen);
  }

  // ---- geometry

  edgeEnds(edge) {
    const a = this.boxes[edge.from];
    const b = this.boxes[edge.to];
    if (this.lr) return [a[0] + a[2] / 2, a[1], b[0] - b[2] / 2, b[1]];
    return [a[0], a[1] + a[3] / 2, b[0], b[1] - b[3] / 2];
  }

  edgeBox(edge) {
    let xs;
    let ys;
    if (edge.path) {
      xs = edge.path.filter((_, k) => k % 2 === 0);
      ys = edge.path.filter((_, k) => k % 2 === 1);
    } else {
      const [x1, y1, x2, y2] = this.edgeEnds(edge);
      xs = [x1, x2];
      ys = [y1, y2];
    }
    return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
  }

  edgeLong(edge) {
    const [x1, y1, x2, y2] = this.edgeEnds(edge);
    return (this.lr ? x2 - x1 : y2 - y1) > LONG_EDGE;
  }

  pathData(edge) {
    const p = edge.path;
    if (p) {
      let d = `M${p[0]},${p[1]}`;
      const segments = Math.floor((p.length / 2 - 1) / 3);
      for (let k = 0; k < segments; k++) {
        const o = 2 + 6 * k;
        d += ` C${p[o]},${p[o + 1]} ${p[o + 2]},${p[o + 3]} ${p[o + 4]},${p[o + 5]}`;
      }
      const rest = 2 + 6 * segments;
      if (rest < p.length) d += ` L${p[p.length - 2]},${p[p.length - 1]}`;
      return d;
    }
    const [x1, y1, x2, y2] = this.edgeEnds(edge);
    const c = Math.min(80, Math.max(12, ((this.lr ? x2 - x1 : y2 - y1)) / 2));
    return this.lr ? `M${x1},${y1} C${x1 + c},${y1} ${x2 - c},${y2} ${x2},${y2}`
      : `M${x1},${y1} C${x1},${y1 + c} ${x2},${y2 - c} ${x2},${y2}`;
  }

  // Values by rank (the layout puts a rank's boxes on one line), each rank in order across.
  columns() {
    const byRank = new Map();
    for (let id = 0; id < this.n; id++) {
      const box = this.boxes[id];
      const key = Math.round(this.lr ? box[0] : box[1]);
      if (!byRank.has(key)) byRank.set(key, []);
      byRank.get(key).push(id);
    }
    this.ranks = [...byRank.keys()].sort((a, b) => a - b).map((key) => byRank.get(key).sort(
      (a, b) => (this.lr ? this.boxes[a][1] - this.boxes[b][1] : this.boxes[a][0] - this.boxes[b][0])));
    this.rankOf = new Array(this.n);
    this.ranks.forEach((members, r) => members.forEach((id, k) => { this.rankOf[id] = [r, k]; }));
  }

  // ---- the view

  // (The zoom buttons take the top TOOLBAR pixels: a fitted graph stays below them.)
  fitScale() {
    return Math.min(this.size.width / this.layout.width, (this.size.height - TOOLBAR) / this.layout.height);
  }

  minScale() {
    return Math.min(this.fitScale() / 2, 0.5);
  }

  fitted() {
    const scale = Math.min(this.fitScale() * 0.96, 1.5);
    return { x: (this.layout.width - this.size.width / scale) / 2,
      y: (this.layout.height - (this.size.height - TOOLBAR) / scale) / 2 - TOOLBAR / scale, scale };
  }

  // At first: the whole graph if it reads at HOME_SCALE; else its output end (or a chosen value),
  // readable, with the overview of the whole.
  homeView(id) {
    if (id === undefined && this.fitScale() >= HOME_SCALE) return this.fitted();
    const box = this.boxes[id === undefined ? this.model.output : id];
    const scale = READ_SCALE;
    const width = this.size.width / scale;
    const height = this.size.height / scale;
    if (id !== undefined) return { x: box[0] - width / 2, y: box[1] - height / 2, scale };
    if (this.lr) return { x: box[0] + box[2] / 2 + 24 - width, y: box[1] - height / 2, scale };
    return { x: box[0] - width / 2, y: box[1] + box[3] / 2 + 24 - height, scale };
  }

  setView(view, animate) {
    const scale = Math.min(Math.max(view.scale, this.minScale()), MAX_SCALE);
    const next = { x: view.x + (this.size.width / view.scale - this.size.width / scale) / 2,
      y: view.y + (this.size.height / view.scale - this.size.height / scale) / 2, scale };
    if (this.animation !== null) { cancelAnimationFrame(this.animation); this.animation = null; }
    if (animate && this.view && !reducedMotion()) {
      const from = this.view;
      const started = performance.now();
      const frame = () => {
        const t = Math.min(1, (performance.now() - started) / 220);
        const ease = t * (2 - t);
        this.view = { x: from.x + (next.x - from.x) * ease, y: from.y + (next.y - from.y) * ease,
          scale: from.scale + (next.scale - from.scale) * ease };
        this.draw();
        this.animation = t < 1 ? requestAnimationFrame(frame) : null;
      };
      this.animation = requestAnimationFrame(frame);
      return;
    }
    this.view = next;
    this.schedule();
  }

  home() {
    if (this.size.width && this.size.height) this.setView(this.homeView());
  }

  fit() {
    this.setView(this.fitted());
  }

  zoom(factor, clientX, clientY) {
    if (!this.view) return;
    const rect = this.viewport.getBoundingClientRect();
    const px = clientX === undefined ? this.size.width / 2 : clientX - rect.left;
    const py = clientY === undefined ? this.size.height / 2 : clientY - rect.top;
    const scale = Math.min(Math.max(this.view.scale * factor, this.minScale()), MAX_SCALE);
    const gx = this.view.x + px / this.view.scale;
    const gy = this.view.y + py / this.view.scale;
    this.view = { x: gx - px / scale, y: gy - py / scale, scale };
    this.schedule();
  }

  panBy(dx, dy) {                                   // in screen pixels
    if (!this.view) return;
    this.view = { ...this.view, x: this.view.x + dx / this.view.scale, y: this.view.y + dy / this.view.scale };
    this.schedule();
  }

  // Bring a box into view (centred, readable) unless it is in view already.
  reveal(items, animate = true) {
    if (!this.view || !this.size.width) return;
    let [x1, y1, x2, y2] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const g of items) {
      const b = this.boxes[g];
      if (!b) continue;
      x1 = Math.min(x1, b[0] - b[2] / 2); y1 = Math.min(y1, b[1] - b[3] / 2);
      x2 = Math.max(x2, b[0] + b[2] / 2); y2 = Math.max(y2, b[1] + b[3] / 2);
    }
    if (x1 === Infinity) return;
    const v = this.view;
    const margin = 16 / v.scale;
    const width = this.size.width / v.scale;
    const height = this.size.height / v.scale;
    const readable = v.scale >= HOME_SCALE;
    if (readable && x1 >= v.x + margin && x2 <= v.x + width - margin && y1 >= v.y + margin && y2 <= v.y + height - margin) return;
    const scale = readable ? v.scale : READ_SCALE;
    this.setView({ x: (x1 + x2) / 2 - this.size.width / scale / 2, y: (y1 + y2) / 2 - this.size.height / scale / 2, scale }, animate);
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.draw(); });
  }

  // ---- drawing

  region() {
    const v = this.view;
    const width = this.size.width / v.scale;
    const height = this.size.height / v.scale;
    return [v.x - width * 0.25, v.y - height * 0.25, v.x + width * 1.25, v.y + height * 1.25];
  }

  draw() {
    if (!this.view || !this.size.width || !this.size.height) return;
    const v = this.view;
    this.scene.setAttribute("transform", `matrix(${v.scale} 0 0 ${v.scale} ${-v.x * v.scale} ${-v.y * v.scale})`);
    const far = this.large && v.scale < FAR_SCALE;
    const wanted = new Set();
    if (!this.large) {
      for (let g = 0; g < this.boxes.length; g++) if (this.boxes[g]) wanted.add(g);
      for (const edge of this.edges) wanted.add("e" + edge.key);
    } else {
      if (!far) {
        const [rx1, ry1, rx2, ry2] = this.region();
        for (let g = 0; g < this.boxes.length; g++) {
          const b = this.boxes[g];
          if (b && b[0] + b[2] / 2 >= rx1 && b[0] - b[2] / 2 <= rx2 && b[1] + b[3] / 2 >= ry1 && b[1] - b[3] / 2 <= ry2) wanted.add(g);
        }
        for (const edge of this.edges) {
          const [x1, y1, x2, y2] = edge.box;
          if (x2 >= rx1 && x1 <= rx2 && y2 >= ry1 && y1 <= ry2) wanted.add("e" + edge.key);
        }
      }
      wanted.add(this.focusId);
    }
    for (const item of this.shown) {
      if (!wanted.has(item)) { this.elements.get(item).remove(); this.shown.delete(item); }
    }
    for (const item of wanted) {
      if (this.shown.has(item)) continue;
      const element = this.element(item);
      (typeof item === "number" ? this.nodeLayer : this.edgeLayer).appendChild(element);
      this.shown.add(item);
      if (typeof item === "number" && item < this.n) this.stale.add(item);
    }
    for (const id of this.stale) {
      if (this.visible(id)) { this.stale.delete(id); this.attached(id); }
    }
    this.drawFar(far);
    this.drawOverview();
    window.autodiffView = { ...v, far, shown: this.shown.size };
    if (this.moved) this.moved();
  }

  element(item) {
    if (this.elements.has(item)) return this.elements.get(item);
    let element;
    if (typeof item === "string") {
      const edge = this.edgeByKey.get(item.slice(1));
      element = svgElement("path", { d: this.pathData(edge), class: this.edgeLong(edge) ? "edge long" : "edge",
        "marker-end": "url(#arrow)", "data-edge": edge.key });
    } else if (item < this.n) {
      element = this.valueElement(item);
    } else {
      const id = item - this.n;
      const [x, y, w, h] = this.boxes[item];
      element = svgElement("g", { class: "op", "data-group": `op${id}`, "aria-hidden": "true" });
      element.appendChild(svgElement("ellipse", { cx: x, cy: y, rx: w / 2, ry: h / 2 }));
      const text = svgElement("text", { x, y: y + 4, "text-anchor": "middle" });
      text.textContent = this.model.opSymbols[id];
      element.appendChild(text);
    }
    this.elements.set(item, element);
    this.decorate(item, element);
    return element;
  }

  valueElement(id) {
    const [x, y, w, h] = this.boxes[id];
    const m = this.metrics;
    const role = this.model.roles[id];
    const element = svgElement("g", { class: `node ${role}`, "data-group": `v${id}`, role: "button",
      tabindex: id === this.focusId ? 0 : -1 });
    const left = x - w / 2;
    const top = y - h / 2;
    element.appendChild(svgElement("rect", { x: left, y: top, width: w, height: h, rx: 3, class: "box" }));
    if (role === "output") element.appendChild(svgElement("rect", { x: left + 3, y: top + 3, width: w - 6, height: h - 6, rx: 2, class: "inner" }));
    const label = svgElement("text", { x, y: top + m.pad[1] + 11, "text-anchor": "middle", class: "label" });
    label.textContent = this.model.boxLabels[id];
    element.appendChild(label);
    for (const [k, field] of [[1, "data"], [2, "grad"]]) {
      const line = svgElement("text", { x: left + m.pad[0], y: top + m.pad[1] + 11 + k * m.line, class: "num" });
      line.appendChild(document.createTextNode(`${field} `));
      const number = svgElement("tspan", { "data-node": id, "data-field": field });
      line.appendChild(number);
      element.appendChild(line);
    }
    const title = svgElement("title");
    title.textContent = this.model.labels[id] || this.model.symbols[id];
    element.appendChild(title);
    return element;
  }

  // The number in a value's box; squeezed to its cell when longer than the cell was made for.
  setNumber(element, text) {
    if (element.textContent === text) return;
    element.textContent = text;
    const line = element.parentNode;
    const box = this.boxes[Number(element.dataset.node)];
    const room = box[2] - 2 * this.metrics.pad[0];
    const wanted = (text.length + 5) * this.metrics.char;
    if (wanted > room) {
      line.setAttribute("textLength", String(room));
      line.setAttribute("lengthAdjust", "spacingAndGlyphs");
    } else if (line.hasAttribute("textLength")) {
      line.removeAttribute("textLength");
      line.removeAttribute("lengthAdjust");
    }
  }

  // Classes from the highlights: on a path, the current edge, the failed node.
  decorate(item, element) {
    if (typeof item === "string") {
      const edge = this.edgeByKey.get(item.slice(1));
      const a = edge.node;
      const b = edge.parent;
      element.classList.toggle("onpath", this.onPath.has(a) && this.onPath.has(b));
      const lit = this.current === edge.key;
      element.classList.toggle("current", lit);
      element.setAttribute("marker-end", lit ? "url(#arrow-lit)" : "url(#arrow)");
      return;
    }
    const id = item < this.n ? item : item - this.n;
    element.classList.toggle("onpath", this.onPath.has(id));
    element.classList.toggle("current", this.currentNodes.has(item));
    if (item < this.n) element.classList.toggle("failed", this.failed === id);
  }

  redecorate() {
    for (const item of this.shown) this.decorate(item, this.elements.get(item));
    this.drawFar(this.large && this.view && this.view.scale < FAR_SCALE);
  }

  setPath(ids) {
    this.onPath = ids;
    this.redecorate();
  }

  setCurrent(key) {
    this.current = key;
    this.currentNodes = new Set();
    if (key !== null) {
      const edge = this.edgeByKey.get(key);
      this.currentNodes.add(edge.from);
      this.currentNodes.add(edge.to);
    }
    this.redecorate();
  }

  setFailed(id) {
    if (this.failed === id) return;
    this.failed = id;
    this.redecorate();
  }

  // Whether a value's box is in view (or nearly): only those are painted when the numbers change;
  // the others are painted when they come into view.
  visible(id) {
    if (id === this.focusId) return true;               // its name, which carries its numbers, stays current
    if (!this.view) return false;
    const v = this.view;
    const width = this.size.width / v.scale;
    const height = this.size.height / v.scale;
    const b = this.boxes[id];
    return b[0] + b[2] / 2 >= v.x - width * 0.05 && b[0] - b[2] / 2 <= v.x + width * 1.05 &&
      b[1] + b[3] / 2 >= v.y - height * 0.05 && b[1] - b[3] / 2 <= v.y + height * 1.05;
  }

  // The numbers changed: paint the values in view now, the others when they come into view.
  refresh(paint) {
    for (const item of this.shown) {
      if (typeof item !== "number" || item >= this.n) continue;
      if (this.visible(item)) { this.stale.delete(item); paint(item); } else this.stale.add(item);
    }
  }

  drawFar(far) {
    const canvas = this.far;
    if (!far) {
      if (!canvas.hidden) canvas.hidden = true;
      this.svg.classList.remove("far");
      return;
    }
    this.svg.classList.add("far");
    canvas.hidden = false;
    const ratio = window.devicePixelRatio || 1;
    const width = Math.round(this.size.width * ratio);
    const height = Math.round(this.size.height * ratio);
    if (canvas.width !== width || canvas.height !== height) { canvas.width = width; canvas.height = height; }
    const context = canvas.getContext("2d");
    const v = this.view;
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.clearRect(0, 0, width, height);
    context.setTransform(v.scale * ratio, 0, 0, v.scale * ratio, -v.x * v.scale * ratio, -v.y * v.scale * ratio);
    this.paintAll(context, 1 / (v.scale * ratio));
  }

  // The whole graph on a canvas (the far view and the overview): edges as lines, boxes filled.
  paintAll(context, pixel) {
    context.lineWidth = pixel;
    context.strokeStyle = "#9aa0a6";
    context.beginPath();
    for (const edge of this.edges) {
      const [x1, y1, x2, y2] = this.edgeEnds(edge);
      context.moveTo(x1, y1);
      context.lineTo(x2, y2);
    }
    context.stroke();
    const fills = { input: "#cfe8ff", output: "#d5f5d5", const: "#ffffff", value: "#ffffff" };
    for (let g = 0; g < this.boxes.length; g++) {
      const b = this.boxes[g];
      if (!b) continue;
      const id = g < this.n ? g : g - this.n;
      context.fillStyle = g < this.n ? fills[this.model.roles[g]] : "#eeeeee";
      context.strokeStyle = this.onPath.has(id) ? "#a14700" : this.currentNodes.has(g) ? "#c2185b" : "#555555";
      context.lineWidth = (this.onPath.has(id) || this.currentNodes.has(g) ? 3 : 1) * pixel;
      context.fillRect(b[0] - b[2] / 2, b[1] - b[3] / 2, b[2], b[3]);
      context.strokeRect(b[0] - b[2] / 2, b[1] - b[3] / 2, b[2], b[3]);
    }
  }

  // The overview: the whole graph small, and the view's rectangle; shown when the graph does not
  // read whole.
  drawOverview() {
    const canvas = this.overview;
    const show = this.fitScale() < HOME_SCALE;
    if (canvas.hidden === show) canvas.hidden = !show;
    if (!show) return;
    const ratio = window.devicePixelRatio || 1;
    const phone = this.size.width < 500;
    const scale = Math.min((phone ? 110 : 160) / this.layout.width, (phone ? 70 : 100) / this.layout.height);
    const cssWidth = Math.max(24, Math.round(this.layout.width * scale));
    const cssHeight = Math.max(12, Math.round(this.layout.height * scale));
    if (canvas.style.width !== `${cssWidth}px`) { canvas.style.width = `${cssWidth}px`; canvas.style.height = `${cssHeight}px`; }
    this.overviewScale = scale;
    const width = Math.round(cssWidth * ratio);
    const height = Math.round(cssHeight * ratio);
    if (!this.overviewImage || this.overviewImage.width !== width || this.overviewImage.height !== height) {
      canvas.width = width;
      canvas.height = height;
      const image = document.createElement("canvas");
      image.width = width;
      image.height = height;
      const context = image.getContext("2d");
      context.setTransform(scale * ratio, 0, 0, scale * ratio, 0, 0);
      this.paintAll(context, 1 / (scale * ratio));
      this.overviewImage = image;
    }
    const context = canvas.getContext("2d");
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.clearRect(0, 0, width, height);
    context.drawImage(this.overviewImage, 0, 0);
    const v = this.view;
    context.strokeStyle = "#1f6feb";
    context.lineWidth = 2 * ratio;
    context.strokeRect(v.x * scale * ratio, v.y * scale * ratio, this.size.width / v.scale * scale * ratio,
      this.size.height / v.scale * scale * ratio);
  }

  // ---- the keyboard: one value is the graph's tab stop; arrows move it along edges and ranks

  focusNode(id, reveal = true) {
    const before = this.elements.get(this.focusId);
    if (before) before.setAttribute("tabindex", "-1");
    this.focusId = id;
    if (!this.shown.has(id)) {
      this.nodeLayer.appendChild(this.element(id));
      this.shown.add(id);
    }
    this.stale.delete(id);
    this.attached(id);
    const element = this.elements.get(id);
    element.setAttribute("tabindex", "0");
    element.focus({ preventScroll: true });
    if (reveal) this.reveal([id]);
  }

  nearest(candidates, id) {
    const at = this.boxes[id][this.lr ? 1 : 0];
    let best = null;
    for (const c of candidates) {
      if (best === null || Math.abs(this.boxes[c][this.lr ? 1 : 0] - at) < Math.abs(this.boxes[best][this.lr ? 1 : 0] - at)) best = c;
    }
    return best;
  }

  neighbour(id, key) {
    const [r, k] = this.rankOf[id];
    const back = this.lr ? "ArrowLeft" : "ArrowUp";
    const forth = this.lr ? "ArrowRight" : "ArrowDown";
    const up = this.lr ? "ArrowUp" : "ArrowLeft";
    const down = this.lr ? "ArrowDown" : "ArrowRight";
    if (key === up) return k > 0 ? this.ranks[r][k - 1] : null;
    if (key === down) return k + 1 < this.ranks[r].length ? this.ranks[r][k + 1] : null;
    if (key === back) {
      const operands = this.model.nodes[id][1];
      if (operands.length) return this.nearest(operands, id);
      return r > 0 ? this.nearest(this.ranks[r - 1], id) : null;
    }
    if (key === forth) {
      if (this.consumers[id].length) return this.nearest(this.consumers[id], id);
      return r + 1 < this.ranks.length ? this.nearest(this.ranks[r + 1], id) : null;
    }
    return null;
  }

  listen() {
    const viewport = this.viewport;
    new ResizeObserver(() => {
      const width = viewport.clientWidth;
      const height = viewport.clientHeight;
      const before = this.size;
      this.size = { width, height };
      if (!width || !height) return;
      // The picture sized in pixels, not as 100% of its box: Chromium lays out every text of an SVG
      // sized in percent again whenever anything around it is laid out (a slider's thumb moving).
      this.svg.style.width = `${width}px`;
      this.svg.style.height = `${height}px`;
      if (!this.view) this.chooseLayout();
      if (!this.view || !before.width || !before.height) { this.home(); return; }
      this.view = { ...this.view, x: this.view.x + (before.width - width) / 2 / this.view.scale,
        y: this.view.y + (before.height - height) / 2 / this.view.scale };
      this.overviewImage = null;
      this.draw();
    }).observe(viewport);

    viewport.addEventListener("wheel", (event) => {         // the view at once, the drawing once a frame
      event.preventDefault();
      this.zoom(Math.exp(-event.deltaY * (event.deltaMode === 1 ? 16 : 1) * 0.0015), event.clientX, event.clientY);
    }, { passive: false });

    // Drag to pan (from anywhere, a node too: a drag is not a click), pinch to zoom.
    const pointers = new Map();
    let pinch = null;
    let dragged = false;
    viewport.addEventListener("pointerdown", (event) => {
      if (event.target.closest && event.target.closest("#overview")) return;
      pointers.set(event.pointerId, { x: event.clientX, y: event.clientY, startX: event.clientX, startY: event.clientY });
      if (pointers.size === 1) dragged = false;
    });
    viewport.addEventListener("pointermove", (event) => {
      const pointer = pointers.get(event.pointerId);
      if (!pointer) return;
      if (!dragged && Math.hypot(event.clientX - pointer.startX, event.clientY - pointer.startY) < 4 && pointers.size === 1) return;
      if (!dragged) {
        dragged = true;
        viewport.classList.add("dragging");
        try { viewport.setPointerCapture(event.pointerId); } catch (error) { /* a pointer already gone */ }
      }
      const previous = { x: pointer.x, y: pointer.y };
      pointer.x = event.clientX;
      pointer.y = event.clientY;
      if (pointers.size === 2) {
        const [a, b] = [...pointers.values()];
        const distance = Math.hypot(a.x - b.x, a.y - b.y);
        if (pinch !== null && distance > 0) this.zoom(distance / pinch, (a.x + b.x) / 2, (a.y + b.y) / 2);
        pinch = distance;
      } else {
        this.panBy(previous.x - event.clientX, previous.y - event.clientY);
      }
    });
    for (const type of ["pointerup", "pointercancel"]) {
      viewport.addEventListener(type, (event) => {
        pointers.delete(event.pointerId);
        pinch = null;
        if (pointers.size === 0) viewport.classList.remove("dragging");
      });
    }
    viewport.addEventListener("click", (event) => {         // the overview drawn far out: a click goes there, readable
      if (dragged || !this.view || !(this.large && this.view.scale < FAR_SCALE)) return;
      if (event.target.closest("[data-group], #overview")) return;
      const rect = viewport.getBoundingClientRect();
      const gx = this.view.x + (event.clientX - rect.left) / this.view.scale;
      const gy = this.view.y + (event.clientY - rect.top) / this.view.scale;
      this.setView({ x: gx - this.size.width / READ_SCALE / 2, y: gy - this.size.height / READ_SCALE / 2, scale: READ_SCALE }, true);
    });
    this.nodeLayer.addEventListener("click", (event) => {
      if (dragged) { dragged = false; return; }
      const group = event.target.closest("[data-group^='v']");
      if (!group) return;
      const id = Number(group.dataset.group.slice(1));
      this.focusNode(id, false);
      this.select(id);
    });
    viewport.addEventListener("focusin", (event) => {        // (an SVG element listening for focus is focusable)
      const group = event.target.closest("[data-group^='v']");
      if (!group) return;
      const id = Number(group.dataset.group.slice(1));
      if (id !== this.focusId) this.focusNode(id);
      else this.reveal([id]);
    });
    this.svg.addEventListener("keydown", (event) => {
      const arrows = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"];
      if (arrows.includes(event.key) && event.shiftKey) {
        const step = 0.15;
        const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
        const [dx, dy] = moves[event.key];
        this.panBy(dx * this.size.width, dy * this.size.height);
      } else if (arrows.includes(event.key)) {
        const next = this.neighbour(this.focusId, event.key);
        if (next !== null) this.focusNode(next);
      } else if (event.key === "+" || event.key === "=") this.zoom(1.25);
      else if (event.key === "-" || event.key === "_") this.zoom(0.8);
      else if (event.key === "0" || event.key === "f") this.fit();
      else if (event.key === "Home") this.focusNode(this.model.output);
      else if (event.key === "Enter" || event.key === " ") this.select(this.focusId);
      else return;
      event.preventDefault();
    });
    const overview = this.overview;
    const jump = (event) => {
      const rect = overview.getBoundingClientRect();
      const gx = (event.clientX - rect.left) / this.overviewScale;
      const gy = (event.clientY - rect.top) / this.overviewScale;
      const v = this.view;
      this.view = { ...v, x: gx - this.size.width / v.scale / 2, y: gy - this.size.height / v.scale / 2 };
      this.schedule();
    };
    overview.addEventListener("pointerdown", (event) => {
      event.stopPropagation();
      overview.setPointerCapture(event.pointerId);
      jump(event);
      const move = (e) => jump(e);
      overview.addEventListener("pointermove", move);
      overview.addEventListener("pointerup", () => overview.removeEventListener("pointermove", move), { once: true });
    });
  }
}

function reducedMotion() {
  return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
}
