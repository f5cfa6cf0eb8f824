"""`autodiff eval`: every node's value and gradient at a point, or the value and gradients at many."""
from __future__ import annotations

import sys

import click

from .options import (PROGRAM_HELP, SWEEP_ONLY, AutodiffCommand, check_hessian_size, cluster, lecture_bug_option,
                      load_points, load_program, needs, one_of, precision_option, program_options, report_format,
                      report_options, rows_options, scheduler_option, sweep_options, sweep_report_format, terminal,
                      without)

SWEEP_ROWS = 20         # rows of a sweep's table in a terminal, unless --rows or --all says otherwise
SWEEPS = ("over", "points_file")

RULES = [
    one_of("as_csv", "as_jsonl", "as_json", why="the format"),
    needs(("as_csv", "as_jsonl", "strict", "scheduler", *SWEEP_ONLY), SWEEPS, why="sweeps"),
    without(("hessian", "lecture_bug"), SWEEPS, why="they are for one point"),
    without(("hessian",), ("lecture_bug",), why="the second derivatives of a bug are not the lecture's"),
    needs(("max_inputs",), ("hessian",)),
]


@click.command("eval", cls=AutodiffCommand, rules=RULES, epilog=PROGRAM_HELP)
@program_options
@report_options("the table, the JSON or a sweep's rows (.csv, .jsonl or .npz by its name)",
                json_help="Strict JSON: value, output, grad, nodes (with --over or --points: JSON Lines).")
@sweep_options
@click.option("--csv", "as_csv", is_flag=True, help="A sweep's rows as CSV (the default when piped).")
@click.option("--jsonl", "as_jsonl", is_flag=True,
              help='A sweep\'s rows as JSON Lines: {"inputs": {...}, "value": v, "grad": {...}} per point.')
@click.option("--strict", is_flag=True, help="Stop a sweep at the first point that fails (exit 2, nothing written).")
@scheduler_option
@click.option("--hessian", is_flag=True,
              help="Also the second derivatives d²out/dx dy of every pair of inputs (`hessian` in JSON).")
@click.option("--max-inputs", type=click.IntRange(1, None), default=None, metavar="N",
              help="With --hessian: the most inputs (default 1,000: a million second derivatives).")
@precision_option(4, "Decimals shown in the table (more where that would drop significant digits; JSON "
                     "always has full precision).")
@rows_options(default=None, shown="200; a sweep's table 20")
@lecture_bug_option
def command(program, source_file, assignments, output_name, as_json, path, over, points_file, ignore_extra,
            max_points, as_csv, as_jsonl, strict, scheduler, hessian, max_inputs, precision, rows, all_rows,
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
    from ..reports import emit
    from ..tables import NodeReport

    prog = load_program(program, source_file, assignments, output_name, stdin_for_points=points_file == "-")
    points = load_points(prog, over, points_file, assignments, max_points, ignore_extra)
    if points is not None:
        chosen = "jsonl" if as_jsonl or as_json else "csv" if as_csv else None
        return sweep(prog, points, sweep_report_format(path, chosen), path, strict, precision,
                     None if all_rows else (rows or SWEEP_ROWS), scheduler)
    prog.run()
    second = warning = right = None
    if hessian:
        from ..deriving import hessian as second_derivatives

        check_hessian_size(prog, max_inputs)
        second = second_derivatives(prog)
    if lecture_bug:
        from ..lecture_bugs import backward_with_bug, warning as bug_warning

        right = [node.grad for node in prog.nodes]
        backward_with_bug(prog, lecture_bug)
        warning = bug_warning(lecture_bug)
    from ..naming import output_symbol

    report = NodeReport(prog, precision=precision, limit=None if all_rows else (rows or 200), hessian=second,
                        warning=warning, cut_hint="--all shows every row; --json has every node",
                        output=output_symbol(prog), right=right)
    emit(report, report_format(path, as_json), path)


def sweep(prog, points, fmt: str, path: str | None, strict: bool, precision: int, limit: int | None,
          scheduler: str | None = None) -> None:
    """A sweep's rows in `fmt`, written as they are computed (with --strict, whole or not at all), on
    this machine or on the Dask cluster at `scheduler` (or $DASK_SCHEDULER_ADDRESS)."""
    from ..output import check_writable
    from ..reports import emit
    from ..sweep_output import SweepReport
    from ..sweeping import sweep as run_sweep
    from ..tables import progress_bar

    check_writable(path)
    with cluster(scheduler) as connection, \
            progress_bar(points.count or 0, terminal(sys.stderr), "sweeping", minimum=200_000) as on_progress:
        runner = None if connection is None else connection.sweep_runner
        report = SweepReport(prog, run_sweep(prog, points, strict=strict, on_progress=on_progress, runner=runner),
                             precision=precision, limit=limit,
                             cut_hint="--all shows every point; --csv or --jsonl write them all")
        emit(report, fmt, path, spool=strict)
    if report.failed:
        click.echo(f"{report.failed} point{'s' if report.failed > 1 else ''} failed (see the error column); "
                   "--strict stops at the first", err=True)
