"""Where a program runs many times: ranges of an input (`x=-5:5:101`, a grid of several) and
files of points (CSV with a header, or JSON Lines), a chunk of columns at a time.

Grids are computed from their points' indices, so a grid of any size streams in constant memory;
files are read through `sources` (bounded, decoded, numbered) a block of lines at a time, CSV by
NumPy's C reader.  Sweeps, plots and training all read their points here.
"""
from __future__ import annotations

import csv
import io
import itertools
import json
import math
import re
import warnings
from dataclasses import dataclass
from typing import Callable, Collection, Iterable, Iterator, Sequence

from .errors import AutodiffError, clip
from .sources import MAX_LINE_BYTES, numbered_lines

DEFAULT_COUNT = 101
MAX_CHUNK = 65536               # points a chunk holds at most
MAX_POINTS = 10**9              # a sweep's ceiling, unless raised (a typo of 10^12 points is refused at once)
MAX_INDEX = 2**62               # no axis or grid may have more points than an int64 index can count


def numpy():
    import numpy as np
    return np


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


AXIS_NAME = re.compile(r"(?!\d)\w+(\[\d+\]){0,2}")     # an input, or a vector's element: z[1], W[0][2]
AXIS_FORMS = "NAME=START:STOP, NAME=START:STOP:COUNT or NAME=START:STOP:step=STEP"


def parse_axis(text: str, default_count: int = DEFAULT_COUNT) -> Axis:
    """`x=-5:5:101`, `x=-5:5` (`default_count` points), `x=-5:5:step=0.25` (as np.arange), with
    bounds written as numbers or expressions of numbers (`x=-pi:pi`, `x=0:2*pi`)."""
    from .parsing import constant

    name, sep, spec = text.partition("=")
    name = name.strip()
    parts = spec.split(":")
    shown = clip(text)
    if not sep or not AXIS_NAME.fullmatch(name) or len(parts) not in (2, 3):
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

    @staticmethod
    def of(columns: dict) -> Points:
        """Points given as arrays (every one of a length), one chunk."""
        return _Given(columns)

    def each(self) -> Iterator[dict[str, float]]:
        """One point at a time, as {input name: value}."""
        for columns in self.chunks(MAX_CHUNK):
            values = [column.tolist() for column in columns.values()]
            for row in zip(*values):
                yield dict(zip(columns, row))


class _Given(Points):
    """Points given as arrays."""

    def __init__(self, columns: dict):
        self.columns = columns
        self.names = list(columns)
        self.count = len(next(iter(columns.values()))) if columns else 0

    def chunks(self, size: int) -> Iterator[dict]:
        for start in range(0, self.count, size):
            yield {name: values[start:start + size] for name, values in self.columns.items()}


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

    def __init__(self, blocks: Iterable[tuple[int, str]], source: str, columns: Sequence[str] | None = None):
        """`columns` name the columns of a CSV file with no header (its first line is a row)."""
        self.blocks = iter(blocks)
        self.source = source
        self.count = None
        self.first: tuple[int, str] | None = None
        self.rest: tuple[int, str] = (1, "")        # the first block's text after the first line
        for number, text in self.blocks:
            offset = 0
            for line_number, line in numbered_lines(number, text):
                if line.strip():
                    self.first = (line_number, line)
                    self.rest = (line_number, text[offset:]) if columns else (line_number + 1, text[offset + len(line):])
                    break
                offset += len(line)
            if self.first is not None:
                break
        if self.first is None:
            raise AutodiffError(f"{source}: empty: expected a header row of input names, or JSON Lines")
        self.json = self.first[1].lstrip().startswith("{")
        if columns and self.json:
            raise AutodiffError(f"{source}: JSON Lines name their own columns: leave out the column names")
        if columns:
            self.columns = self._named(columns)
        else:
            self.columns = list(self._json_point(*self.first)) if self.json else self._header(*self.first)
        self.names = list(self.columns)         # the columns the points give (all, unless `only`)

    def _named(self, columns: Sequence[str]) -> list[str]:
        """Columns named by the user for a file with no header: as many as the first row has."""
        names = [name.strip() for name in columns]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise AutodiffError(f"the column {clip(repeated[0])} is named twice")
        cells = len(self._csv_rows([self.first])[0][1])
        if cells != len(names):
            raise AutodiffError(f"{self.source} line {self.first[0]}: {cells} values for the {len(names)} columns named "
                                f"({clip(', '.join(names))})")
        return names

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
        csv.field_size_limit(MAX_LINE_BYTES)        # a line's own ceiling, not the csv module's 128 KB
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
        """The row's values by name: a flat object, or the tool's own row (its `inputs`; the
        value, gradients and error it also holds are results, not points)."""
        try:
            row = json.loads(line, object_pairs_hook=lambda pairs: _unique(pairs, self.source, number))
        except ValueError as exc:
            if isinstance(exc, AutodiffError):
                raise
            raise AutodiffError(f"{self.source} line {number}: not JSON: {clip(str(exc))}") from None
        if not isinstance(row, dict):
            raise AutodiffError(f"{self.source} line {number}: expected an object such as {{\"x\": 1.5}}")
        if isinstance(row.get("inputs"), dict) and set(row) <= TOOL_ROW_KEYS:
            return row["inputs"]
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
            separated = isinstance(value, str) and any(s in value for s in ";\t|")
            raise AutodiffError(f"{self.source} line {number}: {clip(written(value))} is not a number",
                                hint="the values seem to be separated by ';', a tab or '|': CSV here is "
                                     "comma-separated" if separated else "") from None
        if not math.isfinite(result):
            raise AutodiffError(f"{self.source} line {number}: {clip(written(value))} is not a finite number")
        return result


TOOL_ROW_KEYS = {"inputs", "value", "grad", "error"}       # a JSON Lines row the tool writes


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


def open_points(path: str, columns: Sequence[str] | None = None) -> FilePoints:
    """The points in the file at `path` ('-' for standard input); `columns` name the columns of a
    CSV file with no header row."""
    from .sources import blocks, describe

    return FilePoints(blocks(path), describe(path), columns)


def points_from_text(text: str) -> FilePoints:
    """Points from CSV or JSON Lines text (for notebooks and tests)."""
    return FilePoints([(1, text)], "the points")
