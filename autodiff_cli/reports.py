"""Reports: what a command computed, in every form it can be written, and the one function that
writes any of them (`emit`).

A computation returns a `Report`; the report knows how to write itself in each of its formats
(`text` for people, `json` for programs, and a sweep's `csv`, `jsonl`, `npz`, a picture's `svg`
...) to a stream it is handed.  Where the bytes go is decided in one place, `emit`, on top of the
output layer: standard output (drawn with Rich on a terminal, plain text when piped), or a file
written atomically, whatever the format.  So every command takes `--json` and `-o FILE` alike.
"""
from __future__ import annotations

import io
import os
import shutil
import sys
from typing import IO, BinaryIO, NamedTuple, TextIO

from .errors import AutodiffError, clip
from .output import json_bytes, open_output, standard_output


class Style(NamedTuple):
    """How text is drawn: with Rich and colour on a terminal (its width), plain otherwise; and the
    file being written, if any (a writer that stages large output does it beside the file)."""

    rich: bool = False
    width: int | None = None
    color: bool = False
    path: str | None = None

    @classmethod
    def of(cls, stream: IO) -> Style:
        terminal = _isatty(stream)
        if not terminal:
            return cls()
        return cls(True, shutil.get_terminal_size((100, 30)).columns, "NO_COLOR" not in os.environ)


PLAIN = Style()


class Report:
    """A command's result.  Subclasses write each of their `formats` with `write_<format>(out,
    style)`: to a text stream for the formats in `text_formats`, to a binary one otherwise."""

    formats: tuple[str, ...] = ("text", "json")
    text_formats: tuple[str, ...] = ("text",)

    def document(self) -> object:
        """The JSON document (for reports that are not streamed)."""
        raise NotImplementedError

    def write_json(self, out: BinaryIO, style: Style) -> None:
        out.write(json_bytes(self.document()))

    def write_text(self, out: TextIO, style: Style) -> None:
        raise NotImplementedError


def emit(report: Report, fmt: str = "text", path: str | None = None, *, spool: bool = False) -> None:
    """Write the report in `fmt` to `path` (standard output for None or '-') by the output layer's
    rules: a file appears whole or not at all.  With `spool`, standard output gets the report only
    once it is complete (a report that may still fail while it is written, such as a strict sweep,
    then leaves nothing on standard output)."""
    if fmt not in report.formats:
        raise AutodiffError(f"this result is written as {' or '.join(report.formats)}, not {clip(fmt)}")
    text = fmt in report.text_formats
    write = getattr(report, f"write_{fmt}")
    if (path is None or path == "-") and not spool:
        if text:
            write(sys.stdout, Style.of(sys.stdout))
            sys.stdout.flush()
        else:
            out = standard_output()
            write(out, PLAIN)
            out.flush()
        return
    if path is None or path == "-":
        import tempfile

        with tempfile.TemporaryFile() as held:
            _write(write, held, text)
            held.seek(0)
            sys.stdout.flush()
            out = standard_output()
            shutil.copyfileobj(held, out)
            out.flush()
        return
    with open_output(path) as stream:
        _write(write, stream, text, Style(path=path))


def _write(write, stream: BinaryIO, text: bool, style: Style = PLAIN) -> None:
    if not text:
        write(stream, style)
        return
    wrapper = io.TextIOWrapper(stream, encoding="utf-8", errors="surrogateescape", newline="\n")
    try:
        write(wrapper, style)
        wrapper.flush()
    finally:
        wrapper.detach()


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False
