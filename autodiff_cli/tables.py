"""Tables for a terminal, and the numbers in them: the node table of an evaluated program (plain
text, Rich in a terminal, or the same rows as strict JSON), any grid of rows, the Hessian, and
the progress bar.

The node table streams node by node, so a million-node program is written without building its
whole report in memory.  Rich is imported only when a table is drawn for a terminal.
"""
from __future__ import annotations

from bisect import bisect_right
from contextlib import contextmanager
from typing import Callable, Collection, Iterator, Sequence, TextIO

from .engine import Value
from .numbers import format_column, format_number, json_number
from .program import Program
from .reports import Report, Style

COLUMNS = ("id", "label", "op", "inputs", "data", "grad")

NUMERIC = {"id", "data", "grad"}
RICH_ROW_LIMIT = 1000   # Rich takes about 1 ms a row; past this, plain text


def table_rows(program: Program, nodes: Sequence[Value], precision: int = 4,
               right: Sequence[float | None] | None = None) -> Iterator[tuple[str, ...]]:
    """One tuple of display strings per node, in the order of COLUMNS (and the right gradient, after
    a lecture bug's); each column's numbers in one notation."""
    label = program.label
    data = format_column([node.data for node in nodes], precision)
    grad = format_column([node.grad for node in nodes], precision)
    fixed = format_column([right[node.index] for node in nodes], precision) if right is not None else None
    for i, node in enumerate(nodes):
        row = (str(node.index), label(node), node.op.symbol, ", ".join(label(x) for x in node.inputs), data[i], grad[i])
        yield row if fixed is None else (*row, fixed[i])


def select_rows(program: Program, limit: int | None) -> tuple[list[Value], int]:
    """The nodes a table shows (the first ones and the output) and how many it leaves out."""
    nodes = program.nodes
    if limit is None or len(nodes) <= limit:
        return nodes, 0
    shown = nodes[:max(limit - 1, 0)] + [nodes[-1]]
    return shown, len(nodes) - len(shown)


def write_table(program: Program, out: TextIO, *, precision: int = 4, limit: int | None = 200,
                rich: bool = False, cut_hint: str = "", right: Sequence[float | None] | None = None) -> None:
    """The node table: Rich when `rich` (a terminal), aligned plain text otherwise.

    Over `limit` rows it shows the first ones and the output, and a note of how
    many it left out, followed by `cut_hint` (how to see them all).  With `right` (the gradients
    a lecture bug got wrong, by node), the wrong and the right gradients side by side.
    """
    nodes, left_out = select_rows(program, limit)
    rows: list = list(table_rows(program, nodes, precision, right))
    columns = COLUMNS if right is None else (*COLUMNS[:-1], "WRONG grad", "right grad")
    styles = [ROLE_STYLES.get(node.op.name) for node in nodes]
    styles[-1] = "bold green"
    if left_out:
        rows.insert(len(rows) - 1, f"… {left_out} rows not shown" + (f" ({cut_hint})" if cut_hint else ""))
        styles.insert(len(styles) - 1, None)
    write_grid(out, columns, rows, numeric=NUMERIC | {"WRONG grad", "right grad"}, rich=rich and len(rows) <= RICH_ROW_LIMIT,
               title=f"{program.label(program.output)} and its gradients", styles=styles,
               optional=("inputs", "op"))
    out.write(f"{program.label(program.output)} = {format_number(program.value, precision)}\n")


ROLE_STYLES = {"input": "bold cyan", "const": "dim"}


def write_grid(out: TextIO, columns: Sequence[str], rows: Sequence[tuple[str, ...] | str], *,
               numeric: Collection[str] = (), rich: bool = False, title: str | None = None,
               styles: Sequence[str | None] | None = None, optional: Sequence[str] = ()) -> None:
    """A table of strings; a row that is one string is a note across the table.

    Rich draws it for a terminal, folding text columns to fit its width and,
    if that is not enough, leaving out the `optional` columns (in that order);
    otherwise it is aligned plain text with no colour codes, cheap enough for a
    million rows.  A number is never cut: in a terminal too narrow for the
    numbers even then, the table is plain text too.
    """
    if rich:
        shown = list(columns)
        for dropped in [None, *optional]:
            if dropped is not None and dropped in shown:
                keep = [i for i, name in enumerate(shown) if name != dropped]
                shown = [shown[i] for i in keep]
                rows = [row if isinstance(row, str) else tuple(row[i] for i in keep) for row in rows]
            if _write_rich_grid(out, shown, rows, numeric, title, styles):
                return
        columns = shown if len(shown) == len(columns) else columns
    widths = [len(c) for c in columns]
    for row in rows:
        if not isinstance(row, str):
            widths = [max(w, len(cell)) for w, cell in zip(widths, row)]
    out.write(_plain_line(columns, columns, widths, numeric))
    for row in rows:
        out.write(row + "\n" if isinstance(row, str) else _plain_line(columns, row, widths, numeric))


def _plain_line(columns: Sequence[str], cells: Sequence[str], widths: list[int], numeric: Collection[str]) -> str:
    return "  ".join(c.rjust(w) if name in numeric else c.ljust(w)
                     for name, c, w in zip(columns, cells, widths)).rstrip() + "\n"


RICH_TEXT_COLUMN = 8        # the narrowest a text column gets before a Rich table is not worth drawing


def _write_rich_grid(out: TextIO, columns: Sequence[str], rows: Sequence[tuple[str, ...] | str],
                     numeric: Collection[str], title: str | None, styles: Sequence[str | None] | None) -> bool:
    """Draws the table with Rich, numeric columns never wrapped or cut, text columns folded; False
    (nothing drawn) when the terminal is too narrow for that."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from .output import escape_controls, raw

    console = Console(file=raw(out), highlight=False)
    widths = [len(c) for c in columns]
    for row in rows:
        if not isinstance(row, str):
            widths = [max(w, len(cell)) for w, cell in zip(widths, row)]
    needed = sum(w if name in numeric else min(w, RICH_TEXT_COLUMN) for name, w in zip(columns, widths))
    if needed + 3 * len(columns) + 1 > console.width:
        return False
    notes = [row for row in rows if isinstance(row, str)]
    table = Table(title=title and Text(escape_controls(title)), title_justify="left",
                  caption=Text(escape_controls("\n".join(notes))) if notes else None, caption_justify="left")
    for name in columns:
        table.add_column(Text(escape_controls(name)))
    for name, column, width in zip(columns, table.columns, widths):
        if name in numeric:
            column.justify, column.no_wrap, column.min_width = "right", True, width
        else:
            column.justify, column.overflow = "left", "fold"
    for i, row in enumerate(rows):
        if isinstance(row, str):
            table.add_row(*["⋮"] * len(columns), style="dim")
        else:                                   # Text, not markup: a label [red] is shown as it is
            table.add_row(*(Text(escape_controls(cell)) for cell in row), style=styles[i] if styles else None)
    console.print(table)
    return True


def write_hessian(hessian: dict[str, dict[str, float | None]], out: TextIO, *, output: str = "out",
                  precision: int = 4, rich: bool = False, width: int | None = None) -> None:
    """The second derivatives as a square table: row a, column b is d² output / da db.  A table
    wider than `width` (a terminal's) is folded into blocks of columns, as NumPy prints a wide
    array."""
    names = list(hessian)
    cells = {a: [format_number(hessian[a][b], precision) for b in names] for a in names}
    label = f"d²{output}/d·d·"
    first = max([len(label), *map(len, names)])
    column = [max(len(b), *(len(cells[a][j]) for a in names)) for j, b in enumerate(names)]
    blocks, start = [], 0
    while start < len(names):
        end, used = start, first + 4 * (rich + 1)
        while end < len(names) and (width is None or end == start or used + column[end] + 3 <= width):
            used += column[end] + 3
            end += 1
        blocks.append((start, end))
        start = end
    for start, end in blocks:
        shown = names[start:end]
        title = "the second derivatives" + (f", columns {start + 1}-{end} of {len(names)}" if len(blocks) > 1 else "")
        rows = [(a, *cells[a][start:end]) for a in names]
        write_grid(out, (label, *shown), rows, numeric=set(shown), rich=rich, title=title)


@contextmanager
def progress_bar(total: int, terminal: TextIO | None, description: str,
                 minimum: int = 1000) -> Iterator[Callable[..., None] | None]:
    """A Rich progress bar on `terminal`, gone when the work ends; None (no bar) for fewer than
    `minimum` units of work or when there is no terminal to draw on.  It is told
    `(done)`, or `(done, status)` to show a status beside the description (the current loss)."""
    if total < minimum or terminal is None:
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(file=terminal), transient=True) as progress:
        task = progress.add_task(description, total=total)

        def update(done: int, status: str | None = None) -> None:
            if status is None:
                progress.update(task, completed=done)
            else:
                progress.update(task, completed=done, description=f"{description}: {status}")
        yield update


def write_json(program: Program, out: TextIO, hessian: dict[str, dict[str, float]] | None = None,
               warning: str | None = None, right: Sequence[float | None] | None = None) -> None:
    """Strict JSON (no NaN or Infinity), streamed one node per line.

    Keys: value, output, warning (the lecture bug shown, if any), grad (input name -> d output / d input, in order of
    first appearance), right_grad (with a lecture bug: the right ones), hessian if given (input -> input -> d²
    output / dx dy) and nodes (id, label, op, inputs, data, grad, line, column, and right_grad with a bug).
    The loop is the hot path of the JSON report of big graphs, hence its plainness.
    """
    from json.encoder import encode_basestring_ascii as quote
    from math import isfinite

    float_repr = float.__repr__
    label = program.label
    grads = json_by_input(program, {name: node.grad for name, node in program.inputs.items()})
    out.write(f'{{\n  "value": {json_number(program.value)},\n  "output": {quote(label(program.output))},\n'
              + (f'  "warning": {quote(warning)},\n' if warning else "") + f'  "grad": {{{grads}}},\n')
    if right is not None:
        fixed = json_by_input(program, {name: right[node.index] for name, node in program.inputs.items()})
        out.write(f'  "right_grad": {{{fixed}}},\n')
    if hessian is not None:
        rows = ",\n".join(f"    {quote(a)}: {{" + ", ".join(f"{quote(b)}: {json_number(v)}" for b, v in row.items()) + "}"
                          for a, row in hessian.items())
        out.write(f'  "hessian": {{\n{rows}\n  }},\n')
    out.write('  "nodes": [')
    ops = {}
    line_starts = program.line_starts()
    chunk: list[str] = []
    separator = "\n"
    for node in program.nodes:
        op = ops.get(node.op) or ops.setdefault(node.op, quote(node.op.symbol))
        inputs = node.inputs
        if not inputs:
            ids = ""
        elif len(inputs) == 2:
            ids = f"{inputs[0].index}, {inputs[1].index}"
        else:
            ids = ", ".join([str(x.index) for x in inputs])
        data, grad = node.data, node.grad
        if not ((data is None or isfinite(data)) and (grad is None or isfinite(grad))):
            raise ValueError(f"refusing to write a non-finite number as JSON: {node!r}")
        grad = "null" if grad is None else float_repr(grad)
        data = "null" if data is None else float_repr(data)     # None: a node only a closed gate uses
        line = bisect_right(line_starts, node.start)
        extra = "" if right is None else f', "right_grad": {json_number(right[node.index])}'
        chunk.append(f'{separator}    {{"id": {node.index}, "label": {quote(label(node))}, "op": {op}, '
                     f'"inputs": [{ids}], "data": {data}, "grad": {grad}{extra}, '
                     f'"line": {line}, "column": {node.start - line_starts[line - 1] + 1}}}')
        separator = ",\n"
        if len(chunk) >= 4096:
            out.write("".join(chunk))
            chunk.clear()
    out.write("".join(chunk) + "\n  ]\n}\n")


def json_by_input(program: Program, values: dict[str, float | None]) -> str:
    """`"z": [1.0, 2.0], "b": 0.5`: numbers by input, a vector input's as a list, a matrix's as rows."""
    from json.encoder import encode_basestring_ascii as quote

    def numbers(row: list) -> str:
        return "[" + ", ".join(map(json_number, row)) + "]"

    def written(value) -> str:
        if not isinstance(value, list):
            return json_number(value)
        return "[" + ", ".join(map(numbers, value)) + "]" if isinstance(value[0], list) else numbers(value)
    return ", ".join(f"{quote(name)}: {written(value)}" for name, value in program.grouped(values).items())


class NodeReport(Report):
    """eval's report: every node's value and gradient (a table, or JSON streamed node by node),
    with the second derivatives when asked for, and a warning when the gradients are a lecture
    bug's."""

    text_formats = ("text", "json")

    def __init__(self, program: Program, *, precision: int = 4, limit: int | None = 200,
                 hessian: dict[str, dict[str, float | None]] | None = None, warning: str | None = None,
                 cut_hint: str = "", output: str = "out", right: Sequence[float | None] | None = None):
        self.program = program
        self.precision = precision
        self.limit = limit
        self.hessian = hessian
        self.warning = warning
        self.cut_hint = cut_hint
        self.output = output
        self.right = right          # with a lecture bug: the right gradients, by node

    def write_json(self, out: TextIO, style: Style) -> None:
        write_json(self.program, out, hessian=self.hessian, warning=self.warning, right=self.right)

    def write_text(self, out: TextIO, style: Style) -> None:
        if self.warning:
            out.write(f"# {self.warning}\n")
        write_table(self.program, out, precision=self.precision, limit=self.limit, rich=style.rich,
                    cut_hint=self.cut_hint, right=self.right)
        if self.hessian is not None:
            write_hessian(self.hessian, out, output=self.output, precision=self.precision, rich=style.rich,
                          width=style.width)
