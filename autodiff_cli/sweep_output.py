"""A sweep's rows written out: CSV, JSON Lines, NumPy's .npz, or a capped table.

One row per point: the inputs, the value, every gradient, and why the point
failed if it did.  Text formats stream chunk by chunk; the numbers are
written by orjson (shortest text that reads back to the same float, about
ten times faster than Python's repr), and a value or gradient that does not
exist is an empty CSV cell or a JSON null, never NaN.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import zipfile
from typing import BinaryIO, Iterable, TextIO

from .output import scratch_directory
from .program import Program
from .reports import Report, Style
from .numbers import format_column
from .tables import write_grid
from .sweeping import Chunk
from .naming import free_name

FORMATS = ("csv", "jsonl", "npz")


class Columns:
    """The names of a sweep's columns: the inputs, then `value`, `grad.NAME` per input, `error`;
    in an .npz also `failed`, `error_index` and `error_message`.  Each of these that an input
    already names gets a suffix (`value_1`), so no column is ever lost."""

    def __init__(self, program: Program):
        self.inputs = list(program.inputs)
        taken = set(self.inputs)
        self.value, self.error, self.failed, self.error_index, self.error_message = (
            _claim(name, taken) for name in ("value", "error", "failed", "error_index", "error_message"))
        self.grads = [f"grad.{name}" for name in self.inputs]

    @property
    def all(self) -> list[str]:
        return [*self.inputs, self.value, *self.grads, self.error]


def _claim(name: str, taken: set[str]) -> str:
    chosen = free_name(name, taken)
    taken.add(chosen)
    return chosen


def csv_cell(text: str) -> str:
    """A CSV field, quoted where it needs to be."""
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ',"\r\n') else text


def _matrix(chunk: Chunk):
    """The chunk's numbers as one array, a row per point: inputs, value, gradients."""
    import numpy as np

    return np.column_stack([*chunk.inputs.values(), chunk.value, *chunk.grad.values()])


def _numbers_text(chunk: Chunk) -> bytes:
    """Each point's numbers as `1.5,-3.0,...` (null for NaN), rows joined by `],[`."""
    import orjson

    return orjson.dumps(_matrix(chunk), option=orjson.OPT_SERIALIZE_NUMPY)[2:-2] if len(chunk) else b""


def _number_rows(chunk: Chunk) -> list[bytes]:
    """Each point's numbers as `1.5,-3.0,...` (null for NaN)."""
    text = _numbers_text(chunk)
    return text.split(b"],[") if text else []


def write_csv(program: Program, chunks: Iterable[Chunk], out: BinaryIO) -> int:
    """CSV with a header row; a gradient that does not exist, and a failed point's numbers, are
    empty cells.  The header goes out with the first rows, so a sweep that fails before any
    point is done writes nothing.  Returns how many points failed."""
    columns = Columns(program)
    header = (",".join(csv_cell(name) for name in columns.all) + "\n").encode()
    failed = 0
    for chunk in chunks:
        if header:
            out.write(header)
            header = b""
        text = _numbers_text(chunk)
        if not text:
            continue
        if chunk.errors or _has_nan(chunk):
            out.write(b"".join(_csv_failed_row(row, chunk.errors[i], len(columns.inputs), len(columns.grads))
                               if i in chunk.errors else row.replace(b"null", b"") + b",\n"
                               for i, row in enumerate(text.split(b"],["))))
            failed += len(chunk.errors)
        else:
            out.write(text.replace(b"],[", b",\n") + b",\n")       # the error cell empty
    return failed


def _has_nan(chunk: Chunk) -> bool:
    import numpy as np

    return any(np.isnan(g).any() for g in chunk.grad.values())


def _csv_failed_row(numbers: bytes, message: str, inputs: int, grads: int) -> bytes:
    import csv
    import io

    cell = io.StringIO()
    csv.writer(cell, lineterminator="\n").writerow([message])
    return b",".join(numbers.split(b",")[:inputs]) + b"," * (2 + grads) + cell.getvalue().encode()


def _object_template(names: list[str]) -> bytes:
    """`{"inputs":{"x":%b},"value":%b,"grad":{"x":%b}}`: a JSON Lines row waiting for its numbers."""
    fields = b",".join(json.dumps(name).encode() + b":%b" for name in names)
    return b'{"inputs":{' + fields + b'},"value":%b,"grad":{' + fields + b"}}"


def write_jsonl(program: Program, chunks: Iterable[Chunk], out: BinaryIO) -> int:
    """One object per point: {"inputs": {...}, "value": v, "grad": {...}}, and for a failed point
    also "error" (with value and gradients null).  Returns how many points failed."""
    template = _object_template(list(program.inputs))
    failed = 0
    for chunk in chunks:
        rows = [template % tuple(row.split(b",")) for row in _number_rows(chunk)]
        for i, message in chunk.errors.items():
            rows[i] = rows[i][:-1] + b',"error":' + json.dumps(message).encode() + b"}"
        failed += len(chunk.errors)
        if rows:
            out.write(b"\n".join(rows) + b"\n")
    return failed


def write_npz(program: Program, chunks: Iterable[Chunk], out: BinaryIO, path: str | None = None) -> int:
    """NumPy arrays in an .npz file: one per input (by its name), `value`, `grad.NAME`, `failed`
    (bool), and for the failed points `error_index` and `error_message` (names that an input
    takes get a suffix, as the other columns do).  Streams each column to a staging file beside
    the target `path` first (in the temporary directory for standard output), so a sweep larger
    than memory still fits; the staging goes whatever stops the work."""
    import numpy as np

    columns = Columns(program)
    names = [*columns.inputs, columns.value, *columns.grads]
    failed_index: list[int] = []
    failed_message: list[str] = []
    with scratch_directory(path) as tmp:
        files = [open(os.path.join(tmp, str(i)), "wb") for i in range(len(names) + 1)]
        count = 0
        for chunk in chunks:
            for f, column in zip(files, [*chunk.inputs.values(), chunk.value, *chunk.grad.values()]):
                f.write(np.nan_to_num(column, nan=0.0).tobytes())
            failed = np.zeros(len(chunk), dtype=bool)
            for i, message in chunk.errors.items():
                failed[i] = True
                failed_index.append(chunk.start + i)
                failed_message.append(message)
            files[-1].write(failed.tobytes())
            count += len(chunk)
        for f in files:
            f.close()
        with zipfile.ZipFile(out, "w", allowZip64=True) as archive:
            for i, (name, dtype) in enumerate([*((n, "<f8") for n in names), (columns.failed, "|b1")]):
                with archive.open(name + ".npy", "w", force_zip64=True) as entry:
                    np.lib.format.write_array_header_1_0(entry, {"descr": dtype, "fortran_order": False,
                                                                 "shape": (count,)})
                    with open(os.path.join(tmp, str(i)), "rb") as f:
                        shutil.copyfileobj(f, entry)
            for name, array in ((columns.error_index, np.array(failed_index, dtype=np.int64)),
                                (columns.error_message, np.array(failed_message, dtype=str))):
                with archive.open(name + ".npy", "w") as entry:
                    np.lib.format.write_array(entry, array, allow_pickle=False)
    return len(failed_index)


def write_sweep_table(program: Program, chunks: Iterable[Chunk], out: TextIO, *, precision: int = 4,
                      limit: int | None = 20, rich: bool = False, cut_hint: str = "") -> int:
    """The first `limit` points as a table (every one with no limit), then how many were left out;
    the sweep still runs to the end, to count its failures.  Returns how many points failed."""
    columns = Columns(program)
    raw: list = []                      # per shown point: its numbers (None where it failed) and its error
    total = failed = 0
    for chunk in chunks:
        failed += len(chunk.errors)
        for i in range(len(chunk)):
            if limit is not None and len(raw) >= limit:
                break
            numbers = [chunk.value[i], *(g[i] for g in chunk.grad.values())]
            results = [None if i in chunk.errors or math.isnan(x) else float(x) for x in numbers]
            raw.append(([float(c[i]) for c in chunk.inputs.values()] + results, chunk.errors.get(i, "")))
        total += len(chunk)
    cells = [format_column([row[0][j] for row in raw], precision) for j in range(len(columns.all) - 1)]
    rows: list = [(*(cells[j][k] if raw[k][0][j] is not None or raw[k][1] == "" else "" for j in range(len(cells))),
                   raw[k][1]) for k in range(len(raw))]
    styles: list = ["red" if error else None for _, error in raw]
    if len(rows) < total:
        rows.append(f"… {total - len(rows)} more points" + (f" ({cut_hint})" if cut_hint else ""))
        styles.append(None)
    shown = columns.all if failed else columns.all[:-1]
    if not failed:
        rows = [row if isinstance(row, str) else row[:-1] for row in rows]
    write_grid(out, shown, rows, numeric=set(shown) - {columns.error}, rich=rich, styles=styles,
               title=f"{total} points")
    return failed


class SweepReport(Report):
    """A sweep's rows, computed while they are written: a table (`text`: the first `limit` points),
    CSV, JSON Lines or .npz.  `failed` counts the points that failed, once written."""

    formats = ("text", "csv", "jsonl", "npz")

    def __init__(self, program: Program, chunks: Iterable[Chunk], *, precision: int = 4, limit: int | None = 20,
                 cut_hint: str = ""):
        self.program = program
        self.chunks = chunks
        self.precision = precision
        self.limit = limit
        self.cut_hint = cut_hint
        self.failed = 0

    def write_text(self, out: TextIO, style: Style) -> None:
        self.failed = write_sweep_table(self.program, self.chunks, out, precision=self.precision, limit=self.limit,
                                        rich=style.rich, cut_hint=self.cut_hint)

    def write_csv(self, out: BinaryIO, style: Style) -> None:
        self.failed = write_csv(self.program, self.chunks, out)

    def write_jsonl(self, out: BinaryIO, style: Style) -> None:
        self.failed = write_jsonl(self.program, self.chunks, out)

    def write_npz(self, out: BinaryIO, style: Style) -> None:
        self.failed = write_npz(self.program, self.chunks, out, style.path)
