"""The benchmark scripts work, and their flat-tape floor computes what the engine computes."""
import math
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import shapes  # noqa: E402
from tape import Tape  # noqa: E402

from autodiff_cli.parsing import parse  # noqa: E402


@pytest.mark.parametrize("shape", shapes.SHAPES)
def test_shapes_have_about_the_size_asked_for_and_run(shape):
    prog = parse(shapes.program(shape, 2000)).run()
    assert 1900 <= len(prog.nodes) <= 2100


@pytest.mark.parametrize("shape", shapes.SHAPES)
def test_flat_tape_matches_the_engine(shape):
    prog = parse(shapes.program(shape, 3000)).run()
    tape = Tape(prog)
    tape.forward()
    tape.backward()
    assert tape.data == pytest.approx([n.data for n in prog.nodes], rel=1e-12, abs=1e-12)
    undefined = [i for i, g in enumerate(tape.grad) if math.isnan(g)]
    assert undefined == [n.index for n in prog.nodes if n.grad is None]
    defined = [g for g in tape.grad if not math.isnan(g)]
    assert defined == pytest.approx([n.grad for n in prog.nodes if n.grad is not None], rel=1e-9, abs=1e-12)


@pytest.mark.slow
def test_sympy_expression_of_a_shape_matches_the_engine():
    import sympy
    prog = parse(shapes.program("mixed", 40)).run()
    expr, symbols = shapes.sympy_expression(prog)
    point = {symbols[name]: node.data for name, node in prog.inputs.items()}
    assert float(expr.evalf(subs=point)) == pytest.approx(prog.value, rel=1e-9)
    assert float(expr.diff(symbols["x"]).evalf(subs=point)) == pytest.approx(prog.grad["x"], rel=1e-9)
    assert isinstance(expr, sympy.Expr)


def test_the_sweep_floor_computes_what_a_sweep_computes():
    import numpy as np
    import sweeps

    columns = sweeps.random_points(500)
    [chunk] = sweeps.ours(parse(sweeps.NEURON), columns)
    floor = sweeps.hand_numpy(columns)
    assert np.allclose(chunk.value, floor[0], rtol=1e-12, atol=0)
    for name, expected in zip(["x1", "x2", "w1", "w2", "b"], floor[1:]):
        assert np.allclose(chunk.grad[name], expected, rtol=1e-12, atol=1e-15)


def test_the_fit_bench_compares_the_same_training():
    """The row-by-row loop and the hand-written NumPy floor take the steps `fit` takes."""
    import fit as fit_bench

    data = fit_bench.random_rows(300)
    ours = fit_bench.vectorised(fit_bench.net(), data, 3).losses.tolist()
    assert fit_bench.per_row(fit_bench.net(), data, 300, 3) == pytest.approx(ours, rel=1e-12)
    assert fit_bench.hand_numpy(fit_bench.net(), data, 3) == pytest.approx(ours, rel=1e-12)
    assert ours[-1] < ours[0]


def test_the_parse_bench_tree_has_the_size_asked_for_and_is_valid_python():
    import parse as parse_bench
    text = parse_bench.tree(3000)
    assert 2900 <= len(parse(text).nodes) <= 3100
    compile(text, "<tree>", "exec")


# Each bench script at its tiny sizes, and the tables it must print.  Peers that are not installed
# are reported as such; those that are must agree with our Hessian.
TINY_RUNS = [
    pytest.param("run.py", ("Start-up", "Throughput", "Engine", "eval --json", "SymPy", "Memory"), marks=pytest.mark.slow),
    pytest.param("sweeps.py", ("Compute", "Text", "Reading points", "Memory"), marks=pytest.mark.slow),
    pytest.param("page.py", ("graph -o page.html", "a slider, input event to painted frame"), marks=pytest.mark.slow),
    pytest.param("fit.py", ("Compute", "Training"), marks=pytest.mark.slow),
    pytest.param("parse.py", ("Parsing",)),
    pytest.param("peers.py", ("Start-up", "Gradient at one point", "Hessian"), marks=pytest.mark.slow),
]


@pytest.mark.parametrize("script, sections", TINY_RUNS)
def test_bench_scripts_run_at_a_tiny_size(request, script, sections):
    if script == "page.py":
        request.getfixturevalue("browser")          # Chromium, or a skip (a failure when CI=true)
    done = subprocess.run([sys.executable, str(BENCH / script), "--quick"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    for section in sections:
        assert f"## {section}" in done.stdout
