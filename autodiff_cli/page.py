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
from importlib.resources import files

from . import ops
from .drawing import digraph, render
from .explaining import Step, backward_steps
from .expressions import Target, render as render_expression
from .naming import output_symbol, symbols
from .output import write_bytes
from .program import Program
from .tables import format_number
from .rules import local_derivative, node_refs

ENGINE_SCRIPTS = ("numbers.js", "engine.js")     # in autodiff_cli/web, in this order; then page.js

SLIDER_SPAN = 2.0       # a slider runs over value ± SLIDER_SPAN·max(1, |value|), widened in the page at will

STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 1em; color: #222; }
#output { font-size: 2.2em; margin: 0.2em 0 0.5em; }
#controls { display: grid; grid-template-columns: max-content 5em 1fr 5em 7em max-content; gap: 0.3em 0.6em;
            align-items: center; max-width: 60em; }
#controls input[type=number] { width: 100%; }
#stepper { margin: 0.8em 0; }
#message { color: #b00020; font-weight: bold; margin: 0.5em 0; }
#chain { background: #f4f4f4; padding: 0.6em; white-space: pre; font-family: monospace; }
#graph svg { max-width: 100%; height: auto; }
g.node[data-group^="v"] { cursor: pointer; }
g.onpath polygon, g.onpath ellipse, g.onpath path { stroke: #e67e00; stroke-width: 2.5; }
g.failed polygon { fill: #ffd6d6; stroke: #b00020; stroke-width: 3; }
.name { font-weight: bold; }
"""


def live_page(program: Program, *, precision: int = 4, rankdir: str = "LR", backend: str = "auto",
              title: str | None = None) -> str:
    """The page for a program that has been run: picture, sliders, and the script that keeps them live."""
    svg = render(digraph(program, precision=precision, rankdir=rankdir).source, "svg", backend).decode("utf-8")
    model = page_model(program, precision)
    output = model["outputName"]
    heading = html.escape(title or program.text.strip() or output)
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>autodiff: {heading}</title>", f"<style>{STYLE}</style>", "</head>", "<body>",
        f"<h1 style=\"font-size:1.1em;font-family:monospace\">{heading}</h1>",
        f'<div id="output"><span class="name">{html.escape(output)}</span> = '
        f'<span data-output>{format_number(program.value, precision)}</span></div>',
        '<div id="message" hidden></div>',
        _controls(program, precision),
        '<div id="stepper"><button id="step" type="button">step</button> '
        '<label>lr <input id="lr" type="number" step="any" value="0.01" style="width:6em"></label> '
        '<label><input id="minimize" type="checkbox"> minimise</label> '
        "<small>(every input not frozen: data += lr · grad, or -= when minimising)</small></div>",
        f'<div id="graph">{annotate(svg)}</div>',
        '<pre id="chain" hidden></pre>',
        "<script>",
        engine_script(program, model),
        web_script("page.js"),
        "</script>", "</body>", "</html>", ""])


def page_model(program: Program, precision: int) -> dict:
    """What the page's script needs: the engine's model, the names, and the chain-rule lines of
    `explain` (in symbols; the page adds the numbers)."""
    names = symbols(program)
    chain: list[list] = [[] for _ in program.nodes]
    for step in backward_steps(program, names):
        if isinstance(step, Step):
            chain[step.node.index].append([step.parent.index, step.position, step.local_text])
    return {**engine_model(program), "outputName": program.output_label, "outputSymbol": output_symbol(program),
            "symbols": names, "chain": chain, "precision": precision}


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


JAVASCRIPT = Target("javascript", number=repr, names=lambda ref: f"d[{ref[1:]}]")


def locals_script(program: Program) -> str:
    """`const LOCALS = [...]`: for each computed node, its local derivatives as a function of the
    data `d`: the op table's rule texts with the node's operands in (constants simplified, as
    `diff` writes them); engine.js marks those the op table's `undefined` excludes."""
    refs = node_refs(program)
    entries = []
    for node in program.nodes:
        if not node.inputs:
            entries.append("null")
            continue
        parts = [render_expression(local_derivative(node, k, refs), JAVASCRIPT) for k in range(len(node.inputs))]
        entries.append(f"(d) => [{', '.join(parts)}]")
    return "const LOCALS = [\n  " + ",\n  ".join(entries) + "\n];"


def _controls(program: Program, precision: int) -> str:
    rows = ['<div id="controls"><b>input</b><b>from</b><b></b><b>to</b><b>value</b><b>frozen</b>']
    for name, node in program.inputs.items():
        value = node.data
        span = SLIDER_SPAN * max(1.0, abs(value))
        low, high = value - span, value + span
        n = html.escape(name, quote=True)
        rows.append(
            f'<label class="name" for="slider-{n}">{n}</label>'
            f'<input type="number" step="any" data-range="{n}" data-end="min" value="{low!r}">'
            f'<input id="slider-{n}" type="range" step="any" min="{low!r}" max="{high!r}" value="{value!r}" '
            f'data-input="{n}">'
            f'<input type="number" step="any" data-range="{n}" data-end="max" value="{high!r}">'
            f'<input type="number" step="any" value="{value!r}" data-input-box="{n}">'
            f'<input type="checkbox" data-freeze="{n}" title="keep {n} fixed when stepping">')
    rows.append("</div>")
    return "\n".join(rows)


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


class LivePage:
    """The live page of a program, shown inline in a notebook (in a frame), or saved as a file."""

    def __init__(self, page: str, height: int = 640):
        self.page = page
        self.height = height

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{html.escape(self.page, quote=True)}" style="width:100%;height:{self.height}px;'
                'border:1px solid #ddd" sandbox="allow-scripts"></iframe>')

    def save(self, path: str) -> None:
        """The page as a file, written as the command writes it (complete, or not at all)."""
        write_bytes(self.page.encode("utf-8"), path)


def live(graph, **options) -> LivePage:
    """The lecture's picture, live: `live(evaluate("(a*b+c)*f", a=2, b=-3, c=10, f=-2))` in a notebook
    shows the graph with a slider per input.  Takes a run program or a `Value` (with its inputs
    labelled); options as `live_page`."""
    program = graph if isinstance(graph, Program) else Program.from_value(graph)
    if program.output.data is None:
        program.run()
    return LivePage(live_page(program, **options))
