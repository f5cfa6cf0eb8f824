"""Plots: real files read back, the text plot in a (fake) terminal, the numbers behind them."""
import math
import os
import pty
import subprocess
import sys

import numpy as np
import pytest
import sympy

from autodiff_cli.parsing import parse
from autodiff_cli.plotting import broken_at_jumps, curves, surface, visible_range
from autodiff_cli.points import parse_axis

LECTURE_F = "3*x**2 - 4*x + 5"


def test_the_lectures_f_its_slope_and_the_tangent_at_3():
    picture = curves(parse(LECTURE_F), parse_axis("x=-5:5:11"), order=2, tangent_at=3.0)
    assert list(picture.curves) == ["out", "dout/dx", "d²out/dx²"]
    assert picture.curves["out"].tolist() == [3 * x * x - 4 * x + 5 for x in range(-5, 6)]
    assert picture.curves["dout/dx"].tolist() == [6 * x - 4 for x in range(-5, 6)]
    assert picture.curves["d²out/dx²"].tolist() == [6.0] * 11
    assert picture.tangent == (3.0, 20.0, 14.0)


@pytest.mark.parametrize("text, reference", [
    ("tanh(x)", "tanh(x)"), ("sigmoid(x)*sin(x)", "sin(x)/(1 + exp(-x))"),
    ("relu(x - 1)**3", "Piecewise((0, x < 1), ((x - 1)**3, True))"), ("log(x)*x", "log(x)*x"),
])
def test_second_derivatives_along_x_match_sympy(text, reference):
    x = sympy.Symbol("x", real=True)
    expression = sympy.sympify(reference, locals={"x": x})
    picture = curves(parse(text), parse_axis("x=0.25:3:12"), order=2)
    second = sympy.lambdify(x, sympy.diff(expression, x, 2))
    for xi, d2 in zip(picture.x.tolist(), picture.curves["d²out/dx²"].tolist()):
        assert d2 == pytest.approx(float(second(xi)), rel=1e-9, abs=1e-12)


def test_failed_points_are_gaps():
    picture = curves(parse("log(x)"), parse_axis("x=-1:1:5"))
    assert picture.failed == 3
    assert [math.isnan(v) for v in picture.curves["out"].tolist()] == [True, True, True, False, False]


def test_a_surface_holds_the_output_and_its_gradient_on_the_grid():
    picture = surface(parse("x**2 + x*y"), parse_axis("x=0:2:3"), parse_axis("y=-1:1:2"))
    assert picture.value.shape == (2, 3)
    assert picture.value.tolist() == [[0, 0, 2], [0, 2, 6]]
    assert picture.grad[0].tolist() == [[-1, 1, 3], [1, 3, 5]]
    assert picture.grad[1].tolist() == [[0, 1, 2], [0, 1, 2]]


@pytest.mark.parametrize("name, magic", [("f.png", b"\x89PNG\r\n\x1a\n"), ("f.pdf", b"%PDF-")])
def test_binary_plot_files_are_real(run, tmp_path, name, magic):
    result = run("plot", LECTURE_F, "--over", "x=-5:5", "--set", "x=3", "-o", tmp_path / name)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / name).read_bytes().startswith(magic)


def test_the_svg_holds_the_curves_and_axis_labels_and_is_the_same_every_time(run, tmp_path):
    for name in ("a.svg", "b.svg"):
        assert run("plot", "L = tanh(x)", "--over", "x=-4:4", "--order", "2", "--set", "x=1",
                   "-o", tmp_path / name).exit_code == 0
    svg = (tmp_path / "a.svg").read_text()
    assert svg == (tmp_path / "b.svg").read_text()
    for text in (">x</text>", ">L</text>", ">dL/dx</text>", ">d²L/dx²</text>", "tangent at x = 1: slope 0.42"):
        assert text in svg
    assert svg.count('id="line2d_') >= 4            # the three curves and the tangent, at least


def test_two_inputs_make_a_contour_map_file(run, tmp_path):
    result = run("plot", "x**2 + x*y", "--over", "x=-2:2:30", "--over", "y=-2:2:30", "-o", tmp_path / "c.svg")
    assert result.exit_code == 0
    svg = (tmp_path / "c.svg").read_text()
    assert ">y</text>" in svg and "with its gradient" in svg


def test_the_text_plot_has_the_curves_and_the_legend(run):
    result = run("plot", "relu(x)", "--over", "x=-2:2", "--set", "x=1")
    assert result.exit_code == 0
    assert "relu" not in result.stderr
    for text in ("(x)", "(out)", "(dout/dx)", "x = 1: slope 1", "⠤•⠤ out", "⠤+⠤ dout/dx"):
        assert text in result.stdout
    assert any("\u2800" < ch <= "\u28ff" for ch in result.stdout)        # braille dots
    assert "\x1b[" not in result.stdout                                    # no colour when piped
    assert "Label" not in result.stdout and "0.2500000" not in result.stdout  # real names, tidy ticks


def test_order_0_is_the_output_alone_as_the_lecture_plots_it():
    picture = curves(parse(LECTURE_F), parse_axis("x=-5:5:step=0.25"), order=0)
    assert list(picture.curves) == ["out"]
    assert picture.x.tolist() == np.arange(-5, 5, 0.25).tolist()


def test_ranges_take_steps_and_expressions_as_numpy_does():
    assert parse_axis("x=-5:5:step=0.1").values().tolist() == np.arange(-5, 5, 0.1).tolist()
    assert parse_axis("x=0:2*pi:50").values().tolist() == np.linspace(0, 2 * math.pi, 50).tolist()
    assert parse_axis("x=-pi:pi:1e3").count == 1000


def test_a_kink_is_a_jump_and_a_continuous_curve_stays_whole():
    picture = curves(parse("relu(x)"), parse_axis("x=-2:2:41"))
    assert list(picture.jumps) == ["dout/dx"]         # relu itself does not jump: no break in f
    (where, left, right), = picture.jumps["dout/dx"]
    assert abs(where) < 1e-300 and (left, right) == (0.0, 1.0)
    xs, slope = broken_at_jumps(picture.x, picture.curves["dout/dx"], picture.jumps["dout/dx"])
    gap = int(np.flatnonzero(np.isnan(slope))[0])
    assert (slope[gap - 1], slope[gap + 1]) == (0.0, 1.0) and xs[gap - 1] == xs[gap + 1] == where


@pytest.mark.parametrize("text, over, jumps", [
    ("relu(x)", "x=-1:1:step=0.25", {}),                 # the lecture's grid: half the curve flat, no jump
    ("relu(x)", "x=-1:1:step=0.1", {}),
    ("step(x)", "x=-1:1:9", {"out": 1}), ("floor(x)", "x=-2.5:2.5:11", {"out": 5}),
    ("max(x, 0.3)", "x=-1:1:21", {"dout/dx": 1}), ("abs(x)*x", "x=-1:1:21", {}),
])
def test_jumps_are_drawn_only_where_the_curve_jumps(text, over, jumps):
    picture = curves(parse(text), parse_axis(over), order=0 if text.startswith("relu") else 1)
    assert {label: len(found) for label, found in picture.jumps.items()} == jumps


def test_a_singularity_does_not_squash_the_curve():
    picture = curves(parse("1/x"), parse_axis("x=-1:1:200"))
    low, high = visible_range(picture.curves["out"])
    assert -50 < low < -5 and 5 < high < 50         # the bulk, not the spikes of ±200 next to 0
    assert visible_range(curves(parse("x**2"), parse_axis("x=-5:5"), order=0).curves["out"]) == (0.0, 25.0)


def test_each_curve_has_its_own_axes_and_failures_are_noted_in_the_picture(run, tmp_path):
    result = run("plot", "log(x)", "--over", "x=-1:3:9", "--order", "2", "-o", tmp_path / "p.svg")
    assert result.exit_code == 0 and "3 points failed" in result.stderr
    svg = (tmp_path / "p.svg").read_text()
    assert svg.count('id="axes_') == 3 and "3 points failed (gaps)" in svg
    assert "warning" not in result.stderr.lower()


def test_every_point_failing_is_an_error(run, tmp_path):
    result = run("plot", "log(x)", "--over", "x=-2:-1", "-o", tmp_path / "a.png")
    assert result.exit_code == 2 and "every point of x = -2..-1 fails" in result.stderr
    assert "log needs a positive number" in result.stderr and not (tmp_path / "a.png").exists()


def test_a_tangent_outside_the_range_widens_it(run, tmp_path):
    result = run("plot", "x**2", "--over", "x=0:1", "--set", "x=3", "-o", tmp_path / "t.svg")
    assert result.exit_code == 0 and "x = 3 lies outside 0..1: the range is widened" in result.stderr


def test_a_range_too_large_to_draw_is_refused(run):
    result = run("plot", "x", "--over", "x=1e308:-2")
    assert result.exit_code == 2 and "too large to draw" in result.stderr


def test_the_text_plot_in_a_real_terminal_is_in_colour():
    primary, secondary = pty.openpty()
    done = subprocess.run([sys.executable, "-m", "autodiff_cli", "plot", "tanh(x)", "--over", "x=-3:3"],
                          stdout=secondary, stderr=subprocess.PIPE, timeout=60)
    os.close(secondary)
    shown = b""
    while True:
        try:
            block = os.read(primary, 65536)
        except OSError:
            break
        if not block:
            break
        shown += block
    os.close(primary)
    assert done.returncode == 0, done.stderr
    assert b"\x1b[" in shown and "dout/dx".encode() in shown


@pytest.mark.parametrize("module, args, message", [
    ("matplotlib", ["-o", "f.svg"], "needs Matplotlib"),
    ("plotille", [], "needs plotille"),
])
def test_a_missing_library_says_what_to_install_and_writes_nothing(run, monkeypatch, tmp_path, module, args, message):
    monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.chdir(tmp_path)
    result = run("plot", "x**2", "--over", "x=0:1", *args)
    assert result.exit_code == 1
    assert message in result.stderr and "pip install 'autodiff-cli[plot]'" in result.stderr
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("args, message", [
    (["--over", "x=0:1", "--over", "y=0:1"], "a contour map of two inputs needs a file"),
    (["--over", "x=0:1", "-o", "f.txt"], "cannot tell the format"),
    (["--over", "x=0:1", "--format", "png"], "PNG goes to a file"),
    (["--over", "x=0:1", "--over", "y=0:1", "--over", "z=0:1"], "one input (a curve) or two"),
])
def test_plot_mistakes_are_explained(run, args, message):
    result = run("plot", "x*y*z", "--set", "y=1", "--set", "z=1", *args)
    assert result.exit_code == 2 and message in result.stderr


def test_a_single_point_command_never_imports_numpy_matplotlib_or_graphviz():
    code = ("import sys; from autodiff_cli.cli import cli\n"
            "try:\n    cli.main(['eval', 'x**2', '--set', 'x=3', '--json'], standalone_mode=False)\n"
            "finally:\n    print(sorted(m for m in ('numpy', 'matplotlib', 'graphviz', 'orjson', 'plotille', "
            "'autodiff_cli.arrays', 'autodiff_cli.training', 'autodiff_cli.drawing', 'autodiff_cli.deriving') "
            "if m in sys.modules), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr.strip() == "[]"
