"""Expressions: only the simplifications that never change a value, and only the parentheses a
target needs."""
import pytest

from autodiff_cli import ops
from autodiff_cli.expressions import Target, add, apply, fold, name, num, number_text, render

X, Y = name("x"), name("y")


@pytest.mark.parametrize("built, text", [
    (apply(ops.MUL, X, num(1)), "x"), (apply(ops.MUL, num(0), X), "0"), (apply(ops.MUL, X, num(-1)), "-x"),
    (apply(ops.NEG, apply(ops.NEG, X)), "x"), (apply(ops.ADD, X, num(0)), "x"), (apply(ops.POW, X, num(1)), "x"),
    (apply(ops.MUL, apply(ops.NEG, X), Y), "-(x*y)"), (apply(ops.ADD, num(2), num(3)), "5"),
    (add([X, apply(ops.NEG, Y), num(0)]), "x - y"), (apply(ops.DIV, num(1), num(0)), "1/0"),
])
def test_exact_simplifications_only(built, text):
    assert render(built) == text


def test_parentheses_only_where_the_target_needs_them():
    e = apply(ops.MUL, apply(ops.ADD, X, Y), apply(ops.POW, X, apply(ops.NEG, Y)))
    assert render(e) == "(x + y)*x**(-y)"
    assert render(e, Target("python")) == "(x + y)*math.pow(x, (-y))"
    assert render(apply(ops.SUB, X, apply(ops.SUB, Y, X))) == "x - (y - x)"


def test_numbers_read_back_to_the_same_float():
    assert [number_text(v) for v in (2.0, 0.1, -0.0, 1e16, 1.5e-7)] == ["2", "0.1", "-0.0", "1e+16", "1.5e-07"]


def test_printing_a_hundred_thousand_deep_expression_does_not_recurse():
    e = X
    for _ in range(100_000):
        e = ("op", ops.TANH, (e,))
    assert render(e).count("tanh(") == 100_000
    assert fold(e, lambda node, parts: parts[0] + 1, lambda leaf: 0) == 100_000
