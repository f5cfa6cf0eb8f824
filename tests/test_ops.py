"""Every op's value and local derivative against SymPy, at random points inside its domain."""
import math
import random

import pytest
import sympy

from autodiff_cli import ops

X, Y = sympy.symbols("x y", real=True)
SYMPY_UNARY = {
    "neg": -X, "tanh": sympy.tanh(X), "exp": sympy.exp(X), "log": sympy.log(X), "sqrt": sympy.sqrt(X),
    "relu": sympy.Max(X, 0), "sigmoid": 1 / (1 + sympy.exp(-X)), "sin": sympy.sin(X), "cos": sympy.cos(X),
    "abs": sympy.Abs(X),
}
SYMPY_BINARY = {"add": X + Y, "sub": X - Y, "mul": X * Y, "div": X / Y, "pow": X ** Y,
                "pow_constant_exponent": X ** Y}
DOMAIN = {"log": (0.05, 5), "sqrt": (0.05, 5), "pow": (0.1, 3), "pow_constant_exponent": (0.1, 3)}
UNARY = [op for op in ops.ALL if op.arity == 1]
BINARY = [op for op in ops.ALL if op.arity == 2]


def points(op, n=25):
    rng = random.Random(op.name)
    low, high = DOMAIN.get(op.name, (-4, 4))
    for _ in range(n):
        x = rng.uniform(low, high)
        if op.name in ("relu", "abs") and abs(x) < 1e-3:
            continue
        yield x, rng.uniform(-3, 3) if op is not ops.DIV else rng.choice([-1, 1]) * rng.uniform(0.2, 3)


def close(a, b, rel=1e-12):
    return math.isclose(a, b, rel_tol=rel, abs_tol=rel)


@pytest.mark.parametrize("op", UNARY, ids=lambda op: op.name)
def test_unary_value_and_derivative_match_sympy(op):
    expr = SYMPY_UNARY[op.name]
    d = sympy.diff(expr, X)
    for x, _ in points(op):
        out = op.forward(x)
        assert close(out, float(expr.subs(X, x)))
        assert close(op.derivative(x, out), float(d.subs(X, x)))


@pytest.mark.parametrize("op", BINARY, ids=lambda op: op.name)
def test_binary_value_and_derivatives_match_sympy(op):
    expr = SYMPY_BINARY[op.name]
    dx, dy = sympy.diff(expr, X), sympy.diff(expr, Y)
    for x, y in points(op):
        if op is ops.POW_CONSTANT_EXPONENT:
            y = float(round(y))
        subs = {X: x, Y: y}
        out = op.forward(x, y)
        assert close(out, float(expr.subs(subs)))
        got_dx, got_dy = op.derivative(x, y, out)
        assert close(got_dx, float(dx.subs(subs)))
        expected_dy = 0.0 if op is ops.POW_CONSTANT_EXPONENT else float(dy.subs(subs))
        assert close(got_dy, expected_dy)


def test_constant_exponent_allows_negative_base_with_integer_exponent():
    assert ops.POW_CONSTANT_EXPONENT.forward(-3.0, 2.0) == 9.0
    assert ops.POW_CONSTANT_EXPONENT.derivative(-3.0, 2.0, 9.0) == (-6.0, 0.0)


@pytest.mark.parametrize("op, x", [(ops.RELU, 0.0), (ops.ABS, 0.0)])
def test_kink_conventions_are_zero(op, x):
    assert op.derivative(x, op.forward(x)) == 0.0
    assert ops.KINKS[op] == x


@pytest.mark.parametrize("x", [800.0, -800.0, 1e6, -1e6])
def test_tanh_and_sigmoid_are_stable_for_large_arguments(x):
    t = ops.TANH.forward(x)
    assert t == math.copysign(1.0, x) and ops.TANH.derivative(x, t) == 0.0
    s = ops.SIGMOID.forward(x)
    assert s == (1.0 if x > 0 else 0.0) and ops.SIGMOID.derivative(x, s) == 0.0


@pytest.mark.parametrize("op, args", [
    (ops.LOG, (0.0,)), (ops.LOG, (-1.0,)), (ops.SQRT, (0.0,)), (ops.SQRT, (-4.0,)),
    (ops.DIV, (1.0, 0.0)), (ops.POW, (-2.0, 2.0)), (ops.POW, (0.0, 0.5)),
    (ops.POW_CONSTANT_EXPONENT, (-2.0, 0.5)), (ops.POW_CONSTANT_EXPONENT, (0.0, -1.0)),
    (ops.EXP, (1000.0,)), (ops.POW_CONSTANT_EXPONENT, (9.0, 9.0 ** 9)),
])
def test_leaving_the_domain_raises(op, args):
    with pytest.raises((ValueError, ArithmeticError)):
        op.forward(*args)


def test_every_op_has_symbol_rule_and_lesson():
    for op in ops.ALL:
        assert op.symbol and op.lesson and len(op.rule) == op.arity
