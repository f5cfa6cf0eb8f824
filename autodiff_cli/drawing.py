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


def digraph(program: Program, *, precision: int = 4, rankdir: str = "LR", grad: bool = True,
            grads: list[float | None | bool] | None = None, title: str | None = None) -> graphviz.Digraph:
    """The picture as a `graphviz.Digraph` (shown inline in a notebook, like `draw_dot(L)`).
    `grads` replaces the nodes' gradients (False: not reached yet, shown empty); `title` is
    written above the picture."""
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
                     fontsize="10")
            for x in node.inputs:
                dot.edge(f"v{x.index}", f"op{i}")
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
