"""Sweeps: the array rules against the scalar ones, and every point against a single-point run."""
import math
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autodiff_cli.errors import AutodiffError, DomainError
from autodiff_cli.parsing import parse
from autodiff_cli.points import Grid, parse_axis
from autodiff_cli.sweeping import run_chunk, sweep
from conftest import programs

OPERANDS = [-2.5, -1.0, -0.5, -0.0, 0.0, 0.3, 0.5, 1.0, 2.0, 3.0, 710.0]


def scalar(f, *xs):
    try:
        return f(*xs)
    except (ArithmeticError, ValueError):
        return "refused"


def single_point(text, point):
    """What one `eval` gives at the point: (value, grads) or the error's one-line message."""
    program = parse(text)
    program.set(point)
    try:
        program.run()
    except AutodiffError as exc:
        return exc.one_line()
    return program.value, program.grad


def assert_rows_match(text, chunks, fixed):
    for chunk in chunks:
        for i in range(len(chunk)):
            point = {name: float(column[i]) for name, column in chunk.inputs.items()}
            expected = single_point(text, {**point, **fixed})
            if isinstance(expected, str):
                assert chunk.errors.get(i) == expected, point
                continue
            assert i not in chunk.errors, (point, chunk.errors[i])
            value, grads = expected
            assert chunk.value[i] == pytest.approx(value, rel=1e-12, abs=1e-12), point
            for name, g in grads.items():
                if g is None:
                    assert math.isnan(chunk.grad[name][i]), (point, name)
                else:
                    assert chunk.grad[name][i] == pytest.approx(g, rel=1e-12, abs=1e-12), (point, name)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs, st.integers(1, 9), st.floats(-3, 3), st.floats(0.1, 3))
def test_every_point_of_a_sweep_is_a_single_point_run(program, count, start, width):
    text = program[0]
    try:
        parsed = parse(text)
    except AutodiffError:
        return
    fixed = {name: 0.7 for name in parsed.inputs if name != "x"}
    parsed.set(fixed)
    if "x" not in parsed.inputs:
        return
    stop = start + width if count > 1 else start
    chunks = list(sweep(parsed, Grid([parse_axis(f"x={start!r}:{stop!r}:{count}")])))
    assert sum(len(c) for c in chunks) == count
    assert_rows_match(text, chunks, fixed)


def test_failing_points_name_the_op_and_place_and_the_others_still_run():
    program = parse("y = log(x)\nz = y / (x - 2)")
    [chunk] = sweep(program, Grid([parse_axis("x=-1:3:5")]))
    assert chunk.errors == {0: "line 1, column 5: log (x = -1.0): log needs a positive number",
                            1: "line 1, column 5: log (x = 0.0): log needs a positive number",
                            3: "line 2, column 5: / (y = 0.6931471805599453, x - 2 = 0.0): division by zero"}
    assert chunk.value[2] == 0.0 and chunk.value[4] == pytest.approx(math.log(3))


def test_strict_raises_the_first_failure_as_a_single_point_run_would():
    program = parse("log(x)")
    with pytest.raises(DomainError, match="log needs a positive number"):
        list(sweep(program, Grid([parse_axis("x=1:-1:3")]), strict=True))


def test_a_grid_varies_the_first_axis_slowest_and_keeps_the_other_inputs():
    program = parse("x*y + z")
    program.set({"z": 10.0})
    [chunk] = sweep(program, Grid([parse_axis("x=0:1:2"), parse_axis("y=5:7:3")]))
    assert chunk.inputs["x"].tolist() == [0, 0, 0, 1, 1, 1]
    assert chunk.inputs["y"].tolist() == [5, 6, 7, 5, 6, 7]
    assert chunk.inputs["z"].tolist() == [10] * 6
    assert chunk.value.tolist() == [10, 10, 10, 15, 16, 17]
    assert chunk.grad["x"].tolist() == [5, 6, 7, 5, 6, 7]
    assert program.inputs["z"].data == 10.0 and program.inputs["x"].data is None


def test_chunks_cover_every_point_in_order(monkeypatch):
    monkeypatch.setattr("autodiff_cli.arrays.chunk_size", lambda nodes: 64)
    program = parse("x**2")
    chunks = list(sweep(program, Grid([parse_axis("x=0:999:1000")])))
    assert [c.start for c in chunks] == list(range(0, 1000, 64))
    assert np.concatenate([c.value for c in chunks]).tolist() == [float(x) ** 2 for x in range(1000)]


def test_the_lecture_neuron_over_a_range_of_w1():
    text = "x1 = 2; x2 = 0; w1 = -3; w2 = 1; b = 6.8813735870195432\nn = x1*w1 + x2*w2 + b\no = tanh(n)"
    program = parse(text)
    [chunk] = sweep(program, Grid([parse_axis("w1=-3:-2:11")]))
    assert chunk.value[0] == pytest.approx(0.7071067811865476, rel=1e-12)
    assert chunk.grad["w1"][0] == pytest.approx(1.0, rel=1e-12)
    assert chunk.grad["x1"][0] == pytest.approx(-1.5, rel=1e-12)
    assert_rows_match(text, [chunk], {})


def test_inputs_neither_swept_nor_set_are_named():
    with pytest.raises(AutodiffError, match="the inputs y, z have no value"):
        list(sweep(parse("x*y*z"), Grid([parse_axis("x=0:1:2")])))


def test_run_chunk_with_random_points_matches_single_points():
    text = "u = sigmoid(x*y) - sqrt(abs(x) + 1); v = relu(u) + sin(x)**2; v / (1 + cos(y)**2)"
    program = parse(text)
    rng = random.Random(1)
    columns = {"x": np.array([rng.uniform(-4, 4) for _ in range(200)]),
               "y": np.array([rng.uniform(-4, 4) for _ in range(200)])}
    assert_rows_match(text, [run_chunk(program, columns)], {})


