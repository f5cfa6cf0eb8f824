"""Everything the tool writes, written as a Unix tool writes it: files, standard output, JSON.

The rules, for every command, picture and page (the README's "Output" section says them too):

- `-o -` (or no file) is standard output.  A path that is a character device, a FIFO or a socket
  (`/dev/null`, a named pipe) is written to directly, streamed.  A symbolic link is followed: the
  file it points to is replaced, the link stays.
- Any other path gets its content in a temporary file beside its target (`.NAME.autodiff-XXXX`),
  moved into place once complete: the previous file survives every failure, and no partial file
  is ever left, whatever stops the write (an error, a full disk, SIGINT, SIGTERM, SIGHUP).
- A new file gets mode 0666 & ~umask; a replaced file keeps its mode.
- A file that cannot be written is exit 2 with the path and the reason; where it can be, that is
  found before the work starts (`check_writable`).
- JSON is strict (no NaN or Infinity) and byte-identical from run to run.
- Control characters in text shown on a terminal are escaped (`\\x1b`), as git and ls do.
"""
from __future__ import annotations

import errno
import io
import os
import re
import stat
import sys
from contextlib import contextmanager
from typing import IO, BinaryIO, Iterator

from .errors import PATH_WIDTH, AutodiffError, clip


class WriteError(AutodiffError):
    """A file or stream that cannot be written: exit code 2, with the path and the reason."""


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


class WholeWrites(io.RawIOBase):
    """A file descriptor whose every write is whole.  CPython's BufferedWriter returns a partial
    count when a write to a pipe is cut short (the reader closed it mid-write: the kernel wrote part
    and raised SIGPIPE, which Python ignores), and TextIOWrapper drops the rest without a word, so
    `autodiff net 300 300 | head -c 10` exited 0.  Writing here loops until all is written or the
    write fails (EPIPE: the closed pipe the process contract turns into exit 141)."""

    def __init__(self, fd: int):
        super().__init__()
        self._fd = fd

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        done = 0
        while done < len(view):
            done += os.write(self._fd, view[done:])
        return done


def whole_writes(stream: IO) -> IO:
    """A text stream like `stream` (its encoding, errors and buffering) over `WholeWrites`."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return stream
    stream.flush()
    return io.TextIOWrapper(io.BufferedWriter(WholeWrites(fd)), encoding=stream.encoding, errors=stream.errors,
                            line_buffering=stream.line_buffering, write_through=getattr(stream, "write_through", False))


def standard_output() -> BinaryIO:
    """Standard output's bytes (an error if it is closed)."""
    stream = sys.stdout
    if stream is None or getattr(stream, "closed_stream", False):
        raise WriteError("standard output is closed")
    stream.flush()
    return stream.buffer


def is_stdout(path: str | None) -> bool:
    return path is None or path == "-"


def _target(path: str) -> str:
    """The path a write replaces: a symbolic link's target (followed to the end).  A loop of links
    is an error, as a shell's `>` says (ELOOP)."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise WriteError(f"cannot write {clip(path, PATH_WIDTH)}: {_reason(exc)}") from None
    return os.path.realpath(path)


def _special(path: str) -> bool:
    """A device, FIFO or socket: written to, never replaced."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def check_writable(path: str | None) -> None:
    """Refuse early a file that cannot be written: a directory, a missing or read-only directory."""
    if is_stdout(path):
        return
    target = _target(path)
    if os.path.isdir(target) or path.endswith(os.sep):
        raise WriteError(f"cannot write {clip(path, PATH_WIDTH)}: it is a directory")
    if _special(target):
        if not os.access(target, os.W_OK):
            raise WriteError(f"cannot write {clip(path, PATH_WIDTH)}: permission denied")
        return
    directory = os.path.dirname(target) or "."
    if not os.path.isdir(directory):
        link = f" (the link points into it: {clip(target, PATH_WIDTH)})" if os.path.islink(path) else ""
        raise WriteError(f"cannot write {clip(path, PATH_WIDTH)}: no such directory "
                         f"{clip(_nearest_missing(directory), PATH_WIDTH)}{link}")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise WriteError(f"cannot write {clip(path, PATH_WIDTH)}: the directory is not writable")


def _nearest_missing(directory: str) -> str:
    """The first directory on the way to `directory` that does not exist."""
    missing = directory
    while os.path.dirname(missing) != missing and not os.path.isdir(os.path.dirname(missing)):
        missing = os.path.dirname(missing)
    return missing


@contextmanager
def open_output(path: str | None) -> Iterator[BinaryIO]:
    """A binary stream whose bytes end up at `path` by the rules above: standard output, a device
    written to directly, or a regular file replaced in one step once the block completes."""
    if is_stdout(path):
        yield standard_output()
        return
    target = _target(path)
    check_writable(path)
    if _special(target):
        try:
            with open(target, "wb") as stream:
                yield stream
        except OSError as exc:
            raise WriteError(f"cannot write {clip(path, PATH_WIDTH)}: {_reason(exc)}") from None
        return
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        mode = 0o666 & ~_umask()
    directory, name = os.path.split(target)
    try:
        import tempfile     # here, not at start-up: 7 ms, and most commands write to standard output

        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.autodiff-")
    except OSError as exc:
        raise WriteError(f"cannot write {clip(path, PATH_WIDTH)}: {_reason(exc)}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            yield stream
            stream.flush()
            os.fchmod(stream.fileno(), mode)
        os.replace(temporary, target)
    except OSError as exc:
        _remove(temporary)
        raise WriteError(f"cannot write {clip(path, PATH_WIDTH)}: {_reason(exc)}") from None
    except BaseException:
        _remove(temporary)
        raise


@contextmanager
def scratch_directory(path: str | None) -> Iterator[str]:
    """A private directory for staging large output (an .npz's columns): beside the target, where
    the space it needs is; removed, with everything in it, whatever stops the work.  A failed
    write in it is a failed write of `path`."""
    directory = os.path.dirname(_target(path)) if not is_stdout(path) else None
    shown = clip(path, PATH_WIDTH) if not is_stdout(path) else "standard output"
    try:
        import tempfile

        scratch = tempfile.mkdtemp(dir=directory, prefix=".autodiff-staging-")
    except OSError as exc:
        raise WriteError(f"cannot write {shown}: {_reason(exc)}") from None
    try:
        yield scratch
    except OSError as exc:
        raise WriteError(f"cannot write {shown}: {_reason(exc)}") from None
    finally:
        for entry in os.listdir(scratch):
            _remove(os.path.join(scratch, entry))
        os.rmdir(scratch)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# JSON documents

def json_bytes(document: object, indent: bool = True) -> bytes:
    """Strict JSON: refuses NaN and infinity, keys in the order given, the same bytes every run;
    floats as the shortest text that reads back to the same float."""
    import orjson

    _finite(document)
    try:
        return orjson.dumps(document, option=(orjson.OPT_INDENT_2 if indent else 0) | orjson.OPT_APPEND_NEWLINE
                            | orjson.OPT_SERIALIZE_NUMPY)
    except orjson.JSONEncodeError as exc:
        raise ValueError(f"refusing to write a number that is not finite as JSON: {exc}") from None


def _finite(document: object) -> object:
    """orjson writes NaN and infinity as null; JSON here never hides one: refuse it instead."""
    import math

    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError(f"refusing to write {item!r} as JSON")
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return document


# Terminals

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def escape_controls(text: str) -> str:
    """Control characters (ESC, BEL, ...) as visible escapes: `\\x1b]0;title\\x07` cannot retitle a
    terminal or make a link; invisible ones (a byte-order mark, zero-width and bidirectional
    marks) too, so a name that differs only by one shows it.  New lines and tabs stay."""
    return _CONTROL.sub(_visible, text)


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class StandardOutput:
    """Standard output as the CLI uses it: on a terminal, control characters in the text are
    escaped; and a failed write says what it is wherever it happens (a command, click's own
    help): a closed pipe raises `closed_pipe`, anything else is one WriteError."""

    def __init__(self, stream: IO, closed_pipe: type[BaseException]):
        self._stream = stream
        self._closed_pipe = closed_pipe
        self._escape = _isatty(stream)

    def _guard(self, action, *args):
        try:
            return action(*args)
        except OSError as exc:
            if is_broken_pipe(exc):
                raise self._closed_pipe() from None
            raise WriteError(f"cannot write to standard output: {_reason(exc)}") from None

    def write(self, text):
        if self._escape and isinstance(text, str):
            text = escape_controls(text)
        return self._guard(self._stream.write, text)

    def flush(self):
        return self._guard(self._stream.flush)

    @property
    def buffer(self):
        return StandardOutput(self._stream.buffer, self._closed_pipe)

    @property
    def terminal(self) -> IO:
        """The stream itself, for Rich, which writes its own escape codes (its cells are escaped)."""
        return self._stream

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def raw(stream: IO) -> IO:
    """What Rich should draw on: the stream under `StandardOutput`'s escaping."""
    return getattr(stream, "terminal", stream)


def is_broken_pipe(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.EPIPE, errno.ECONNRESET)
