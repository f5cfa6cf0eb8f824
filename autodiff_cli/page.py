"""The live page: the graph in one self-contained HTML file, with a slider per input, backprop
replayed edge by edge, and training, on rows of data as `fit` trains or at one point as `step`
steps.

The boxes and their positions are computed when the file is written (`drawing.page_layout`:
Graphviz for a small graph, a layered layout of bounded cost for any other); the page draws them
itself, only what is in view, and recomputes the forward and backward passes in JavaScript
whenever an input moves.  That JavaScript is generated: each op's forward rule is its
`javascript` form in the op table, and its local derivatives are the table's `rule` texts
rendered in JavaScript (`exporting.javascript_ops`), so there is no second list of derivatives
to keep in step.  Nothing is fetched: scripts and styles are inline and the page works offline.

Safe by construction: the page's HTML is a template (web/page.html) whose few holes take HTML
text escaped as such; everything else the user wrote (names, labels, the data's file name) goes
in as JSON inside the script, with every `<`, `>` and `&` written as a \\u escape (so neither
`</script>` nor `<!--` can appear), and the script puts it on the page as text, never as markup.

Hooks for scripts and tests: each input's slider has `data-input="NAME"` (its number box
`data-input-box="NAME"`), and each node's shown value and gradient `data-node="ID"` with
`data-field="data"` or `"grad"` (ID as in `eval --json`; a large graph has only the nodes in view
on the page, `window.autodiffState` has every number); `window.autodiffLosses()` the loss of
every training step, `window.autodiffHeatmap()` the heatmap's cells.
"""
from __future__ import annotations

import html
import json
import re
from importlib.resources import files
from typing import BinaryIO, Mapping, Sequence

from . import ops
from .drawing import page_layout, shown_label
from .engine import has_gates
from .errors import AutodiffError, clip
from .explaining import Step, backward_steps
from .naming import output_symbol, symbols
from .numbers import format_number
from .program import Program
from .reports import Report, Style, emit
from .rules import local_derivative, node_refs
from .expressions import Target, render as render_expression

ENGINE_SCRIPTS = ("numbers.js", "mathlib.js", "engine.js")     # in autodiff_cli/web, in this order
PAGE_SCRIPTS = ("graph.js", "train.js", "page.js")             # then these, for the page

SLIDER_SPAN = 2.0       # a slider runs over value ± SLIDER_SPAN·max(1, |value|), widened in the page at will
GROUPED = 12            # with more inputs than this, inputs sharing a name prefix (w0_*) are grouped
EXPLAIN_PRECISION = 6   # significant digits of the chain-rule lines, as explain's default
PAGE_ROWS = 10_000      # rows of --data a page holds at most (it trains on all of them in the browser)
LOSS_NAME = re.compile(r"(?i)loss\w*")      # an output named so is a loss: the page minimises it
TARGET_NAME = re.compile(r"y\d*")           # a data column named so is a target, not a coordinate
FIT_LR, STEP_LR = 0.05, 0.01                # the learning rates fit and step start with


class PageData:
    """Rows for the page to train on: each column's numbers, and each row's line in its file."""

    def __init__(self, source: str, columns: Mapping[str, Sequence[float]], lines: Sequence[int]):
        self.source = source
        self.columns = {name: [float(x) for x in column] for name, column in columns.items()}
        self.lines = [int(line) for line in lines]
        _check_rows(source, len(self.lines))

    def __len__(self) -> int:
        return len(self.lines)

    @classmethod
    def read(cls, path: str, program: Program) -> PageData:
        """The rows of a CSV or JSON Lines file, as fit reads them: every column an input of the
        program."""
        from .points import open_points

        points = open_points(path)
        extra = [name for name in points.names if name not in program.inputs]
        if extra:
            raise AutodiffError(f"{points.source}: the column{'s' if len(extra) > 1 else ''} "
                                f"{', '.join(clip(name) for name in extra[:8])} name"
                                f"{'' if len(extra) > 1 else 's'} no input of the program; its inputs are: "
                                f"{clip(', '.join(program.inputs), 200)}")
        return cls.from_points(points)

    @classmethod
    def from_points(cls, points) -> PageData:
        """The rows of points whose columns are the program's inputs (`FilePoints.only`)."""
        from .data import read_data

        data = read_data(points)
        if not data.names:
            raise AutodiffError(f"{points.source}: no column names an input of the program")
        _check_rows(data.source, len(data))
        return cls(data.source, {name: column.tolist() for name, column in data.columns.items()},
                   data.lines.tolist())


def _check_rows(source: str, count: int) -> None:
    if not count:
        raise AutodiffError(f"{source}: no rows to train on")
    if count > PAGE_ROWS:
        raise AutodiffError(f"{source} has {count:,} rows, more than the {PAGE_ROWS:,} a page holds (it trains on "
                            "every one in the browser)",
                            hint="give the page a sample of the rows; autodiff fit trains on any number")


def live_page(program: Program, *, precision: int = 4, rankdir: str = "LR", backend: str = "auto",
              title: str | None = None, data: PageData | None = None, data_like: Sequence[str] = ()) -> str:
    """The page for a program that has been run: the graph first (zoom and pan, an overview when
    it is large), the inputs in a side panel, backprop to watch edge by edge, and training with a
    loss curve: on `data`'s rows as `fit` trains, else at the point as `step` steps.

    `data_like` names inputs that are data rather than parameters (net's x0, ..., y: the inputs
    the program gives no value): when the output is a loss they start fixed."""
    other = "TB" if rankdir == "LR" else "LR"
    layouts = [page_layout(program, precision, direction, backend) for direction in (rankdir, other)]
    model = page_model(program, precision, layouts, data, data_like)
    value = format_number(program.value, precision)
    return fill(web_text("page.html"), {
        "title": html.escape(title or model["outputName"]),
        "output": html.escape(model["outputName"]),
        "value": html.escape(value),
        "summary": html.escape(summary(program, data)),
        "program": html.escape(_program_text(program)),
        "style": web_text("page.css"),
        "script": page_script(program, model),
    })


_HOLE = re.compile(r"\{\{(\w+)\}\}")


def fill(template: str, holes: Mapping[str, str]) -> str:
    """The template with each `{{name}}` replaced, in one pass (a hole's text is never read again
    for holes); a name the template has and `holes` has not is an error."""
    return _HOLE.sub(lambda match: holes[match.group(1)], template)


def summary(program: Program, data: PageData | None) -> str:
    inputs = len(program.inputs)
    parts = [f"{len(program.nodes):,} nodes", f"{inputs:,} input{'s' if inputs != 1 else ''}"]
    if data is not None:
        parts.append(f"{len(data):,} row{'s' if len(data) != 1 else ''} of {data.source}")
    return " · ".join(parts)


def _program_text(program: Program) -> str:
    """The program, a statement per line."""
    lines = []
    for line in program.text.strip().splitlines():
        code, hash_, comment = line.partition("#")
        statements = [part.strip() for part in code.split(";") if part.strip()]
        lines += statements[:-1] + [f"{statements[-1]}  #{comment}" if statements and hash_ else
                                    (statements[-1] if statements else f"#{comment}")]
    return "\n".join(lines) if lines else "(built in Python)"


def script_json(value) -> str:
    """JSON to put inside a <script>: strict (no NaN), and with <, > and & as \\u escapes, and the
    line separators JavaScript once refused, so no text in it can end the script (`</script>`) or
    change how HTML reads it (`<!--`)."""
    text = json.dumps(value, allow_nan=False, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


_UNSAFE = re.compile(r"</script|<!--|<script", re.I)


def checked_script(text: str) -> str:
    """A script for the page, which must not hold `</script`, `<!--` or `<script` anywhere: user
    text is JSON (`script_json`), so only the op table's own code could, and that is refused."""
    found = _UNSAFE.search(text)
    if found:
        raise AutodiffError(f"the page's script would hold {found.group(0)!r} (from the op table's JavaScript forms), "
                            "which would end it early: the page is not written")
    return text


def page_model(program: Program, precision: int, layouts: list[dict] | None = None, data: PageData | None = None,
               data_like: Sequence[str] = ()) -> dict:
    """What the page's script needs: the engine's model, the names (and the legend of short
    names, as explain prints it), explain's backward pass as a sequence of steps (in symbols; the
    page adds the numbers, as explain does), the layouts (the direction asked for, then the
    other: the page draws the one that reads better on its screen), and what training starts
    with."""
    from .arrays import chunk_size
    from .explaining import legend_lines

    names = symbols(program)
    is_loss = data is not None or bool(LOSS_NAME.fullmatch(program.output_label))
    columns = list(data.columns) if data is not None else []
    fixed = [name for name in program.inputs if name in data_like and name not in columns] if is_loss else []
    coordinates = columns or ([name for name in program.inputs if name in data_like] if is_loss else [])
    features = [name for name in coordinates if not TARGET_NAME.fullmatch(name)]
    predicted = program.names.get("out", program.output)
    heatmap = None
    if len(features) == 2 and predicted is not None:
        targets = [name for name in (columns or data_like) if TARGET_NAME.fullmatch(name) and name in program.inputs]
        heatmap = {"x": features[0], "y": features[1], "node": predicted.index,
                   "label": program.label(predicted), "target": targets[0] if targets else None}
    roles = ["output" if node is program.output else "input" if node.op is ops.INPUT
             else "const" if node.op is ops.CONST else "value" for node in program.nodes]
    return {**engine_model(program), "outputName": program.output_label, "outputSymbol": output_symbol(program),
            "symbols": names, "legend": legend_lines(program), "steps": explain_steps(program, names),
            "precision": precision, "explainPrecision": EXPLAIN_PRECISION,
            "start": {name: node.data for name, node in program.inputs.items()},
            "boxLabels": [shown_label(program.label(node)) for node in program.nodes], "roles": roles,
            "layouts": layouts, "isLoss": is_loss, "fixed": fixed, "grouped": GROUPED, "sliderSpan": SLIDER_SPAN,
            "lr": FIT_LR if data is not None else STEP_LR, "heatmap": heatmap, "lastPlace": last_place_ops(program),
            "data": None if data is None else {"source": data.source, "columns": data.columns, "lines": data.lines,
                                               "chunk": chunk_size(len(program.nodes))}}


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
        "gated": has_gates(program.nodes),
        "positions": [list(program.position(node)) if node.start >= 0 else [0, 0] for node in program.nodes],
        "messages": {"tooLarge": ops.TOO_LARGE, "gradientTooLarge": ops.GRADIENT_TOO_LARGE,
                     "noDerivative": ops.NO_DERIVATIVE},
    }


def engine_script(program: Program, model: dict | None = None) -> str:
    """The program's engine in JavaScript: MODEL, OPS and LOCALS, then numbers.js and engine.js,
    which define `run(values)` (the page's, and the cross-surface tests')."""
    return checked_script("\n".join([f"const MODEL = {script_json(model or engine_model(program))};",
                                     ops_script(program), locals_script(program), *map(web_text, ENGINE_SCRIPTS)]))


def page_script(program: Program, model: dict) -> str:
    """The page's whole script: the engine, then the page's own scripts."""
    return checked_script("\n".join([engine_script(program, model), *map(web_text, PAGE_SCRIPTS)]))


def web_text(name: str) -> str:
    return files("autodiff_cli").joinpath("web", name).read_text(encoding="utf-8")


web_script = web_text       # the name older callers use


def ops_script(program: Program) -> str:
    """`const OPS = {...}`: each op the program uses, from the op table: its forward rule in
    JavaScript, its refusals (condition and message) and which of its derivatives may not exist."""
    entries = []
    for op in used_ops(program):
        value = op.applied_to({"x": "x", "y": "y"}, "javascript")
        refuse = ", ".join(f"[(x, y) => {condition.render('javascript')}, {script_json(message)}]"
                           for message, condition in op.refuse.items())
        parameters = "(x, o)" if op.arity == 1 else "(x, y, o)"
        undefined = ", ".join("[" + ", ".join(f"[{parameters} => {condition.render('javascript')}, "
                                              f"{script_json(message)}]"
                                              for message, condition in conditions.items()) + "]"
                              for conditions in op.undefined)
        gate = "null" if op.gate is None else f"(x) => {op.gate.render('javascript')}"
        entries.append(f"  {script_json(op.name)}: {{value: (x, y) => {value}, refuse: [{refuse}], "
                       f"undefined: [{undefined}], gate: {gate}}}")
    return "const OPS = {\n" + ",\n".join(entries) + "\n};"


def used_ops(program: Program) -> list:
    """The ops the program's forward and backward passes use, by name."""
    return sorted({node.op for node in program.nodes if node.inputs}
                  | {part.op for node in program.nodes for part in _rule_ops(node.op)}, key=lambda op: op.name)


# Math functions whose V8 results equal the C library's (Python's, NumPy's) bit for bit, measured on
# the machine the README's numbers come from (fdlibm's tanh and pow are the C library's too); the
# others (Math.exp, log, sin, cos, atan, hypot, ...) differ in the last place for some arguments.
EXACT_MATH = frozenset({"pow", "tanh", "sqrt", "abs", "floor", "ceil"})
_MATH_CALL = re.compile(r"\b(?:Math\.(\w+)|(erfc?))\(")


def last_place_ops(program: Program) -> list[str]:
    """The ops whose JavaScript may differ from eval's in the last place, among those the program's
    value and its inputs' gradients use (a derivative toward a constant is computed, and unused)."""
    from .rules import rule_program

    varies = engine_model(program)["varies"]
    used = {node.op for node in program.nodes if node.inputs}
    for node in program.nodes:
        for k, x in enumerate(node.inputs):
            if varies[x.index]:
                used |= {part.op for part in rule_program(node.op, k).nodes if part.inputs}
    return sorted(op.name for op in used
                  if any(erf or name not in EXACT_MATH for name, erf in _MATH_CALL.findall(op.javascript)))


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


def live(graph, data: PageData | str | Mapping[str, Sequence[float]] | None = None, **options) -> LivePage:
    """The lecture's picture, live: `live(evaluate("(a*b+c)*f", a=2, b=-3, c=10, f=-2))` in a notebook
    shows the graph with a slider per input.  Takes a run program or a `Value` (with its inputs
    labelled); `data`, rows to train on (a CSV or JSON Lines file's path, or a mapping of input
    names to columns of numbers); options as `live_page`."""
    program = graph if isinstance(graph, Program) else Program.from_value(graph)
    if isinstance(data, str):
        data = PageData.read(data, program)
    elif data is not None and not isinstance(data, PageData):
        program.check_inputs(data, "the data's columns")
        lengths = {len(column) for column in data.values()}
        if len(lengths) != 1:
            raise AutodiffError("the data's columns must all have the same number of rows")
        data = PageData("the data", data, range(1, lengths.pop() + 1))
    if data is not None:
        program.set({name: column[0] for name, column in data.columns.items()})
        program.run()
    elif program.output.data is None:
        program.run()
    return LivePage(live_page(program, data=data, **options))
