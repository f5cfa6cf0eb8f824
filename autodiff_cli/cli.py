"""The `autodiff` command: thin click commands over the library.

Each command parses its options, calls library functions, and writes a
report.  Bad input raises `AutodiffError`, which `AutodiffGroup` turns into one
message on stderr and exit code 2; nothing a user types shows a traceback.
"""
from __future__ import annotations

import math
import re
import shutil
import sys
from typing import Callable

import click

from . import __version__
from .errors import AutodiffError, DomainError, MissingInputsError

PROGRAM_HELP = """PROGRAM is one expression, e.g. "(a*b+c)*f", or statements separated by
';' or new lines (`a = 2; b = -3; L = a*b`).  A name assigned a plain number
is an input with that default; a name never assigned is an input you give
with --set.  The last statement is the output."""


NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


class AutodiffGroup(click.Group):
    """Turns `AutodiffError` into a message on stderr and its exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except AutodiffError as exc:
            add_option_hints(exc)
            click.echo(exc.render(), err=True)
            ctx.exit(exc.exit_code)


def add_option_hints(exc: AutodiffError) -> None:
    """The library's errors name no options; here they learn which of ours would help."""
    from .drawing import GraphTooLargeError, RenderError
    from .exporting import ExpressionTooLargeError
    from .stepping import StepLeftDomainError

    if isinstance(exc, MissingInputsError):
        exc.hint = "; ".join(["add " + " ".join(f"--set {name}=1" for name in exc.names) +
                              " with your values, or write NAME = NUMBER in the program", *exc.notes])
    elif isinstance(exc, GraphTooLargeError):
        exc.hint = "raise --max-nodes, or write DOT text with -o graph.dot"
    elif isinstance(exc, RenderError) and "not installed" in exc.message:
        exc.hint += "; or write DOT text with -o graph.dot"
    elif isinstance(exc, ExpressionTooLargeError):
        exc.hint = "leave out --expr (and --to latex): the program form names shared values instead"
    elif isinstance(exc, StepLeftDomainError):
        exc.hint = f"the last good point (after step {exc.step - 1}) is: {set_arguments(exc.point)}"


class AutodiffCommand(click.Command):
    """A command whose PROGRAM may start with '-' (`autodiff eval "-x**2"`): an argument that
    cannot be one of the command's options is taken as the program, wherever it stands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, program_last(args, self.params))
        except click.NoSuchOption as exc:
            hint = (f"hint: if {exc.option_name!r} starts your program, put the program after --: "
                    f"autodiff {self.name} [OPTIONS] -- '{exc.option_name}...'")
            raise click.UsageError(f"{exc.format_message()}\n{hint}", ctx) from None


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


@click.group(cls=AutodiffGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="autodiff")
def cli() -> None:
    """See every node's value and gradient of an expression, micrograd-style.

    \b
      autodiff eval "(a*b+c)*f" --set a=2 --set b=-3 --set c=10 --set f=-2
      autodiff eval "tanh(x1*w1 + x2*w2 + b)" --set x1=2 ... --json | jq .grad
    """


def rows_options(command: Callable | None = None, *, default: int = 200,
                 kept: str = "the first ones (and the output, or the failures) are kept") -> Callable:
    """--rows N and --all: the cap on a report's rows, shared by every command that prints a table."""
    def decorate(command: Callable) -> Callable:
        command = click.option("--all", "all_rows", is_flag=True, help="Show every row.")(command)
        return click.option("--rows", default=default, show_default=True, type=click.IntRange(2, None),
                            help=f"Most rows shown; {kept}.")(command)
    return decorate(command) if command is not None else decorate


def program_options(command: Callable) -> Callable:
    """PROGRAM, -f FILE and --set NAME=VALUE, shared by every command."""
    command = click.option("--output", "output_name", metavar="NAME",
                           help="The output: any name the program assigns (default: the last statement).")(command)
    command = click.option("--set", "-s", "assignments", multiple=True, metavar="NAME=VALUE",
                           help="Give an input a value (repeatable).")(command)
    command = click.option("-f", "--file", "source_file", metavar="FILE", multiple=True,
                           help="Read the program from FILE ('-' for standard input).")(command)
    return click.argument("program", required=False)(command)


def sweep_options(command: Callable) -> Callable:
    """--over and --points: run at many points instead of one."""
    command = click.option("--points", "points_file", metavar="FILE",
                           help="Run at the points in FILE: CSV with a header of input names, or JSON Lines "
                                "({\"x\": 1.5} per line); '-' for standard input. Inputs it leaves out keep "
                                "their --set value or default.")(command)
    return click.option("--over", multiple=True, metavar="NAME=START:STOP[:COUNT]",
                        help="Sweep an input over COUNT evenly spaced values (default 101), both ends "
                             "included; repeat for a grid (the first varies slowest).")(command)


def load_points(over: tuple[str, ...], points_file: str | None, assignments: tuple[str, ...]):
    """The points of --over or --points (None for neither); a swept input may not be --set too."""
    from .sweeping import Grid, open_points, parse_axis

    if not over and not points_file:
        return None
    if over and points_file:
        raise AutodiffError("give either --over or --points, not both")
    points = open_points(points_file) if points_file else Grid([parse_axis(text) for text in over])
    given = {pair.partition("=")[0].strip() for pair in assignments}
    both = [name for name in points.names if name in given]
    if both:
        raise AutodiffError(f"{both[0]} is swept and also given by --set", hint=f"drop --set {both[0]}=...")
    return points


def load_program(program: str | None, source_file: tuple[str, ...], assignments: tuple[str, ...],
                 output_name: str | None = None):
    """Parse the program from the argument or the file, with its output, and apply the --set values."""
    from .parsing import parse

    if len(source_file) > 1:
        raise AutodiffError(f"-f is given {len(source_file)} times: a command reads one program")
    if (program is None) == (not source_file):
        raise AutodiffError("give the program either as an argument or with -f FILE, not both"
                            if program is not None else "no program given",
                            hint='e.g. autodiff eval "(a*b+c)*f" --set a=2 --set b=-3 --set c=10 --set f=-2')
    text = program if program is not None else read_source(source_file[0])
    values = parse_assignments(assignments)
    prog = parse(text, output=output_name)
    prog.set(values)
    return prog


def parse_assignments(pairs: tuple[str, ...] | list[str]) -> dict[str, float]:
    """`["a=2", "b=-3"]` -> {"a": 2.0, "b": -3.0}, refusing bad forms and repeated names."""
    values: dict[str, float] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise AutodiffError(f"--set {pair}: expected NAME=VALUE", hint="e.g. --set a=2")
        if name in values:
            raise AutodiffError(f"--set {name} is given twice")
        values[name] = constant_value(name, text.strip())
    return values


def constant_value(name: str, text: str) -> float:
    """A `--set` value: a number, or an expression of numbers such as 2/3 (the lecture's x)."""
    from .parsing import parse

    if NUMBER.fullmatch(text):
        value = float(text)
        if math.isinf(value):
            raise AutodiffError(f"--set {name}={text}: the number is too large for a float")
        return value
    try:
        prog = parse(text)
        if not prog.inputs:
            return prog.run().value
    except DomainError as exc:
        raise AutodiffError(f"--set {name}={text}: {exc.message}") from None
    except AutodiffError:
        pass
    raise AutodiffError(f"--set {name}={text}: {text!r} is not a number",
                        hint=f"write a number or an expression of numbers, e.g. --set {name}=-3.5 or "
                             f"--set {name}=2/3")


def read_source(path: str) -> str:
    try:
        if path == "-":
            return sys.stdin.read()
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise AutodiffError(f"cannot read the program from {path}: {exc}") from None


@cli.command("eval", cls=AutodiffCommand, epilog=PROGRAM_HELP)
@program_options
@click.option("--json", "as_json", is_flag=True,
              help="Strict JSON: value, output, grad, nodes (with --over or --points: JSON Lines).")
@sweep_options
@click.option("--csv", "fmt", flag_value="csv", help="A sweep's rows as CSV (the default when piped).")
@click.option("--jsonl", "fmt", flag_value="jsonl",
              help='A sweep\'s rows as JSON Lines: {"inputs": {...}, "value": v, "grad": {...}} per point.')
@click.option("-o", "--out", "path", metavar="FILE",
              help="Write a sweep's rows to FILE: .csv, .jsonl or .npz (NumPy arrays, for large sweeps).")
@click.option("--strict", is_flag=True, help="Stop a sweep at the first point that fails (exit 2).")
@click.option("--hessian", is_flag=True,
              help="Also the second derivatives d²out/dx dy of every pair of inputs (`hessian` in JSON).")
@click.option("--precision", default=4, show_default=True, type=click.IntRange(0, 17),
              help="Decimals shown in the table (JSON always has full precision).")
@rows_options
def eval_command(program, source_file, assignments, output_name, as_json, over, points_file, fmt, path, strict,
                 hessian, precision, rows, all_rows):
    """Run the forward and backward pass and show every node's value and gradient.

    The table lists the nodes in topological order: the inputs first, the
    output last.

    With --over or --points, run at every point at once instead (one pass over
    arrays) and write a row per point: the inputs, the value, every gradient,
    and why the point failed if it did (the other points still run; a count of
    failures goes to stderr). In a terminal the rows are a table of the first
    --rows points; piped, they are CSV (--jsonl or --json for JSON Lines).
    """
    from . import reports

    points = load_points(over, points_file, assignments)
    if points is None and (fmt or path or strict):
        raise AutodiffError("--csv, --jsonl, -o and --strict are for sweeps: add --over or --points")
    if points is not None:
        if hessian:
            raise AutodiffError("--hessian is for one point: leave out --over and --points")
        prog = load_program(program, source_file, assignments, output_name)
        return eval_sweep(prog, points, fmt or ("jsonl" if as_json else None), path, strict,
                          precision, None if all_rows else min(rows, SWEEP_ROWS))
    prog = load_program(program, source_file, assignments, output_name).run()
    second = None
    if hessian:
        from .deriving import hessian as second_derivatives
        second = second_derivatives(prog)
    out = sys.stdout
    if as_json:
        reports.write_json(prog, out, hessian=second)
    else:
        reports.write_table(prog, out, precision=precision, limit=None if all_rows else rows,
                            rich=out.isatty(), cut_hint="--all shows every row; --json has every node")
        if second is not None:
            reports.write_hessian(second, out, precision=precision, rich=out.isatty())


SWEEP_ROWS = 20         # rows of a sweep's table in a terminal, unless --rows or --all says otherwise


def eval_sweep(prog, points, fmt: str | None, path: str | None, strict: bool, precision: int,
               limit: int | None) -> None:
    """A sweep's rows in the chosen format (or the one its file's extension or the terminal picks)."""
    from .reports import progress_bar
    from .sweep_output import FORMATS, format_for, write_sweep, write_sweep_table
    from .sweeping import sweep

    fmt = format_for(path, fmt) or ("table" if path is None and sys.stdout.isatty() else "csv")
    if fmt not in (*FORMATS, "table"):
        raise AutodiffError(f"cannot tell the format of {path}", hint="name it .csv, .jsonl or .npz")
    with progress_bar(points.count or 0, terminal(sys.stderr), "sweeping", minimum=200_000) as on_progress:
        chunks = sweep(prog, points, strict=strict, on_progress=on_progress)
        if fmt == "table":
            failed = write_sweep_table(prog, chunks, sys.stdout, precision=precision, limit=limit,
                                       rich=sys.stdout.isatty(), cut_hint="--all shows every point; "
                                       "--csv or --jsonl write them all")
        else:
            failed = write_sweep(prog, chunks, fmt, out=None if path else sys.stdout.buffer, path=path)
    if failed:
        click.echo(f"{failed} point{'s' if failed > 1 else ''} failed (see the error column); "
                   "--strict stops at the first", err=True)


def terminal(stream):
    """The stream if it is a terminal (to draw progress on), else None."""
    return stream if stream.isatty() else None


def main() -> None:
    """Console-script entry point (click already exits quietly when a pipe closes, as with `| head`)."""
    cli.main(prog_name="autodiff")


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
@click.option("--samples", type=click.IntRange(0, None), default=0, show_default=True,
              help="Also check at N random points: each input x drawn from x ± 0.5·max(1,|x|); "
                   "ends with each gradient's worst error and where.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for --samples and the random direction.")
@sweep_options
@click.option("--order", type=click.IntRange(1, 2), default=1, show_default=True,
              help="2: check the second derivatives (eval --hessian) against differences of the gradient.")
@rows_options
@click.option("--precision", default=10, show_default=True, type=click.IntRange(1, 17),
              help="Significant digits shown in the table (JSON always has full precision).")
@click.option("--json", "as_json", is_flag=True, help="Strict JSON: ok, counts, one entry per gradient.")
def check_command(program, source_file, assignments, output_name, nodes, input_names, method, h, rtol, atol, samples, seed,
                  over, points_file, order, rows, all_rows, precision, as_json):
    """Compare backprop's gradients with finite differences; exit 1 if any differ.

    A gradient passes when |analytic - numeric| <= atol + rtol·|numeric|, plus,
    for one that would fail without it, the difference's own truncation error
    estimated from the same difference at 2h (so the lecture's forward nudge
    with --h 0.001 passes, and a wrong derivative still fails). Where a nudge
    moves a relu or abs argument onto or across 0 the status is `kink`
    (relu'(0) = abs'(0) = 0 by convention), not a failure. Where every nudge
    leaves an op's domain it is `unverifiable`; a nudge that leaves it on one
    side falls back to a one-sided difference.

    With --over or --points, the check runs at every point of the sweep
    instead (points outside the domain are skipped and counted), and ends with
    each gradient's worst error and where.
    """
    from .checking import (check_gradients, check_second_derivatives, planned_checks, write_check_json,
                           write_check_table)
    from .reports import progress_bar

    if h is not None and not h > 0:
        raise AutodiffError(f"--h must be a positive number, not {h}")
    if order == 2 and (nodes != "inputs" or samples):
        raise AutodiffError("--order 2 checks the inputs' second derivatives at the given point: "
                            "no --nodes all, no --samples")
    points = load_points(over, points_file, assignments)
    if points is not None and (samples or order == 2):
        raise AutodiffError("a sweep checks the first derivatives at its own points: no --samples, no --order 2")
    prog = load_program(program, source_file, assignments, output_name)
    names = [name.strip() for name in input_names.split(",") if name.strip()]
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
@rows_options
@click.option("--limit", type=click.IntRange(0, None), default=None, hidden=True,
              help="The old name of --rows (0: all).")
@click.option("--precision", default=6, show_default=True, type=click.IntRange(1, 17),
              help="Significant digits of the numbers (JSON always has full precision).")
@click.option("--json", "as_json", is_flag=True, help="The steps as strict JSON.")
def explain_command(program, source_file, assignments, output_name, rows, all_rows, limit, precision, as_json):
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
        write_explanation_json(prog, sys.stdout)
    else:
        write_explanation(prog, sys.stdout, limit=None if all_rows else rows, precision=precision,
                          cut_hint="--all shows every line")


@cli.command("step", cls=AutodiffCommand, epilog=PROGRAM_HELP)
@program_options
@click.option("--lr", type=float, default=0.01, show_default=True, help="The step size (learning rate).")
@click.option("--steps", type=click.IntRange(1, None), default=1, show_default=True,
              help="How many steps (from 1,000, a progress bar in a terminal).")
@click.option("--minimize", is_flag=True, help="Walk downhill (x -= lr·grad) instead of uphill.")
@click.option("--freeze", default="", metavar="NAMES", help="Inputs that stay fixed, e.g. x1,x2.")
@click.option("--precision", default=4, show_default=True, type=click.IntRange(0, 17), help="Decimals shown.")
@click.option("--json", "as_json", is_flag=True, help="Strict JSON: final values and the output's trajectory.")
@click.option("--emit-set", is_flag=True, help="Print only the new values, as --set arguments.")
@rows_options(default=50, kept="of the output's trajectory, evenly spaced steps and the last")
def step_command(program, source_file, assignments, output_name, lr, steps, minimize, freeze, precision, as_json, emit_set,
                 rows, all_rows):
    """Nudge every input along its gradient, then run the forward pass again.

    One step is the lecture's `a.data += lr * a.grad` for every input: the
    output goes up. With --minimize it is `a.data -= lr * a.grad`: the output
    goes down.
    """
    from .reports import progress_bar
    from .stepping import gradient_steps, write_step_json, write_step_report

    prog = load_program(program, source_file, assignments, output_name)
    frozen = [name.strip() for name in freeze.split(",") if name.strip()]
    with progress_bar(steps, terminal(sys.stderr), "stepping") as on_step:
        result = gradient_steps(prog, lr, steps, minimize=minimize, freeze=frozen, on_step=on_step)
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
              help="python: one function using only math, returning (value, {input: gradient}); "
                   "latex: the --expr form.")
@click.option("--json", "as_json", is_flag=True,
              help="The statements as strict JSON: name, expression, kind, and the node each one is for.")
def diff_command(program, source_file, assignments, output_name, wrt, order, as_expressions, target, as_json):
    """Print the derivative as a program in the language: the program's statements, then the
    backward pass from the output to the inputs, one statement per step, and d out / d X for
    every input X.

    The printed program runs as it is: `autodiff diff P | autodiff eval -f - --output dL_da`
    gives eval's gradient of a. Inputs keep their values (defaults, or --set).
    """
    from . import exporting
    from .deriving import derivative_program, hessian_program, write_derivative_json

    prog = load_program(program, source_file, assignments, output_name)
    names = [name.strip() for name in wrt.split(",") if name.strip()]
    if order == 2:
        if as_expressions or target or as_json:
            raise AutodiffError("--order 2 prints the program form only")
        sys.stdout.write(hessian_program(prog, names).text())
        return
    derivative = derivative_program(prog, names)
    if as_json:
        write_derivative_json(prog, derivative, sys.stdout)
    elif target == "python":
        sys.stdout.write(exporting.python_function(prog, names))
    elif target == "latex":
        sys.stdout.write(exporting.latex(derivative))
    elif as_expressions:
        sys.stdout.write(exporting.expression_text(derivative))
    else:
        sys.stdout.write(derivative.text())


@cli.command("graph", cls=AutodiffCommand, epilog=PROGRAM_HELP)
@program_options
@click.option("-o", "--out", "path", metavar="FILE",
              help="Write the picture here; the format follows the extension (.svg .png .pdf .dot .gv, "
                   "or .html: the live page). Without -o, DOT text goes to standard output.")
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
def graph_command(program, source_file, assignments, output_name, path, fmt, precision, rankdir, no_grad, max_nodes, backend):
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
    from .drawing import BINARY, check_layout_size, output_format, write_picture

    fmt = output_format(path, fmt)
    if path is None and fmt in BINARY and sys.stdout.isatty():
        raise AutodiffError(f"{fmt.upper()} is binary: it would garble the terminal",
                            hint=f"write it to a file with -o graph.{fmt}, or redirect: ... > graph.{fmt}")
    prog = load_program(program, source_file, assignments, output_name).run()
    if fmt != "dot":
        warning = check_layout_size(prog, max_nodes)
        if warning:
            click.echo(f"warning: {warning}", err=True)
    if fmt == "html":
        from .drawing import write_output
        from .page import live_page

        if no_grad:
            raise AutodiffError("the live page shows the gradients: leave out --no-grad")
        page = live_page(prog, precision=precision, rankdir=rankdir, backend=backend)
        write_output(page.encode("utf-8"), path, "html")
        return
    write_picture(prog, path, fmt, backend=backend, precision=precision, rankdir=rankdir, grad=not no_grad)


@cli.command("plot", cls=AutodiffCommand, epilog=PROGRAM_HELP)
@program_options
@click.option("--over", multiple=True, required=True, metavar="NAME=START:STOP[:COUNT]",
              help="The input along the x axis, COUNT points (default 201); twice for a contour map of two.")
@click.option("--order", type=click.IntRange(1, 2), default=1, show_default=True,
              help="2: also the second derivative.")
@click.option("-o", "--out", "path", metavar="FILE",
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
    """
    from .plotting import FILE_FORMATS, curves, surface, write_plot_file, write_text_plot
    from .sweep_output import format_for
    from .sweeping import parse_axis

    axes = [parse_axis(text, default_count=PLOT_POINTS) for text in over]
    if len(axes) > 2:
        raise AutodiffError("plot draws one input (a curve) or two (a contour map): give --over once or twice")
    fmt = format_for(path, fmt)
    if path is not None and fmt not in FILE_FORMATS:
        raise AutodiffError(f"cannot tell the format of {path}", hint="name it .svg, .png or .pdf, or add --format")
    if fmt is not None and path is None:
        raise AutodiffError(f"{fmt.upper()} goes to a file", hint=f"add -o plot.{fmt}")
    swept = {axis.name for axis in axes}
    at = parse_assignments([pair for pair in assignments if pair.partition("=")[0].strip() in swept])
    prog = load_program(program, source_file, tuple(pair for pair in assignments
                                                    if pair.partition("=")[0].strip() not in swept), output_name)
    if len(axes) == 2:
        if path is None:
            raise AutodiffError("a contour map of two inputs needs a file", hint="add -o plot.svg")
        picture = surface(prog, *axes)
    else:
        picture = curves(prog, axes[0], order, tangent_at=at.get(axes[0].name))
    if path is None:
        width, height = shutil.get_terminal_size((100, 30))
        write_text_plot(picture, sys.stdout, width=width, height=height, color=sys.stdout.isatty())
    else:
        write_plot_file(picture, path, fmt)
    if picture.failed:
        click.echo(f"{picture.failed} point{'s' if picture.failed > 1 else ''} failed: gaps in the plot", err=True)


PLOT_POINTS = 201
