"""Reports of an evaluated program: a table (plain or Rich) and strict JSON.

Both stream node by node, so a million-node program is written without
building its whole report in memory.  Rich is imported only when a table is
drawn for a terminal.
"""
from __future__ import annotations

import json
from typing import Iterable, Iterator, TextIO

from .engine import Value
from .program import Program, format_number

COLUMNS = ("id", "label", "op", "inputs", "data", "grad")
NUMERIC = {"id", "data", "grad"}
RICH_ROW_LIMIT = 1000   # Rich takes about 1 ms a row; past this, plain text


def table_rows(program: Program, nodes: Iterable[Value], precision: int = 4) -> Iterator[tuple[str, ...]]:
    """One tuple of display strings per node, in the order of COLUMNS."""
    label = program.label
    for node in nodes:
        yield (str(node.index), label(node), node.op.symbol, ", ".join(label(x) for x in node.inputs),
               format_number(node.data, precision), format_number(node.grad, precision))


def select_rows(program: Program, limit: int | None) -> tuple[list[Value], int]:
    """The nodes a table shows (the first ones and the output) and how many it leaves out."""
    nodes = program.nodes
    if limit is None or len(nodes) <= limit:
        return nodes, 0
    shown = nodes[:max(limit - 1, 0)] + [nodes[-1]]
    return shown, len(nodes) - len(shown)


def write_table(program: Program, out: TextIO, *, precision: int = 4, limit: int | None = 200,
                rich: bool = False) -> None:
    """The node table: Rich when `rich` (a terminal), aligned plain text otherwise."""
    nodes, left_out = select_rows(program, limit)
    if rich and len(nodes) <= RICH_ROW_LIMIT:
        _write_rich_table(program, nodes, left_out, out, precision)
    else:
        _write_plain_table(program, nodes, left_out, out, precision)
    out.write(f"{program.label(program.output)} = {format_number(program.value, precision)}\n")


def _omission_note(left_out: int) -> str:
    return f"… {left_out} rows not shown (--all shows every row; --json has every node)"


def _write_plain_table(program: Program, nodes: list[Value], left_out: int, out: TextIO, precision: int) -> None:
    widths = [len(c) for c in COLUMNS]
    for row in table_rows(program, nodes, precision):
        widths = [max(w, len(cell)) for w, cell in zip(widths, row)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if name in NUMERIC else c.ljust(w)
                         for name, c, w in zip(COLUMNS, cells, widths)).rstrip() + "\n"

    out.write(line(COLUMNS))
    last = len(nodes) - 1
    for i, row in enumerate(table_rows(program, nodes, precision)):
        if left_out and i == last:
            out.write(_omission_note(left_out) + "\n")
        out.write(line(row))


def _write_rich_table(program: Program, nodes: list[Value], left_out: int, out: TextIO, precision: int) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*COLUMNS, title=f"{program.label(program.output)} and its gradients", title_justify="left")
    for name, column in zip(COLUMNS, table.columns):
        column.justify = "right" if name in NUMERIC else "left"
    styles = {"input": "bold cyan", "const": "dim"}
    last = len(nodes) - 1
    for i, row in enumerate(table_rows(program, nodes, precision)):
        if left_out and i == last:
            table.add_row("", _omission_note(left_out), end_section=True)
        style = "bold green" if i == last else styles.get(nodes[i].op.name)
        table.add_row(*row, style=style)
    Console(file=out, highlight=False).print(table)


def write_json(program: Program, out: TextIO) -> None:
    """Strict JSON (no NaN or Infinity), streamed one node per line.

    Keys: value, output, grad (input name -> d output / d input, in order of
    first appearance) and nodes (id, label, op, inputs, data, grad, line, column).
    """
    dumps = json.dumps
    label = program.label
    grads = ", ".join(f"{dumps(name)}: {_number(node.grad)}" for name, node in program.inputs.items())
    out.write(f'{{\n  "value": {_number(program.value)},\n  "output": {dumps(label(program.output))},\n'
              f'  "grad": {{{grads}}},\n  "nodes": [')
    chunk: list[str] = []
    separator = "\n"
    for node in program.nodes:
        line, column = program.position(node)
        inputs = ", ".join(str(x.index) for x in node.inputs)
        chunk.append(f'{separator}    {{"id": {node.index}, "label": {dumps(label(node))}, '
                     f'"op": {dumps(node.op.symbol)}, "inputs": [{inputs}], "data": {_number(node.data)}, '
                     f'"grad": {_number(node.grad)}, "line": {line}, "column": {column}}}')
        separator = ",\n"
        if len(chunk) >= 4096:
            out.write("".join(chunk))
            chunk.clear()
    out.write("".join(chunk) + "\n  ]\n}\n")


def _number(x: float) -> str:
    """A finite float as JSON that reads back to the same float (repr is shortest round-trip)."""
    if x - x != 0.0:
        raise ValueError(f"refusing to write {x!r} as JSON")
    return repr(float(x))
