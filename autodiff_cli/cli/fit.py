"""`autodiff fit`: train a program's parameters on rows of data."""
from __future__ import annotations

import os
import sys

import click

from ..errors import AutodiffError
from .options import (PROGRAM_HELP, AutodiffCommand, comma_list, data_columns, load_program, needs, one_of,
                      positive, precision_option, program_options, report_format, report_options, rows_options,
                      set_lines, terminal, without)
from .step import MAX_STEPS

FIT_PROGRESS_WORK = 200_000     # rows x steps from which a terminal gets a progress bar

RULES = [
    one_of("as_json", "emit_set", why="what is printed"),
    without(("plot_path",), ("as_json", "emit_set"), when={"plot_path": "-"},
            why="--plot - draws on standard output, where --json and --emit-set write: give --plot a file"),
    needs(("momentum",), ("optimizer",), when={"optimizer": "momentum"}),
    needs(("beta1", "beta2", "eps"), ("optimizer",), when={"optimizer": "adam"}),
]


def hints(exc: AutodiffError) -> None:
    from ..training import FitRowError, FitStoppedError

    if isinstance(exc, FitStoppedError) and exc.point is not None:
        exc.hint = (f"the last parameters with a finite loss (step {exc.good_step} started from them); a smaller "
                    f"--lr may help:\n{set_lines(exc.point)}")
    elif isinstance(exc, FitRowError):
        exc.hint = (f"without --strict such rows are left out of the loss and counted; {exc.where} started from "
                    f"the parameters:\n{set_lines(exc.point)}")


@click.command("fit", cls=AutodiffCommand, rules=RULES, hints=hints, epilog=PROGRAM_HELP)
@program_options
@click.option("--data", "data_file", required=True, metavar="FILE", type=click.Path(allow_dash=True),
              help="The rows to train on: CSV with a header of input names, or JSON Lines, as --points reads "
                   "('-' for standard input). Read once; past --memory, staged on disk and read back a chunk "
                   "at a time.")
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
@click.option("--memory", type=click.IntRange(1 << 20, None), default=None, metavar="BYTES",
              help="How many bytes of the data to hold in memory (default 1 GiB); larger data is staged in the "
                   "temporary directory and read back a chunk at a time.")
@precision_option(4, "Decimals shown.")
@report_options("the table, the JSON or the --set line",
                json_help="Strict JSON: the loss of every step, the loss at the start and the end, every parameter.")
@click.option("--emit-set", is_flag=True, help="Print only the trained parameters, as --set arguments.")
@click.option("--plot", "plot_path", metavar="FILE", type=click.Path(allow_dash=True),
              help="Draw the loss of every step: FILE.svg, .png or .pdf (Matplotlib), or '-' for a text plot "
                   "before the table (plotille).")
@rows_options(kept="the first parameters are kept")
def command(program, source_file, assignments, output_name, data_file, ignore_extra, steps, lr, reduce, batch,
            seed, optimizer, momentum, beta1, beta2, eps, freeze, strict, memory, precision, as_json, path, emit_set,
            plot_path, rows, all_rows):
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
    from ..arrays import ArrayProgram
    from ..data import MEMORY_BYTES, read_data
    from ..points import open_points
    from ..reports import emit
    from ..tables import progress_bar
    from ..training import FitReport, Optimizer, fit

    positive("--lr", lr)
    settings = {"momentum": momentum, "beta1": beta1, "beta2": beta2, "eps": eps}
    plot = plot_format(plot_path)
    prog = load_program(program, source_file, assignments, output_name, stdin_for_points=data_file == "-")
    points = open_points(data_file)
    given_names = {pair.partition("=")[0].strip() for pair in assignments}
    both = [name for name in points.names if name in given_names]
    if both:
        raise AutodiffError(f"{both[0]} is a column of the data and also given by --set",
                            hint=f"drop --set {both[0]}=...")
    points = data_columns(prog, points, ignore_extra, "--data")
    compiled = ArrayProgram(prog)
    data = read_data(points, compiled.chunk, memory or MEMORY_BYTES)
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
        from ..plotting import LossPlotReport

        title = f"{prog.output_label} per step ({result.reduce} over {result.batch or result.rows:,} rows; " \
                f"{result.optimizer.describe()})"
        emit(LossPlotReport(result.losses, title), plot, None if plot_path == "-" else plot_path)
    report = FitReport(prog, result, precision=precision, max_rows=None if all_rows else rows,
                       cut_hint="--all shows every one; --json has them all")
    emit(report, "set" if emit_set else report_format(path, as_json), path)


def plot_format(path: str | None) -> str | None:
    """The loss plot's format ("text" for '-'), its library there and its file writable, all checked
    before any work."""
    from ..output import check_writable
    from ..plotting import FILE_FORMATS, require_plotter

    if path is None:
        return None
    fmt = "text" if path == "-" else os.path.splitext(path)[1].lower().lstrip(".")
    if fmt not in (*FILE_FORMATS, "text"):
        raise AutodiffError(f"cannot tell the format of {path}",
                            hint="name it .svg, .png or .pdf, or '-' for a text plot")
    require_plotter(None if fmt == "text" else fmt)
    check_writable(None if path == "-" else path)
    return fmt
