"""The array engine: a program over many points at once, and its one exactness policy (suspect
points run again by the scalar engine)."""
import math

import numpy as np

from autodiff_cli.arrays import ArrayProgram, chunk_size
from autodiff_cli.parsing import parse


def test_rows_give_the_value_and_the_wanted_gradients_at_every_point():
    program = parse("a = 2\ny = a*x**2 + x")
    rows = ArrayProgram(program).rows({"x": np.array([-1.0, 0.0, 3.0])}, 3, ["a", "x"])
    assert rows.value.tolist() == [1.0, 0.0, 21.0]
    assert rows.grad["x"].tolist() == [-3.0, 1.0, 13.0] and rows.grad["a"].tolist() == [1.0, 0.0, 9.0]
    assert rows.errors == {} and len(rows) == 3


def test_a_suspect_point_is_run_again_and_keeps_evals_error_or_numbers():
    program = parse("w = 1\nloss = w*log(x)")
    rows = ArrayProgram(program).rows({"x": np.array([1.0, -1.0, math.e])}, 3, ["w"])
    assert list(rows.errors) == [1]
    assert rows.errors[1].one_line() == "line 2, column 10: log (x = -1.0): log needs a positive number"
    assert math.isnan(rows.value[1]) and math.isnan(rows.grad["w"][1])
    assert rows.value[0] == 0.0 and rows.grad["w"][2] == 1.0
    assert program.inputs["x"].data is None             # the rerun puts every input back


def test_the_suspect_rerun_is_the_scalar_engines_numbers(monkeypatch):
    program = parse("o = tanh(x*w + b)", )
    program.set({"w": -3.0, "b": 6.8813735870195432})
    x = np.array([2.0, 0.5, -1.0])
    expected = ArrayProgram(program).rows({"x": x}, 3, ["w", "b"])
    forward = ArrayProgram.forward
    monkeypatch.setattr(ArrayProgram, "forward", lambda self, c, n: (forward(self, c, n)[0], np.ones(n, dtype=bool)))
    rerun = ArrayProgram(program).rows({"x": x}, 3, ["w", "b"])
    assert np.allclose(rerun.value, expected.value, rtol=1e-15) and not rerun.errors
    assert np.allclose(rerun.grad["w"], expected.grad["w"], rtol=1e-14)


def test_chunks_hold_fewer_points_as_programs_grow():
    assert chunk_size(1) == 65536 and chunk_size(10_000) < chunk_size(100) and chunk_size(10**9) == 64
