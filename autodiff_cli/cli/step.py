"""`autodiff step`: the lecture's nudge, `a.data += lr * a.grad`, for every input."""
from __future__ import annotations

import sys

import click

from ..errors import AutodiffError

from .options import (PROGRAM_HELP, AutodiffCommand, comma_list, load_program, one_of, positive, precision_option,
                      program_options, report_format, report_options, rows_options, terminal)

MAX_STEPS = 10_000_000  # step --steps: each is a forward and a backward pass
MAX_WORK = 5 * 10**7    # steps × nodes: about a minute (about 1 µs a node a step, forward and backward)

RULES = [one_of("as_json", "emit_set", why="what is printed")]


def hints(exc) -> None:
    from ..stepping import StepLeftDomainError, set_arguments

    if isinstance(exc, StepLeftDomainError):
        exc.hint = f"the last good point (after step {exc.step - 1}) is: {set_arguments(exc.point).strip()}"


@click.command("step", cls=AutodiffCommand, rules=RULES, hints=hints, epilog=PROGRAM_HELP)
@program_options
@click.option("--lr", type=float, default=0.01, show_default=True, help="The step size (learning rate).")
@click.option("--steps", type=click.IntRange(1, MAX_STEPS), default=1, show_default=True,
              help="How many steps (at most 10,000,000; from 1,000, a progress bar in a terminal).")
@click.option("--minimize", is_flag=True, help="Walk downhill (x -= lr·grad) instead of uphill.")
@click.option("--freeze", default="", metavar="NAMES", help="Inputs that stay fixed, e.g. x1,x2.")
@precision_option(4, "Decimals shown.")
@report_options("the table, the JSON or the --set line",
                json_help="Strict JSON: final values and the output's trajectory.")
@click.option("--emit-set", is_flag=True, help="Print only the new values, as --set arguments.")
@rows_options(default=50, shown="50", kept="of the output's trajectory, evenly spaced steps and the last")
@click.option("--max-work", type=click.IntRange(1, None), default=None, metavar="N",
              help="The most steps × nodes (default 50,000,000, about a minute): more is refused at once.")
@click.option("--lecture-bug", type=click.Choice(["no-zero"]), default=None,
              help="The gradients not zeroed between steps: each step moves by the sum of every gradient so far "
                   "(labelled WRONG, the right trajectory beside it).")
def command(program, source_file, assignments, output_name, lr, steps, minimize, freeze, precision, as_json, path,
            emit_set, rows, all_rows, max_work, lecture_bug):
    """Nudge every input along its gradient, then run the forward pass again.

    One step is the lecture's `a.data += lr * a.grad` for every input: the
    output goes up. With --minimize it is `a.data -= lr * a.grad`: the output
    goes down.
    """
    from ..reports import emit
    from ..stepping import StepReport, gradient_steps
    from ..tables import progress_bar

    positive("--lr", lr, allow_zero=True)
    prog = load_program(program, source_file, assignments, output_name)
    work = steps * len(prog.nodes)
    if work > (max_work or MAX_WORK):
        raise AutodiffError(f"{steps:,} steps of {len(prog.nodes):,} nodes are {work:,} node steps, past the ceiling of "
                            f"{max_work or MAX_WORK:,} (about a minute)", hint=f"if you mean it, --max-work {work}")
    right = None
    if lecture_bug:
        start = {name: value for name, value in prog.point().items() if value is not None}
        right = gradient_steps(prog, lr, steps, minimize=minimize, freeze=comma_list(freeze))
        prog.set(start)
    with progress_bar(steps, terminal(sys.stderr), "stepping") as on_step:
        result = gradient_steps(prog, lr, steps, minimize=minimize, freeze=comma_list(freeze), on_step=on_step,
                                accumulate=lecture_bug is not None)
    report = StepReport(prog, result, precision=precision, max_rows=None if all_rows else rows, right=right)
    emit(report, "set" if emit_set else report_format(path, as_json), path)
