"""Pictures of a function: the output and its derivatives along a swept input, or a contour
map with gradient arrows over two.

The numbers come from a sweep (`sweeping`); the second derivative from sweeping
the derivative program (`deriving`), whose own gradient it is.  Files are drawn
by Matplotlib (the `[plot]` extra, imported here only, without pyplot); a
terminal gets a text plot by plotille (also `[plot]`: 25 ms to import, braille
dots, colour, axes, no dependencies).  Points that fail are gaps in the curves.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TextIO

from .errors import AutodiffError
from .parsing import parse
from .program import Program
from .output import open_output, raw
from .sweeping import Axis, Grid, sweep

FILE_FORMATS = ("svg", "png", "pdf")
INSTALL = "pip install 'autodiff-cli[plot]'"


class PlotError(AutodiffError):
    """A plotting library is missing: exit code 1, as for a missing Graphviz."""

    exit_code = 1


@dataclass
class Curves:
    """The output and its derivatives along one input (NaN where a point failed)."""

    name: str                   # the swept input
    output: str                 # the output's name, for the labels
    x: object
    curves: dict[str, object]   # label -> values, the output first
    failed: int = 0
    tangent: tuple[float, float, float] | None = None      # (x0, f(x0), f'(x0))


@dataclass
class Surface:
    """The output and its gradient over a grid of two inputs."""

    names: tuple[str, str]
    output: str
    x: object                   # the grid, each shaped (len(y values), len(x values))
    y: object
    value: object
    grad: tuple[object, object]
    failed: int = 0


CURVE_POINTS = 4000        # a curve never needs more points than a picture has pixels across
MAP_POINTS = 400           # a contour map's points along each side


def thinned(axes: list[Axis]) -> tuple[list[Axis], list[str]]:
    """The axes with no more points than a picture can show (evenly spaced over the same range),
    and a note for each one thinned."""
    most = CURVE_POINTS if len(axes) == 1 else MAP_POINTS
    result, notes = [], []
    for axis in axes:
        if axis.count <= most:
            result.append(axis)
            continue
        stop = axis.stop if axis.step is None else axis.start + (axis.count - 1) * axis.step
        result.append(Axis(axis.name, axis.start, stop, most))
        notes.append(f"{axis.name}: {axis.count:,} points thinned to {most:,}: a picture shows no more")
    return result, notes


def output_label(program: Program) -> str:
    """How the plot calls the output: its name, or f."""
    return program.output_name or "f"


def curves(program: Program, axis: Axis, order: int = 1, tangent_at: float | None = None) -> Curves:
    """f, df/dx (and with order 2, d²f/dx²) over the axis; with `tangent_at`, f and its slope there."""
    f = output_label(program)
    x, value, slope, failed = _along(program, axis)
    found = {f: value, f"d{f}/d{axis.name}": slope}
    if order == 2:
        found[f"d²{f}/d{axis.name}²"] = _second_derivative(program, axis)
    result = Curves(axis.name, f, x, found, failed)
    if tangent_at is not None:
        program.set({axis.name: tangent_at})
        program.run()
        result.tangent = (tangent_at, program.value, program.grad[axis.name])
        if result.tangent[2] is None:
            raise AutodiffError(f"d{f}/d{axis.name} does not exist at {axis.name} = {tangent_at!r}")
    return result


def _along(program: Program, axis: Axis):
    import numpy as np

    chunks = list(sweep(program, Grid([axis])))
    value = np.concatenate([c.value for c in chunks])
    grad = np.concatenate([c.grad[axis.name] for c in chunks])
    return axis.values(), value, grad, sum(len(c.errors) for c in chunks)


def _second_derivative(program: Program, axis: Axis):
    """d²f/dx²: the gradient of the derivative program's d f / d x, swept the same way."""
    from .deriving import derivative_program

    derivative = derivative_program(program, [axis.name])
    first = parse(derivative.text(), output=derivative.gradients[axis.name])
    first.set({name: node.data for name, node in program.inputs.items()
               if name != axis.name and node.data is not None})
    return _along(first, axis)[2]


def surface(program: Program, x_axis: Axis, y_axis: Axis) -> Surface:
    """The output and its gradient over the grid of two axes."""
    import numpy as np

    chunks = list(sweep(program, Grid([y_axis, x_axis])))      # y slowest: rows of constant y
    shape = (y_axis.count, x_axis.count)
    join = lambda arrays: np.concatenate(arrays).reshape(shape)    # noqa: E731
    x, y = np.meshgrid(x_axis.values(), y_axis.values())
    value = join([c.value for c in chunks])
    grad = (join([c.grad[x_axis.name] for c in chunks]), join([c.grad[y_axis.name] for c in chunks]))
    return Surface((x_axis.name, y_axis.name), output_label(program), x, y, value, grad,
                   sum(len(c.errors) for c in chunks))


def _matplotlib_figure():
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotError("plotting to a file needs Matplotlib, which is not installed",
                        hint=f"{INSTALL}") from None
    matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "autodiff"})   # text stays text
    return Figure(figsize=(7, 4.5), layout="constrained")


def write_plot_file(picture: Curves | Surface, path: str, fmt: str) -> None:
    """The picture as an SVG, PNG or PDF file, written whole or not at all."""
    figure = _matplotlib_figure()
    ax = figure.subplots()
    if isinstance(picture, Curves):
        _draw_curves(ax, picture)
    else:
        _draw_surface(figure, ax, picture)
    metadata = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}.get(fmt, {})
    with open_output(path) as f:
        figure.savefig(f, format=fmt, metadata=metadata)


def _draw_curves(ax, picture: Curves) -> None:
    for label, values in picture.curves.items():
        ax.plot(picture.x, values, label=label, linewidth=1.8 if label == picture.output else 1.2)
    if picture.tangent is not None:
        x0, f0, slope = picture.tangent
        ax.plot(picture.x, f0 + slope * (picture.x - x0), "--", color="gray", linewidth=1,
                label=f"tangent at {picture.name} = {x0:g}: slope {slope:.4g}")
        ax.plot([x0], [f0], "o", color="black")
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_xlabel(picture.name)
    ax.set_ylabel(picture.output)
    ax.set_title(f"{picture.output} and its derivative along {picture.name}")
    ax.legend()
    ax.grid(alpha=0.3)


ARROWS = 20         # arrows along each side of a contour plot


def _draw_surface(figure, ax, picture: Surface) -> None:
    contours = ax.contourf(picture.x, picture.y, picture.value, levels=20, cmap="viridis")
    figure.colorbar(contours, ax=ax, label=picture.output)
    rows, columns = picture.value.shape
    step_y, step_x = max(1, rows // ARROWS), max(1, columns // ARROWS)
    take = (slice(None, None, step_y), slice(None, None, step_x))
    ax.quiver(picture.x[take], picture.y[take], picture.grad[0][take], picture.grad[1][take], color="white",
              angles="xy")
    ax.set_xlabel(picture.names[0])
    ax.set_ylabel(picture.names[1])
    ax.set_title(f"{picture.output} with its gradient (arrows)")


def write_text_plot(picture: Curves, out: TextIO, *, width: int = 80, height: int = 24, color: bool = True) -> None:
    """A text plot of the curves (braille dots), for a terminal."""
    try:
        import plotille
    except ImportError:
        raise PlotError("a plot in the terminal needs plotille, which is not installed",
                        hint=f"{INSTALL}, or write a file with -o plot.svg") from None
    figure = plotille.Figure()
    figure.width, figure.height = max(20, width - 20), max(8, height - 8 - len(picture.curves))
    figure.color_mode = "names"
    figure.with_colors = color
    figure.x_label, figure.y_label = picture.name, picture.output
    x = picture.x.tolist()
    if x[0] < x[-1]:
        figure.set_x_limits(min_=x[0], max_=x[-1])
    colors = ["blue", "red", "green"]
    for (label, values), lc in zip(picture.curves.items(), colors):
        for i, (xs, ys) in enumerate(_segments(x, values.tolist())):
            figure.plot(xs, ys, lc=lc, label=label if i == 0 else None)
    if picture.tangent is not None:
        x0, f0, slope = picture.tangent
        figure.plot(x, [f0 + slope * (xi - x0) for xi in x], lc="white", label=f"tangent: slope {slope:.4g}")
        figure.scatter([x0], [f0], lc="white", marker="o", label=f"{picture.name} = {x0:g}")
    out = raw(out)                  # plotille writes colour codes of its own; what it shows is ours
    out.write(figure.show(legend=True) + "\n")


def _segments(x: list[float], y: list[float]):
    """The runs of finite points, each plotted as its own line (a failed point is a gap)."""
    run_x: list[float] = []
    run_y: list[float] = []
    for xi, yi in zip(x, y):
        if math.isfinite(yi):
            run_x.append(xi)
            run_y.append(yi)
        elif run_x:
            yield run_x, run_y
            run_x, run_y = [], []
    if run_x:
        yield run_x, run_y
