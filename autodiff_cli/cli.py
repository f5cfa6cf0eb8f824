"""The `autodiff` command: thin click commands over the library.

Each command parses its options, calls library functions, and writes a
report.  Bad input raises `AutodiffError`, which `AutodiffGroup` turns into one
message on stderr and exit code 2; nothing a user types shows a traceback.
`main` keeps the process's contract: SIGINT, SIGTERM and SIGHUP clean up and
exit 128 + the signal; a closed pipe exits 141 (as if killed by SIGPIPE, never
1, which means a failed check); a stream that is closed or full is one message
and exit 2.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import sys
from typing import Callable

import click

from . import __version__
from .errors import AutodiffError, MissingInputsError

PROGRAM_HELP = """PROGRAM is one expression, e.g. "(a*b+c)*f", or statements separated by
';' or new lines (`a = 2; b = -3; L = a*b`).  A name assigned a plain number
is an input with that default; a name never assigned is an input you give
with --set.  The last statement is the output."""


class AutodiffGroup(click.Group):
    """Turns `AutodiffError` into a message on stderr and its exit code, and a failed write to
    standard output (a full disk, /dev/full) into one too."""

    def invoke(self, ctx: click.Context):
        from .output import WriteError, is_broken_pipe

        try:
            return super().invoke(ctx)
        except AutodiffError as exc:
            fail(exc)
        except OSError as exc:          # the library turns every other OSError into an AutodiffError
            if is_broken_pipe(exc):
                raise ClosedPipe() from None
            fail(WriteError(f"cannot write to standard output: {exc.strerror or exc}"))


class ClosedPipe(BaseException):
    """The reader of standard output went away (`| head`): not an OSError, which click would turn
    into exit 1 ("a check failed")."""


def fail(exc: AutodiffError) -> None:
    """One message on stderr (control characters escaped, long lines cut), then its exit code."""
    add_option_hints(exc)
    message(exc.render())
    sys.exit(exc.exit_code)


LINE_LIMIT = 500        # characters of a message line: a 100 MB name is not echoed whole


def message(text: str) -> None:
    from .output import escape_controls

    lines = [line if len(line) <= LINE_LIMIT else line[:LINE_LIMIT - 1] + "…" for line in text.splitlines()]
    if sys.stderr is not None:
        click.echo(escape_controls("\n".join(lines)), err=True)


class Interrupted(BaseException):
    """SIGINT, SIGTERM or SIGHUP: raised where the program is, so that every `finally` cleans up
    (temporary files, staging, child processes); not a KeyboardInterrupt, which click would
    turn into "Aborted!" and exit 1."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum: int, frame) -> None:
    for each in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(each, signal.SIG_IGN)         # a second signal must not cut the clean-up short
    raise Interrupted(signum)


class ClosedStream:
    """Standing in for a standard stream the shell closed (`>&-`, `<&-`): using it is an error
    (exit 2, one line), not an AttributeError; a command that does not need it runs."""

    closed_stream = True

    def __init__(self, name: str):
        self.name = name

    def _closed(self, *args, **kwargs):
        from .output import WriteError

        raise WriteError(f"{self.name} is closed")

    write = read = readline = fileno = _closed

    def isatty(self) -> bool:
        return False

    def flush(self) -> None:
        pass

    @property
    def buffer(self):
        return self


def main() -> None:
    """Console-script entry point: the command, under the process contract described above."""
    from .output import is_broken_pipe

    from .output import StandardOutput

    sys.stdout = StandardOutput(sys.stdout, ClosedPipe) if sys.stdout is not None else ClosedStream("standard output")
    if sys.stdin is None:
        sys.stdin = ClosedStream("standard input")
    for each in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(each, _on_signal)
    try:
        code = cli.main(prog_name="autodiff", standalone_mode=False)
        sys.stdout.flush()
    except Interrupted as exc:
        _quiet_stdout()
        sys.exit(128 + exc.signum)
    except ClosedPipe:
        _quiet_stdout()
        sys.exit(128 + signal.SIGPIPE)
    except click.ClickException as exc:
        import io

        text = io.StringIO()
        exc.show(file=text)
        message(text.getvalue().rstrip("\n"))
        sys.exit(exc.exit_code)
    except click.Abort:
        sys.exit(130)
    except AutodiffError as exc:        # a failed write outside a command (click's help, say)
        fail(exc)
    except OSError as exc:
        if is_broken_pipe(exc):
            _quiet_stdout()
            sys.exit(128 + signal.SIGPIPE)
        message(f"error: cannot write to standard output: {exc.strerror or exc}")
        _quiet_stdout()
        sys.exit(2)
    sys.exit(code or 0)


def _quiet_stdout() -> None:
    """Standard output pointed at /dev/null, so that Python's own last flush stays silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def add_option_hints(exc: AutodiffError) -> None:
    """The library's errors name no options; here they learn which of ours would help."""
    from .drawing import GraphTooLargeError, RenderError
    from .exporting import ExpressionTooLargeError
    from .training import FitRowError, FitStoppedError
    from .parsing import ConstantError
    from .stepping import StepLeftDomainError
    from .points import PointsLimitError

    if isinstance(exc, MissingInputsError):
        from .errors import clip

        exc.hint = "; ".join(["add " + " ".join(f"--set {clip(name)}=1" for name in exc.names[:20]) +
                              " with your values, or write NAME = NUMBER in the program", *exc.notes])
    elif isinstance(exc, GraphTooLargeError):
        exc.hint = "raise --max-nodes, or write DOT text with -o graph.dot"
    elif isinstance(exc, RenderError) and "not installed" in exc.message:
        exc.hint += "; or write DOT text with -o graph.dot"
    elif isinstance(exc, ExpressionTooLargeError):
        exc.hint = "leave out --expr (and --to latex): the program form names shared values instead"
    elif isinstance(exc, StepLeftDomainError):
        exc.hint = f"the last good point (after step {exc.step - 1}) is: {set_arguments(exc.point)}"
    elif isinstance(exc, FitStoppedError) and exc.point is not None:
        exc.hint = (f"the last parameters with a finite loss (step {exc.good_step} started from them); a smaller "
                    f"--lr may help:\n{set_lines(exc.point)}")
    elif isinstance(exc, FitRowError):
        exc.hint = (f"without --strict such rows are left out of the loss and counted; {exc.where} started from "
                    f"the parameters:\n{set_lines(exc.point)}")
    elif isinstance(exc, PointsLimitError):
        exc.hint = f"if you mean it, raise the ceiling: --max-points {exc.count}"
    elif isinstance(exc, ConstantError):
        exc.hint = ("one value, a number or an expression of numbers: e.g. -3.5, 2/3 or 2*pi"
                    + ("; a --set value is one expression, not several statements" if ";" in exc.text else ""))


class AutodiffCommand(click.Command):
    """A command whose PROGRAM may start with '-' (`autodiff eval "-x**2"`): an argument that
    cannot be one of the command's options is taken as the program, wherever it stands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, program_last(args, self.params))
        except click.NoSuchOption as exc:
            if exc.possibilities:
                raise                   # a mistyped option: click's "did you mean" says it all
            hint = (f"hint: if {exc.option_name!r} starts your program, put the program after --: "
                    f"autodiff {self.name} [OPTIONS] -- '{exc.option_name}...'")
            raise click.UsageError(f"{exc.format_message()}\n{hint}", ctx) from None
        except click.UsageError as exc:
            if "=" in args and "unexpected extra argument" in exc.format_message():
                raise click.UsageError(f"{exc.format_message()}\nhint: write --set NAME=VALUE with no spaces "
                                       "around '=' (or quote it: --set 'x = 3')", ctx) from None
            raise


SHORT_OPTION_VALUE = {"-s": re.compile(r"\s*(?!\d)\w+\s*=")}     # -sx=2 is --set x=2, -sin(x) a program
PROGRAM_CHARACTERS = re.compile(r"[()*+/^ ]")


def program_last(args: list[str], params: list[click.Parameter]) -> list[str]:
    """The arguments with a program that starts with '-' moved after a final '--'.

    A word that starts with '-' is the program when it is no option of the
    command: not '--anything', not a known short option, and not a short option
    with its value attached (-sx=2, -fFILE).  The word after a '--' is the
    program too, so `autodiff eval -- "-x**2" --set x=3` works as well as
    `autodiff eval --set x=3 -- "-x**2"`.
    """
    takes_value = {name for p in params if isinstance(p, click.Option) and not p.is_flag
                   for name in p.opts + p.secondary_opts}
    known = {name for p in params if isinstance(p, click.Option) for name in p.opts + p.secondary_opts}
    rest, program, i = [], None, 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            if i + 1 < len(args) and program is None:
                program = args[i + 1]
                rest += args[i + 2:]
            else:
                rest += args[i:]
            break
        if program is None and _is_dash_program(arg, known):
            program = arg
        else:
            rest.append(arg)
            if arg in takes_value and i + 1 < len(args):
                rest.append(args[i + 1])
                i += 1
        i += 1
    return rest if program is None else rest + ["--", program]


def _is_dash_program(arg: str, known: set[str]) -> bool:
    if not arg.startswith("-") or arg.startswith("--") or arg in ("-", *known):
        return False
    option, attached = arg[:2], arg[2:]
    if option not in known:
        return True
    pattern = SHORT_OPTION_VALUE.get(option)
    return not pattern.match(attached) if pattern else bool(PROGRAM_CHARACTERS.search(attached))


def set_arguments(point: dict[str, float]) -> str:
    """A point as `--set` arguments, to feed into the next command."""
    return " ".join(f"--set {name}={value!r}" for name, value in point.items())


def set_lines(point: dict[str, float]) -> str:
    """A point as `--set` arguments one a line, joined by shell line continuations: a message cuts long
    lines, and a net has many parameters."""
    return " \\\n".join(f"  --set {name}={value!r}" for name, value in point.items())


@click.group(cls=AutodiffGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="autodiff")
def cli() -> None:
    """See every node's value and gradient of an expression, micrograd-style.

    \b
      autodiff eval "(a*b+c)*f" --set a=2 --set b=-3 --set c=10 --set f=-2
      autodiff eval "tanh(x1*w1 + x2*w2 + b)" -s x1=2 -s x2=0 -s w1=-3 -s w2=1 -s b=6.88 --json | jq .grad
    """


def rows_options(command: Callable | None = None, *, default: int | None = 200, shown: str = "200",
                 kept: str = "the first ones (and the output, or the failures) are kept") -> Callable:
    """--rows N and --all: the cap on a report's rows, shared by every command that prints a table."""
    def decorate(command: Callable) -> Callable:
        command = click.option("--all", "all_rows", is_flag=True, help="Show every row.")(command)
        return click.option("--rows", default=default, type=click.IntRange(2, None),
                            help=f"Most rows shown (default {shown}); {kept}.")(command)
    return decorate(command) if command is not None else decorate


def program_options(command: Callable) -> Callable:
    """PROGRAM, -f FILE and --set NAME=VALUE, shared by every command."""
    command = click.option("--output", "output_name", metavar="NAME",
                           help="The output: any name the program assigns (default: the last statement).")(command)
    command = click.option("--set", "-s", "assignments", multiple=True, metavar="NAME=VALUE",
                           help="Give an input a value: a number or an expression of numbers (repeatable).")(command)
    command = click.option("-f", "--file", "source_file", metavar="FILE", multiple=True,
                           type=click.Path(allow_dash=True),
                           help="Read the program from FILE ('-' for standard input; piped in, it is read "
                                "without -f too).")(command)
    return click.argument("program", required=False)(command)


def sweep_options(command: Callable) -> Callable:
    """--over, --points, --ignore-extra and --max-points: run at many points instead of one."""
    command = click.option("--max-points", type=click.IntRange(1, None), default=None, metavar="N",
                           help="The most points a sweep may have (default 1,000,000,000): a larger "
                                "grid is refused at once, as a typo.")(command)
    command = click.option("--ignore-extra", is_flag=True,
                           help="Drop the columns of --points that name no input (as the value and grad "
                                "columns of the tool's own output) instead of refusing them.")(command)
    command = click.option("--points", "points_file", metavar="FILE", type=click.Path(allow_dash=True),
                           help="Run at the points in FILE: CSV with a header of input names, or JSON Lines "
                                "({\"x\": 1.5} per line); '-' for standard input. Inputs it leaves out keep "
                                "their --set value or default.")(command)
    return click.option("--over", multiple=True, metavar="NAME=START:STOP[:COUNT]",
                        help="Sweep an input over COUNT evenly spaced values (default 101), both ends "
                             "included, or NAME=START:STOP:step=STEP (as np.arange: STOP excluded); "
                             "bounds may be expressions (x=-pi:pi); repeat for a grid (the first varies "
                             "slowest).")(command)


def lecture_bug_option(command: Callable) -> Callable:
    """--lecture-bug: the lecture's deliberate mistakes, reproduced and labelled as wrong."""
    return click.option("--lecture-bug", type=click.Choice(["overwrite", "no-zero"]), default=None,
                        help="Show the gradients the lecture's famous bugs give, labelled as WRONG: overwrite "
                             "(self.grad = instead of +=: b = a + a gives a.grad 1) or no-zero (backward run "
                             "twice without zeroing the gradients).")(command)


def comma_list(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def positive(name: str, value: float | None, allow_zero: bool = False) -> None:
    """A tolerance, step or rate given on the command line: finite and positive (or zero)."""
    import math

    if value is not None and not (math.isfinite(value) and (value > 0 or allow_zero and value == 0)):
        raise AutodiffError(f"{name} must be a finite number above 0{' or 0' if allow_zero else ''}, not {value}")


def load_points(over: tuple[str, ...], points_file: str | None, assignments: tuple[str, ...],
                max_points: int | None = None, default_count: int | None = None):
    """The points of --over or --points (None for neither); a swept input may not be --set too."""
    if not over and not points_file:
        return None
    from .points import DEFAULT_COUNT, MAX_POINTS, Grid, open_points, parse_axis

    if over and points_file:
        raise AutodiffError("give either --over or --points, not both")
    if points_file:
        points = open_points(points_file)
    else:
        axes = [parse_axis(text, default_count or DEFAULT_COUNT) for text in over]
        points = Grid(axes, max_points or MAX_POINTS)
    given = {pair.partition("=")[0].strip() for pair in assignments}
    both = [name for name in points.names if name in given]
    if both:
        raise AutodiffError(f"{both[0]} is swept and also given by --set", hint=f"drop --set {both[0]}=...")
    return points


def load_program(program: str | None, source_file: tuple[str, ...], assignments: tuple[str, ...],
                 output_name: str | None = None, stdin_for_points: bool = False):
    """Parse the program from the argument, the file, or (piped in, with neither given) standard
    input; with its output, and the --set values applied."""
    from .parsing import parse
    from .sources import read_text

    if len(source_file) > 1:
        raise AutodiffError(f"-f is given {len(source_file)} times: a command reads one program")
    if program is not None and source_file:
        raise AutodiffError("give the program either as an argument or with -f FILE, not both")
    path = source_file[0] if source_file else None
    if path == "-" and stdin_for_points:
        raise AutodiffError("standard input can hold the program (-f -) or the points (--points -), not both",
                            hint="put one of them in a file")
    if program is None and path is None:
        if stdin_for_points or sys.stdin.isatty() or getattr(sys.stdin, "closed_stream", False):
            raise AutodiffError("no program given", hint=EXAMPLE_HINT)
        path = "-"                              # `cat prog.ad | autodiff eval` reads it
        text = read_text(path)
        if not text.strip():
            raise AutodiffError("no program given (standard input is empty)", hint=EXAMPLE_HINT)
    else:
        text = program if program is not None else read_text(path)
    values = parse_assignments(assignments)
    prog = parse(text, output=output_name)
    prog.set(values)
    return prog


EXAMPLE_HINT = ('give it as an argument, e.g. autodiff eval "(a*b+c)*f" --set a=2 --set b=-3 --set c=10 '
                '--set f=-2, or with -f FILE (-f - reads standard input)')


def parse_assignments(pairs: tuple[str, ...] | list[str]) -> dict[str, float]:
    """`["a=2", "b=-3"]` -> {"a": 2.0, "b": -3.0}, refusing bad forms and repeated names.  A value
    is one number or one expression of numbers (`2/3`, `-pi`)."""
    from .errors import clip
    from .parsing import constant

    values: dict[str, float] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise AutodiffError(f"--set {clip(pair)}: expected NAME=VALUE", hint="e.g. --set a=2")
        if name in values:
            raise AutodiffError(f"--set {clip(name)} is given twice")
        values[name] = constant(text, f"--set {clip(name)}")
    return values


@cli.command("eval", cls=AutodiffCommand, epilog=PROGRAM_HELP)
@program_options
@click.option("--json", "as_json", is_flag=True,
              help="Strict JSON: value, output, grad, nodes (with --over or --points: JSON Lines).")
@sweep_options
@click.option("--csv", "as_csv", is_flag=True, help="A sweep's rows as CSV (the default when piped).")
@click.option("--jsonl", "as_jsonl", is_flag=True,
              help='A sweep\'s rows as JSON Lines: {"inputs": {...}, "value": v, "grad": {...}} per point.')
@click.option("-o", "--out", "path", metavar="FILE", type=click.Path(allow_dash=True),
              help="Write a sweep's rows to FILE: .csv, .jsonl or .npz (NumPy arrays, for large sweeps); "
                   "'-' is standard output.")
@click.option("--strict", is_flag=True, help="Stop a sweep at the first point that fails (exit 2).")
@click.option("--hessian", is_flag=True,
              help="Also the second derivatives d²out/dx dy of every pair of inputs (`hessian` in JSON).")
@click.option("--max-inputs", type=click.IntRange(1, None), default=None, metavar="N",
              help="With --hessian: the most inputs (default 1,000: a million second derivatives).")
@click.option("--precision", default=4, show_default=True, type=click.IntRange(0, 17),
              help="Decimals shown in the table (more where that would drop significant digits; JSON "
                   "always has full precision).")
@rows_options(default=None, shown="200; a sweep's table 20")
@lecture_bug_option
def eval_command(program, source_file, assignments, output_name, as_json, over, points_file, ignore_extra,
                 max_points, as_csv, as_jsonl, path, strict, hessian, max_inputs, precision, rows, all_rows,
                 lecture_bug):
    """Run the forward and backward pass and show every node's value and gradient.

    The table lists the nodes in topological order: the inputs first, the
    output last.

    With --over or --points, run at every point at once instead (one pass over
    arrays) and write a row per point: the inputs, the value, every gradient,
    and why the point failed if it did (the other points still run; a count of
    failures goes to stderr). In a terminal the rows are a table of the first
    --rows points; piped, they are CSV (--jsonl or --json for JSON Lines).
    """
    from . import tables

    chosen = [name for name, on in (("--csv", as_csv), ("--jsonl", as_jsonl)) if on]
    if len(chosen) > 1 or (as_csv and as_json):
        raise AutodiffError("--csv and --jsonl (or --json) each choose the format: give one")
    if points_file is None and not over and (chosen or path or strict or ignore_extra or max_points):
        raise AutodiffError("--csv, --jsonl, -o, --strict, --ignore-extra and --max-points are for sweeps: "
                            "add --over or --points")
    prog = load_program(program, source_file, assignments, output_name, stdin_for_points=points_file == "-")
    points = load_points(over, points_file, assignments, max_points)
    if points is not None:
        if hessian or lecture_bug:
            raise AutodiffError("--hessian and --lecture-bug are for one point: leave out --over and --points")
        fmt = "jsonl" if as_jsonl or as_json else "csv" if as_csv else None
        return eval_sweep(prog, points, fmt, path, strict, precision,
                          None if all_rows else (rows or SWEEP_ROWS), ignore_extra)
    prog.run()
    second = None
    if hessian:
        from .deriving import hessian as second_derivatives

        if lecture_bug:
            raise AutodiffError("--hessian and --lecture-bug: the second derivatives of a bug are not the lecture's")
        check_hessian_size(prog, max_inputs)
        second = second_derivatives(prog)
    warning = None
    if lecture_bug:
        from .lecture_bugs import backward_with_bug, warning as bug_warning

        backward_with_bug(prog, lecture_bug)
        warning = bug_warning(lecture_bug)
    out = sys.stdout
    if as_json:
        tables.write_json(prog, out, hessian=second, warning=warning)
    else:
        if warning:
            out.write(f"# {warning}\n")
        tables.write_table(prog, out, precision=precision, limit=None if all_rows else (rows or 200),
                            rich=out.isatty(), cut_hint="--all shows every row; --json has every node")
        if second is not None:
            from .naming import output_symbol

            width = shutil.get_terminal_size().columns if out.isatty() else None
            tables.write_hessian(second, out, output=output_symbol(prog), precision=precision, rich=out.isatty(),
                                 width=width)


SWEEP_ROWS = 20         # rows of a sweep's table in a terminal, unless --rows or --all says otherwise
HESSIAN_INPUTS = 1000   # inputs of a Hessian (a million second derivatives), unless --max-inputs says otherwise


def check_hessian_size(prog, max_inputs: int | None) -> None:
    limit = max_inputs or HESSIAN_INPUTS
    if len(prog.inputs) > limit:
        raise AutodiffError(f"the program has {len(prog.inputs):,} inputs: its second derivatives would be "
                            f"{len(prog.inputs) ** 2:,} numbers, past the ceiling of {limit:,} inputs",
                            hint=f"if you mean it, --max-inputs {len(prog.inputs)}; or take a few with --wrt")


def eval_sweep(prog, points, fmt: str | None, path: str | None, strict: bool, precision: int,
               limit: int | None, ignore_extra: bool) -> None:
    """A sweep's rows in the chosen format (or the one its file's extension or the terminal picks)."""
    from .output import check_writable, is_stdout
    from .tables import progress_bar
    from .sweep_output import write_sweep, write_sweep_table
    from .sweeping import sweep

    fmt = sweep_format(path, fmt)
    if fmt is None:
        fmt = "table" if is_stdout(path) and sys.stdout.isatty() else "csv"
    check_writable(path)
    if ignore_extra:
        points = points.only(prog.inputs)
    with progress_bar(points.count or 0, terminal(sys.stderr), "sweeping", minimum=200_000) as on_progress:
        chunks = sweep(prog, points, strict=strict, on_progress=on_progress)
        if fmt == "table":
            failed = write_sweep_table(prog, chunks, sys.stdout, precision=precision, limit=limit,
                                       rich=sys.stdout.isatty(), cut_hint="--all shows every point; "
                                       "--csv or --jsonl write them all")
        else:
            failed = write_sweep(prog, chunks, fmt, path)
    if failed:
        click.echo(f"{failed} point{'s' if failed > 1 else ''} failed (see the error column); "
                   "--strict stops at the first", err=True)


def sweep_format(path: str | None, chosen: str | None) -> str | None:
    """The format the file's extension and the flags ask for; a contradiction is an error."""
    from .sweep_output import FORMATS, format_for

    named = format_for(path, None)
    if named is not None and named not in FORMATS:
        raise AutodiffError(f"cannot tell the format of {path}", hint="name it .csv, .jsonl or .npz")
    if chosen and named and chosen != named:
        raise AutodiffError(f"{path} is named .{named} but --{chosen} asks for {chosen}",
                            hint=f"name the file .{chosen}, or leave out --{chosen}")
    return chosen or named


def terminal(stream):
    """The stream if it is a terminal (to draw progress on), else None."""
    return stream if stream is not None and stream.isatty() else None


MAX_SAMPLES = 100_000   # check --samples: each is a full check


@cli.command("check", cls=AutodiffCommand, epilog=PROGRAM_HELP)
@program_options
@click.option("--nodes", type=click.Choice(["inputs", "all"]), default="inputs", show_default=True,
              help="Check the inputs' gradients, or every node's that depends on an input (slow on big graphs).")
@click.option("--inputs", "input_names", default="", metavar="NAMES",
              help="Check only these inputs, e.g. x1,w1 (default: every input, up to 100 of them one by one, "
                   "and beyond that the whole gradient along a random direction).")
@click.option("--method", type=click.Choice(["central", "forward"]), default="central", show_default=True,
              help="central: (f(x+h)-f(x-h))/2h, error O(h²); forward: the lecture's (f(x+h)-f(x))/h, O(h).")
@click.option("--h", "h", type=float, default=None,
              help="The step. Default 1e-6·max(1,|x|), retried smaller (down to 1/1000, and 1e-6·|x| "
                   "for a small x) before a gradient counts as failed.")
@click.option("--rtol", type=float, default=1e-5, show_default=True, help="Relative tolerance.")
@click.option("--atol", type=float, default=1e-7, show_default=True, help="Absolute tolerance.")
@click.option("--samples", type=click.IntRange(0, MAX_SAMPLES), default=0, show_default=True,
              help="Also check at N random points (at most 100,000): each input x drawn from "
                   "x ± 0.5·max(1,|x|); ends with each gradient's worst error and where.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for --samples and the random direction.")
@sweep_options
@click.option("--order", type=click.IntRange(1, 2), default=1, show_default=True,
              help="2: check the second derivatives (eval --hessian) against differences of the gradient.")
@click.option("--max-inputs", type=click.IntRange(1, None), default=None, metavar="N",
              help="With --order 2: the most inputs (default 1,000).")
@rows_options
@click.option("--precision", default=10, show_default=True, type=click.IntRange(1, 17),
              help="Significant digits shown in the table (JSON always has full precision).")
@click.option("--json", "as_json", is_flag=True, help="Strict JSON: ok, counts, one entry per gradient.")
def check_command(program, source_file, assignments, output_name, nodes, input_names, method, h, rtol, atol,
                  samples, seed, over, points_file, ignore_extra, max_points, order, max_inputs, rows, all_rows,
                  precision, as_json):
    """Compare backprop's gradients with finite differences; exit 1 if any differ.

    A gradient passes when |analytic - numeric| <= atol + rtol·|numeric|, plus,
    for one that would fail without it, the difference's own truncation error
    estimated from the same difference at 2h (so the lecture's forward nudge
    with --h 0.001 passes, and a wrong derivative still fails). Where a nudge
    moves a relu or abs argument onto or across 0 and the output itself is not
    smooth there, the status is `kink` (relu'(0) = abs'(0) = 0 by convention),
    not a failure. Where every nudge leaves an op's domain it is
    `unverifiable`; a nudge that leaves it on one side falls back to a
    one-sided difference.

    With --over or --points, the check runs at every point of the sweep
    instead (points outside the domain are skipped and counted), and ends with
    each gradient's worst error and where.
    """
    from .checking import (check_gradients, check_second_derivatives, planned_checks, write_check_json,
                           write_check_table)
    from .tables import progress_bar

    positive("--h", h)
    positive("--rtol", rtol, allow_zero=True)
    positive("--atol", atol, allow_zero=True)
    if order == 2 and (nodes != "inputs" or samples):
        raise AutodiffError("--order 2 checks the inputs' second derivatives at the given point: "
                            "no --nodes all, no --samples")
    prog = load_program(program, source_file, assignments, output_name, stdin_for_points=points_file == "-")
    points = load_points(over, points_file, assignments, max_points)
    if points is not None and (samples or order == 2):
        raise AutodiffError("a sweep checks the first derivatives at its own points: no --samples, no --order 2")
    if points is not None and ignore_extra:
        points = points.only(prog.inputs)
    names = comma_list(input_names)
    if order == 2 and not names:
        check_hessian_size(prog, max_inputs)
    planned = planned_checks(prog, nodes=nodes, inputs=names, order=order,
                             samples=samples if points is None else (points.count or 0) - 1)
    with progress_bar(planned, terminal(sys.stderr), "checking", minimum=50) as on_check:
        if order == 2:
            report = check_second_derivatives(prog, inputs=names, h=h, method=method, rtol=rtol, atol=atol,
                                              on_check=on_check)
        else:
            report = check_gradients(prog, nodes=nodes, inputs=names, h=h, method=method, rtol=rtol, atol=atol,
                                     samples=samples, seed=seed, on_check=on_check,
                                     points=None if points is None else points.each())
    if as_json:
        write_check_json(report, sys.stdout)
    else:
        write_check_table(report, sys.stdout, rich=sys.stdout.isatty(), precision=precision,
                          limit=None if all_rows else rows, cut_hint="--all shows every row; --json has every check")
    if not report.ok:
        sys.exit(1)


@cli.command("explain", cls=AutodiffCommand, epilog=PROGRAM_HELP)
@program_options
@rows_options(kept="chain-rule lines are counted; the legend of short names is always shown")
@click.option("--limit", type=click.IntRange(0, None), default=None, hidden=True,
              help="The old name of --rows (0: all).")
@click.option("--precision", default=6, show_default=True, type=click.IntRange(1, 17),
              help="Significant digits of the numbers (JSON always has full precision).")
@click.option("--json", "as_json", is_flag=True, help="The steps as strict JSON.")
@lecture_bug_option
def explain_command(program, source_file, assignments, output_name, rows, all_rows, limit, precision, as_json,
                    lecture_bug):
    """Write out the backward pass by hand, one chain-rule step per edge.

    From the output back to the inputs: each line multiplies the gradient
    arriving from above by the op's local derivative (in symbols, then in
    numbers). A node used more than once gets a `+=` line per use and a line
    adding them up. Unnamed nodes get short names, listed first with their
    source text.
    """
    from .explaining import write_explanation, write_explanation_json

    prog = load_program(program, source_file, assignments, output_name).run()
    if limit is not None:
        rows, all_rows = limit, all_rows or limit == 0
    if as_json:
        if lecture_bug:
            raise AutodiffError("--lecture-bug writes the lines of the bug: leave out --json")
        write_explanation_json(prog, sys.stdout)
    else:
        lines, heading = None, None
        if lecture_bug:
            from .lecture_bugs import explained, warning

            lines, heading = explained(prog, lecture_bug, precision), warning(lecture_bug)
        write_explanation(prog, sys.stdout, limit=None if all_rows else rows, precision=precision,
                          cut_hint="--all shows every line", lines=lines, heading=heading)


MAX_STEPS = 10_000_000  # step --steps: each is a forward and a backward pass


@cli.command("step", cls=AutodiffCommand, epilog=PROGRAM_HELP)
@program_options
@click.option("--lr", type=float, default=0.01, show_default=True, help="The step size (learning rate).")
@click.option("--steps", type=click.IntRange(1, MAX_STEPS), default=1, show_default=True,
              help="How many steps (at most 10,000,000; from 1,000, a progress bar in a terminal).")
@click.option("--minimize", is_flag=True, help="Walk downhill (x -= lr·grad) instead of uphill.")
@click.option("--freeze", default="", metavar="NAMES", help="Inputs that stay fixed, e.g. x1,x2.")
@click.option("--precision", default=4, show_default=True, type=click.IntRange(0, 17), help="Decimals shown.")
@click.option("--json", "as_json", is_flag=True, help="Strict JSON: final values and the output's trajectory.")
@click.option("--emit-set", is_flag=True, help="Print only the new values, as --set arguments.")
@rows_options(default=50, shown="50", kept="of the output's trajectory, evenly spaced steps and the last")
def step_command(program, source_file, assignments, output_name, lr, steps, minimize, freeze, precision, as_json,
                 emit_set, rows, all_rows):
    """Nudge every input along its gradient, then run the forward pass again.

    One step is the lecture's `a.data += lr * a.grad` for every input: the
    output goes up. With --minimize it is `a.data -= lr * a.grad`: the output
    goes down.
    """
    from .tables import progress_bar
    from .stepping import gradient_steps, write_step_json, write_step_report

    positive("--lr", lr, allow_zero=True)
    if as_json and emit_set:
        raise AutodiffError("--json and --emit-set each choose what is printed: give one")
    prog = load_program(program, source_file, assignments, output_name)
    with progress_bar(steps, terminal(sys.stderr), "stepping") as on_step:
        result = gradient_steps(prog, lr, steps, minimize=minimize, freeze=comma_list(freeze), on_step=on_step)
    if emit_set:
        sys.stdout.write(set_arguments(result.end) + "\n")
    elif as_json:
        write_step_json(prog, result, sys.stdout)
    else:
        write_step_report(prog, result, sys.stdout, precision=precision, rich=sys.stdout.isatty(),
                          max_rows=None if all_rows else rows)


@cli.command("diff", cls=AutodiffCommand, epilog=PROGRAM_HELP)
@program_options
@click.option("--wrt", default="", metavar="NAMES",
              help="Differentiate with respect to these inputs only, e.g. x,y (default: every input).")
@click.option("--order", type=click.IntRange(1, 2), default=1, show_default=True,
              help="2: the second derivatives d²out/dx dy of every pair of inputs (the Hessian), as a program.")
@click.option("--expr", "as_expressions", is_flag=True,
              help="One expression per input, intermediates written in (refused past 400 operations).")
@click.option("--to", "target", type=click.Choice(["python", "latex"]), default=None,
              help="python: a module with one function using only math, returning (value, {input: gradient}) "
                   "(with --order 2 also the Hessian); latex: the --expr form.")
@click.option("--json", "as_json", is_flag=True,
              help="The statements as strict JSON: name, expression, kind, and the node each one is for.")
@click.option("--max-inputs", type=click.IntRange(1, None), default=None, metavar="N",
              help="With --order 2: the most inputs (default 1,000).")
def diff_command(program, source_file, assignments, output_name, wrt, order, as_expressions, target, as_json,
                 max_inputs):
    """Print the derivative as a program in the language: the program's statements, then the
    backward pass from the output to the inputs, one statement per step, and d out / d X for
    every input X.

    The printed program runs as it is: `autodiff diff P | autodiff eval -f - --output dL_da`
    gives eval's gradient of a. Inputs keep their values (defaults, or --set).
    """
    from . import exporting
    from .deriving import derivative_program, hessian_program, write_derivative_json

    forms = [name for name, on in (("--expr", as_expressions and target != "latex"), ("--to", target),
                                   ("--json", as_json)) if on]
    if len(forms) > 1:
        raise AutodiffError(f"{' and '.join(forms)} each choose the form printed: give one",
                            hint="--to latex is the --expr form already")
    prog = load_program(program, source_file, assignments, output_name)
    names = comma_list(wrt)
    if order == 2:
        if not names:
            check_hessian_size(prog, max_inputs)
        if as_expressions or target == "latex" or as_json:
            raise AutodiffError("--order 2 is printed as a program (or --to python): one expression per "
                                "second derivative would copy every shared value",
                                hint="leave out --expr, --to latex and --json")
    if target == "python":
        sys.stdout.write(exporting.python_function(prog, names, order=order))
    elif order == 2:
        sys.stdout.write(hessian_program(prog, names).text())
    elif as_json:
        write_derivative_json(prog, derivative_program(prog, names), sys.stdout)
    elif target == "latex":
        sys.stdout.write(exporting.latex(derivative_program(prog, names)))
    elif as_expressions:
        sys.stdout.write(exporting.expression_text(derivative_program(prog, names)))
    else:
        sys.stdout.write(derivative_program(prog, names).text())


@cli.command("graph", cls=AutodiffCommand, epilog=PROGRAM_HELP)
@program_options
@click.option("-o", "--out", "path", metavar="FILE", type=click.Path(allow_dash=True),
              help="Write the picture here; the format follows the extension (.svg .png .pdf .dot .gv, "
                   "or .html: the live page). Without -o (or with -o -), DOT text goes to standard output.")
@click.option("--format", "fmt", type=click.Choice(["svg", "png", "pdf", "dot", "gv", "html"]), default=None,
              help="The format, whatever the file's name.")
@click.option("--precision", default=4, show_default=True, type=click.IntRange(0, 17), help="Decimals shown.")
@click.option("--rankdir", type=click.Choice(["LR", "TB"]), default="LR", show_default=True,
              help="Left to right, or top to bottom.")
@click.option("--no-grad", is_flag=True, help="Draw the forward pass only.")
@click.option("--max-nodes", type=click.IntRange(1, None), default=None,
              help="Refuse to lay out a larger graph (default 20,000: Graphviz would take minutes); "
                   "DOT text is always written.")
@click.option("--backend", type=click.Choice(["auto", "dot", "pygraphviz"]), default="auto", show_default=True,
              help="The renderer: auto uses Graphviz's dot when on PATH, else pygraphviz.")
@click.option("--upto", type=click.IntRange(0, None), default=None, metavar="K",
              help="The gradients after the first K chain-rule steps of explain (one per edge, from the "
                   "output back): the ones not reached yet are empty.")
@lecture_bug_option
def graph_command(program, source_file, assignments, output_name, path, fmt, precision, rankdir, no_grad,
                  max_nodes, backend, upto, lecture_bug):
    """Draw the graph as the lecture's draw_dot does: a record { label | data | grad } per value
    and an ellipse per operation, after the backward pass.

    Rendering SVG, PNG or PDF needs Graphviz's `dot` or pygraphviz
    (pip install 'autodiff-cli[render]'); without either the command exits 1 and
    writes nothing.

    -o graph.html writes the live page: the same picture in one self-contained
    HTML file (no network), a slider and a number box per input (over value ±
    2·max(1, |value|), adjustable in the page), and every node's data and grad
    recomputed as you move them; click a value for its chain-rule lines and
    its paths to the output; "step" nudges the inputs along the gradient.
    """
    from .drawing import BINARY, SLOW_LAYOUT_SECONDS, check_layout_size, output_format, write_picture
    from .output import check_writable, is_stdout, write_bytes

    fmt = output_format(None if is_stdout(path) else path, fmt)
    if is_stdout(path) and fmt in BINARY and sys.stdout.isatty():
        raise AutodiffError(f"{fmt.upper()} is binary: it would garble the terminal",
                            hint=f"write it to a file with -o graph.{fmt}, or redirect: ... > graph.{fmt}")
    if fmt == "html" and (no_grad or upto is not None or lecture_bug):
        raise AutodiffError("the live page shows the gradients and replays the backward pass itself: "
                            "leave out --no-grad, --upto and --lecture-bug")
    if no_grad and (upto is not None or lecture_bug):
        raise AutodiffError("--upto and --lecture-bug show gradients: leave out --no-grad")
    if upto is not None and lecture_bug:
        raise AutodiffError("--upto shows the right gradients filling in: leave out --lecture-bug")
    check_writable(path)
    prog = load_program(program, source_file, assignments, output_name).run()
    if fmt != "dot":
        seconds = check_layout_size(prog, max_nodes)
        if seconds > SLOW_LAYOUT_SECONDS:
            click.echo(f"warning: laying out {len(prog.nodes):,} nodes will take about {seconds:.0f} s; "
                       "-o graph.dot writes the DOT text at once, --max-nodes refuses graphs this large", err=True)
    if fmt == "html":
        from .page import live_page

        write_bytes(live_page(prog, precision=precision, rankdir=rankdir, backend=backend).encode("utf-8"), path)
        return
    grads, title = None, None
    if upto is not None:
        from .explaining import gradients_after

        grads = gradients_after(prog, upto)
    if lecture_bug:
        from .lecture_bugs import backward_with_bug, warning

        backward_with_bug(prog, lecture_bug)
        title = warning(lecture_bug)
    write_picture(prog, path, fmt, backend=backend, precision=precision, rankdir=rankdir, grad=not no_grad,
                  grads=grads, title=title)


PLOT_POINTS = 201


@cli.command("plot", cls=AutodiffCommand, epilog=PROGRAM_HELP)
@program_options
@click.option("--over", multiple=True, required=True, metavar="NAME=START:STOP[:COUNT]",
              help="The input along the x axis, COUNT points (default 201; a step as NAME=START:STOP:step=S; "
                   "bounds may be expressions, x=-pi:pi); twice for a contour map of two.")
@click.option("--order", type=click.IntRange(0, 2), default=1, show_default=True,
              help="0: the output alone; 1: and its derivative; 2: and the second derivative.")
@click.option("-o", "--out", "path", metavar="FILE", type=click.Path(allow_dash=True),
              help="Write the plot here: .svg, .png or .pdf (Matplotlib). Without -o, a text plot.")
@click.option("--format", "fmt", type=click.Choice(["svg", "png", "pdf"]), default=None,
              help="The file's format, whatever its name.")
def plot_command(program, source_file, assignments, output_name, over, order, path, fmt):
    """Plot the output and its derivative along one input, every other input fixed at its value.

    \b
      autodiff plot "3*x**2 - 4*x + 5" --over x=-5:5 -o f.svg
      autodiff plot "tanh(x)" --over x=-4:4 --set x=1      # with the tangent at x = 1

    With --set for the swept input too, a marker at that point and the tangent
    line there: the slope the lecture finds by nudging. With two --over, a
    contour map of the output with its gradient as arrows (files only).
    Files need Matplotlib and the text plot plotille: pip install
    'autodiff-cli[plot]'; without them the command exits 1 and writes nothing.
    A plot never needs more points than a picture has pixels: more are thinned.
    """
    from .output import check_writable
    from .plotting import FILE_FORMATS, curves, surface, thinned, write_plot_file, write_text_plot
    from .sweep_output import format_for
    from .points import parse_axis

    axes = [parse_axis(text, default_count=PLOT_POINTS) for text in over]
    if len(axes) > 2:
        raise AutodiffError("plot draws one input (a curve) or two (a contour map): give --over once or twice")
    fmt = format_for(path, fmt)
    if path is not None and fmt not in FILE_FORMATS:
        raise AutodiffError(f"cannot tell the format of {path}", hint="name it .svg, .png or .pdf, or add --format")
    if fmt is not None and path is None:
        raise AutodiffError(f"{fmt.upper()} goes to a file", hint=f"add -o plot.{fmt}")
    if len(axes) == 2 and path is None:
        raise AutodiffError("a contour map of two inputs needs a file", hint="add -o plot.svg")
    check_writable(path)
    axes, notes = thinned(axes)
    for note in notes:
        click.echo(f"note: {note}", err=True)
    swept = {axis.name for axis in axes}
    at = parse_assignments([pair for pair in assignments if pair.partition("=")[0].strip() in swept])
    prog = load_program(program, source_file, tuple(pair for pair in assignments
                                                    if pair.partition("=")[0].strip() not in swept), output_name)
    if len(axes) == 2:
        picture = surface(prog, *axes)
    else:
        picture = curves(prog, axes[0], order, tangent_at=at.get(axes[0].name))
    for note in getattr(picture, "notes", []):
        click.echo(f"note: {note}", err=True)
    if path is None:
        width, height = shutil.get_terminal_size((100, 30))
        color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        write_text_plot(picture, sys.stdout, width=width, height=height, color=color)
    else:
        write_plot_file(picture, path, fmt)
    if picture.failed:
        click.echo(f"{picture.failed} point{'s' if picture.failed > 1 else ''} failed: gaps in the plot", err=True)


@cli.command("net")
@click.argument("sizes", nargs=-1, required=True, type=click.IntRange(1, None))
@click.option("--seed", type=int, default=None,
              help="Seed of Python's random module for the parameters' draws (default 1337, as micrograd's demo).")
@click.option("--linear-out", is_flag=True, help="No tanh on the last layer.")
@click.option("--loss", type=click.Choice(["squared", "hinge", "none"]), default="squared", show_default=True,
              help="The last statement, the loss of one row: (out - y)**2, relu(1 - y*out) (targets -1 or 1), "
                   "or none: the output itself.")
def net_command(sizes, seed, linear_out, loss):
    """Print micrograd's MLP as a program: `autodiff net 3 4 4 1` is the lecture's MLP(3, [4, 4, 1]).

    \b
      autodiff net 3 4 4 1 --seed 1 > net.ad
      autodiff fit -f net.ad --data rows.csv --steps 100 --lr 0.05

    SIZES are the number of inputs, then each layer's number of neurons. The
    data columns are the inputs x0, x1, ... and the target y (y0, y1, ... for
    several outputs); the weights w{layer}_{neuron}_{input} and biases
    b{layer}_{neuron} are inputs with defaults drawn as the lecture draws them:
    random.seed(SEED), then for each layer, for each neuron,
    random.uniform(-1, 1) for each weight and then the bias. At most 100,000
    parameters.
    """
    from .networks import mlp_program

    options = {} if seed is None else {"seed": seed}
    sys.stdout.write(mlp_program(sizes, loss=loss, linear_out=linear_out, **options))


FIT_PROGRESS_WORK = 200_000     # rows x steps from which a terminal gets a progress bar


@cli.command("fit", cls=AutodiffCommand, epilog=PROGRAM_HELP)
@program_options
@click.option("--data", "data_file", required=True, metavar="FILE", type=click.Path(allow_dash=True),
              help="The rows to train on: CSV with a header of input names, or JSON Lines, as --points reads "
                   "('-' for standard input). At most 100,000,000 numbers, read once into memory.")
@click.option("--ignore-extra", is_flag=True, help="Drop the columns of --data that name no input.")
@click.option("--steps", type=click.IntRange(1, MAX_STEPS), default=100, show_default=True,
              help="How many steps (at most 10,000,000).")
@click.option("--lr", type=float, default=0.05, show_default=True, help="The learning rate.")
@click.option("--reduce", type=click.Choice(["sum", "mean"]), default="sum", show_default=True,
              help="The loss: the output summed over the rows (the lecture's), or averaged.")
@click.option("--batch", type=click.IntRange(1, None), default=None, metavar="N",
              help="Each step on N rows drawn at random, without repeats (default: every row).")
@click.option("--seed", type=click.IntRange(0, None), default=0, show_default=True, help="Seed of the --batch draws.")
@click.option("--optimizer", type=click.Choice(["sgd", "momentum", "adam"]), default="sgd", show_default=True,
              help="sgd: p -= lr·g; momentum: v = m·v + g, p -= lr·v; adam: PyTorch's, bias-corrected.")
@click.option("--momentum", type=float, default=None, help="With --optimizer momentum: m (default 0.9).")
@click.option("--beta1", type=float, default=None, help="With --optimizer adam: β1 (default 0.9).")
@click.option("--beta2", type=float, default=None, help="With --optimizer adam: β2 (default 0.999).")
@click.option("--eps", type=float, default=None, help="With --optimizer adam: ε (default 1e-8).")
@click.option("--freeze", default="", metavar="NAMES", help="Parameters that stay fixed, e.g. b0_0,b0_1.")
@click.option("--strict", is_flag=True, help="Stop at the first row that leaves the program's domain (exit 2).")
@click.option("--precision", default=4, show_default=True, type=click.IntRange(0, 17), help="Decimals shown.")
@click.option("--json", "as_json", is_flag=True,
              help="Strict JSON: the loss of every step, the loss at the start and the end, every parameter.")
@click.option("--emit-set", is_flag=True, help="Print only the trained parameters, as --set arguments.")
@click.option("--plot", "plot_path", metavar="FILE", type=click.Path(allow_dash=True),
              help="Draw the loss of every step: FILE.svg, .png or .pdf (Matplotlib), or '-' for a text plot "
                   "before the table (plotille).")
@rows_options(kept="the first parameters are kept")
def fit_command(program, source_file, assignments, output_name, data_file, ignore_extra, steps, lr, reduce, batch,
                seed, optimizer, momentum, beta1, beta2, eps, freeze, strict, precision, as_json, emit_set, plot_path,
                rows, all_rows):
    """Train the program's parameters by gradient descent on the rows of a data file.

    \b
      autodiff net 3 4 4 1 --seed 1 > net.ad
      autodiff fit -f net.ad --data rows.csv --steps 100 --lr 0.05 --emit-set

    The columns of --data are inputs given per row; every other input is a
    parameter, trained from its default or --set value to minimise the
    program's output summed (or with --reduce mean, averaged) over the rows.
    A step is the lecture's loop: the loss at the current parameters (the
    loss reported for that step), its gradient, and the update. A row where
    the program leaves its domain is left out of that step's loss and counted
    on stderr (--strict stops there). A loss or an update that is not finite
    stops the training (exit 2) with the last good parameters.
    """
    from .arrays import ArrayProgram
    from .data import read_data
    from .points import open_points
    from .training import Optimizer, fit, write_fit_json, write_fit_report
    from .tables import progress_bar

    positive("--lr", lr)
    if as_json and emit_set:
        raise AutodiffError("--json and --emit-set each choose what is printed: give one")
    if plot_path == "-" and (as_json or emit_set):
        raise AutodiffError("--plot - draws on standard output, where --json and --emit-set write",
                            hint="write the plot to a file: --plot loss.svg")
    settings = {"momentum": momentum, "beta1": beta1, "beta2": beta2, "eps": eps}
    for name, value in settings.items():
        uses = "momentum" if name == "momentum" else "adam"
        if value is not None and optimizer != uses:
            raise AutodiffError(f"--{name} is for --optimizer {uses}")
    fmt = plot_format(plot_path)
    prog = load_program(program, source_file, assignments, output_name, stdin_for_points=data_file == "-")
    points = open_points(data_file)
    given = {pair.partition("=")[0].strip() for pair in assignments}
    both = [name for name in points.names if name in given]
    if both:
        raise AutodiffError(f"{both[0]} is a column of the data and also given by --set",
                            hint=f"drop --set {both[0]}=...")
    if ignore_extra:
        points = points.only(prog.inputs)
    compiled = ArrayProgram(prog)
    data = read_data(points, compiled.chunk)
    chosen = Optimizer(optimizer, lr, **{name: value for name, value in settings.items() if value is not None})
    work = steps * min(len(data), batch or len(data))
    with progress_bar(steps, terminal(sys.stderr) if work >= FIT_PROGRESS_WORK else None, "fitting",
                      minimum=1) as bar:
        result = fit(prog, data, steps, chosen, reduce=reduce, batch=batch, seed=seed, freeze=comma_list(freeze),
                     strict=strict, on_step=None if bar is None else lambda step, loss: bar(step, f"loss {loss:.6g}"),
                     compiled=compiled)
    if result.left_out_times:
        rows_left = f"{result.left_out_rows:,} row{'s' if result.left_out_rows > 1 else ''}"
        click.echo(f"{rows_left} left out of the loss where the program leaves its domain ({result.left_out_times:,} "
                   f"time{'s' if result.left_out_times > 1 else ''} in {result.passes:,} passes over the rows); the "
                   f"first: {result.first_left_out}; --strict stops there", err=True)
    if plot_path is not None:
        title = f"{prog.output_label} per step ({result.reduce} over {result.batch or result.rows:,} rows; " \
                f"{result.optimizer.describe()})"
        if fmt is None:
            from .plotting import write_loss_text_plot

            color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
            width, height = shutil.get_terminal_size((100, 30))
            write_loss_text_plot(result.losses, sys.stdout, title, width=width, height=height, color=color)
        else:
            from .plotting import write_loss_plot

            write_loss_plot(result.losses, plot_path, fmt, title)
    if emit_set:
        sys.stdout.write(set_arguments(result.end) + "\n")
    elif as_json:
        write_fit_json(prog, result, sys.stdout)
    else:
        write_fit_report(prog, result, sys.stdout, precision=precision, rich=sys.stdout.isatty(),
                         max_rows=None if all_rows else rows, cut_hint="--all shows every one; --json has them all")


def plot_format(path: str | None) -> str | None:
    """The loss plot's format (None for a text plot, '-'), its library there and its file writable,
    all checked before any work."""
    from .output import check_writable
    from .plotting import FILE_FORMATS, require_plotter
    from .sweep_output import format_for

    if path is None:
        return None
    fmt = None if path == "-" else format_for(path, None)
    if path != "-" and fmt not in FILE_FORMATS:
        raise AutodiffError(f"cannot tell the format of {path}",
                            hint="name it .svg, .png or .pdf, or '-' for a text plot")
    require_plotter(fmt)
    check_writable(None if path == "-" else path)
    return fmt
