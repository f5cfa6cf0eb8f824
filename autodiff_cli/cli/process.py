"""The process's contract, for every command: exit codes, signals, and standard streams.

- Exit 0 ok, 1 a failed check or a missing renderer, 2 bad input or a failed write; 128 + n on
  the signal n (SIGINT, SIGTERM, SIGHUP clean up first), 141 on a closed pipe.
- A failure is one message on stderr (control characters escaped, long lines cut), never a
  traceback, and nothing more on standard output: what is still buffered there is dropped, so
  a failed command leaves no half report and Python's own last flush cannot fail loudly.
- A standard stream the shell closed (`>&-`) is an error only for a command that uses it.
"""
from __future__ import annotations

import io
import os
import signal
import sys

import click

from ..errors import AutodiffError

LINE_LIMIT = 500        # characters of a message line: a 100 MB name is not echoed whole


class ClosedPipe(BaseException):
    """The reader of standard output went away (`| head`): not an OSError, which click would turn
    into exit 1 ("a check failed")."""


class Interrupted(BaseException):
    """SIGINT, SIGTERM or SIGHUP: raised where the program is, so that every `finally` cleans up
    (temporary files, staging, child processes, a cluster's tasks); not a KeyboardInterrupt,
    which click would turn into "Aborted!" and exit 1."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


class ClosedStream:
    """Standing in for a standard stream the shell closed (`>&-`, `<&-`): using it is an error
    (exit 2, one line), not an AttributeError; a command that does not need it runs."""

    closed_stream = True

    def __init__(self, name: str):
        self.name = name

    def _closed(self, *args, **kwargs):
        from ..output import WriteError

        raise WriteError(f"{self.name} is closed")

    write = read = readline = fileno = _closed

    def isatty(self) -> bool:
        return False

    def flush(self) -> None:
        pass

    @property
    def buffer(self):
        return self


def message(text: str) -> None:
    """One message on stderr, control characters escaped and each line cut at LINE_LIMIT."""
    from ..output import escape_controls

    lines = [line if len(line) <= LINE_LIMIT else line[:LINE_LIMIT - 1] + "…" for line in text.splitlines()]
    if sys.stderr is not None:
        try:
            click.echo(escape_controls("\n".join(lines)), err=True)
        except (OSError, ValueError):
            pass                        # stderr itself is gone: the exit code still says it


def fail(exc: AutodiffError, hints=None) -> None:
    """The error's message (with its option hints) on stderr, nothing more on stdout, its exit code."""
    if hints is not None:
        hints(exc)
    message(exc.render())
    _drop_stdout()
    sys.exit(exc.exit_code)


_RECEIVED: list[int] = []       # the signal being handled, if any


def _on_signal(signum: int, frame) -> None:
    for each in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(each, signal.SIG_IGN)         # a second signal must not cut the clean-up short
    _RECEIVED.append(signum)
    raise Interrupted(signum)


def run(cli: click.Group) -> None:
    """The command line through `cli`, under the contract described above."""
    from ..output import StandardOutput, is_broken_pipe, whole_writes

    sys.stdout = (StandardOutput(whole_writes(sys.stdout), ClosedPipe) if sys.stdout is not None
                  else ClosedStream("standard output"))
    if sys.stdin is None:
        sys.stdin = ClosedStream("standard input")
    if sys.stderr is None:
        sys.stderr = ClosedStream("standard error")
    for each in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(each, _on_signal)
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a file-size limit is a failed write (EFBIG), not a crash
    try:
        try:
            code = cli.main(prog_name="autodiff", standalone_mode=False)
        except SystemExit as exc:       # a command's own exit code: 1 for a failed check, its report printed
            code = exc.code
        sys.stdout.flush()
    except Interrupted as exc:
        _drop_stdout()
        sys.exit(128 + exc.signum)
    except ClosedPipe:
        _drop_stdout()
        sys.exit(128 + signal.SIGPIPE)
    except click.ClickException as exc:
        text = io.StringIO()
        exc.show(file=text)
        message(text.getvalue().rstrip("\n"))
        _drop_stdout()
        sys.exit(exc.exit_code)
    except click.Abort:
        _drop_stdout()
        sys.exit(130)
    except AutodiffError as exc:        # a failed write outside a command (click's help, say)
        fail(exc)
    except OSError as exc:
        if is_broken_pipe(exc):
            _drop_stdout()
            sys.exit(128 + signal.SIGPIPE)
        message(f"error: cannot write to standard output: {exc.strerror or exc}")
        _drop_stdout()
        sys.exit(2)
    except BaseException:
        if not _RECEIVED:
            raise
        # the signal's exception became another on its way out: raised inside a lock's wait (a Dask
        # client's), it can leave "release unlocked lock" instead; the signal still decides
        _drop_stdout()
        sys.exit(128 + _RECEIVED[0])
    sys.exit(code or 0)


def _drop_stdout() -> None:
    """Whatever is still buffered for standard output goes to /dev/null: a failing command prints
    nothing more, and Python's own last flush (at exit) cannot fail on a full or closed stream."""
    if getattr(sys.stdout, "closed_stream", False):
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
