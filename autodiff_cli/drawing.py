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
from typing import TYPE_CHECKING, Iterator

from . import ops
from .engine import Value
from .errors import AutodiffError
from .output import write_bytes
from .program import Program
from .tables import format_number

if TYPE_CHECKING:
    import graphviz

RENDERED = ("svg", "png", "pdf")
PAGE = ("html", "htm")
BINARY = ("png", "pdf")
TEXT = ("dot", "gv")
SLOW_LAYOUT = 2_000         # nodes; above this, warn that layout will be slow
MAX_LAYOUT = 20_000         # nodes; above this, refuse to lay out (Graphviz would take minutes)
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


def check_layout_size(program: Program, limit: int | None = None) -> str | None:
    """Refuse a graph too large to lay out (over `limit`, by default MAX_LAYOUT nodes); a warning
    to show for one that will be slow, else None."""
    limit = limit or MAX_LAYOUT
    size = len(program.nodes)
    if size > limit:
        raise GraphTooLargeError(size, limit)
    if size > SLOW_LAYOUT:
        return f"laying out {size} nodes may take a while; SVG is the fastest format"
    return None


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


def digraph(program: Program, *, precision: int = 4, rankdir: str = "LR", grad: bool = True) -> graphviz.Digraph:
    """The picture as a `graphviz.Digraph` (shown inline in a notebook, like `draw_dot(L)`)."""
    import graphviz

    dot = graphviz.Digraph("autodiff", graph_attr={"rankdir": rankdir},
                           node_attr={"fontname": "Helvetica", "fontsize": "11"},
                           edge_attr={"arrowsize": "0.7"})
    for node in program.nodes:
        i = node.index
        fields = [record_escape(program.label(node)), f"data {format_number(node.data, precision)}"]
        if grad:
            fields.append(f"grad {format_number(node.grad, precision)}")
        dot.node(f"v{i}", graphviz.nohtml("{ " + " | ".join(fields) + " }"), shape="record",
                 **STYLES[role(program, node)])
        if node.inputs:
            dot.node(f"op{i}", node.op.symbol, shape="ellipse", width="0.3", height="0.3",
                     fontsize="10")
            for x in node.inputs:
                dot.edge(f"v{x.index}", f"op{i}")
            dot.edge(f"op{i}", f"v{i}")
    return dot


def write_picture(program: Program, path: str | None, fmt: str, *, backend: str = "auto", **options) -> None:
    """Render (or, for .dot, just write) the picture to `path`, or to standard output when None.

    Renders to memory first, then writes by the output layer's rules (a file replaced in one
    step), so a failed render never leaves a partial or mislabelled file behind.
    """
    source = digraph(program, **options).source
    data = source.encode("utf-8") if fmt == "dot" else render(source, fmt, backend)
    write_bytes(data, path)


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
