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
import itertools
import json
import math
import warnings
from dataclasses import dataclass, field
from typing import Callable, Collection, Iterable, Iterator, Mapping, Sequence

from . import ops
from .errors import AutodiffError, MissingInputsError, clip
from .program import Program
from .sources import numbered_lines

DEFAULT_COUNT = 101
CHUNK_BYTES = 1 << 24           # aim for about 16 MB of node arrays per chunk
MAX_CHUNK = 65536


def numpy():
    import numpy as np
    return np


MAX_POINTS = 10**9              # a sweep's ceiling, unless raised (a typo of 10^12 points is refused at once)
MAX_INDEX = 2**62               # no axis or grid may have more points than an int64 index can count


@dataclass
class Axis:
    """One swept input: `count` values from `start`, as NumPy gives them: evenly spaced to `stop`
    with both ends included (`linspace`), or, with a `step`, `start + i*step` below `stop`
    (`arange`: the stop excluded)."""

    name: str
    start: float
    stop: float
    count: int
    step: float | None = None

    def at(self, indices):
        """The values at these indices, computed from them (no axis is ever held whole), the same
        floats as np.linspace or np.arange gives."""
        np = numpy()
        if self.step is not None:
            delta = (self.start + self.step) - self.start          # as np.arange fills it
            return indices * delta + self.start
        if self.count == 1:
            return np.full(len(indices), self.start)
        values = indices * ((self.stop - self.start) / (self.count - 1)) + self.start
        return np.where(indices == self.count - 1, self.stop, values)        # as np.linspace ends

    def values(self):
        """Every value (for the small axes of a picture)."""
        return self.at(numpy().arange(self.count))


AXIS_FORMS = "NAME=START:STOP, NAME=START:STOP:COUNT or NAME=START:STOP:step=STEP"


def parse_axis(text: str, default_count: int = DEFAULT_COUNT) -> Axis:
    """`x=-5:5:101`, `x=-5:5` (`default_count` points), `x=-5:5:step=0.25` (as np.arange), with
    bounds written as numbers or expressions of numbers (`x=-pi:pi`, `x=0:2*pi`)."""
    from .parsing import constant

    name, sep, spec = text.partition("=")
    name = name.strip()
    parts = spec.split(":")
    shown = clip(text)
    if not sep or not name.isidentifier() or len(parts) not in (2, 3):
        raise AutodiffError(f"{shown}: expected {AXIS_FORMS}, e.g. x=-5:5:101")
    start, stop = (constant(part, f"{shown}: {which}") for part, which in zip(parts, ("START", "STOP")))
    if not math.isfinite(stop - start):
        raise AutodiffError(f"{shown}: the range from START to STOP is too wide for a float")
    last = parts[2].strip() if len(parts) == 3 else None
    if last is not None and last.replace(" ", "").startswith("step="):
        step = constant(last.split("=", 1)[1], f"{shown}: STEP")
        if not step > 0 or stop <= start:
            raise AutodiffError(f"{shown}: STEP must be positive and STOP above START")
        count = (stop - start) / step
        if not count <= MAX_INDEX:
            raise AutodiffError(f"{shown}: {count:.3g} points are more than any sweep can count")
        count = math.ceil(count)
        return Axis(name, start, stop, count, step)
    count = default_count if last is None else _count(last, shown)
    if count == 1 and start != stop:
        raise AutodiffError(f"{shown}: COUNT must be at least 2 (or 1 with START = STOP)")
    return Axis(name, start, stop, count)


def _count(text: str, shown: str) -> int:
    """COUNT: a whole number, also written `1e3`."""
    try:
        value = float(text)
    except ValueError:
        raise AutodiffError(f"{shown}: COUNT must be a whole number, not {clip(text)!r}") from None
    if not value.is_integer() or value < 1:
        raise AutodiffError(f"{shown}: COUNT must be a whole number of at least 1, not {clip(text)}")
    if value > MAX_INDEX:
        raise AutodiffError(f"{shown}: COUNT {clip(text)} is more than any sweep can count")
    return int(value)


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
    """Every combination of the axes' values; the first axis varies slowest (as nested loops).
    Each chunk's values are computed from its points' indices: memory does not grow with the
    number of points."""

    def __init__(self, axes: Sequence[Axis], limit: int = MAX_POINTS):
        names = [axis.name for axis in axes]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise AutodiffError(f"{repeated[0]} is swept twice")
        self.axes = list(axes)
        self.names = names
        self.count = math.prod(axis.count for axis in axes)
        if self.count > limit:
            raise PointsLimitError(self.count, limit)

    def chunks(self, size: int) -> Iterator[dict]:
        np = numpy()
        shape = tuple(axis.count for axis in self.axes)
        for start in range(0, self.count, size):
            where = np.unravel_index(np.arange(start, min(start + size, self.count), dtype=np.int64), shape)
            yield {axis.name: axis.at(i) for axis, i in zip(self.axes, where)}


class PointsLimitError(AutodiffError):
    """More points than the ceiling allows; the CLI names the option that raises it."""

    def __init__(self, count: int, limit: int):
        super().__init__(f"the sweep has {count:,} points, more than the ceiling of {limit:,}")
        self.count = count
        self.limit = limit


class FilePoints(Points):
    """Points read from CSV (a header row of input names) or JSON Lines (one object per line; the
    tool's own rows, {"inputs": {...}, "value": ..., ...}, give their inputs).  Read through
    `sources` (bounded, decoded, line numbers kept) a block of lines at a time: CSV by NumPy's C
    reader, falling back to the csv module to name the line of any problem."""

    def __init__(self, blocks: Iterable[tuple[int, str]], source: str):
        self.blocks = iter(blocks)
        self.source = source
        self.count = None
        self.first: tuple[int, str] | None = None
        self.rest: tuple[int, str] = (1, "")        # the first block's text after the first line
        for number, text in self.blocks:
            offset = 0
            for line_number, line in numbered_lines(number, text):
                offset += len(line)
                if line.strip():
                    self.first, self.rest = (line_number, line), (line_number + 1, text[offset:])
                    break
            if self.first is not None:
                break
        if self.first is None:
            raise AutodiffError(f"{source}: empty: expected a header row of input names, or JSON Lines")
        self.json = self.first[1].lstrip().startswith("{")
        self.columns = list(self._json_point(*self.first)) if self.json else self._header(*self.first)
        self.names = list(self.columns)         # the columns the points give (all, unless `only`)

    def only(self, names: Collection[str]) -> FilePoints:
        """The points with just these of their columns (the others dropped unread)."""
        self.names = [name for name in self.columns if name in names]
        return self

    def _header(self, number: int, line: str) -> list[str]:
        names = [name.strip() for name in self._csv_rows([(number, line)])[0][1]]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise AutodiffError(f"{self.source} line {number}: the column {clip(repeated[0])} is named twice")
        return names

    def chunks(self, size: int) -> Iterator[dict]:
        for _, columns in self.numbered_chunks(size):
            yield columns

    def numbered_chunks(self, size: int) -> Iterator[tuple[Sequence[int], dict]]:
        """As `chunks`, each with its points' line numbers in the file (for messages about a row)."""
        texts = itertools.chain([self.rest], self.blocks)
        if self.json:
            lines = itertools.chain([self.first], (line for number, text in texts
                                                   for line in numbered_lines(number, text)))
            for block in _batched((item for item in lines if item[1].strip()), size):
                yield [number for number, _ in block], dict(zip(self.names, self._json_block(block)))
            return
        for number, text in texts:
            if text:
                yield from self._csv_text(number, text, size)

    def _csv_text(self, number: int, text: str, size: int) -> Iterator[tuple[Sequence[int], dict]]:
        """The points in a block of CSV lines, `size` at a time: read at C speed when every line is a
        row of finite numbers, else line by line, to name the line of a problem."""
        np = numpy()
        keep = [self.columns.index(name) for name in self.names]
        table = None
        if not any(separator in text for separator in LOADTXT_SPACES):
            try:
                with warnings.catch_warnings():     # "no data" in a block of blank lines: read below
                    warnings.simplefilter("ignore")
                    table = np.loadtxt(io.StringIO(text), delimiter=",", dtype=float, ndmin=2, quotechar='"',
                                       comments=None, encoding=None)
            except (ValueError, IndexError):
                pass
        rows = text.count("\n") + (not text.endswith("\n"))
        if (table is not None and table.shape == (rows, len(self.columns))
                and np.isfinite(table[:, keep]).all()):
            for start in range(0, rows, size):
                part = table[start:start + size]
                yield range(number + start, number + start + len(part)), {
                    name: part[:, i].copy() for name, i in zip(self.names, keep)}
            return
        lines = (item for item in numbered_lines(number, text) if item[1].strip())
        for block in _batched(lines, size):
            yield [line for line, _ in block], dict(zip(self.names, self._csv_block(block, keep)))

    def _csv_block(self, block: list[tuple[int, str]], keep: list[int]) -> list:
        np = numpy()
        rows = []
        for number, cells in self._csv_rows(block):
            if len(cells) != len(self.columns):
                raise AutodiffError(f"{self.source} line {number}: {len(cells)} values for "
                                    f"{len(self.columns)} columns ({clip(', '.join(self.columns))})")
            rows.append([self._number(cells[i], number) for i in keep])
        return list(np.array(rows, dtype=float).reshape(len(rows), len(keep)).T)

    def _csv_rows(self, block: list[tuple[int, str]]) -> list[tuple[int, list[str]]]:
        found = []
        for number, line in block:
            try:
                found.append((number, next(csv.reader([line]), [])))
            except csv.Error as exc:
                raise AutodiffError(f"{self.source} line {number}: not CSV: {exc}") from None
        return found

    def _json_block(self, block: list[tuple[int, str]]) -> list:
        np = numpy()
        rows = []
        for number, line in block:
            point = self._json_point(number, line)
            if list(point) != self.columns:
                raise AutodiffError(f"{self.source} line {number}: the keys are {clip(', '.join(point))}; "
                                    f"the first line's were {clip(', '.join(self.columns))}")
            rows.append([self._number(point[name], number, json.dumps) for name in self.names])
        return list(np.array(rows, dtype=float).reshape(len(rows), len(self.names)).T)

    def _json_point(self, number: int, line: str) -> dict:
        """The row's values by name: a flat object, or the tool's own row (its `inputs`, and
        its other keys as columns of their own)."""
        try:
            row = json.loads(line, object_pairs_hook=lambda pairs: _unique(pairs, self.source, number))
        except ValueError as exc:
            if isinstance(exc, AutodiffError):
                raise
            raise AutodiffError(f"{self.source} line {number}: not JSON: {clip(str(exc))}") from None
        if not isinstance(row, dict):
            raise AutodiffError(f"{self.source} line {number}: expected an object such as {{\"x\": 1.5}}")
        if isinstance(row.get("inputs"), dict):
            return {**row["inputs"], **{key: value for key, value in row.items() if key != "inputs"}}
        return row

    def _number(self, value, number: int, written: Callable = repr) -> float:
        """A cell (CSV text, or a JSON value shown as JSON) as a finite float."""
        try:
            if isinstance(value, bool):
                raise ValueError
            result = float(value)
        except (TypeError, ValueError, OverflowError):
            raise AutodiffError(f"{self.source} line {number}: {clip(written(value))} is not a number") from None
        if not math.isfinite(result):
            raise AutodiffError(f"{self.source} line {number}: {clip(written(value))} is not a finite number")
        return result


class _DuplicateKey(AutodiffError, ValueError):
    """A JSON object naming a key twice (an AutodiffError that json.loads lets through)."""


def _unique(pairs: list, source: str, number: int) -> dict:
    keys = [key for key, _ in pairs]
    if len(set(keys)) < len(keys):
        twice = next(key for key in keys if keys.count(key) > 1)
        raise _DuplicateKey(f"{source} line {number}: the key {clip(twice)} is given twice")
    return dict(pairs)


LOADTXT_SPACES = "\x1c\x1d\x1e\x1f"     # np.loadtxt takes these for blanks in a number; float() does not


def _batched(items: Iterable, size: int) -> Iterator[list]:
    """Lists of `size` consecutive items (the last one shorter)."""
    items = iter(items)
    while block := list(itertools.islice(items, size)):
        yield block


def open_points(path: str) -> FilePoints:
    """The points in the file at `path` ('-' for standard input)."""
    from .sources import blocks, describe

    return FilePoints(blocks(path), describe(path))


def points_from_text(text: str) -> FilePoints:
    """Points from CSV or JSON Lines text (for notebooks and tests)."""
    return FilePoints([(1, text)], "the points")


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
    missing = [name for name, value in program.point().items() if value is None and name not in points.names]
    if missing:
        raise MissingInputsError(missing, program.text, program.inputs[missing[0]].start)
    size = chunk_size(len(program.nodes))
    derivatives = local_derivatives(program)
    start = 0
    with program.at():                  # the failing points are run again one by one: values put back after
        for columns in points.chunks(size):
            chunk = run_chunk(program, columns, start, strict, derivatives)
            start += len(chunk)
            if on_progress is not None:
                on_progress(start)
            yield chunk


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
