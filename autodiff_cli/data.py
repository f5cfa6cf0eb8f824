"""Rows to train or fit on: read once from a file of points, then passed over again and again, a
chunk at a time, in memory or, past a memory budget, from a staged copy on disk.

The rows are kept in chunks of a fixed number of rows (the array engine's chunk for the
program), each chunk column-major: one contiguous array per column, and each row's line number
in the file (for messages about a row).  Up to `memory` bytes the chunks stay in memory; beyond,
every chunk goes to a scratch file in the temporary directory ($TMPDIR) and is read back when a
pass needs it, so a pass's memory is one chunk, whatever the size of the file.  A pass always
visits the chunks in the same order with the same rows in each, so sums over a pass are the same
floats however the data is held (and, on a cluster, however many chunks run at once).
"""
from __future__ import annotations

import os
import tempfile
from typing import Iterator, Sequence

from .errors import AutodiffError, clip
from .points import FilePoints, MAX_CHUNK, numpy

MEMORY_BYTES = 1 << 30          # rows held in memory; past this, staged on disk


class Data:
    """Rows of numbers by column name, with each row's line number in its file."""

    def __init__(self, source: str, columns: dict[str, object], lines: Sequence[int]):
        """Rows held in memory: a float array per column, all of one length."""
        np = numpy()
        self.source = source
        self.names = list(columns)
        self._columns = {name: np.ascontiguousarray(column, dtype=float) for name, column in columns.items()}
        self.lines = np.asarray(lines, dtype=np.int64)
        self.count = len(self.lines)
        self._file = None                   # the staged chunks, when on disk
        self._block = 0

    def __len__(self) -> int:
        return self.count

    @property
    def columns(self) -> dict[str, object]:
        """Every column whole (for rows held in memory)."""
        if self._file is not None:
            raise AutodiffError(f"{self.source}: the rows are staged on disk, read them a chunk at a time")
        return self._columns

    @property
    def staged(self) -> bool:
        return self._file is not None

    def chunks(self, size: int) -> Iterator[tuple[int, object, dict]]:
        """(first row, line numbers, {column: values}) for rows [k·size, (k+1)·size), k = 0, 1, ..."""
        if self._file is None:
            for start in range(0, self.count, size):
                stop = min(self.count, start + size)
                yield start, self.lines[start:stop], {name: c[start:stop] for name, c in self._columns.items()}
            return
        if size != self._block:
            raise ValueError(f"staged in chunks of {self._block} rows, not {size}")
        for k, start in enumerate(range(0, self.count, size)):
            yield (start, *self._read(k))

    def take(self, rows, size: int) -> Iterator[tuple[object, object, dict]]:
        """The rows at the sorted indices `rows`, in chunks of `size`: (their indices, line
        numbers, {column: values}); staged chunks are read only where a row is taken."""
        if self._file is None:
            for start in range(0, len(rows), size):
                where = rows[start:start + size]
                yield where, self.lines[where], {name: c[where] for name, c in self._columns.items()}
            return
        np = numpy()
        pending: list = []
        held = 0
        blocks = rows // self._block
        for k in np.unique(blocks).tolist():
            chosen = rows[blocks == k]
            lines, columns = self._read(k)
            offset = chosen - k * self._block
            pending.append((chosen, lines[offset], {name: c[offset] for name, c in columns.items()}))
            held += len(chosen)
            while held >= size:
                first, pending, held = _split(pending, size)
                yield first
        if held:
            yield _split(pending, held)[0]

    def _read(self, k: int) -> tuple[object, dict]:
        np = numpy()
        start = k * self._block
        n = min(self._block, self.count - start)
        width = len(self.names) + 1
        self._file.seek(start * width * 8)
        block = np.fromfile(self._file, dtype=np.float64, count=n * width)
        if len(block) != n * width:
            raise AutodiffError(f"{self.source}: its staged copy in the temporary directory was cut short")
        block = block.reshape(width, n)
        return block[0].astype(np.int64), dict(zip(self.names, block[1:]))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _split(pending: list, size: int) -> tuple[tuple, list, int]:
    """The first `size` rows of the pending pieces as one chunk, and what is left."""
    np = numpy()
    rows = np.concatenate([p[0] for p in pending])
    lines = np.concatenate([p[1] for p in pending])
    names = list(pending[0][2])
    columns = {name: np.concatenate([p[2][name] for p in pending]) for name in names}
    first = (rows[:size], lines[:size], {name: c[:size] for name, c in columns.items()})
    rest = [(rows[size:], lines[size:], {name: c[size:] for name, c in columns.items()})]
    return first, rest if len(rows) > size else [], len(rows) - size


def read_data(points: FilePoints, block: int = MAX_CHUNK, memory: int = MEMORY_BYTES) -> Data:
    """Every row of `points`, read once: held in memory up to `memory` bytes, else staged on disk
    in chunks of `block` rows (a pass then reads them back with `Data.chunks(block)`)."""
    np = numpy()
    width = len(points.names) + 1
    held: list = []                         # column-major pieces: a row of line numbers, then the columns
    count = pending = 0
    staged = None
    try:
        for numbers, columns in points.numbered_chunks(MAX_CHUNK):
            piece = np.empty((width, len(numbers)))
            piece[0] = numbers
            for j, name in enumerate(points.names, 1):
                piece[j] = columns[name]
            held.append(piece)
            count += piece.shape[1]
            pending += piece.shape[1]
            if staged is None and count * width * 8 > memory:
                staged = tempfile.TemporaryFile(prefix="autodiff-data-", dir=os.environ.get("TMPDIR"))
            if staged is not None:
                pending = _stage(staged, held, pending, block, final=False)
        if not count:
            raise AutodiffError(f"{points.source}: no rows to train on")
        if staged is not None:
            _stage(staged, held, pending, block, final=True)
            data = Data(points.source, {name: np.empty(0) for name in points.names}, [])
            data.count, data._file, data._block = count, staged, block
            return data
    except OSError as exc:
        if staged is not None:
            staged.close()
        raise AutodiffError(f"cannot stage {clip(points.source)} in the temporary directory: "
                            f"{exc.strerror or exc}") from None
    except BaseException:
        if staged is not None:
            staged.close()
        raise
    table = np.concatenate(held, axis=1)
    return Data(points.source, dict(zip(points.names, table[1:])), table[0].astype(np.int64))


def _stage(file, held: list, pending: int, block: int, final: bool) -> int:
    """Write the held pieces to `file` as whole chunks of `block` rows (and, when `final`, the
    last short one); what does not fill a chunk stays held."""
    np = numpy()
    if pending < block and not final:
        return pending
    table = np.concatenate(held, axis=1)
    whole = table.shape[1] if final else table.shape[1] - table.shape[1] % block
    for start in range(0, whole, block):
        np.ascontiguousarray(table[:, start:start + block]).tofile(file)
    held.clear()
    if whole < table.shape[1]:
        held.append(table[:, whole:])
    return table.shape[1] - whole
