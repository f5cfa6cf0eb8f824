"""`autodiff diff`: the derivative as a program, and in other forms (one expression per input,
Python, LaTeX, JSON)."""
from __future__ import annotations

import click

from ..errors import AutodiffError

from .options import (PROGRAM_HELP, AutodiffCommand, check_hessian_size, comma_list, load_program, needs, one_of,
                      program_options, report_format, report_options, without)

MAX_STATEMENTS = 200_000    # of a second-derivative program: about 20 s and 20 MB

RULES = [
    one_of("as_expressions", "target", "as_json", why="the form printed"),
    without(("order",), ("as_expressions", "as_json"), when={"order": 2},
            why="the second derivatives are printed as a program (or --to python): one expression per second "
                "derivative would copy every shared value"),
    without(("order",), ("target",), when={"order": 2, "target": "latex"},
            why="the second derivatives are printed as a program (or --to python)"),
    needs(("max_inputs", "max_statements"), ("order",), when={"order": 2}),
]


def hints(exc) -> None:
    from ..exporting import ExpressionTooLargeError

    if isinstance(exc, ExpressionTooLargeError):
        exc.hint = "leave out --expr (and --to latex): the program form names shared values instead"


@click.command("diff", cls=AutodiffCommand, rules=RULES, hints=hints, epilog=PROGRAM_HELP)
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
@report_options("the program (or the Python module, the LaTeX, the JSON)",
                json_help="The statements as strict JSON: name, expression, kind, and the node each one is for.")
@click.option("--max-inputs", type=click.IntRange(1, None), default=None, metavar="N",
              help="With --order 2: the most inputs (default 1,000).")
@click.option("--max-statements", type=click.IntRange(1, None), default=None, metavar="N",
              help="With --order 2: the most statements the program may have, about inputs × nodes (default "
                   "200,000: about 20 s and 20 MB of text).")
def command(program, source_file, assignments, output_name, wrt, order, as_expressions, target, as_json, path,
            max_inputs, max_statements):
    """Print the derivative as a program in the language: the program's statements, then the
    backward pass from the output to the inputs, one statement per step, and d out / d X for
    every input X.

    The printed program runs as it is: `autodiff diff P | autodiff eval -f - --output-node dL_da`
    gives eval's gradient of a. Inputs keep their values (defaults, or --set).
    """
    from ..exporting import DiffReport
    from ..reports import emit

    prog = load_program(program, source_file, assignments, output_name)
    names = comma_list(wrt)
    if order == 2 and not names:
        check_hessian_size(prog, max_inputs, narrower="--wrt")
    if order == 2:
        statements = len(names or prog.inputs) * len(prog.nodes)
        if statements > (max_statements or MAX_STATEMENTS):
            raise AutodiffError(f"the second derivatives of {len(names or prog.inputs):,} inputs over {len(prog.nodes):,} "
                                f"nodes would be a program of about {statements:,} statements, past the ceiling of "
                                f"{max_statements or MAX_STATEMENTS:,}",
                                hint=f"if you mean it, --max-statements {statements}; or take a few with --wrt; "
                                     "eval --hessian computes them without writing the program")
    fmt = target or ("expr" if as_expressions else report_format(path, as_json))
    emit(DiffReport(prog, names, order), fmt, path)
