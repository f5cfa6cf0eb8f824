"""What every command shares: its options (declared once here), the rules on which options go
together (declared as data, checked in one place), reading the program, the points and the
`--set` values, and writing the report.

A command is an `AutodiffCommand`: its PROGRAM may start with '-' (`autodiff eval "-x**2"`), its
option conflicts are a list of `Rule`s, and its `hints` teach the library's errors (which name
no option) which of its options would help.
"""
from __future__ import annotations

import os
import re
import sys
from contextlib import contextmanager
from typing import Callable, NamedTuple, Sequence

import click
from click.core import ParameterSource

from ..errors import AutodiffError, MissingInputsError, clip

PROGRAM_HELP = """PROGRAM is one expression, e.g. "(a*b+c)*f", or statements separated by
';' or new lines (`a = 2; b = -3; L = a*b`).  A name assigned a plain number
is an input with that default; a name never assigned is an input you give
with --set.  The last statement is the output."""

EXAMPLE_HINT = ('give it as an argument, e.g. autodiff eval "(a*b+c)*f" --set a=2 --set b=-3 --set c=10 '
                '--set f=-2, or with -f FILE (-f - reads standard input)')


# Which options go together: rules as data, checked before a command runs.

class Rule(NamedTuple):
    """`kind` "one": at most one of `options`; "needs": `options` only with one of `others`;
    "without": `options` not with any of `others`.  `why` ends the message."""

    kind: str
    options: tuple[str, ...]
    others: tuple[str, ...] = ()
    why: str = ""
    when: tuple[tuple[str, object], ...] = ()     # an option counts only with this value (--order 2)


def one_of(*options: str, why: str = "") -> Rule:
    return Rule("one", options, why=why)


def needs(options: Sequence[str], others: Sequence[str], why: str = "", when: dict | None = None) -> Rule:
    return Rule("needs", tuple(options), tuple(others), why, tuple((when or {}).items()))


def without(options: Sequence[str], others: Sequence[str], why: str = "", when: dict | None = None) -> Rule:
    return Rule("without", tuple(options), tuple(others), why, tuple((when or {}).items()))


def given(ctx: click.Context, name: str, when: tuple = ()) -> bool:
    """The user gave the option (on the command line, or in the environment), with the value
    `when` asks for, if it names the option."""
    source = ctx.get_parameter_source(name)
    value = ctx.params.get(name)
    wanted = dict(when)
    return (source not in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)
            and value not in (None, False, ()) and (name not in wanted or value == wanted[name]))


def check_rules(ctx: click.Context, rules: Sequence[Rule]) -> None:
    """The first rule the given options break, as one error naming them."""
    for rule in rules:
        flags = {p.name: _flag(p) + (f" {dict(rule.when)[p.name]}" if p.name in dict(rule.when) else "")
                 for p in ctx.command.params}
        chosen = [name for name in rule.options if given(ctx, name, rule.when)]
        others = [name for name in rule.others if given(ctx, name, rule.when)]
        if rule.kind == "one" and len(chosen) > 1:
            shown = " and ".join(flags[name] for name in chosen)
            raise AutodiffError(f"{shown} each choose {rule.why or 'the same thing'}: give one")
        if rule.kind == "needs" and chosen and not others:
            wanted = " or ".join(flags[name] for name in rule.others)
            raise AutodiffError(f"{_listed([flags[n] for n in chosen])} {'is' if len(chosen) == 1 else 'are'} "
                                f"for {rule.why or wanted}: add {wanted}")
        if rule.kind == "without" and chosen and others:
            raise AutodiffError(f"{_listed([flags[n] for n in chosen])} and {_listed([flags[n] for n in others])} "
                                f"do not go together" + (f": {rule.why}" if rule.why else ""))


def _flag(param: click.Parameter) -> str:
    if isinstance(param, click.Option):
        return max(param.opts, key=len)
    return param.human_readable_name


def _listed(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


# The command

class AutodiffCommand(click.Command):
    """A command whose PROGRAM may start with '-', whose option conflicts are `rules`, and whose
    `hints(exc)` adds option hints to the library's errors."""

    def __init__(self, *args, rules: Sequence[Rule] = (), hints: Callable[[AutodiffError], None] | None = None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.rules = list(rules)
        self.hints = hints

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            rest = super().parse_args(ctx, program_last(args, self.params))
        except click.NoSuchOption as exc:
            raise _unknown_option(exc, ctx) from None
        except click.UsageError as exc:
            if "=" in args and "unexpected extra argument" in exc.format_message():
                raise click.UsageError(f"{exc.format_message()}\nhint: write --set NAME=VALUE with no spaces "
                                       "around '=' (or quote it: --set 'x = 3')", ctx) from None
            raise
        check_rules(ctx, self.rules)
        return rest


def _unknown_option(exc: click.NoSuchOption, ctx: click.Context) -> click.UsageError:
    """Click's message ("No such option", with its suggestions), and a hint for the usual mix-ups."""
    text = exc.format_message()
    if exc.option_name == "--output" or exc.option_name.startswith("--output="):
        text += ("\nhint: -o FILE (--out FILE) writes to a file; --output-node NAME chooses which of the "
                 "program's values is the output")
    return click.UsageError(text, ctx)


SHORT_OPTION_VALUE = {"-s": re.compile(r"\s*(?!\d)\w+\s*=")}     # -sx=2 is --set x=2, -sin(x) a program
PROGRAM_CHARACTERS = re.compile(r"[()*+/^ ]")


def program_last(args: list[str], params: list[click.Parameter]) -> list[str]:
    """The arguments with a program that starts with '-' moved after a final '--'.

    A word that starts with '-' is the program when no other word is, and it is no option of the
    command: not '--anything', not a known short option, and not a short option with its value
    attached (-sx=2, -fFILE).  The word after a '--' is the program too, so `autodiff eval --
    "-x**2" --set x=3` works as well as `autodiff eval --set x=3 -- "-x**2"`.  With another word
    for the program, a dash word is left as it is: an unknown option is reported as one.
    """
    takes_value = {name for p in params if isinstance(p, click.Option) and not p.is_flag
                   for name in p.opts + p.secondary_opts}
    known = {name for p in params if isinstance(p, click.Option) for name in p.opts + p.secondary_opts}
    if _has_plain_program(args, takes_value):
        return list(args)
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


def _has_plain_program(args: list[str], takes_value: set[str]) -> bool:
    """Some word, not an option's value, that does not start with '-' (before any '--')."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return False
        if not arg.startswith("-") or arg == "-":
            return True
        i += 2 if arg in takes_value else 1
    return False


def _is_dash_program(arg: str, known: set[str]) -> bool:
    if not arg.startswith("-") or arg.startswith("--") or arg in ("-", *known):
        return False
    option, attached = arg[:2], arg[2:]
    if option not in known:
        return True
    pattern = SHORT_OPTION_VALUE.get(option)
    return not pattern.match(attached) if pattern else bool(PROGRAM_CHARACTERS.search(attached))


# Shared options

def program_options(command: Callable) -> Callable:
    """PROGRAM, -f FILE, --set NAME=VALUE and --output-node NAME, shared by every command."""
    command = click.option("--output-node", "output_name", metavar="NAME",
                           help="Which value is the output: any name the program assigns (default: the last "
                                "statement).")(command)
    command = click.option("--set", "-s", "assignments", multiple=True, metavar="NAME=VALUE",
                           help="Give an input a value: a number or an expression of numbers (repeatable).")(command)
    command = click.option("-f", "--file", "source_file", metavar="FILE", multiple=True,
                           type=click.Path(allow_dash=True),
                           help="Read the program from FILE ('-' for standard input; piped in, it is read "
                                "without -f too).")(command)
    return click.argument("program", required=False)(command)


def report_options(what: str = "the report", json_help: str = "") -> Callable:
    """--json and -o/--out FILE: how and where every command writes its result."""
    def decorate(command: Callable) -> Callable:
        command = click.option("-o", "--out", "path", metavar="FILE", type=click.Path(allow_dash=True),
                               help=f"Write {what} to FILE instead of standard output, whole or not at all "
                                    "('-' is standard output).")(command)
        return click.option("--json", "as_json", is_flag=True,
                            help=json_help or "Strict JSON instead of text (with -o FILE, the same document "
                                              "in the file).")(command)
    return decorate


def rows_options(command: Callable | None = None, *, default: int | None = 200, shown: str = "200",
                 kept: str = "the first ones (and the output, or the failures) are kept") -> Callable:
    """--rows N and --all: the cap on a report's rows, shared by every command that prints a table."""
    def decorate(command: Callable) -> Callable:
        command = click.option("--all", "all_rows", is_flag=True, help="Show every row.")(command)
        return click.option("--rows", default=default, type=click.IntRange(2, None),
                            help=f"Most rows shown (default {shown}); {kept}.")(command)
    return decorate(command) if command is not None else decorate


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


SWEEP_ONLY = ("ignore_extra", "max_points")
SCHEDULER_ENVIRONMENT = "DASK_SCHEDULER_ADDRESS"        # Dask's own setting


def scheduler_option(command: Callable) -> Callable:
    """--scheduler ADDRESS: run the chunks on a Dask cluster."""
    return click.option("--scheduler", metavar="ADDRESS", default=None,
                        help="Run the chunks as tasks on the Dask cluster whose scheduler is at ADDRESS "
                             "(e.g. tcp://10.0.0.5:8786; default: $DASK_SCHEDULER_ADDRESS, else this "
                             "machine). The output is the same bytes. Needs autodiff-cli[dask].")(command)


@contextmanager
def cluster(given: str | None):
    """The Dask cluster of --scheduler, else of $DASK_SCHEDULER_ADDRESS, connected (None: this machine).
    Commands call it only where a cluster applies (a sweep, a fit)."""
    address = given or os.environ.get(SCHEDULER_ENVIRONMENT)
    if not address:
        yield None
        return
    from ..cluster import Cluster

    with Cluster(address) as connection:
        yield connection


def lecture_bug_option(command: Callable) -> Callable:
    """--lecture-bug: the lecture's deliberate mistakes, reproduced and labelled as wrong."""
    return click.option("--lecture-bug", type=click.Choice(["overwrite", "no-zero"]), default=None,
                        help="Show the gradients the lecture's famous bugs give, labelled as WRONG: overwrite "
                             "(self.grad = instead of +=: b = a + a gives a.grad 1) or no-zero (the gradients "
                             "not zeroed before a second backward pass: they compound).")(command)


def precision_option(default: int | None = 4, what: str = "Decimals shown in tables (JSON always has every "
                                                         "digit).", low: int = 0) -> Callable:
    return click.option("--precision", default=default, show_default=default is not None,
                        type=click.IntRange(low, 17), help=what)


# Reading what the user gives

def load_program(program: str | None, source_file: tuple[str, ...], assignments: tuple[str, ...],
                 output_name: str | None = None, stdin_for_points: bool = False):
    """Parse the program from the argument, the file, or (piped in, with neither given) standard
    input; with its output, and the --set values applied."""
    from ..parsing import parse
    from ..sources import read_text

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
            raise AutodiffError("no program given", hint=_example_hint())
        path = "-"                              # `cat prog.ad | autodiff eval` reads it
        text = read_text(path)
        if not text.strip():
            raise AutodiffError("no program given (standard input is empty)", hint=_example_hint())
    else:
        text = program if program is not None else read_text(path)
    values = parse_assignments(assignments)
    prog = parse(text, output=output_name)
    prog.set(values)
    return prog


def _example_hint() -> str:
    """How to give a program, with the running command's own name."""
    ctx = click.get_current_context(silent=True)
    name = ctx.info_name if ctx is not None else "eval"
    return EXAMPLE_HINT.replace("autodiff eval", f"autodiff {name}")


def load_points(prog, over: tuple[str, ...], points_file: str | None, assignments: tuple[str, ...],
                max_points: int | None = None, ignore_extra: bool = False, default_count: int | None = None):
    """The points of --over or --points (None for neither); a swept input may not be --set too."""
    if not over and not points_file:
        return None
    from ..points import DEFAULT_COUNT, MAX_POINTS, Grid, open_points, parse_axis

    if over and points_file:
        raise AutodiffError("give either --over or --points, not both")
    if points_file:
        points = data_columns(prog, open_points(points_file), ignore_extra, "--points")
    else:
        axes = [parse_axis(text, default_count or DEFAULT_COUNT) for text in over]
        points = Grid(axes, max_points or MAX_POINTS)
    given_names = {pair.partition("=")[0].strip() for pair in assignments}
    both = [name for name in points.names if name in given_names]
    if both:
        raise AutodiffError(f"{both[0]} is swept and also given by --set", hint=f"drop --set {both[0]}=...")
    return points


def data_columns(prog, points, ignore_extra: bool, option: str, keep=None):
    """The file's columns that name inputs of the program (and `keep`, a column the command reads
    itself): every column must, unless --ignore-extra drops the others (the tool's own CSV has
    value, grad.* and error columns)."""
    extra = [name for name in points.names if name not in prog.inputs and name != keep]
    if extra and all(_is_number(name) for name in points.names):
        raise AutodiffError(f"{points.source}: its first line ({clip(', '.join(points.names))}) is numbers, not a "
                            "header of input names",
                            hint=f"name the columns: --columns {','.join(_unset_first(prog)[:len(points.names)])}"
                                 if option == "--data" else "add a header line of input names")
    if extra and not ignore_extra:
        shown = ", ".join(clip(name) for name in extra[:8]) + (" …" if len(extra) > 8 else "")
        raise AutodiffError(f"{points.source}: the column{'s' if len(extra) > 1 else ''} {shown} "
                            f"name{'' if len(extra) > 1 else 's'} no input of the program; its inputs are: "
                            f"{clip(', '.join(prog.inputs), 200)}",
                            hint=f"add --ignore-extra to drop {'them' if len(extra) > 1 else 'it'}"
                                 + (" (the tool's own rows: value, grad.* and error are results)"
                                    if any(n in ("value", "error") or n.startswith("grad.") for n in extra) else ""))
    return points.only([*prog.inputs, *([keep] if isinstance(keep, str) else [])])


def _unset_first(prog) -> list[str]:
    """The program's inputs, those with no value (the data's, as a rule) first."""
    return sorted(prog.inputs, key=lambda name: prog.inputs[name].data is not None)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_assignments(pairs: tuple[str, ...] | list[str]) -> dict[str, float | list]:
    """`["a=2", "b=-3"]` -> {"a": 2.0, "b": -3.0}, refusing bad forms and repeated names.  A value
    is one number or one expression of numbers (`2/3`, `-pi`), or a vector or matrix of them
    (`z=[0.5,-1,2]`, `W=[[1,2],[3,4]]`)."""
    from ..parsing import constant_or_array as constant

    values: dict[str, float | list] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise AutodiffError(f"--set {clip(pair)}: expected NAME=VALUE", hint="e.g. --set a=2")
        if name in values:
            raise AutodiffError(f"--set {clip(name)} is given twice")
        values[name] = constant(text, f"--set {clip(name)}")
    return values


def comma_list(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def positive(name: str, value: float | None, allow_zero: bool = False) -> None:
    """A tolerance, step or rate given on the command line: finite and positive (or zero)."""
    import math

    if value is not None and not (math.isfinite(value) and (value > 0 or allow_zero and value == 0)):
        raise AutodiffError(f"{name} must be a finite number above 0{' or 0' if allow_zero else ''}, not {value}")


def set_lines(point: dict[str, float]) -> str:
    """A point as `--set` arguments one a line, joined by shell line continuations: a message cuts long
    lines, and a net has many parameters."""
    return " \\\n".join(f"  --set {name}={value!r}" for name, value in point.items())


def terminal(stream):
    """The stream if it is a terminal (to draw progress on), else None."""
    try:
        return stream if stream is not None and stream.isatty() else None
    except (ValueError, OSError):
        return None


def report_format(path: str | None, as_json: bool, default: str = "text") -> str:
    """json with --json or a .json file, else `default`."""
    if as_json or (path not in (None, "-") and path.lower().endswith(".json")):
        return "json"
    return default


def common_hints(exc: AutodiffError) -> None:
    """Hints for the errors every command can meet."""
    from ..parsing import ConstantError
    from ..points import PointsLimitError

    if isinstance(exc, MissingInputsError):
        exc.hint = "; ".join(["add " + " ".join(f"--set {clip(name)}=1" for name in exc.names[:20]) +
                              " with your values, or write NAME = NUMBER in the program", *exc.notes])
    elif isinstance(exc, PointsLimitError):
        exc.hint = f"if you mean it, raise the ceiling: --max-points {exc.count}"
    elif isinstance(exc, ConstantError):
        exc.hint = ("one value, a number or an expression of numbers: e.g. -3.5, 2/3 or 2*pi"
                    + ("; a --set value is one expression, not several statements" if ";" in exc.text else ""))


HESSIAN_INPUTS = 1000   # inputs of a Hessian (a million second derivatives), unless --max-inputs says otherwise


def check_hessian_size(prog, max_inputs: int | None, narrower: str | None = None) -> None:
    """Refuse second derivatives of more inputs than the ceiling, naming the options that help."""
    limit = max_inputs or HESSIAN_INPUTS
    if len(prog.inputs) > limit:
        fewer = f"; or take a few with {narrower}" if narrower else ""
        raise AutodiffError(f"the program has {len(prog.inputs):,} inputs: its second derivatives would be "
                            f"{len(prog.inputs) ** 2:,} numbers, past the ceiling of {limit:,} inputs",
                            hint=f"if you mean it, --max-inputs {len(prog.inputs)}{fewer}")


def sweep_report_format(path: str | None, chosen: str | None) -> str:
    """A sweep's format: the flag's, else the file's extension (.csv, .jsonl/.ndjson/.json, .npz), else
    a table in a terminal and CSV when piped; a contradiction is an error."""
    import os

    named = None
    if path not in (None, "-"):
        extension = os.path.splitext(path)[1].lower().lstrip(".")
        named = {"ndjson": "jsonl", "json": "jsonl"}.get(extension, extension) or None
        if named is not None and named not in ("csv", "jsonl", "npz"):
            raise AutodiffError(f"cannot tell the format of {clip(path)}", hint="name it .csv, .jsonl or .npz")
    if chosen and named and chosen != named:
        raise AutodiffError(f"{clip(path)} is named .{named} but --{chosen} asks for {chosen}",
                            hint=f"name the file .{chosen}, or leave out --{chosen}")
    if chosen or named:
        return chosen or named
    return "text" if path in (None, "-") and terminal(sys.stdout) is not None else "csv"
