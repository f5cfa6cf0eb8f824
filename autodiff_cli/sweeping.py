"""Sweeps: one program at many points, run once over NumPy arrays.

The points come from ranges (`x=-5:5:101`; several make a grid) or from a
file (CSV with a header, or JSON Lines), chunk by chunk, so ten million
points run in bounded memory.  Each chunk runs the graph once: every node's
`data` becomes an array, computed by its op's array rule from the op table,
and the backward pass accumulates array gradients the same way.

Exactness: a point where any op refuses its operands, or where a value or an
input's gradient is not finite, is run again by the scalar engine, which
gives the same error (op, place and reason) as a single-point `eval`, or the
numbers if the array pass was only suspicious.  Every other point is the
array pass's own result, which agrees with the scalar engine to within a few
units in the last place (NumPy's exp, tanh, sin... are not always Python's).

NumPy is imported here only, so a single-point command never pays for it.
"""
from __future__ import annotations

import csv
import io
import json
import math
import sys
from dataclasses import dataclass, field
from typing import Callable, Iterator, Mapping, Sequence, TextIO

from . import ops
from .errors import AutodiffError, MissingInputsError
from .program import Program

DEFAULT_COUNT = 101
CHUNK_BYTES = 1 << 24           # aim for about 16 MB of node arrays per chunk
MAX_CHUNK = 65536


def numpy():
    import numpy as np
    return np


@dataclass
class Axis:
    """One swept input: `count` evenly spaced values from `start` to `stop`, both included."""

    name: str
    start: float
    stop: float
    count: int

    def values(self):
        return numpy().linspace(self.start, self.stop, self.count)


def parse_axis(text: str, default_count: int = DEFAULT_COUNT) -> Axis:
    """`x=-5:5:101` (or `x=-5:5`, with `default_count` points) as an `Axis`."""
    name, sep, spec = text.partition("=")
    name = name.strip()
    parts = spec.split(":")
    if not sep or not name.isidentifier() or len(parts) not in (2, 3):
        raise AutodiffError(f"{text}: expected NAME=START:STOP or NAME=START:STOP:COUNT, e.g. x=-5:5:101")
    try:
        start, stop = float(parts[0]), float(parts[1])
        count = int(parts[2]) if len(parts) == 3 else default_count
    except ValueError:
        raise AutodiffError(f"{text}: START and STOP must be numbers and COUNT a whole number") from None
    if not (math.isfinite(start) and math.isfinite(stop)):
        raise AutodiffError(f"{text}: START and STOP must be finite numbers")
    if count < 1 or (count == 1 and start != stop):
        raise AutodiffError(f"{text}: COUNT must be at least 2 (or 1 with START = STOP)")
    return Axis(name, start, stop, count)


class Points:
    """Where a sweep runs: columns of input values, given a chunk at a time."""

    names: list[str]            # the inputs the points give values to
    count: int | None           # None when not known in advance (a stream)

    def chunks(self, size: int) -> Iterator[dict]:
        raise NotImplementedError

    def each(self) -> Iterator[dict[str, float]]:
        """One point at a time, as {input name: value}."""
        for columns in self.chunks(MAX_CHUNK):
            values = [column.tolist() for column in columns.values()]
            for row in zip(*values):
                yield dict(zip(columns, row))


class Grid(Points):
    """Every combination of the axes' values; the first axis varies slowest (as nested loops)."""

    def __init__(self, axes: Sequence[Axis]):
        names = [axis.name for axis in axes]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise AutodiffError(f"{repeated[0]} is swept twice")
        self.axes = list(axes)
        self.names = names
        self.count = math.prod(axis.count for axis in axes)

    def chunks(self, size: int) -> Iterator[dict]:
        np = numpy()
        values = [axis.values() for axis in self.axes]
        shape = tuple(axis.count for axis in self.axes)
        for start in range(0, self.count, size):
            where = np.unravel_index(np.arange(start, min(start + size, self.count)), shape)
            yield {name: axis_values[i] for name, axis_values, i in zip(self.names, values, where)}


class FilePoints(Points):
    """Points read from CSV (a header row of input names) or JSON Lines (one object per line)."""

    def __init__(self, stream: TextIO, source: str):
        self.stream = stream
        self.source = source
        self.count = None
        first = stream.readline()
        while first and not first.strip():
            first = stream.readline()
        self.json = first.lstrip().startswith("{")
        if self.json:
            self.first = first
            self.names = list(self._json_row(first, 1))
        else:
            header = next(csv.reader([first]), [])
            self.names = [name.strip() for name in header]
            if not self.names:
                raise AutodiffError(f"{source}: empty: expected a header row of input names, or JSON Lines")

    def chunks(self, size: int) -> Iterator[dict]:
        np = numpy()
        rows = self._rows()
        while True:
            block = [row for _, row in zip(range(size), rows)]
            if not block:
                return
            columns = np.array(block, dtype=float).reshape(len(block), len(self.names))
            yield {name: columns[:, i] for i, name in enumerate(self.names)}

    def _rows(self) -> Iterator[list[float]]:
        if self.json:
            yield list(self._json_row(self.first, 1).values())
            for line_number, line in enumerate(self.stream, 2):
                if line.strip():
                    row = self._json_row(line, line_number)
                    if list(row) != self.names:
                        raise AutodiffError(f"{self.source} line {line_number}: the keys are {', '.join(row)}; "
                                            f"the first line's were {', '.join(self.names)}")
                    yield list(row.values())
            return
        for line_number, cells in enumerate(csv.reader(self.stream), 2):
            if not cells:
                continue
            if len(cells) != len(self.names):
                raise AutodiffError(f"{self.source} line {line_number}: {len(cells)} values for "
                                    f"{len(self.names)} columns ({', '.join(self.names)})")
            yield [self._number(cell, line_number) for cell in cells]

    def _json_row(self, line: str, line_number: int) -> dict[str, float]:
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise AutodiffError(f"{self.source} line {line_number}: not JSON: {exc}") from None
        if not isinstance(row, dict):
            raise AutodiffError(f"{self.source} line {line_number}: expected an object such as {{\"x\": 1.5}}")
        return {name: self._number(value, line_number) for name, value in row.items()}

    def _number(self, value, line_number: int) -> float:
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
        except (TypeError, ValueError):
            raise AutodiffError(f"{self.source} line {line_number}: {value!r} is not a number") from None
        if not math.isfinite(number):
            raise AutodiffError(f"{self.source} line {line_number}: {value!r} is not a finite number")
        return number


def open_points(path: str) -> FilePoints:
    """The points in the file at `path` ('-' for standard input)."""
    if path == "-":
        return FilePoints(sys.stdin, "standard input")
    try:
        stream = open(path, encoding="utf-8", newline="")
    except OSError as exc:
        raise AutodiffError(f"cannot read the points from {path}: {exc.strerror}") from None
    return FilePoints(stream, path)


def points_from_text(text: str) -> FilePoints:
    """Points from CSV or JSON Lines text (for notebooks and tests)."""
    return FilePoints(io.StringIO(text), "the points")


@dataclass
class Chunk:
    """The results at consecutive points: `start` is the first one's number in the sweep.

    `inputs` holds every input's values (swept or fixed), `value` the output's,
    `grad` d output / d input.  A point in `errors` (chunk-relative index ->
    message) failed: its value and gradients are NaN.  Elsewhere a NaN
    gradient is one that does not exist (`null` in JSON, as in `eval`).
    """

    start: int
    inputs: dict
    value: object
    grad: dict
    errors: dict[int, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.value)


def sweep(program: Program, points: Points, *, strict: bool = False,
          on_progress: Callable[[int], None] | None = None) -> Iterator[Chunk]:
    """Run `program` at every point, a chunk at a time.

    Inputs the points do not give keep their current value (a default, or one
    set before).  With `strict`, the first point that fails raises its error
    (as a single-point run would) instead of being recorded.  `on_progress(n)`
    is told after each chunk how many points are done.
    """
    program.check_inputs(points.names)
    before = {name: node.data for name, node in program.inputs.items()}
    missing = [name for name, value in before.items() if value is None and name not in points.names]
    if missing:
        raise MissingInputsError(missing, program.text, program.inputs[missing[0]].start)
    size = chunk_size(len(program.nodes))
    derivatives = local_derivatives(program)
    start = 0
    try:
        for columns in points.chunks(size):
            chunk = run_chunk(program, columns, start, strict, derivatives)
            start += len(chunk)
            if on_progress is not None:
                on_progress(start)
            yield chunk
    finally:
        for name, node in program.inputs.items():
            node.data = before[name]


def chunk_size(nodes: int) -> int:
    """Points per chunk: large enough to keep NumPy busy, small enough for the node arrays to fit."""
    return max(64, min(MAX_CHUNK, CHUNK_BYTES // (16 * max(nodes, 1))))


def run_chunk(program: Program, columns: Mapping[str, object], start: int = 0, strict: bool = False,
              derivatives: list | None = None) -> Chunk:
    """The program at the points of `columns` (input name -> array, all of one length).
    `derivatives` are `local_derivatives(program)`, when the caller runs many chunks."""
    np = numpy()
    n = len(next(iter(columns.values()))) if columns else 1
    data, suspect = forward_arrays(program, columns, n)
    grads = backward_arrays(program, data, derivatives or local_derivatives(program))
    value = _column(data[program.output.index], n)
    grad = {name: _column(grads[node.index], n) for name, node in program.inputs.items()}
    for g in grad.values():
        suspect |= ~np.isfinite(g)
    inputs = {name: _column(columns[name] if name in columns else node.data, n)
              for name, node in program.inputs.items()}
    suspects = np.flatnonzero(suspect)
    errors = {}
    if len(suspects):
        value = value.copy()                # writable, and no longer shared with another column
        grad = {name: g.copy() for name, g in grad.items()}
        errors = _rerun_scalar(program, suspects, inputs, value, grad, strict)
    return Chunk(start, inputs, value, grad, errors)


def _column(x, n: int):
    """`x` (an array, or a number that does not vary) as n floats: a read-only view, not a copy."""
    np = numpy()
    return np.broadcast_to(np.asarray(x, dtype=float), (n,))


def forward_arrays(program: Program, columns: Mapping[str, object], n: int):
    """Every node's data over the points (an array, or a float where it does not vary), and a mask
    of the points to run again: an op refused them, or some value is not finite."""
    np = numpy()
    data: list = [None] * len(program.nodes)
    suspect = np.zeros(n, dtype=bool)
    total = np.zeros(n)
    with np.errstate(all="ignore"):
        for name, node in program.inputs.items():
            data[node.index] = columns[name] if name in columns else np.float64(node.data)
        for i, node in enumerate(program.nodes):
            if node.op is ops.CONST:
                data[i] = np.float64(node.data)        # NumPy's rules even for constants: 1/0 is inf, not an exception
            elif node.inputs:
                xs = [data[x.index] for x in node.inputs]
                if node.op.refuse:
                    suspect |= node.op.refuses(np, *xs)
                data[i] = node.op.array(np, *xs)
                total += data[i]
    suspect |= ~np.isfinite(total)
    return data, suspect


def local_derivatives(program: Program) -> list[list]:
    """Each node's local derivatives as expressions of the nodes (`rules.local_derivative`): the
    op table's rule texts, simplified for this node's constants, evaluated over arrays below."""
    from .rules import local_derivative, node_refs

    refs = node_refs(program)
    return [[local_derivative(node, k, refs) for k in range(len(node.inputs))] for node in program.nodes]


def backward_arrays(program: Program, data: list, derivatives: list[list]) -> list:
    """d output / d node over the points for every node (0 where the output does not depend on it)."""
    from .rules import evaluate_array

    np = numpy()
    grads: list = [None] * len(program.nodes)
    grads[program.output.index] = 1.0
    with np.errstate(all="ignore"):
        for i in range(program.output.index, -1, -1):
            node, g = program.nodes[i], grads[i]
            if g is None or not node.inputs:
                continue
            local = [evaluate_array(e, data, np) for e in derivatives[i]]
            for x, d in zip(node.inputs, local):
                contribution = g if isinstance(d, float) and d == 1.0 else g * d    # + passes g on, uncopied
                j = x.index
                grads[j] = contribution if grads[j] is None else grads[j] + contribution
    return [0.0 if g is None else g for g in grads]


def _rerun_scalar(program: Program, suspects, inputs: dict, value, grad: dict, strict: bool) -> dict[int, str]:
    """Run the suspect points one by one: their numbers, or their errors."""
    errors = {}
    for i in suspects.tolist():
        program.set({name: column[i] for name, column in inputs.items()})
        try:
            program.run()
        except AutodiffError as exc:
            if strict:
                raise
            errors[i] = exc.one_line()
            value[i] = math.nan
            for g in grad.values():
                g[i] = math.nan
            continue
        value[i] = program.value
        for name, node in program.inputs.items():
            grad[name][i] = math.nan if node.grad is None else node.grad
    return errors
