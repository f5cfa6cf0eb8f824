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

MAX_PROGRAM_BYTES = 256 << 20       # a program of 10^6 nodes is about 20 MB
MAX_LINE_BYTES = 16 << 20           # one line of points (a CSV row of 100,000 inputs fits)
BOM = b"\xef\xbb\xbf"
STANDARD_INPUT = "standard input"


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
    stream = _open(path, what)
    try:
        data = stream.read(MAX_PROGRAM_BYTES + 1)
    except OSError as exc:
        raise AutodiffError(f"cannot read {what} from {describe(path)}: {exc.strerror or exc}") from None
    finally:
        if path != "-":
            stream.close()
    if len(data) > MAX_PROGRAM_BYTES:
        raise AutodiffError(f"{what} in {describe(path)} is larger than {MAX_PROGRAM_BYTES >> 20} MB")
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


def lines(path: str, what: str = "the points") -> Iterator[tuple[int, str]]:
    """(line number, text) for each line at `path` ('-' for standard input), each decoded and
    bounded as above; the file is closed when the iteration ends, however it ends."""
    stream = _open(path, what)
    try:
        number = 0
        while True:
            try:
                raw = stream.readline(MAX_LINE_BYTES + 1)
            except OSError as exc:
                raise AutodiffError(f"cannot read {what} from {describe(path)}: {exc.strerror or exc}") from None
            if not raw:
                return
            number += 1
            if len(raw) > MAX_LINE_BYTES:
                raise AutodiffError(f"{describe(path)} line {number}: longer than {MAX_LINE_BYTES >> 20} MB")
            if number == 1:
                raw = raw.removeprefix(BOM)
            yield number, decode(raw, describe(path), number)
    finally:
        if path != "-":
            stream.close()
