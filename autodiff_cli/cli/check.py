"""`autodiff check`: backprop's gradients against finite differences, at a point or over a sweep."""
from __future__ import annotations

import sys

import click

from .options import (PROGRAM_HELP, SWEEP_ONLY, AutodiffCommand, check_hessian_size, cluster, comma_list,
                      load_points, load_program, needs, positive, precision_option, program_options, report_format,
                      report_options, rows_options, scheduler_option, sweep_options, terminal, without)

MAX_SAMPLES = 100_000   # check --samples: each is a full check
SWEEPS = ("over", "points_file")

def hints(exc) -> None:
    from ..checking import CheckTooLargeError

    if isinstance(exc, CheckTooLargeError):
        exc.hint = f"if you mean it, --max-work {exc.work}; or check less: --inputs, fewer --samples, --nodes inputs"


RULES = [
    without(("order",), ("nodes", "samples"), why="the second derivatives are checked at the given point, "
            "for the inputs", when={"order": 2, "nodes": "all"}),
    without(SWEEPS, ("samples", "order"), why="a sweep checks the first derivatives at its own points",
            when={"order": 2}),
    needs(("scheduler", *SWEEP_ONLY), SWEEPS, why="sweeps"),
    needs(("max_inputs",), ("order",), when={"order": 2}),
]


@click.command("check", cls=AutodiffCommand, rules=RULES, hints=hints, epilog=PROGRAM_HELP)
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
@click.option("--max-work", type=click.IntRange(1, None), default=None, metavar="N",
              help="The most node evaluations a check may run (default 50,000,000, about 30 s): a larger "
                   "check is refused at once.")
@scheduler_option
@rows_options
@precision_option(None, "Significant digits shown in the table (default: every digit, as Python prints a "
                        "float; JSON always has full precision).", low=1)
@report_options("the table or the JSON", json_help="Strict JSON: ok, counts, one entry per gradient.")
def command(program, source_file, assignments, output_name, nodes, input_names, method, h, rtol, atol,
            samples, seed, over, points_file, ignore_extra, max_points, order, max_inputs, max_work, scheduler,
            rows, all_rows, precision, as_json, path):
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
    from ..checking import check_gradients, check_second_derivatives, check_work, planned_checks
    from ..reports import emit
    from ..tables import progress_bar

    positive("--h", h)
    positive("--rtol", rtol, allow_zero=True)
    positive("--atol", atol, allow_zero=True)
    prog = load_program(program, source_file, assignments, output_name, stdin_for_points=points_file == "-")
    points = load_points(prog, over, points_file, assignments, max_points, ignore_extra)
    names = comma_list(input_names)
    if order == 2 and not names:
        check_hessian_size(prog, max_inputs, narrower="--inputs")
    planned = planned_checks(prog, nodes=nodes, inputs=names, order=order,
                             samples=samples if points is None else (points.count or 0) - 1)
    check_work(prog, nodes=nodes, inputs=names, order=order, limit=max_work,
               samples=samples if points is None else (points.count or 0) - 1)
    with cluster(scheduler if points is not None else None) as connection, \
            progress_bar(planned, terminal(sys.stderr), "checking", minimum=50) as on_check:
        if order == 2:
            report = check_second_derivatives(prog, inputs=names, h=h, method=method, rtol=rtol, atol=atol,
                                              on_check=on_check)
        else:
            report = check_gradients(prog, nodes=nodes, inputs=names, h=h, method=method, rtol=rtol, atol=atol,
                                     samples=samples, seed=seed, on_check=on_check,
                                     points=None if points is None else points.each(),
                                     run_chunks=None if connection is None else connection.check_runner(prog))
    piped_sweep = points is not None and terminal(sys.stdout) is None       # a file or pipe gets every point
    report.precision, report.limit = precision, None if all_rows or piped_sweep else rows
    report.cut_hint = "--all shows every row; --json has every check"
    emit(report, report_format(path, as_json), path)
    if not report.ok:
        sys.exit(1)
