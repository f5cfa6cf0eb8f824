"""`autodiff explain`: the backward pass written out, one chain-rule step per edge."""
from __future__ import annotations

import click

from .options import (PROGRAM_HELP, AutodiffCommand, lecture_bug_option, load_program, precision_option,
                      program_options, report_format, report_options, rows_options, without)

RULES = [without(("lecture_bug",), ("as_json",), why="--lecture-bug writes the lines of the bug as text")]


@click.command("explain", cls=AutodiffCommand, rules=RULES, epilog=PROGRAM_HELP)
@program_options
@rows_options(kept="chain-rule lines are counted; the legend of short names is always shown")
@click.option("--limit", type=click.IntRange(0, None), default=None, hidden=True,
              help="The old name of --rows (0: all).")
@precision_option(6, "Significant digits of the numbers (JSON always has full precision).", low=1)
@report_options("the lines or the JSON", json_help="The steps as strict JSON.")
@lecture_bug_option
def command(program, source_file, assignments, output_name, rows, all_rows, limit, precision, as_json, path,
            lecture_bug):
    """Write out the backward pass by hand, one chain-rule step per edge.

    From the output back to the inputs: each line multiplies the gradient
    arriving from above by the op's local derivative (in symbols, then in
    numbers). A node used more than once gets a `+=` line per use and a line
    adding them up. Unnamed nodes get short names, listed first with their
    source text.
    """
    from ..explaining import ExplainReport
    from ..reports import emit

    prog = load_program(program, source_file, assignments, output_name).run()
    if limit is not None:
        rows, all_rows = limit, all_rows or limit == 0
    lines = heading = right = None
    if lecture_bug:
        from ..lecture_bugs import explained, warning

        right = prog.grad
        lines, heading = explained(prog, lecture_bug, precision), warning(lecture_bug)
    report = ExplainReport(prog, limit=None if all_rows else rows, precision=precision,
                           cut_hint="--all shows every line", lines=lines, heading=heading, right=right)
    emit(report, report_format(path, as_json), path)
