"""The lecture's `draw_dot`: a Graphviz picture of the graph, built and rendered.

Every value is a record node `{ label | data 2.0000 | grad 6.0000 }`, every
operation a small ellipse feeding its result, and an input used twice
(`a + a`) gets two edges.  Node names come from the topological index, never
from `id()`, so the DOT text is the same on every run.

`graphviz` (and `pygraphviz`, when it renders) are imported only here, so
other commands do not pay for them.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import warnings
from contextlib import contextmanager
from typing import TYPE_CHECKING, BinaryIO, Iterator

from . import ops
from .engine import Value
from .errors import AutodiffError
from .program import Program
from .reports import Report, Style
from .numbers import format_number

if TYPE_CHECKING:
    import graphviz

RENDERED = ("svg", "png", "pdf")
PAGE = ("html", "htm")
BINARY = ("png", "pdf")
TEXT = ("dot", "gv")
MAX_LAYOUT = 20_000         # nodes; above this, refuse to lay out (Graphviz would take minutes)
# Layout work: Graphviz's nodes plus the virtual nodes it threads along every edge that spans
# several ranks (an input shared by fifty neurons makes thousands).  dot's own ranking and
# positioning (network simplex) and spline routing grow much faster than that count: up to
# FULL_QUALITY_WORK the picture gets dot's defaults; beyond, network simplex is capped (nslimit,
# nslimit1: iterations per node) and crossing minimisation cut short (mclimit); beyond
# STRAIGHT_EDGES_WORK, edges are straight lines.  Measured by bench/page.py (README).
FULL_QUALITY_WORK = 6_000
STRAIGHT_EDGES_WORK = 20_000
FAST_LAYOUT = {"nslimit": "0.05", "nslimit1": "1", "mclimit": "0.05"}
WORK_PER_SECOND = 30_000    # with the fast settings, on the machine the README's numbers come from
SLOW_LAYOUT_SECONDS = 10
BACKENDS = {"auto": "Graphviz's dot or pygraphviz", "dot": "Graphviz's dot", "pygraphviz": "pygraphviz"}
INSTALL_HINTS = {
    "dot": "install Graphviz, which provides dot (apt-get install graphviz, brew install graphviz, ...)",
    "pygraphviz": "pip install 'autodiff-cli[render]' (pygraphviz's wheels bundle Graphviz)",
}

# Roles are told apart by shape and line as well as colour, so a black-and-white print reads too.
STYLES = {
    "input": {"style": "filled,bold", "fillcolor": "#cfe8ff"},
    "const": {"style": "dashed"},
    "value": {},
    "output": {"style": "filled", "fillcolor": "#d5f5d5", "peripheries": "2"},
}


class RenderError(AutodiffError):
    """No renderer, or the renderer failed: exit code 1."""

    exit_code = 1


class GraphTooLargeError(AutodiffError):
    """Too many nodes to lay out in reasonable time."""

    def __init__(self, size: int, limit: int):
        super().__init__(f"the graph has {size} nodes, more than the {limit} that can be laid out "
                         "in reasonable time: Graphviz's layout would take minutes")
        self.size = size
        self.limit = limit


def check_layout_size(program: Program, limit: int | None = None) -> float:
    """Refuse a graph too large to lay out (over `limit`, by default MAX_LAYOUT nodes); else the
    layout's estimated seconds (a caller warns when that is long)."""
    limit = limit or MAX_LAYOUT
    size = len(program.nodes)
    if size > limit:
        raise GraphTooLargeError(size, limit)
    return layout_seconds(layout_work(program))


def layout_work(program: Program) -> int:
    """Graphviz's nodes (a record per value, an ellipse per op) plus the virtual nodes of edges
    that span ranks, with ranks as dot assigns them: an input at 0, an op one past its latest
    operand, its value one past the op."""
    rank = [0] * len(program.nodes)
    work = len(program.nodes)
    for node in program.nodes:
        if node.inputs:
            op_rank = max(rank[x.index] for x in node.inputs) + 1
            rank[node.index] = op_rank + 1
            work += 1 + sum(op_rank - rank[x.index] - 1 for x in node.inputs)
    return work


def layout_attributes(work: int) -> dict[str, str]:
    """The graph attributes that keep a layout of this much work to seconds (none for a small one)."""
    if work <= FULL_QUALITY_WORK:
        return {}
    return {**FAST_LAYOUT, **({"splines": "line"} if work > STRAIGHT_EDGES_WORK else {})}


def layout_seconds(work: int) -> float:
    return 0.0 if work <= FULL_QUALITY_WORK else work / WORK_PER_SECOND


class Picture:
    """The lecture's picture in a notebook: shown inline as SVG, rendered the way the command
    renders it (Graphviz's dot when on PATH, else pygraphviz), so `[render]` alone is enough."""

    def __init__(self, source: str, backend: str = "auto"):
        self.source = source        # the DOT text
        self.backend = backend

    def render(self, fmt: str = "svg") -> bytes:
        return render(self.source, fmt, self.backend)

    def _repr_svg_(self) -> str:
        return self.render("svg").decode("utf-8")

    def __repr__(self) -> str:
        return f"Picture({len(self.source)} characters of DOT)"


def record_escape(text: str) -> str:
    """Escape what record labels treat as structure: { } | < > and quotes, and backslashes."""
    for char in '\\{}|<>"':
        text = text.replace(char, "\\" + char)
    return text


def role(program: Program, node) -> str:
    if node is program.output:
        return "output"
    if node.op is ops.INPUT:
        return "input"
    return "const" if node.op is ops.CONST else "value"


LIT = {"color": "#c2185b", "penwidth": "3"}        # the edge of `graph --upto K`'s step K


def digraph(program: Program, *, precision: int = 4, rankdir: str = "LR", grad: bool = True,
            grads: list[float | None | bool] | None = None, title: str | None = None,
            lit: tuple[int, int, int] | None = None) -> graphviz.Digraph:
    """The picture as a `graphviz.Digraph` (shown inline in a notebook, like `draw_dot(L)`).
    `grads` replaces the nodes' gradients (False: not reached yet, shown empty); `title` is
    written above the picture; `lit` (node, op's node, operand position) is an edge drawn
    thick and coloured, with its op's ellipse: the chain-rule step `--upto K` stops at."""
    import graphviz

    labelled = {"label": title, "labelloc": "t", "fontname": "Helvetica", "fontcolor": "#b00020"} if title else {}
    dot = graphviz.Digraph("autodiff", graph_attr={"rankdir": rankdir, **layout_attributes(layout_work(program)),
                                                   **labelled},
                           node_attr={"fontname": "Helvetica", "fontsize": "11"},
                           edge_attr={"arrowsize": "0.7"})
    for node in program.nodes:
        i = node.index
        fields = [record_escape(program.label(node)), f"data {format_number(node.data, precision)}"]
        if grad:
            shown = node.grad if grads is None else grads[i]
            fields.append("grad " + ("" if shown is False else format_number(shown, precision)))
        dot.node(f"v{i}", graphviz.nohtml("{ " + " | ".join(fields) + " }"), shape="record",
                 **STYLES[role(program, node)])
        if node.inputs:
            dot.node(f"op{i}", node.op.symbol, shape="ellipse", width="0.3", height="0.3",
                     fontsize="10", **(LIT if lit is not None and lit[1] == i else {}))
            for k, x in enumerate(node.inputs):
                dot.edge(f"v{x.index}", f"op{i}", **(LIT if lit == (x.index, i, k) else {}))
            dot.edge(f"op{i}", f"v{i}")
    return dot


class PictureReport(Report):
    """graph's picture: DOT text, or rendered as SVG, PNG or PDF (in memory first, so a failed
    render writes nothing).  Options as `digraph`."""

    formats = ("dot", *RENDERED)

    def __init__(self, program: Program, *, backend: str = "auto", **options):
        self.source = digraph(program, **options).source
        self.backend = backend

    def write_dot(self, out: BinaryIO, style: Style) -> None:
        out.write(self.source.encode("utf-8"))

    def write_svg(self, out: BinaryIO, style: Style) -> None:
        out.write(render(self.source, "svg", self.backend))

    def write_png(self, out: BinaryIO, style: Style) -> None:
        out.write(render(self.source, "png", self.backend))

    def write_pdf(self, out: BinaryIO, style: Style) -> None:
        out.write(render(self.source, "pdf", self.backend))


def draw_dot(graph: Value | Program, *, backend: str = "auto", **options) -> Picture:
    """The lecture's `draw_dot(L)`: a picture of a graph built with `Value`, or of a program
    (`draw_dot(evaluate(...))`), shown inline in a notebook.

    Options: precision=4, rankdir="LR", grad=True.
    """
    program = graph if isinstance(graph, Program) else Program.from_value(graph)
    return Picture(digraph(program, **options).source, backend)


def output_format(path: str | None, fmt: str | None) -> str:
    """The format asked for: `fmt`, else the file's extension, else DOT text."""
    if fmt is None:
        fmt = os.path.splitext(path)[1].lstrip(".").lower() if path else "dot"
    if fmt not in RENDERED + TEXT + PAGE:
        raise AutodiffError(f"cannot write {fmt!r}: the formats are .svg .png .pdf .dot .gv .html")
    return {"gv": "dot", "htm": "html"}.get(fmt, fmt)


def render(source: str, fmt: str, backend: str = "auto") -> bytes:
    """DOT text to SVG/PNG/PDF bytes, in memory: with `dot` when on PATH, else with pygraphviz."""
    if backend in ("auto", "dot") and shutil.which("dot"):
        return _undated(_render_with_dot(source, fmt), fmt)
    if backend in ("auto", "pygraphviz"):
        try:
            import pygraphviz
        except ImportError:
            pygraphviz = None
        if pygraphviz is not None:
            return _undated(_render_with_pygraphviz(pygraphviz, source, fmt), fmt)
    hints = [hint for name, hint in INSTALL_HINTS.items() if backend in ("auto", name)]
    raise RenderError(f"cannot render {fmt.upper()}: {BACKENDS[backend]} is not installed",
                      hint="; or ".join(hints))


_PDF_DATE = re.compile(rb"(/(?:CreationDate|ModDate) \(D:)(\d{14})")


def _undated(data: bytes, fmt: str) -> bytes:
    """A PDF without the moment it was made (Cairo writes it, whatever SOURCE_DATE_EPOCH says), so
    the same graph gives the same bytes: the date's digits become 1970's, the length unchanged."""
    return _PDF_DATE.sub(lambda m: m.group(1) + b"19700101000000", data) if fmt == "pdf" else data


def _render_with_dot(source: str, fmt: str) -> bytes:
    """dot as a child that dies with us: killed if the render is interrupted (subprocess.run kills
    it on any exception, SIGTERM and SIGHUP included: the CLI turns them into one), and sent
    SIGKILL by the kernel if we are killed outright (Linux's parent-death signal)."""
    done = subprocess.run(["dot", f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True,
                          preexec_fn=_die_with_parent, env={**os.environ, "TZ": "UTC"})
    if done.returncode != 0:
        raise RenderError(f"Graphviz's dot failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def _die_with_parent() -> None:
    """In the child, before it runs dot: ask Linux to kill it when its parent dies."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)      # PR_SET_PDEATHSIG
    except (OSError, AttributeError):                   # not Linux: the exception route still applies
        pass


def _render_with_pygraphviz(pygraphviz, source: str, fmt: str) -> bytes:
    with warnings.catch_warnings(), _stderr_silenced():
        warnings.simplefilter("ignore")      # its one-line fontconfig complaint, among others
        try:
            return pygraphviz.AGraph(string=source).draw(format=fmt, prog="dot")
        except Exception as exc:             # pygraphviz raises several types; all mean "could not render"
            raise RenderError(f"pygraphviz failed: {exc}") from None


@contextmanager
def _stderr_silenced() -> Iterator[None]:
    """Graphviz's C library writes warnings straight to file descriptor 2."""
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


# The live page's layout
#
# The page draws the graph itself (SVG for what is in view, a canvas for an overview), from
# boxes and positions computed here when the file is written.  Each value is a box of three
# lines (its label, `data`, `grad`) sized for the page's monospace font, each op a small ellipse.
# A small graph is laid out by Graphviz (its ranking, ordering and splines, the look of the
# lecture's pictures); any other by `layered_layout`, whose cost is bounded by construction: a
# fixed number of passes, each linear in the edges (sorting aside), however the edges run.
# Graphviz's own cost grows with the long edges' virtual nodes, which `layout_work` bounds from
# above (dot's ranking minimises the total edge length, so it never makes more of them than the
# ranks counted there): below PAGE_GRAPHVIZ_WORK its layout takes well under a second, measured
# over the shapes of bench/page.py.

PAGE_GRAPHVIZ_WORK = 2_500
CHAR_WIDTH = 6.7            # px per character of the page's 11 px monospace font (0.6 em, and a little)
LINE_HEIGHT = 14            # px per line of a value's box
BOX_PADDING = (6, 4)        # px left and right, top and bottom
LABEL_CHARS = 22            # a longer label is cut with an ellipsis in its box (whole in its name)
OP_SIZE = (24, 20)          # an op's ellipse at least
RANK_GAP = 36               # px between ranks
NODE_GAP = 12               # px between neighbours in a rank
LAYOUT_PASSES = 4           # ordering sweeps (down and up), then as many placing sweeps


def shown_label(label: str) -> str:
    """A value's label as its box shows it: at most LABEL_CHARS characters."""
    return label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1] + "…"


def page_boxes(program: Program, precision: int) -> tuple[list[list[float]], list[list[float] | None]]:
    """Each value's box (width, height) and each op's ellipse, in px: the numbers' cells are wide
    enough for the number shown now, and at least for precision + 4 characters (-12.3456), so most
    values fit as they move; the page squeezes a longer one into its cell."""
    values, op_boxes = [], []
    digits = precision + 4
    for node in program.nodes:
        numbers = max(digits, len(format_number(node.data, precision)), len(format_number(node.grad, precision)))
        chars = max(len(shown_label(program.label(node))), 5 + numbers)
        values.append([round(2 * BOX_PADDING[0] + CHAR_WIDTH * chars, 1),
                       3 * LINE_HEIGHT + 2 * BOX_PADDING[1]])
        op_boxes.append([max(OP_SIZE[0], round(CHAR_WIDTH * len(node.op.symbol) + 12, 1)), OP_SIZE[1]]
                        if node.inputs else None)
    return values, op_boxes


def page_layout(program: Program, precision: int = 4, rankdir: str = "LR", backend: str = "auto") -> dict:
    """The page's picture of the graph: every value's box and op's ellipse as [x, y, width, height]
    (centres, px, y down), and, from Graphviz, every edge's path ([x, y, ...]: a start, then
    cubic Bézier segments of three points, then the arrow's tip); the edges are, for each computed
    node in order, one per operand (`a + a` has two) and then the op's to its value.  Without
    paths (`layered_layout`) the page draws each edge as a curve from box to box.  With the
    backend "auto" and no Graphviz installed, every graph gets the layered layout."""
    values, op_boxes = page_boxes(program, precision)
    layout = None
    if page_work(program) <= PAGE_GRAPHVIZ_WORK:
        try:
            layout = graphviz_layout(program, values, op_boxes, rankdir, backend)
        except RenderError as exc:          # no Graphviz at all: the page needs none (unless it was asked for)
            if backend != "auto" or "not installed" not in exc.message:
                raise
    if layout is None:
        layout = layered_layout(program, values, op_boxes, rankdir)
    return {**layout, "metrics": {"char": CHAR_WIDTH, "line": LINE_HEIGHT, "pad": list(BOX_PADDING)}}


def _page_dot(program: Program, values: list, op_boxes: list, rankdir: str) -> str:
    lines = ["digraph page {", f"  graph [rankdir={rankdir} nodesep=0.17 ranksep=0.3]",
             '  node [fixedsize=true label="" shape=box]', "  edge [arrowsize=0.7]"]
    for node in program.nodes:
        i = node.index
        width, height = values[i]
        lines.append(f"  v{i} [width={width / 72:.4f} height={height / 72:.4f}]")
        if node.inputs:
            width, height = op_boxes[i]
            lines.append(f"  op{i} [shape=ellipse width={width / 72:.4f} height={height / 72:.4f}]")
            lines += [f'  v{x.index} -> op{i} [id="e{i}_{k}"]' for k, x in enumerate(node.inputs)]
            lines.append(f'  op{i} -> v{i} [id="e{i}_o"]')
    lines.append("}")
    return "\n".join(lines) + "\n"


def graphviz_layout(program: Program, values: list, op_boxes: list, rankdir: str = "LR",
                    backend: str = "auto") -> dict:
    """The boxes laid out by Graphviz's dot (as `render` runs it), read from its JSON."""
    import json

    found = json.loads(render(_page_dot(program, values, op_boxes, rankdir), "json", backend))
    height = float(found["bb"].split(",")[3])

    def point(text: str) -> list[float]:
        x, y = text.split(",")[:2]
        return [round(float(x), 1), round(height - float(y), 1)]

    boxes: dict[str, list[float]] = {}
    for item in found.get("objects", []):
        x, y = point(item["pos"])
        boxes[item["name"]] = [x, y, round(float(item["width"]) * 72, 1), round(float(item["height"]) * 72, 1)]
    paths: dict[str, list[float]] = {}
    for edge in found.get("edges", []):
        parts = edge["pos"].split()
        tip = point(parts[0][2:]) if parts[0].startswith("e,") else None
        spline = [coordinate for part in parts if not part.startswith(("e,", "s,")) for coordinate in point(part)]
        paths[edge["id"]] = spline + (tip or [])
    edges = []
    for node in program.nodes:
        if node.inputs:
            edges += [paths[f"e{node.index}_{k}"] for k in range(len(node.inputs))] + [paths[f"e{node.index}_o"]]
    return {"engine": "graphviz", "rankdir": rankdir, "width": round(float(found["bb"].split(",")[2]), 1),
            "height": round(height, 1), "values": [boxes[f"v{node.index}"] for node in program.nodes],
            "ops": [boxes[f"op{node.index}"] if node.inputs else None for node in program.nodes], "edges": edges}


PAGE_GRAPHVIZ_SECONDS = 1.5             # dot's slowest below PAGE_GRAPHVIZ_WORK, measured by bench/page.py
LAYERED_SECONDS_PER_ITEM = 40e-6        # layered_layout's time per node and edge (30 µs measured), as an estimate


def page_layout_seconds(program: Program) -> float:
    """How long the page's two layouts (both directions) take, estimated from above."""
    if page_work(program) <= PAGE_GRAPHVIZ_WORK:
        return 2 * PAGE_GRAPHVIZ_SECONDS
    items = len(program.nodes) + sum(len(node.inputs) + 1 for node in program.nodes if node.inputs)
    return 2 * items * LAYERED_SECONDS_PER_ITEM


def page_work(program: Program) -> int:
    """An upper bound of dot's work on the page's layout: its nodes plus the virtual nodes of
    long edges, counted with the ranks of `_ranks` or of `layout_work`, whichever makes fewer
    (dot ranks to minimise the total length of the edges, so it makes no more than either)."""
    value_rank, op_rank = _ranks(program)
    work = len(program.nodes)
    for node in program.nodes:
        if node.inputs:
            work += 1 + sum(op_rank[node.index] - value_rank[x.index] - 1 for x in node.inputs)
    return min(work, layout_work(program))


def _ranks(program: Program) -> tuple[list[int], list[int]]:
    """Each value's rank and each op's (-1 for none): computed values as late as their first use
    allows (a value sits just before the op that first needs it, so a term of a long sum is drawn
    beside its use, not at the far left), ops just before their value, the output and every value
    no op uses at the rank of their longest path from the inputs."""
    n = len(program.nodes)
    value_rank, op_rank = [0] * n, [-1] * n
    for node in program.nodes:                          # longest paths first: the last rank
        if node.inputs:
            op_rank[node.index] = max(value_rank[x.index] for x in node.inputs) + 1
            value_rank[node.index] = op_rank[node.index] + 1
    first_use = [-1] * n
    for node in reversed(program.nodes):
        i = node.index
        if first_use[i] >= 0 and node is not program.output:
            value_rank[i] = first_use[i] - 1
        if node.inputs:
            op_rank[i] = value_rank[i] - 1
            for x in node.inputs:
                if first_use[x.index] < 0 or op_rank[i] < first_use[x.index]:
                    first_use[x.index] = op_rank[i]
    return value_rank, op_rank


def _isotonic(targets: list[float]) -> list[float]:
    """The nondecreasing sequence nearest to `targets` (least squares): pool adjacent violators."""
    sums: list[float] = []
    counts: list[int] = []
    for target in targets:
        sums.append(target)
        counts.append(1)
        while len(sums) > 1 and sums[-2] * counts[-1] > sums[-1] * counts[-2]:
            total, count = sums.pop(), counts.pop()
            sums[-1] += total
            counts[-1] += count
    fitted: list[float] = []
    for total, count in zip(sums, counts):
        fitted += [total / count] * count
    return fitted


def layered_layout(program: Program, values: list, op_boxes: list, rankdir: str = "LR") -> dict:
    """A layered drawing in a fixed number of linear passes: ranks (`_ranks`), then an order in
    each rank (a depth-first order from the output, then LAYOUT_PASSES barycentre sweeps each way),
    then positions across the ranks (LAYOUT_PASSES sweeps, each rank placed nearest the mean of its
    neighbours' positions without overlaps: pool adjacent violators), then the ranks' positions
    along.  Long edges are not routed around nodes: the page draws them as light curves."""
    n = len(program.nodes)
    value_rank, op_rank = _ranks(program)
    # Graph nodes: value i is i, op i is n + i.
    along = 0 if rankdir == "LR" else 1                 # the index, in a box, of its size along the ranks
    size = [box[along] for box in values] + [box[along] if box else 0.0 for box in op_boxes]
    across = [box[1 - along] for box in values] + [box[1 - along] if box else 0.0 for box in op_boxes]
    rank = value_rank + op_rank
    preds: list[list[int]] = [[] for _ in range(2 * n)]
    succs: list[list[int]] = [[] for _ in range(2 * n)]
    for node in program.nodes:
        if node.inputs:
            i = node.index
            for x in node.inputs:
                preds[n + i].append(x.index)
                succs[x.index].append(n + i)
            preds[i].append(n + i)
            succs[n + i].append(i)
    present = [g for g in range(2 * n) if rank[g] >= 0]
    # The first order: depth first from the output, operands in order (a tree comes out planar).
    seen = [-1] * (2 * n)
    count = 0
    stack = [program.output.index]
    while stack:
        g = stack.pop()
        if seen[g] >= 0:
            continue
        seen[g] = count
        count += 1
        stack.extend(reversed([p for p in preds[g] if seen[p] < 0]))
    for g in present:
        if seen[g] < 0:
            seen[g] = count + g
    ranks: list[list[int]] = [[] for _ in range(max(rank) + 1)]
    for g in sorted(present, key=lambda g: seen[g]):
        ranks[rank[g]].append(g)
    position = [0.0] * (2 * n)

    def stack_rank(members: list[int]) -> None:
        offset = 0.0
        for g in members:
            position[g] = offset + across[g] / 2
            offset += across[g] + NODE_GAP
        middle = (offset - NODE_GAP) / 2
        for g in members:
            position[g] -= middle

    for members in ranks:
        stack_rank(members)

    def mean_of(g: int, neighbours: list[list[int]]) -> float:
        found = neighbours[g]
        return sum(position[h] for h in found) / len(found) if found else position[g]

    order = list(range(len(ranks)))
    for _ in range(LAYOUT_PASSES):
        for sweep, neighbours in ((order[1:], preds), (order[-2::-1], succs)):
            for r in sweep:
                ranks[r].sort(key=lambda g: mean_of(g, neighbours))
                stack_rank(ranks[r])

    def place(members: list[int], wanted: list[float]) -> None:
        offsets, offset = [], 0.0
        for k, g in enumerate(members):
            if k:
                offset += (across[members[k - 1]] + across[g]) / 2 + NODE_GAP
            offsets.append(offset)
        fitted = _isotonic([w - o for w, o in zip(wanted, offsets)])
        for g, z, o in zip(members, fitted, offsets):
            position[g] = z + o

    for _ in range(LAYOUT_PASSES):
        for sweep, neighbours in ((order[1:], preds), (order[-2::-1], succs)):
            for r in sweep:
                place(ranks[r], [mean_of(g, neighbours) for g in ranks[r]])
    for r in order:
        place(ranks[r], [(mean_of(g, preds) + mean_of(g, succs)) / 2 for g in ranks[r]])
    # Along the ranks: each as wide as its widest member.
    starts, offset = [], 0.0
    for members in ranks:
        width = max((size[g] for g in members), default=0.0)
        starts.append(offset + width / 2)
        offset += width + RANK_GAP
    low = min((position[g] - across[g] / 2 for g in present), default=0.0)
    high = max((position[g] + across[g] / 2 for g in present), default=0.0)
    margin = 8.0

    def box(g: int) -> list[float]:
        a = round(starts[rank[g]] + margin, 1)
        c = round(position[g] - low + margin, 1)
        width, height = (size[g], across[g]) if along == 0 else (across[g], size[g])
        return [a, c, width, height] if along == 0 else [c, a, width, height]

    extent = [round(offset - RANK_GAP + 2 * margin, 1), round(high - low + 2 * margin, 1)]
    return {"engine": "layered", "rankdir": rankdir, "width": extent[along], "height": extent[1 - along],
            "values": [box(i) for i in range(n)], "ops": [box(n + i) if op_boxes[i] else None for i in range(n)]}
