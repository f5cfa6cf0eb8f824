"""`autodiff fit`: a program's parameters fitted to rows of data, by gradient descent (the lecture's
training) or by least squares (Levenberg–Marquardt, with standard errors)."""
from __future__ import annotations

import click

from ..errors import AutodiffError
from .options import (PROGRAM_HELP, AutodiffCommand, cluster, comma_list, data_columns, load_program, needs, one_of,
                      positive, precision_option, program_options, report_options, rows_options, scheduler_option,
                      set_lines, without)
from .step import MAX_STEPS

GRADIENT_DESCENT = ("lr", "reduce", "batch", "seed", "momentum", "beta1", "beta2", "eps", "freeze", "strict",
                    "lecture_bug", "steps")

RULES = [
    one_of("as_json", "emit_set", why="what is printed"),
    without(("plot_path",), ("as_json", "emit_set"), when={"plot_path": "-"},
            why="--plot - draws on standard output, where --json and --emit-set write: give --plot a file"),
    needs(("momentum",), ("optimizer",), when={"optimizer": "momentum"}),
    needs(("beta1", "beta2", "eps"), ("optimizer",), when={"optimizer": "adam"}),
    needs(("sigma", "bounds", "max_evaluations"), ("residual",), why="least squares"),
    without(("residual",), GRADIENT_DESCENT, why="--residual fits by least squares (Levenberg–Marquardt): "
                                                   "the options of gradient descent do not apply"),
]


def hints(exc: AutodiffError) -> None:
    from ..training import FitRowError, FitStoppedError

    if isinstance(exc, FitStoppedError) and exc.point is not None:
        exc.hint = (f"the last parameters with a finite loss (step {exc.good_step} started from them); a smaller "
                    f"--lr may help:\n{set_lines(exc.point)}")
    elif isinstance(exc, FitRowError):
        exc.hint = (f"without --strict such rows are left out of the loss and counted; {exc.where} started from "
                    f"the parameters:\n{set_lines(exc.point)}")
    elif "no convergence after" in exc.message:
        exc.hint = "--max-evaluations raises the limit; a start nearer the solution (--set) helps more"
    elif "outside its bounds" in exc.message:
        exc.hint = f"start it inside them: --set {exc.message.split()[0]}=..."
    elif "cannot tell" in exc.message and "apart" in exc.message:
        exc.hint += "; --set one of them and make it a number in the program"


@click.command("fit", cls=AutodiffCommand, rules=RULES, hints=hints, epilog=PROGRAM_HELP)
@program_options
@click.option("--data", "data_file", required=True, metavar="FILE", type=click.Path(allow_dash=True),
              help="The rows: CSV with a header of input names (or --columns), or JSON Lines, as --points reads "
                   "('-' for standard input). Read once; past --memory, staged on disk, read back a chunk at a time.")
@click.option("--columns", metavar="NAMES", default=None,
              help="The column names of a CSV file with no header row, e.g. x0,x1,x2,y (the lecture's xs and ys).")
@click.option("--ignore-extra", is_flag=True, help="Drop the columns of --data that name no input.")
@click.option("--residual", is_flag=True,
              help="Least squares: the output is one row's residual (model - y); minimise the sum of its squares "
                   "by Levenberg–Marquardt with the exact Jacobian, and report standard errors.")
@click.option("--sigma", metavar="COLUMN|VALUE", default=None,
              help="With --residual: each row's uncertainty, a column of --data or one number: minimise Σ(r/σ)².")
@click.option("--bounds", multiple=True, metavar="NAME=LOW:HIGH",
              help="With --residual: keep a parameter within bounds (inf for none), e.g. b1=0:inf (repeatable).")
@click.option("--max-evaluations", type=click.IntRange(1, None), default=None, metavar="N",
              help="With --residual: the most passes over the data (default 10,000).")
@click.option("--steps", type=click.IntRange(0, MAX_STEPS), default=100, show_default=True,
              help="How many steps (at most 10,000,000; 0: the loss and its gradient over the rows, nothing trained).")
@click.option("--lr", type=float, default=0.05, show_default=True, help="The learning rate.")
@click.option("--reduce", type=click.Choice(["sum", "mean"]), default="sum", show_default=True,
              help="The loss: the output summed over the rows (the lecture's), or averaged.")
@click.option("--batch", type=click.IntRange(1, None), default=None, metavar="N",
              help="Each step on N rows drawn at random, without repeats (default: every row).")
@click.option("--seed", type=click.IntRange(0, None), default=0, show_default=True, help="Seed of the --batch draws.")
@click.option("--optimizer", type=click.Choice(["sgd", "momentum", "adam", "lm"]), default=None,
              help="sgd (the default): p -= lr·g; momentum: v = m·v + g, p -= lr·v; adam: PyTorch's, "
                   "bias-corrected; lm: Levenberg–Marquardt (the default with --residual).")
@click.option("--momentum", type=float, default=None, help="With --optimizer momentum: m (default 0.9).")
@click.option("--beta1", type=float, default=None, help="With --optimizer adam: β1 (default 0.9).")
@click.option("--beta2", type=float, default=None, help="With --optimizer adam: β2 (default 0.999).")
@click.option("--eps", type=float, default=None, help="With --optimizer adam: ε (default 1e-8).")
@click.option("--freeze", default="", metavar="NAMES", help="Parameters that stay fixed, e.g. 'b0[1],b2' (a vector's name: all its elements).")
@click.option("--strict", is_flag=True, help="Stop at the first row that leaves the program's domain (exit 2).")
@click.option("--lecture-bug", type=click.Choice(["no-zero"]), default=None,
              help="The lecture's loop that forgets p.grad = 0.0: the gradients compound (labelled WRONG, the right "
                   "losses beside them).")
@click.option("--memory", type=click.IntRange(1 << 20, None), default=None, metavar="BYTES",
              help="How many bytes of the data to hold in memory (default 1 GiB); larger data is staged in the "
                   "temporary directory and read back a chunk at a time.")
@scheduler_option
@precision_option(4, "Decimals shown (significant digits with --residual: 6).")
@report_options("the report, the JSON or the --set line",
                json_help="Strict JSON: every step's loss and every parameter; with --residual, each parameter's "
                          "standard error, the correlation matrix, RSS, degrees of freedom, iterations.")
@click.option("--emit-set", is_flag=True, help="Print only the fitted parameters, as --set arguments.")
@click.option("--predict", "predict_path", metavar="FILE", type=click.Path(allow_dash=True),
              help="Write each row's columns, the model's prediction and the output (residual or loss) as CSV.")
@click.option("--plot", "plot_path", metavar="FILE", type=click.Path(allow_dash=True),
              help="Draw the loss of every step (with --residual: the data, the fitted curve and the residuals): "
                   "FILE.svg, .png or .pdf (Matplotlib), or '-' for a text plot of the loss (plotille).")
@rows_options(kept="evenly spaced steps and the last, the first parameters and rows")
def command(program, source_file, assignments, output_name, data_file, columns, ignore_extra, residual, sigma,
            bounds, max_evaluations, steps, lr, reduce, batch, seed, optimizer, momentum, beta1, beta2, eps,
            freeze, strict, lecture_bug, memory, scheduler, precision, as_json, path, emit_set, predict_path, plot_path, rows,
            all_rows):
    """Fit the program's parameters to the rows of a data file.

    \b
      autodiff net 3 4 4 1 --seed 1 > net.ad
      autodiff fit -f net.ad --data rows.csv --steps 20 --lr 0.05
      autodiff fit "b1*(1 - exp(-b2*x)) - y" --set b1=500 --set b2=1e-4 --data misra1a.csv --residual

    The columns of --data are inputs given per row; every other input is a
    parameter, fitted from its default or --set value.  By default, gradient
    descent: a step is the lecture's loop (the loss summed over the rows, its
    gradient, the update), and the report has every step's loss.  With
    --residual, least squares: the output is one row's residual, and the
    report has each parameter's standard error, as gnuplot's fit and SciPy's
    curve_fit give them.
    """
    from ..arrays import ArrayProgram
    from ..data import MEMORY_BYTES, read_data
    from ..output import check_writable
    from ..points import open_points

    from .fitting import gradient_descent, least_squares, plot_format

    positive("--lr", lr)
    plot = plot_format(plot_path)
    check_writable(predict_path)
    if optimizer == "lm" and not residual:
        raise AutodiffError("--optimizer lm fits least squares: add --residual (the output is one row's residual)")
    prog = load_program(program, source_file, assignments, output_name, stdin_for_points=data_file == "-")
    points = open_points(data_file, comma_list(columns) if columns else None)
    given_names = {pair.partition("=")[0].strip() for pair in assignments}
    both = [name for name in points.names if name in given_names]
    if both:
        raise AutodiffError(f"{both[0]} is a column of the data and also given by --set",
                            hint=f"drop --set {both[0]}=...")
    sigma_value = _sigma(sigma, points.names)
    kept = data_columns(prog, points, ignore_extra, "--data", keep=sigma_value)
    compiled = ArrayProgram(prog)
    with cluster(scheduler) as connection:
        data = read_data(kept, compiled.chunk, memory or MEMORY_BYTES)
        if residual:
            least_squares(prog, data, compiled, sigma_value, bounds, max_evaluations, precision, as_json, path,
                          emit_set, plot, plot_path, connection)
        else:
            settings = {"momentum": momentum, "beta1": beta1, "beta2": beta2, "eps": eps}
            gradient_descent(prog, data, compiled, steps, optimizer or "sgd", lr, settings, reduce, batch, seed,
                             freeze, strict, lecture_bug, precision, as_json, path, emit_set, plot, plot_path,
                             None if all_rows else rows, connection)
    if predict_path is not None:
        from ..predicting import PredictionReport
        from ..reports import emit

        emit(PredictionReport(prog, data, None), "csv", predict_path)


def _sigma(text: str | None, columns: list[str]):
    """--sigma: a column's name, or one positive number."""
    if text is None:
        return None
    if text in columns:
        return text
    from ..parsing import constant

    value = constant(text, "--sigma")
    if not value > 0:
        raise AutodiffError(f"--sigma must be a column of the data or a number above 0, not {text}")
    return value
