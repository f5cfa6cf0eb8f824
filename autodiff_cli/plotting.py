"""Pictures of a function: the output and its derivatives along a swept input, or a contour
map with gradient arrows over two.

The numbers come from a sweep (`sweeping`); the second derivative from sweeping the derivative
program (`deriving`), whose own gradient it is.  Each curve gets its own axes (stacked, sharing
x): f and f' may differ by orders of magnitude.  A curve's range is set by the bulk of its
values, not by a few huge ones near a singularity (1/x over -1..1): those are clipped.  Where a
relu, abs, sign or step argument crosses its kink between two points and the curve jumps, the
curve is broken there and drawn as a jump, not a ramp.  Points that fail are gaps.

Files are drawn by Matplotlib (the `[plot]` extra, imported here only, without pyplot); a
terminal gets a text plot by plotille (also `[plot]`: 25 ms to import, braille dots, colour,
axes, no dependencies).
"""
from __future__ import annotations

import math
import shutil
import struct
import warnings
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO

from .errors import AutodiffError
from .output import raw
from .parsing import parse
from .program import Program
from .reports import Report, Style
from .points import Axis, Grid, Points
from .sweeping import sweep

FILE_FORMATS = ("svg", "png", "pdf")
INSTALL = "pip install 'autodiff-cli[plot]'"
CURVE_POINTS = 4000        # a curve never needs more points than a picture has pixels across
MAP_POINTS = 400           # a contour map's points along each side
DRAWABLE = 1e150           # larger coordinates overflow the plotting libraries' own arithmetic


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
    jumps: dict = field(default_factory=dict)     # label -> [(x, left limit, right limit)] where the curve jumps
    first_error: str | None = None
    notes: list[str] = field(default_factory=list)


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
    first_error: str | None = None


def thinned(axes: list[Axis]) -> tuple[list[Axis], list[str]]:
    """The axes with no more points than a picture can show (evenly spaced over the same range),
    and a note for each one thinned; a range too large to draw is refused."""
    most = CURVE_POINTS if len(axes) == 1 else MAP_POINTS
    result, notes = [], []
    for axis in axes:
        stop = axis.stop if axis.step is None else axis.start + (axis.count - 1) * axis.step
        if max(abs(axis.start), abs(stop)) > DRAWABLE:
            raise AutodiffError(f"{axis.name}: a range reaching {max(abs(axis.start), abs(stop)):.3g} is too large "
                                f"to draw (at most {DRAWABLE:.0e})")
        if axis.count <= most:
            result.append(axis)
            continue
        result.append(Axis(axis.name, axis.start, stop, most))
        notes.append(f"{axis.name}: {axis.count:,} points thinned to {most:,}: a picture shows no more")
    return result, notes


def widened(axis: Axis, at: float | None) -> tuple[Axis, list[str]]:
    """The axis stretched to hold the tangent's point, with a note, if it lies outside."""
    if at is None or min(axis.start, axis.stop) <= at <= max(axis.start, axis.stop):
        return axis, []
    start, stop = min(axis.start, axis.stop, at), max(axis.start, axis.stop, at)
    note = f"{axis.name} = {at:g} lies outside {axis.start:g}..{axis.stop:g}: the range is widened to hold it"
    return Axis(axis.name, start, stop, axis.count), [note]


def output_label(program: Program) -> str:
    """How the plot calls the output: as diff and explain call it (its name, else `out`)."""
    from .naming import output_symbol

    return output_symbol(program)


def curves(program: Program, axis: Axis, order: int = 1, tangent_at: float | None = None) -> Curves:
    """f, and with order 1 df/dx, with order 2 also d²f/dx², over the axis; with `tangent_at`,
    f and its slope there (the axis widened to hold it).  Every point failing is an error."""
    axis, notes = widened(axis, tangent_at)
    f = output_label(program)
    x, value, slope, failed, first_error = _along(program, axis)
    if failed == len(value):
        raise AutodiffError(f"every point of {axis.name} = {axis.start:g}..{axis.stop:g} fails; the first: "
                            f"{first_error}")
    found = {f: value}
    at: dict = {f: lambda: program.value}
    if order >= 1:
        found[f"d{f}/d{axis.name}"] = slope
        at[f"d{f}/d{axis.name}"] = lambda: program.grad[axis.name]
    first = None
    if order == 2:
        first = _derivative_of(program, axis)
        found[f"d²{f}/d{axis.name}²"] = _along(first, axis)[2]
    jumps = _jumps(program, axis, x, found, at, first)
    result = Curves(axis.name, f, x, found, failed, jumps=jumps, first_error=first_error, notes=notes)
    if tangent_at is not None:
        with program.at({axis.name: tangent_at}):
            program.run()
            result.tangent = (tangent_at, program.value, program.grad[axis.name])
    return result


def _along(program: Program, axis: Axis):
    """x, the output, its slope, and how many points failed and the first failure."""
    import numpy as np

    chunks = list(sweep(program, Grid([axis])))
    value = np.concatenate([c.value for c in chunks])
    grad = np.concatenate([c.grad[axis.name] for c in chunks])
    errors = [message for c in chunks for message in c.errors.values()]
    return axis.values(), value, grad, len(errors), (errors[0] if errors else None)


JUMP = 1e-6             # a curve jumps at a kink when its two sides differ by more than this part of its span


def _jumps(program: Program, axis: Axis, x, found: dict, at: dict, first: Program | None) -> dict:
    """For each curve, where it jumps: at each kink crossed between two points (found by bisection
    to a few units in the last place), the curve's value just left and just right of it, when they
    differ by more than JUMP of the curve's span (relu's value is continuous there, its slope not)."""
    import numpy as np

    jumps: dict = {label: [] for label in found}
    for low, high in _crossings(program, axis, x):
        sides = [_curve_values(program, axis, point, at, first) for point in (low, high)]
        for label, values in found.items():
            left, right = sides[0].get(label), sides[1].get(label)
            finite = values[np.isfinite(values)]
            span = float(finite.max() - finite.min()) if len(finite) else 0.0
            if left is not None and right is not None and abs(right - left) > JUMP * max(span, abs(left), abs(right)):
                jumps[label].append(((low + high) / 2, left, right))
    return {label: found for label, found in jumps.items() if found}


def _curve_values(program: Program, axis: Axis, point: float, at: dict, first: Program | None) -> dict:
    """Each curve's value at one point (run by the scalar engine); a curve that fails there is left out."""
    values = {}
    with program.at({axis.name: point}):
        try:
            program.run()
            values = {label: read() for label, read in at.items()}
        except AutodiffError:
            pass
    if first is not None:
        with first.at({axis.name: point}):
            try:
                values[f"d²{output_label(program)}/d{axis.name}²"] = first.run().grad[axis.name]
            except AutodiffError:
                pass
    return values


def _crossings(program: Program, axis: Axis, x) -> list[tuple[float, float]]:
    """Brackets (a, b), a few units in the last place wide, around each point between two
    neighbouring x where an op with a kink (relu, abs, max, floor, ...) changes piece."""
    import numpy as np

    from .arrays import ArrayProgram

    kinked = [node for node in program.nodes if node.op.piece is not None]
    if not kinked or len(x) < 2:
        return []
    data, _ = ArrayProgram(program).forward({axis.name: x}, len(x))
    changed = np.zeros(len(x) - 1, dtype=bool)
    with np.errstate(all="ignore"):
        for node in kinked:
            operands = [np.broadcast_to(np.asarray(data[i.index], dtype=float), x.shape) for i in node.inputs]
            pieces = np.broadcast_to(node.op.piece(np, *operands), x.shape)
            changed |= pieces[:-1] != pieces[1:]
    brackets = []
    for i in np.flatnonzero(changed)[:MAX_KINKS].tolist():
        brackets.append(_bisect(program, axis, kinked, float(x[i]), float(x[i + 1])))
    return brackets


MAX_KINKS = 2000        # kinks a plot looks for (floor over a wide range crosses many)


def _bisect(program: Program, axis: Axis, kinked: list, low: float, high: float) -> tuple[float, float]:
    def pieces(point: float):
        with program.at({axis.name: point}):
            try:
                program.forward()
            except AutodiffError:
                return None
            return tuple(node.op.piece(math, *(x.data for x in node.inputs)) for node in kinked)

    left = pieces(low)
    while True:                             # at most 64 halvings: the floats between are halved, not the distance
        middle = _between(low, high)
        if middle in (low, high):
            return low, high
        if pieces(middle) == left:
            low = middle
        else:
            high = middle


def _between(low: float, high: float) -> float:
    """The float halfway between two floats in order (counting the floats between them), so that
    bisection reaches neighbouring floats in 64 steps, near 0 too."""
    a, b = _ordered(low), _ordered(high)
    return _float_at(a + (b - a) // 2)


def _ordered(x: float) -> int:
    bits = struct.unpack("<q", struct.pack("<d", x))[0]
    return bits if bits >= 0 else -(bits & 0x7FFFFFFFFFFFFFFF)


def _float_at(n: int) -> float:
    bits = n if n >= 0 else (-n) | -(1 << 63)
    return struct.unpack("<d", struct.pack("<q", bits))[0]


def _derivative_of(program: Program, axis: Axis) -> Program:
    """The derivative program's d f / d x, as a program whose gradient is d²f/dx²."""
    from .deriving import derivative_program

    derivative = derivative_program(program, [axis.name])
    first = parse(derivative.text(), output=derivative.gradients[axis.name])
    first.set({name: value for name, value in program.point().items() if name != axis.name and value is not None})
    return first


def surface(program: Program, x_axis: Axis, y_axis: Axis) -> Surface:
    """The output and its gradient over the grid of two axes."""
    import numpy as np

    chunks = list(sweep(program, Grid([y_axis, x_axis])))      # y slowest: rows of constant y
    shape = (y_axis.count, x_axis.count)
    join = lambda arrays: np.concatenate(arrays).reshape(shape)    # noqa: E731
    x, y = np.meshgrid(x_axis.values(), y_axis.values())
    value = join([c.value for c in chunks])
    grad = (join([c.grad[x_axis.name] for c in chunks]), join([c.grad[y_axis.name] for c in chunks]))
    errors = [message for c in chunks for message in c.errors.values()]
    if len(errors) == value.size:
        raise AutodiffError(f"every point of the grid fails; the first: {errors[0]}")
    return Surface((x_axis.name, y_axis.name), output_label(program), x, y, value, grad, len(errors),
                   errors[0] if errors else None)


def visible_range(values) -> tuple[float, float] | None:
    """The range a curve is drawn over: its values, unless a few dwarf the rest (near a
    singularity), which are then clipped: the middle 90 % widened by one and a half times its
    span on each side, never beyond the values themselves.  None for no finite value."""
    import numpy as np

    finite = values[np.isfinite(values)]
    if not len(finite):
        return None
    low, high = float(finite.min()), float(finite.max())
    q05, q95 = (float(q) for q in np.percentile(finite, [5, 95]))
    span = q95 - q05
    if span > 0:
        low, high = max(low, q05 - 1.5 * span), min(high, q95 + 1.5 * span)
    if low == high:
        low, high = low - max(1.0, abs(low)) * 0.5, high + max(1.0, abs(high)) * 0.5
    return low, high


def broken_at_jumps(x, values, jumps: list[tuple[float, float, float]]):
    """x and values with the curve broken where it jumps: each side runs to the jump's x (with its
    one-sided limit), then a gap (NaN), so the picture shows a jump and no ramp."""
    import numpy as np

    if not jumps:
        return x, values
    xs, ys = list(x.tolist()), list(values.tolist())
    for where, left, right in sorted(jumps, reverse=True):
        i = int(np.searchsorted(x, where, side="right"))
        xs[i:i] = [where, math.nan, where]
        ys[i:i] = [left, math.nan, right]
    return np.array(xs), np.array(ys)


def _matplotlib_figure(rows: int = 1):
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotError("plotting to a file needs Matplotlib, which is not installed",
                        hint=f"{INSTALL}") from None
    matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "autodiff"})   # text stays text
    return Figure(figsize=(7, 2.2 + 1.8 * rows), layout="constrained")


def write_plot_file(picture: Curves | Surface, out: BinaryIO, fmt: str) -> None:
    """The picture as SVG, PNG or PDF; Matplotlib's warnings are its own business, not the user's."""
    rows = len(picture.curves) if isinstance(picture, Curves) else 1
    figure = _matplotlib_figure(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if isinstance(picture, Curves):
            _draw_curves(figure, picture)
        else:
            _draw_surface(figure, figure.subplots(), picture)
        _save(figure, out, fmt)


def _save(figure, out: BinaryIO, fmt: str) -> None:
    """The figure as SVG, PNG or PDF with no date in it: the same picture gives the same bytes."""
    metadata = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}.get(fmt, {})
    figure.savefig(out, format=fmt, metadata=metadata)


def _draw_curves(figure, picture: Curves) -> None:
    axes = figure.subplots(len(picture.curves), 1, sharex=True, squeeze=False)[:, 0]
    colours = ["C0", "C3", "C2"]
    for ax, (label, values), colour in zip(axes, picture.curves.items(), colours):
        xs, ys = broken_at_jumps(picture.x, values, picture.jumps.get(label, []))
        ax.plot(xs, ys, color=colour, linewidth=1.8 if label == picture.output else 1.4, label=label)
        shown = visible_range(values)
        if shown is not None:
            margin = (shown[1] - shown[0]) * 0.05
            ax.set_ylim(shown[0] - margin, shown[1] + margin)
        if label == picture.output and picture.tangent is not None:
            x0, f0, slope = picture.tangent
            ax.plot(picture.x, f0 + slope * (picture.x - x0), "--", color="gray", linewidth=1,
                    label=f"tangent at {picture.name} = {x0:g}: slope {slope:.4g}")
            ax.plot([x0], [f0], "o", color="black")
        ax.axhline(0, color="black", linewidth=0.5)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize="small", framealpha=0.8)    # where it covers the least of the curve
    axes[-1].set_xlabel(picture.name)
    title = f"{picture.output} and its derivative{'s' if len(picture.curves) > 2 else ''} along {picture.name}"
    axes[0].set_title(title if len(picture.curves) > 1 else f"{picture.output} along {picture.name}")
    if picture.failed:
        axes[0].annotate(f"{picture.failed} point{'s' if picture.failed > 1 else ''} failed (gaps): "
                         f"{picture.first_error}", (0.01, 0.02), xycoords="figure fraction", fontsize="x-small",
                         color="C3")


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
    if picture.failed:
        ax.annotate(f"{picture.failed} points failed (blank): {picture.first_error}", (0.01, 0.01),
                    xycoords="figure fraction", fontsize="x-small", color="C3")


MARKERS = ["•", "+", "×"]       # told apart without colour too
COLOURS = ["blue", "red", "green"]


def write_text_plot(picture: Curves, out: TextIO, *, width: int = 80, height: int = 24, color: bool = True) -> None:
    """A text plot for a terminal: one panel of braille dots per curve (each its own scale),
    distinct colours and markers, tidy ticks, and a note of any failed points."""
    try:
        import plotille
    except ImportError:
        from importlib.util import find_spec

        files = ", or write a file with -o plot.svg" if find_spec("matplotlib") else ""
        raise PlotError("a plot in the terminal needs plotille, which is not installed",
                        hint=f"{INSTALL}{files}") from None
    panels = []
    rows = max(6, (height - 4) // len(picture.curves) - 5)
    x = picture.x
    for (label, values), marker, lc in zip(picture.curves.items(), MARKERS, COLOURS):
        figure = plotille.Figure()
        figure.width, figure.height = max(20, width - 22), rows
        figure.color_mode = "names"
        figure.with_colors = color
        figure.x_label, figure.y_label = picture.name, label
        figure.x_ticks_fkt = figure.y_ticks_fkt = tick
        figure.origin = False                   # no axis lines through the curve
        if x[0] < x[-1]:
            figure.set_x_limits(*round_limits(float(x[0]), float(x[-1]), figure.width / 10))
        shown = visible_range(values)
        if shown is not None:
            figure.set_y_limits(*round_limits(*shown, figure.height))
            values = _clipped(values, shown)
        xs, ys = broken_at_jumps(x, values, picture.jumps.get(label, []))
        for run_x, run_y in _segments(xs.tolist(), ys.tolist()):
            figure.plot(run_x, run_y, lc=lc, marker=None if color else marker)
        legend = [(lc, "⠤⠤⠤" if color else f"⠤{marker}⠤", label)]
        if label == picture.output and picture.tangent is not None:
            x0, f0, slope = picture.tangent
            line = _clipped(f0 + slope * (x - x0), shown) if shown else f0 + slope * (x - x0)
            for run_x, run_y in _segments(x.tolist(), line.tolist()):
                figure.plot(run_x, run_y, lc="white", marker=None if color else "·")
            figure.scatter([x0], [f0], lc="white", marker="o")
            legend += [("white", "⠤⠤⠤" if color else "⠤·⠤", "tangent"),
                       ("white", "o", f"{picture.name} = {x0:g}: slope {slope:.4g}")]
        keys = "\n".join(f"{plotille.color(mark, fg=lc, mode='names', no_color=not color)} {text}"
                         for lc, mark, text in legend)
        panels.append(figure.show(legend=False) + "\n" + keys)
    if picture.failed:
        panels.append(f"{picture.failed} point{'s' if picture.failed > 1 else ''} failed (gaps): "
                      f"{picture.first_error}")
    raw(out).write("\n".join(panels) + "\n")      # plotille writes colour codes of its own


def tick(value: float, following: float) -> str:
    """A tick's label: the value rounded to its spacing (no 8.9e-16 for 0)."""
    step = abs(following - value)
    if step > 0 and math.isfinite(step):
        value = round(value / step) * step
        digits = max(0, -math.floor(math.log10(step)) + 2)
        return f"{round(value, digits):.6g}"
    return f"{value:.6g}"


def round_limits(low: float, high: float, divisions: float) -> tuple[float, float]:
    """Limits around [low, high] whose `divisions` equal parts are round numbers (1, 2, 2.5 or 5
    times a power of ten), so that plotille's evenly spaced ticks read 0, 25, 50, ... not 12.1."""
    span = high - low
    if not span > 0 or not math.isfinite(span) or divisions < 1:
        return low, high
    step = span / divisions
    power = 10.0 ** math.floor(math.log10(step))
    for factor in (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.5, 15.0, 20.0):
        nice = factor * power
        start = math.floor(low / nice) * nice
        if start + nice * divisions >= high:
            return start, start + nice * divisions
    return low, high


def _clipped(values, shown: tuple[float, float]):
    """Values beyond the visible range as gaps: they are off the picture."""
    import numpy as np

    low, high = shown
    return np.where((values < low - 1e-9 * abs(low)) | (values > high + 1e-9 * abs(high)), np.nan, values)


def _segments(x: list[float], y: list[float]):
    """The runs of finite points, each plotted as its own line (a failed point is a gap)."""
    run_x: list[float] = []
    run_y: list[float] = []
    for xi, yi in zip(x, y):
        if math.isfinite(yi) and math.isfinite(xi):
            run_x.append(xi)
            run_y.append(yi)
        elif run_x:
            yield run_x, run_y
            run_x, run_y = [], []
    if run_x:
        yield run_x, run_y


# The loss curve of a training run

LOG_SCALE_SPAN = 100        # a loss curve spanning more than this factor is drawn on a log scale


def require_plotter(fmt: str | None) -> None:
    """Refuse at once, before any work, a picture whose library is missing: Matplotlib for a
    file (`fmt` svg, png or pdf), plotille for a text plot (`fmt` None)."""
    from importlib import import_module

    try:
        import_module("plotille" if fmt is None else "matplotlib")
    except ImportError:
        which = "a plot in the terminal needs plotille" if fmt is None else "plotting to a file needs Matplotlib"
        raise PlotError(f"{which}, which is not installed", hint=INSTALL) from None


def _loss_curve(losses) -> tuple[object, object, bool]:
    """Steps (1, 2, ...) and losses, at most CURVE_POINTS of them evenly spaced (the last kept), and
    whether to draw them on a log scale: every loss positive, spanning more than LOG_SCALE_SPAN."""
    import numpy as np

    losses = np.asarray(losses, dtype=float)
    steps = np.arange(1, len(losses) + 1)
    if len(losses) > CURVE_POINTS:
        keep = np.unique(np.linspace(0, len(losses) - 1, CURVE_POINTS).round().astype(np.int64))
        steps, losses = steps[keep], losses[keep]
    low, high = float(losses.min()), float(losses.max())
    return steps, losses, low > 0 and high / low > LOG_SCALE_SPAN


def write_loss_plot(losses, out: BinaryIO, fmt: str, title: str) -> None:
    """The loss of every step as an SVG, PNG or PDF file (log scale where it spans decades)."""
    steps, values, log = _loss_curve(losses)
    figure = _matplotlib_figure(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ax = figure.subplots()
        ax.plot(steps, values, color="C0", linewidth=1.6, marker="o" if len(values) <= 50 else None, markersize=3)
        if log:
            ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("loss" + (" (log scale)" if log else ""))
        ax.set_title(title)
        ax.grid(alpha=0.3)
        _save(figure, out, fmt)


def write_loss_text_plot(losses, out: TextIO, title: str, *, width: int = 80, height: int = 24,
                         color: bool = True) -> None:
    """The loss of every step as a text plot (log10 of the loss where it spans decades)."""
    try:
        import plotille
    except ImportError:
        raise PlotError("a plot in the terminal needs plotille, which is not installed", hint=INSTALL) from None
    import numpy as np

    steps, values, log = _loss_curve(losses)
    figure = plotille.Figure()
    figure.width, figure.height = max(20, width - 22), max(6, min(height - 8, 20))
    figure.color_mode = "names"
    figure.with_colors = color
    figure.x_label, figure.y_label = "step", "log10 loss" if log else "loss"
    figure.x_ticks_fkt = figure.y_ticks_fkt = lambda low, high: f"{low:.4g}"
    figure.origin = False
    ys = np.log10(values) if log else values
    if len(steps) > 1:
        figure.set_x_limits(min_=float(steps[0]), max_=float(steps[-1]))
    if float(ys.min()) == float(ys.max()):
        middle = float(ys[0])
        figure.set_y_limits(min_=middle - max(1.0, abs(middle)) * 0.5, max_=middle + max(1.0, abs(middle)) * 0.5)
    figure.plot(steps.tolist(), ys.tolist(), lc="blue", marker=None if color else "•")
    raw(out).write(title + "\n" + figure.show(legend=False) + "\n")


def _listed(values) -> list:
    """An array as a JSON list: None where a point failed (NaN)."""
    return [None if math.isnan(v) else v for v in values.tolist()]


class PlotReport(Report):
    """plot's picture: a Matplotlib file (SVG, PNG, PDF), a text plot, or its numbers as JSON."""

    formats = ("text", "json", *FILE_FORMATS)

    def __init__(self, picture: Curves | Surface):
        self.picture = picture

    def write_text(self, out: TextIO, style: Style) -> None:
        width, height = shutil.get_terminal_size((100, 30))
        write_text_plot(self.picture, out, width=width, height=height, color=style.color)

    def write_svg(self, out: BinaryIO, style: Style) -> None:
        write_plot_file(self.picture, out, "svg")

    def write_png(self, out: BinaryIO, style: Style) -> None:
        write_plot_file(self.picture, out, "png")

    def write_pdf(self, out: BinaryIO, style: Style) -> None:
        write_plot_file(self.picture, out, "pdf")

    def document(self) -> dict:
        picture = self.picture
        if isinstance(picture, Curves):
            return {"input": picture.name, "output": picture.output, "x": picture.x.tolist(),
                    "curves": {label: _listed(values) for label, values in picture.curves.items()},
                    "tangent": None if picture.tangent is None else dict(zip(("x", "value", "slope"), picture.tangent)),
                    "failed": picture.failed}
        return {"inputs": list(picture.names), "output": picture.output, "x": picture.x[0].tolist(),
                "y": picture.y[:, 0].tolist(), "value": [_listed(row) for row in picture.value],
                "grad": {name: [_listed(row) for row in g] for name, g in zip(picture.names, picture.grad)},
                "failed": picture.failed}


class LossPlotReport(Report):
    """The loss of every step of a training, drawn: a file (SVG, PNG, PDF) or a text plot."""

    formats = ("text", *FILE_FORMATS)

    def __init__(self, losses, title: str):
        self.losses = losses
        self.title = title

    def write_text(self, out: TextIO, style: Style) -> None:
        width, height = shutil.get_terminal_size((100, 30))
        write_loss_text_plot(self.losses, out, self.title, width=width, height=height, color=style.color)

    def write_svg(self, out: BinaryIO, style: Style) -> None:
        write_loss_plot(self.losses, out, "svg", self.title)

    def write_png(self, out: BinaryIO, style: Style) -> None:
        write_loss_plot(self.losses, out, "png", self.title)

    def write_pdf(self, out: BinaryIO, style: Style) -> None:
        write_loss_plot(self.losses, out, "pdf", self.title)


class FitPlotReport(Report):
    """A fitted model of one predictor: the data and the fitted curve above, the residuals below."""

    formats = FILE_FORMATS

    def __init__(self, x, y, grid, curve, residuals, names: tuple[str, str], title: str):
        self.x, self.y, self.grid, self.curve, self.residuals = x, y, grid, curve, residuals
        self.names = names
        self.title = title

    def _draw(self, out: BinaryIO, fmt: str) -> None:
        figure = _matplotlib_figure(2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[3, 1])
            top.plot(self.x, self.y, "o", color="C0", markersize=3, label="data")
            top.plot(self.grid, self.curve, color="C3", linewidth=1.6, label="fitted model")
            top.set_ylabel(self.names[1])
            top.set_title(self.title)
            top.legend(loc="best", fontsize="small", framealpha=0.8)
            top.grid(alpha=0.3)
            bottom.plot(self.x, self.residuals, "o", color="C2", markersize=3)
            bottom.axhline(0, color="black", linewidth=0.5)
            bottom.set_ylabel("residual")
            bottom.set_xlabel(self.names[0])
            bottom.grid(alpha=0.3)
            _save(figure, out, fmt)

    def write_svg(self, out: BinaryIO, style: Style) -> None:
        self._draw(out, "svg")

    def write_png(self, out: BinaryIO, style: Style) -> None:
        self._draw(out, "png")

    def write_pdf(self, out: BinaryIO, style: Style) -> None:
        self._draw(out, "pdf")


def fit_plot(program: Program, data) -> FitPlotReport:
    """The picture of a least-squares fit whose residual is `model - y` with one predictor column."""
    import numpy as np

    from .predicting import model_of, predicted_rows

    model, response = model_of(program, data)
    predictors = [name for name in data.names if name != response and name in program.inputs]
    if model is None or len(predictors) != 1:
        raise AutodiffError("a fit's picture needs a residual written model - y and one predictor column",
                            hint=f"the data's columns are {', '.join(data.names)}")
    x_name = predictors[0]
    chunks = list(predicted_rows(program, data))
    x = np.concatenate([c[x_name] for c in chunks])
    y = np.concatenate([c[response] for c in chunks])
    residuals = np.concatenate([c[program.output_label] for c in chunks])
    grid = np.linspace(float(x.min()), float(x.max()), 400)
    curve_program = Program(program.text, program.nodes, program.inputs, program.names, model, None)
    chunk = next(sweep(curve_program, Points.of({x_name: grid, response: np.zeros(len(grid))})))
    return FitPlotReport(x, y, grid, chunk.value, residuals, (x_name, response),
                         f"{program.output_label}: the fitted model and its residuals")
