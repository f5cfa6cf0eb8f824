"""Reading what the user hands over: a program's text and a file of points, from a path or `-`.

Whatever arrives is read safely: a UTF-8 byte-order mark (Excel's "CSV UTF-8") is dropped,
bytes that are not UTF-8 are an error naming the line, a NUL byte says the file is not text, and
nothing is read without bound: a program stops at MAX_PROGRAM_BYTES and a line of points at
MAX_LINE_BYTES (`--points /dev/zero` is refused, not read forever).  Every failure is an
`AutodiffError` (exit 2), never a traceback.
"""
from __future__ import annotations

import sys
from typing import BinaryIO, Iterator

from .errors import PATH_WIDTH, AutodiffError, clip

MAX_PROGRAM_BYTES = 16 << 20        # a program of 16 MB parses in about a minute in about 2.5 GB
MAX_LINE_BYTES = 16 << 20           # one line of points (a CSV row of 100,000 inputs fits)
BOM = b"\xef\xbb\xbf"
STANDARD_INPUT = "standard input"


PROGRAM_LIMIT_SETTING = "AUTODIFF_MAX_PROGRAM_BYTES"


def program_limit() -> int:
    """The most bytes a program may have: MAX_PROGRAM_BYTES, or the environment's setting."""
    import os

    setting = os.environ.get(PROGRAM_LIMIT_SETTING, "")
    return int(setting) if setting.isdigit() and int(setting) > 0 else MAX_PROGRAM_BYTES


def describe(path: str) -> str:
    """How messages name a source: `standard input`, or the path."""
    return STANDARD_INPUT if path == "-" else clip(path, PATH_WIDTH)


def _open(path: str, what: str) -> BinaryIO:
    if path == "-":
        stream = sys.stdin
        if stream is None or getattr(stream, "closed_stream", False):
            raise AutodiffError(f"cannot read {what} from standard input: it is closed")
        return stream.buffer
    try:
        return open(path, "rb")
    except OSError as exc:
        raise AutodiffError(f"cannot read {what} from {clip(path, PATH_WIDTH)}: {exc.strerror or exc}") from None


def read_text(path: str, what: str = "the program") -> str:
    """The whole text at `path` ('-' for standard input), checked as above."""
    limit = program_limit()
    stream = _open(path, what)
    try:
        data = stream.read(limit + 1)
    except OSError as exc:
        raise AutodiffError(f"cannot read {what} from {describe(path)}: {exc.strerror or exc}") from None
    finally:
        if path != "-":
            stream.close()
    if len(data) > limit:
        raise AutodiffError(f"{what} in {describe(path)} is larger than {limit >> 20} MB",
                            hint=f"if you mean it, raise the ceiling: {PROGRAM_LIMIT_SETTING}={len(data)} (it takes "
                                 "about 4 s and 150 MB a megabyte)")
    return decode(data.removeprefix(BOM), describe(path), 1)


def decode(data: bytes, source: str, first_line: int) -> str:
    """UTF-8 text, or an error naming the line of the first byte that is not."""
    if b"\0" in data:
        line = first_line + data.count(b"\n", 0, data.index(b"\0"))
        raise AutodiffError(f"{source} line {line}: a NUL byte: this is not a text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = first_line + data.count(b"\n", 0, exc.start)
        raise AutodiffError(f"{source} line {line}: bytes that are not UTF-8 text") from None


def numbered_lines(number: int, text: str) -> Iterator[tuple[int, str]]:
    """The lines of `text` (split at "\n" only, each keeping it), numbered from `number`."""
    start = 0
    while start < len(text):
        end = text.find("\n", start) + 1 or len(text)
        yield number, text[start:end]
        number += 1
        start = end


BLOCK_BYTES = 1 << 20


def _overlong_line(pending: bytes, end: int) -> int | None:
    """Where the first line longer than MAX_LINE_BYTES starts, among the whole lines before `end`
    and the unfinished one after; None if there is none (lines are only counted when they could be)."""
    if end <= MAX_LINE_BYTES and len(pending) - end <= MAX_LINE_BYTES:
        return None
    start = 0
    while start < end:
        line_end = pending.find(b"\n", start, end) + 1 or end
        if line_end - start > MAX_LINE_BYTES:
            return start
        start = line_end
    return end if len(pending) - end > MAX_LINE_BYTES else None


def blocks(path: str, what: str = "the points") -> Iterator[tuple[int, str]]:
    """(number of its first line, text) for consecutive runs of whole lines at `path` ('-' for
    standard input), about BLOCK_BYTES at a time, each decoded and bounded as above: NumPy reads
    a block of CSV at C speed.  The file is closed when the iteration ends, however it ends."""
    stream = _open(path, what)
    try:
        number, pending, first = 1, b"", True
        while True:
            try:
                data = stream.read(BLOCK_BYTES)         # a pipe's too: up to its end, a block at a time
            except OSError as exc:
                raise AutodiffError(f"cannot read {what} from {describe(path)}: {exc.strerror or exc}") from None
            pending += data
            if first:                               # a byte-order mark only at the very start
                if len(pending) < len(BOM) and data:
                    continue
                pending, first = pending.removeprefix(BOM), False
            end = len(pending) if not data else pending.rfind(b"\n") + 1
            overlong = _overlong_line(pending, end)
            if overlong is not None:
                end = overlong
            if end:
                block, pending = pending[:end], pending[end:]
                yield number, decode(block, describe(path), number)
                number += block.count(b"\n")
            if overlong is not None:
                raise AutodiffError(f"{describe(path)} line {number}: longer than {MAX_LINE_BYTES >> 20} MB")
            if not data:
                return
    finally:
        if path != "-":
            stream.close()
