"""`autodiff plot`: the output and its derivatives along one input, or a contour map of two."""
from __future__ import annotations

import os

import click

from ..errors import AutodiffError
from .options import PROGRAM_HELP, AutodiffCommand, load_program, one_of, parse_assignments, program_options

PLOT_POINTS = 201
RULES = [one_of("as_json", "fmt", why="what is written")]


@click.command("plot", cls=AutodiffCommand, rules=RULES, epilog=PROGRAM_HELP)
@program_options
@click.option("--over", multiple=True, required=True, metavar="NAME=START:STOP[:COUNT]",
              help="The input along the x axis, COUNT points (default 201; a step as NAME=START:STOP:step=S; "
                   "bounds may be expressions, x=-pi:pi); twice for a contour map of two.")
@click.option("--order", type=click.IntRange(0, 2), default=1, show_default=True,
              help="0: the output alone; 1: and its derivative; 2: and the second derivative.")
@click.option("-o", "--out", "path", metavar="FILE", type=click.Path(allow_dash=True),
              help="Write the plot here: .svg, .png or .pdf (Matplotlib), or .json (the numbers). Without -o, "
                   "a text plot.")
@click.option("--format", "fmt", type=click.Choice(["svg", "png", "pdf"]), default=None,
              help="The file's format, whatever its name.")
@click.option("--json", "as_json", is_flag=True, help="The plotted numbers as strict JSON instead of a picture.")
def command(program, source_file, assignments, output_name, over, order, path, fmt, as_json):
    """Plot the output and its derivative along one input, every other input fixed at its value.

    \b
      autodiff plot "3*x**2 - 4*x + 5" --over x=-5:5 -o f.svg
      autodiff plot "tanh(x)" --over x=-4:4 --set x=1      # with the tangent at x = 1

    With --set for the swept input too, a marker at that point and the tangent
    line there: the slope the lecture finds by nudging. With two --over, a
    contour map of the output with its gradient as arrows (files only).
    Files need Matplotlib and the text plot plotille: pip install
    'autodiff-cli[plot]'; without them the command exits 1 and writes nothing.
    A plot never needs more points than a picture has pixels: more are thinned.
    """
    from ..output import check_writable, is_stdout
    from ..plotting import FILE_FORMATS, PlotReport, curves, require_plotter, surface, thinned
    from ..points import parse_axis
    from ..reports import emit

    axes = [parse_axis(text, default_count=PLOT_POINTS) for text in over]
    if len(axes) > 2:
        raise AutodiffError("plot draws one input (a curve) or two (a contour map): give --over once or twice")
    fmt = "json" if as_json else picture_format(path, fmt)
    if fmt in FILE_FORMATS and is_stdout(path):
        raise AutodiffError(f"{fmt.upper()} goes to a file", hint=f"add -o plot.{fmt}")
    if len(axes) == 2 and fmt == "text":
        raise AutodiffError("a contour map of two inputs needs a file", hint="add -o plot.svg")
    if fmt != "json":
        require_plotter(None if fmt == "text" else fmt)
    check_writable(path)
    axes, notes = thinned(axes)
    for note in notes:
        click.echo(f"note: {note}", err=True)
    swept = {axis.name for axis in axes}
    at = parse_assignments([pair for pair in assignments if pair.partition("=")[0].strip() in swept])
    prog = load_program(program, source_file, tuple(pair for pair in assignments
                                                    if pair.partition("=")[0].strip() not in swept), output_name)
    if len(axes) == 2:
        picture = surface(prog, *axes)
    else:
        picture = curves(prog, axes[0], order, tangent_at=at.get(axes[0].name))
    for note in getattr(picture, "notes", []):
        click.echo(f"note: {note}", err=True)
    emit(PlotReport(picture), fmt, path)
    if picture.failed:
        click.echo(f"{picture.failed} point{'s' if picture.failed > 1 else ''} failed: gaps in the plot", err=True)


def picture_format(path: str | None, fmt: str | None) -> str:
    """The picture's format: --format, else the file's extension (.json: the numbers), else a text plot."""
    from ..plotting import FILE_FORMATS

    if fmt or path in (None, "-"):
        return fmt or "text"
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    if extension not in (*FILE_FORMATS, "json"):
        raise AutodiffError(f"cannot tell the format of {path}", hint="name it .svg, .png, .pdf or .json, or add "
                                                                      "--format")
    return extension
