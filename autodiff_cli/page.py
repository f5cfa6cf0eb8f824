"""The live page: the graph's picture in one self-contained HTML file, with a slider per input.

Graphviz lays the picture out when the file is written (the same SVG as
`graph -o out.svg`); the page then recomputes the forward and backward passes
in JavaScript whenever an input moves, and rewrites every node's data and
grad in place.  That JavaScript is generated: each op's forward rule is its
`javascript` form in the op table, and its local derivatives are the table's
`rule` texts rendered in JavaScript (`exporting.javascript_ops`), so there is
no second list of derivatives to keep in step.  Nothing is fetched: scripts
and styles are inline and the page works offline, from disk.

Hooks for scripts and tests: each input's slider has `data-input="NAME"` (its
number box `data-input-box="NAME"`), and each node's shown value and gradient
`data-node="ID"` with `data-field="data"` or `"grad"` (ID as in `eval --json`).
"""
from __future__ import annotations

import html
import json
import re
from typing import BinaryIO
from importlib.resources import files

from . import ops
from .drawing import digraph, render
from .explaining import Step, backward_steps
from .expressions import Target, render as render_expression
from .naming import output_symbol, symbols
from .reports import Report, Style, emit
from .program import Program
from .numbers import format_number
from .rules import local_derivative, node_refs

ENGINE_SCRIPTS = ("numbers.js", "mathlib.js", "engine.js")     # in autodiff_cli/web, in this order; then page.js

SLIDER_SPAN = 2.0       # a slider runs over value ± SLIDER_SPAN·max(1, |value|), widened in the page at will
GROUPED = 12            # with more inputs than this, inputs sharing a name prefix (w0_*) are grouped
EXPLAIN_PRECISION = 6   # significant digits of the chain-rule lines, as explain's default
_PREFIX = re.compile(r"^([^\W\d_]+\d*)_")


def live_page(program: Program, *, precision: int = 4, rankdir: str = "LR", backend: str = "auto",
              title: str | None = None) -> str:
    """The page for a program that has been run: the graph first (zoom and pan), the inputs in a
    side panel, backprop to watch edge by edge, and training with a loss curve."""
    svg = render(digraph(program, precision=precision, rankdir=rankdir).source, "svg", backend).decode("utf-8")
    model = page_model(program, precision)
    output = html.escape(model["outputName"])
    heading = html.escape(title or model["outputName"])
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>autodiff: {heading}</title>", f"<style>{web_script('page.css')}</style>", "</head>", "<body>",
        '<header id="top">',
        f'<h1><span class="name">{output}</span> = <output id="value" data-output aria-live="polite" '
        f'aria-label="{output}">{format_number(program.value, precision)}</output></h1>',
        _program_text(program),
        "</header>",
        '<div id="message" role="status" aria-live="assertive"></div>',
        '<main id="layout">',
        '<section id="graph-pane" aria-label="the graph">',
        '<div id="zoom" role="toolbar" aria-label="zoom">'
        '<button type="button" data-action="fit" aria-label="fit the graph to the screen">fit</button>'
        '<button type="button" data-action="zoom-in" aria-label="zoom in">+</button>'
        '<button type="button" data-action="zoom-out" aria-label="zoom out">−</button></div>',
        '<div id="viewport" tabindex="0" aria-label="the graph: drag or arrow keys to pan, wheel or + and - to '
        'zoom, 0 to fit; Tab to a value and Enter for its chain rule">',
        annotate(svg), "</div>", "</section>",
        '<aside id="side">',
        _inputs_panel(program),
        '<section id="explain" aria-label="chain rule" aria-live="polite"><h2>chain rule</h2>'
        '<p class="hint">Click a value (or Tab to it and press Enter) for its chain-rule lines.</p>'
        '<pre id="chain"></pre></section>',
        "</aside>", "</main>",
        '<footer id="controls">',
        '<section id="backward" aria-label="backprop, edge by edge"><h2>backward</h2><div class="buttons">'
        '<button type="button" data-action="backward-start" aria-label="back to the start">|◀</button>'
        '<button type="button" data-action="backward-prev" aria-label="previous edge">◀</button>'
        '<button type="button" data-action="backward-next" aria-label="next edge">▶</button>'
        '<button type="button" data-action="backward-end" aria-label="every edge">▶|</button>'
        '<button type="button" data-action="backward-play" aria-label="play">play</button>'
        '<label>speed <input id="speed" type="range" min="1" max="20" value="4" aria-label="edges per second">'
        "</label></div>"
        '<output id="step-line" aria-live="polite"></output></section>',
        '<section id="train" aria-label="training"><h2>train</h2><div class="buttons">'
        '<label>lr <input id="lr" type="text" inputmode="decimal" value="0.01" aria-label="learning rate" '
        'size="7"></label>'
        '<label><input id="minimize" type="checkbox"> minimise</label>'
        '<label>steps <input id="steps" type="text" inputmode="numeric" value="100" aria-label="steps to run" '
        'size="5"></label>'
        '<button type="button" data-action="step" id="step">step</button>'
        '<button type="button" data-action="run">run</button>'
        '<button type="button" data-action="stop">stop</button>'
        '<button type="button" data-action="reset">reset</button></div>'
        '<figure id="loss" aria-label="the output after each step">'
        '<svg viewBox="0 0 200 60" preserveAspectRatio="none" role="img" aria-label="loss curve">'
        '<polyline id="loss-line" fill="none" stroke="#1f6feb" stroke-width="1.5" vector-effect="non-scaling-stroke" '
        'points=""/></svg>'
        '<figcaption>step <span id="loss-step">0</span>: <span data-loss aria-live="polite">'
        f"{format_number(program.value, precision)}</span></figcaption></figure></section>",
        "</footer>",
        "<script>",
        engine_script(program, model),
        web_script("page.js"),
        "</script>", "</body>", "</html>", ""])


def _program_text(program: Program) -> str:
    """The program behind a toggle, a statement per line."""
    lines = []
    for line in program.text.strip().splitlines():
        code, hash_, comment = line.partition("#")
        statements = [part.strip() for part in code.split(";") if part.strip()]
        lines += statements[:-1] + [f"{statements[-1]}  #{comment}" if statements and hash_ else
                                    (statements[-1] if statements else f"#{comment}")]
    text = "\n".join(lines) if lines else "(built in Python)"
    return f'<details id="program"><summary>program</summary><pre>{html.escape(text)}</pre></details>'


def _inputs_panel(program: Program) -> str:
    """A row per input (slider, value box, range, frozen), in groups by name prefix when many."""
    groups: dict[str, list[str]] = {}
    for name in program.inputs:
        prefix = _PREFIX.match(name)
        key = f"{prefix.group(1)}_*" if prefix and len(program.inputs) > GROUPED else ""
        groups.setdefault(key, []).append(name)
    parts = ['<section id="inputs" aria-label="inputs"><h2>inputs</h2>',
             '<input id="filter" type="search" placeholder="filter inputs" aria-label="filter inputs">']
    for key, names in groups.items():
        rows = "".join(_input_row(name, program.inputs[name].data) for name in names)
        if key and len(names) > 1:
            parts.append(f'<details class="group" data-group-name="{html.escape(key)}"><summary>'
                         f"{html.escape(key)} ({len(names)})</summary>{rows}</details>")
        else:
            parts.append(rows)
    parts.append("</section>")
    return "".join(parts)


def _input_row(name: str, value: float) -> str:
    span = SLIDER_SPAN * max(1.0, abs(value))
    low, high = value - span, value + span
    n = html.escape(name, quote=True)
    return (f'<div class="input" data-row="{n}"><span class="name">{n}</span>'
            f'<input type="range" step="any" min="{low!r}" max="{high!r}" value="{value!r}" data-input="{n}" '
            f'aria-label="{n}">'
            f'<input type="text" inputmode="decimal" value="{value!r}" data-input-box="{n}" aria-label="{n} value" '
            f'size="9">'
            f'<span class="range"><input type="text" inputmode="decimal" value="{low!r}" data-range="{n}" '
            f'data-end="min" aria-label="{n} from" size="6"> to '
            f'<input type="text" inputmode="decimal" value="{high!r}" data-range="{n}" data-end="max" '
            f'aria-label="{n} to" size="6"></span>'
            f'<label><input type="checkbox" data-freeze="{n}" aria-label="keep {n} fixed"> fixed</label></div>')


def page_model(program: Program, precision: int) -> dict:
    """What the page's script needs: the engine's model, the names (and the legend of short
    names, as explain prints it), and explain's backward pass as a sequence of steps (in
    symbols; the page adds the numbers, as explain does)."""
    from .explaining import legend_lines

    names = symbols(program)
    return {**engine_model(program), "outputName": program.output_label, "outputSymbol": output_symbol(program),
            "symbols": names, "legend": legend_lines(program), "steps": explain_steps(program, names),
            "precision": precision, "explainPrecision": EXPLAIN_PRECISION,
            "start": {name: node.data for name, node in program.inputs.items()}}


def explain_steps(program: Program, names: list[str]) -> list[list]:
    """explain's backward pass: for each edge [node, parent, position, rule, rule as shown, lesson
    (the first time it is taught), shared]; for each shared node, when its contributions are
    summed, [node] alone."""
    return [[item.node.index, item.parent.index, item.position, item.local_text, item.shown_rule, item.lesson,
             item.shared] if isinstance(item, Step) else [item.index] for item in backward_steps(program, names)]


def engine_model(program: Program) -> dict:
    """What engine.js needs to run the program: the nodes in topological order, the inputs, the
    output, which nodes feed it, and how eval's messages name each node."""
    feeds = [False] * len(program.nodes)
    feeds[program.output.index] = True
    for node in reversed(program.nodes):
        if feeds[node.index]:
            for x in node.inputs:
                feeds[x.index] = True
    varies = [False] * len(program.nodes)
    for node in program.nodes:
        varies[node.index] = node.op is ops.INPUT or any(varies[x.index] for x in node.inputs)
    return {
        "nodes": [[node.op.name if node.inputs else None, [x.index for x in node.inputs], node.data,
                   program.label(node)] for node in program.nodes],
        "inputs": {name: node.index for name, node in program.inputs.items()},
        "output": program.output.index,
        "labels": [program.label(node) for node in program.nodes],
        "opSymbols": [node.op.symbol for node in program.nodes],
        "constants": [node.op is ops.CONST for node in program.nodes],
        "feeds": feeds,
        "varies": varies,
        "positions": [list(program.position(node)) if node.start >= 0 else [0, 0] for node in program.nodes],
        "messages": {"tooLarge": ops.TOO_LARGE, "gradientTooLarge": ops.GRADIENT_TOO_LARGE,
                     "noDerivative": ops.NO_DERIVATIVE},
    }


def engine_script(program: Program, model: dict | None = None) -> str:
    """The program's engine in JavaScript: MODEL, OPS and LOCALS, then numbers.js and engine.js,
    which define `run(values)` (the page's, and the cross-surface tests')."""
    return "\n".join([f"const MODEL = {json.dumps(model or engine_model(program), allow_nan=False)};",
                      ops_script(program), locals_script(program), *map(web_script, ENGINE_SCRIPTS)])


def web_script(name: str) -> str:
    return files("autodiff_cli").joinpath("web", name).read_text(encoding="utf-8")


def ops_script(program: Program) -> str:
    """`const OPS = {...}`: each op the program uses, from the op table: its forward rule in
    JavaScript, its refusals (condition and message) and which of its derivatives may not exist."""
    used = sorted({node.op for node in program.nodes if node.inputs}
                  | {part.op for node in program.nodes for part in _rule_ops(node.op)}, key=lambda op: op.name)
    entries = []
    for op in used:
        value = op.applied_to({"x": "x", "y": "y"}, "javascript")
        refuse = ", ".join(f"[(x, y) => {condition.render('javascript')}, {json.dumps(message)}]"
                           for message, condition in op.refuse.items())
        parameters = "(x, o)" if op.arity == 1 else "(x, y, o)"
        undefined = ", ".join("[" + ", ".join(f"[{parameters} => {condition.render('javascript')}, {json.dumps(message)}]"
                                              for message, condition in conditions.items()) + "]"
                              for conditions in op.undefined)
        entries.append(f"  {json.dumps(op.name)}: {{value: (x, y) => {value}, refuse: [{refuse}], "
                       f"undefined: [{undefined}]}}")
    return "const OPS = {\n" + ",\n".join(entries) + "\n};"


def _rule_ops(op: ops.Op) -> list:
    """The nodes of the op's parsed rules (the ops a derivative of it uses)."""
    from .rules import rule_program

    return [part for i in range(op.arity) for part in rule_program(op, i).nodes if part.inputs]


JAVASCRIPT = Target("javascript", number=repr, names=lambda ref: f"d[{ref[1:]}]", check="c")


def locals_script(program: Program) -> str:
    """`const LOCALS = [...]`: for each computed node, its local derivatives as a function of the
    data `d`: the op table's rule texts with the node's operands in (constants simplified, as
    `diff` writes them), every op's value checked (`c`: a rule with an intermediate that is not
    finite is Infinity, `L`, as the engine says); engine.js marks those the op table's
    `undefined` excludes."""
    refs = node_refs(program)
    entries = []
    for node in program.nodes:
        if not node.inputs:
            entries.append("null")
            continue
        parts = [render_expression(local_derivative(node, k, refs), JAVASCRIPT) for k in range(len(node.inputs))]
        entries.append(f"(d) => [{', '.join(f'L(() => {part})' for part in parts)}]")
    return "const LOCALS = [\n  " + ",\n  ".join(entries) + "\n];"


_NODE_GROUP = re.compile(r'<g id="node\d+" class="node">\s*<title>((?:v|op)(\d+))</title>(.*?)</g>', re.S)
_FIELD = re.compile(r">(data|grad) ([^<]*)</text>")


def annotate(svg: str) -> str:
    """Graphviz's SVG, without its XML prologue, with the page's hooks: each node group gets
    `data-group`, and each shown data and grad number its own `<tspan data-node data-field>`."""
    svg = svg[svg.index("<svg"):]

    def group(match: re.Match) -> str:
        name, index, body = match.group(1), match.group(2), match.group(3)
        if name.startswith("v"):
            body = _FIELD.sub(lambda f: f'>{f.group(1)} <tspan data-node="{index}" data-field="{f.group(1)}">'
                                        f"{f.group(2)}</tspan></text>", body)
        return f'<g class="node" data-group="{name}"><title>{name}</title>{body}</g>'

    return _NODE_GROUP.sub(group, svg)


class LivePage(Report):
    """The live page of a program, shown inline in a notebook (in a frame), saved as a file, or
    written by `graph -o page.html`."""

    def __init__(self, page: str, height: int = 640):
        self.page = page
        self.height = height

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{html.escape(self.page, quote=True)}" style="width:100%;height:{self.height}px;'
                'border:1px solid #ddd" sandbox="allow-scripts"></iframe>')

    def save(self, path: str) -> None:
        """The page as a file, written as the command writes it (complete, or not at all)."""
        emit(self, "html", path)

    formats = ("html",)
    text_formats = ()

    def write_html(self, out: BinaryIO, style: Style) -> None:
        out.write(self.page.encode("utf-8", "backslashreplace"))   # a lone surrogate (a byte that was not UTF-8) shown, not raised


def live(graph, **options) -> LivePage:
    """The lecture's picture, live: `live(evaluate("(a*b+c)*f", a=2, b=-3, c=10, f=-2))` in a notebook
    shows the graph with a slider per input.  Takes a run program or a `Value` (with its inputs
    labelled); options as `live_page`."""
    program = graph if isinstance(graph, Program) else Program.from_value(graph)
    if program.output.data is None:
        program.run()
    return LivePage(live_page(program, **options))
