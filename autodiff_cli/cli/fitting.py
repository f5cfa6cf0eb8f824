"""The two halves of `autodiff fit`: gradient descent (the lecture's training) and least squares."""
from __future__ import annotations

import os
import sys

import click

from ..errors import AutodiffError
from .options import comma_list, report_format, terminal

FIT_PROGRESS_WORK = 200_000     # rows x steps from which a terminal gets a progress bar


def gradient_descent(prog, data, compiled, steps: int, optimizer: str, lr: float, settings: dict, reduce: str,
                     batch, seed: int, freeze: str, strict: bool, lecture_bug, precision: int, as_json: bool, path,
                     emit_set: bool, plot, plot_path, rows, connection=None) -> None:
    """Train, report every step's loss (beside the right ones for the lecture's bug), plot the loss; the
    passes on the Dask cluster of `connection`, if given."""
    from ..reports import emit
    from ..training import FitReport, Optimizer, fit

    chosen = Optimizer(optimizer, lr, **{name: value for name, value in settings.items() if value is not None})
    start = prog.point()
    options = dict(reduce=reduce, batch=batch, seed=seed, freeze=comma_list(freeze), strict=strict, compiled=compiled,
                   run_chunks=None if connection is None else connection.fit_runner(prog))
    right = None
    if lecture_bug:
        right = fit(prog, data, steps, chosen, **options)
        prog.set({name: value for name, value in start.items() if value is not None})
    with progress(steps, len(data), batch) as bar:
        result = fit(prog, data, steps, chosen, **options, accumulate=lecture_bug is not None,
                     on_step=None if bar is None else lambda step, loss: bar(step, f"loss {loss:.6g}"))
    if result.left_out_times:
        left = f"{result.left_out_rows:,} row{'s' if result.left_out_rows > 1 else ''}"
        click.echo(f"{left} left out of the loss where the program leaves its domain ({result.left_out_times:,} "
                   f"time{'s' if result.left_out_times > 1 else ''} in {result.passes:,} passes over the rows); the "
                   f"first: {result.first_left_out}; --strict stops there", err=True)
    if plot_path is not None:
        from ..plotting import LossPlotReport

        title = f"{prog.output_label} per step ({result.reduce} over {result.batch or result.rows:,} rows; " \
                f"{result.optimizer.describe()})"
        emit(LossPlotReport(result.losses, title), plot, None if plot_path == "-" else plot_path)
    warning = None
    if lecture_bug:
        from ..lecture_bugs import BUGS

        warning = f"WRONG on purpose: the lecture's bug, {BUGS['no-zero-training']}"
    report = FitReport(prog, result, precision=precision, max_rows=rows, data=data, warning=warning,
                       right=None if right is None else right.losses,
                       cut_hint="--all shows every one; --json has them all")
    emit(report, "set" if emit_set else report_format(path, as_json), path)


def least_squares(prog, data, compiled, sigma, bounds: tuple[str, ...], max_evaluations, precision: int,
                  as_json: bool, path, emit_set: bool, plot, plot_path, connection=None) -> None:
    """Fit by Levenberg–Marquardt, report as gnuplot does, draw the data, the curve and the residuals; the
    passes on the Dask cluster of `connection`, if given."""
    from ..least_squares import MAX_EVALUATIONS, LeastSquaresReport, fit_least_squares
    from ..reports import emit
    from ..stepping import StepReport

    passes = None if connection is None else connection.factors_runner(prog, data, compiled, sigma)
    result = fit_least_squares(prog, data, sigma=sigma, bounds=_bounds(bounds), compiled=compiled,
                               max_evaluations=max_evaluations or MAX_EVALUATIONS, passes=passes)
    if plot_path is not None:
        from ..plotting import fit_plot

        if plot == "text":
            raise AutodiffError("a fit's picture goes to a file", hint="--plot fit.svg")
        emit(fit_plot(prog, data), plot, plot_path)
    if emit_set:
        emit(StepReport.of_point(prog, result.value), "set", path)
        return
    emit(LeastSquaresReport(prog, result, precision=max(precision, 6)), report_format(path, as_json), path)


def _bounds(texts: tuple[str, ...]) -> dict[str, tuple[float, float]]:
    """`b1=0:inf` -> {"b1": (0.0, inf)}; the bounds may be numbers, expressions of numbers or ±inf."""
    import math

    from ..errors import clip
    from ..parsing import constant

    found = {}
    for text in texts:
        name, sep, spec = text.partition("=")
        parts = spec.split(":")
        if not sep or len(parts) != 2:
            raise AutodiffError(f"--bounds {clip(text)}: expected NAME=LOW:HIGH, e.g. b1=0:inf")
        ends = []
        for part, which in zip(parts, ("LOW", "HIGH")):
            word = part.strip().lower()
            ends.append(math.inf if word in ("inf", "+inf") else -math.inf if word == "-inf" else
                        constant(part, f"--bounds {clip(name.strip())}: {which}"))
        if name.strip() in found:
            raise AutodiffError(f"--bounds {clip(name.strip())} is given twice")
        found[name.strip()] = (ends[0], ends[1])
    return found


def plot_format(path: str | None) -> str | None:
    """The plot's format ("text" for '-'), its library there and its file writable, all checked
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


def progress(steps: int, rows: int, batch: int | None):
    """A progress bar on a terminal's stderr, for long trainings."""
    from ..tables import progress_bar

    work = steps * min(rows, batch or rows)
    return progress_bar(steps, terminal(sys.stderr) if work >= FIT_PROGRESS_WORK else None, "fitting", minimum=1)
