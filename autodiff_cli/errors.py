"""Errors a user can cause, each with a message that names the culprit.

Every `AutodiffError` means bad input: the CLI prints its message on stderr and
exits with code 2, never with a traceback.
"""
from __future__ import annotations

CLIP = 60           # characters of user text a message quotes (a 100 MB name is not echoed whole)
PATH_WIDTH = 300    # characters of a path a message quotes


def clip(text: str, width: int = CLIP) -> str:
    """User text to put in a message, cut to `width` characters with an ellipsis."""
    text = str(text)
    return text if len(text) <= width else text[:width - 1] + "…"


class AutodiffError(Exception):
    """Bad input: a message for the user, and exit code 2 on the command line."""

    exit_code = 2

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """The message on one line, with its place in the program if it has one (a sweep's error field)."""
        return self.message

    def render(self) -> str:
        """The full text for stderr."""
        return f"error: {self.message}" + (f"\nhint: {self.hint}" if self.hint else "")


class SourceError(AutodiffError):
    """An error at a place in the program text, shown with a caret under it."""

    def __init__(self, message: str, text: str, start: int, end: int | None = None, hint: str = ""):
        super().__init__(message, hint)
        self.text = text
        self.start = start
        self.end = start + 1 if end is None or end <= start else end

    def one_line(self) -> str:
        line, column = line_and_column(self.text, self.start)
        return f"line {line}, column {column}: {self.message}"

    def render(self) -> str:
        line, column = line_and_column(self.text, self.start)
        excerpt, caret = source_excerpt(self.text, self.start, self.end)
        gutter = " " * len(str(line))
        lines = [f"error: line {line}, column {column}: {self.message}",
                 f" {gutter} |",
                 f" {line} | {excerpt}",
                 f" {gutter} | {caret}"]
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)


class MissingInputsError(SourceError):
    """Inputs that have no value, all of them at once; points at the first one's first use."""

    def __init__(self, names: list[str], text: str, start: int, columns: list[str] | None = None):
        shown = ", ".join(clip(name) for name in names[:20]) + (" …" if len(names) > 20 else "")
        which = f"the input {shown} has" if len(names) == 1 else f"the inputs {shown} have"
        if columns is not None:             # training: the data's columns are set per row; these are parameters
            which = f"the parameter{'s' if len(names) > 1 else ''} {shown} " + ("has" if len(names) == 1 else "have")
            which += f" no value to start from (the data's columns are {clip(', '.join(columns), 200)})"
        self.notes = ["for Euler's number write exp(1)"] if "e" in names else []
        super().__init__(which if columns is not None else f"{which} no value", text, start, start + len(names[0]),
                         hint="; ".join(["give a value to each, or write NAME = NUMBER in the program", *self.notes]))
        self.names = names


class DomainError(SourceError):
    """A value or a derivative left the real numbers (log(0), x/0, overflow, ...); `reason` is
    the op's own words for why, without the place (to tell an overflow from the rest)."""

    def __init__(self, message: str, text: str, start: int, end: int | None = None, hint: str = "",
                 reason: str = ""):
        super().__init__(message, text, start, end, hint)
        self.reason = reason


def line_and_column(text: str, pos: int) -> tuple[int, int]:
    """1-based line and column of a position in the text."""
    return text.count("\n", 0, pos) + 1, pos - text.rfind("\n", 0, pos)


def source_excerpt(text: str, start: int, end: int, width: int = 72) -> tuple[str, str]:
    """The source line holding `start`, cut to `width` around it, and a caret line under [start, end)."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    if line_end == -1:
        line_end = len(text)
    line = text[line_start:line_end].rstrip("\r")
    column = start - line_start
    span = max(1, min(end, line_end) - start)
    left = max(0, min(column - width // 3, len(line) - width))
    shown = line[left:left + width]
    prefix = "..." if left > 0 else ""
    suffix = "..." if left + width < len(line) else ""
    marks = "^" + "~" * (min(span, len(shown) - (column - left)) - 1)
    caret = " " * (len(prefix) + column - left) + marks
    return (prefix + shown + suffix).replace("\t", " "), caret
