"""Every op in the table: value and local derivative against SymPy, and its rule text against its
derivative, at random points inside its domain."""
import math
import random

import pytest
import sympy

from autodiff_cli import ops
from autodiff_cli.parsing import evaluate

X, Y = sympy.symbols("x y", real=True)
DOMAIN = {"log": (0.05, 5), "sqrt": (0.05, 5), "pow": (0.1, 3), "pow_constant_exponent": (0.1, 3)}
ALL = ops.all_ops()


def points(op, n=25):
    """Random points in the op's domain, away from its kink; a constant exponent is an integer."""
    rng = random.Random(op.name)
    low, high = DOMAIN.get(op.name, (-4, 4))
    while n:
        x, y = rng.uniform(low, high), rng.uniform(-3, 3)
        if op is ops.DIV:
            y = rng.choice([-1, 1]) * rng.uniform(0.2, 3)
        if op is ops.POW_CONSTANT_EXPONENT:
            y = float(round(y))
        if op.kink is not None and abs(x - op.kink) < 1e-3:
            continue
        n -= 1
        yield (x, y)[:op.arity]


def close(a, b, rel=1e-12):
    return math.isclose(a, b, rel_tol=rel, abs_tol=rel)


@pytest.mark.parametrize("op", ALL, ids=lambda op: op.name)
def test_value_and_derivatives_match_sympy(op):
    expr = sympy.sympify(op.sympy, locals={"x": X, "y": Y})
    variables = (X, Y)[:op.arity]
    derivatives = [sympy.diff(expr, v) for v in variables]
    for point in points(op):
        subs = dict(zip(variables, point))
        out = op.forward(*point)
        assert close(out, float(expr.subs(subs)))
        for got, d in zip(op.derivative(*point, out), derivatives):
            assert close(got, float(d.subs(subs)))


@pytest.mark.parametrize("op", ALL, ids=lambda op: op.name)
def test_the_rule_text_is_the_derivative_in_the_language(op):
    """The text that `explain` shows (and that derivative programs will print) computes, in our own
    language, the same number as the op's local derivative."""
    for point in points(op, n=10):
        out = op.forward(*point)
        values = {**dict(zip("xy", point)), "o": out}
        for rule, expected in zip(op.rule, op.derivative(*point, out)):
            names = {name: v for name, v in values.items() if name in rule}
            got = evaluate(f"{'; '.join(f'{n} = {v!r}' for n, v in names.items())}\n{rule}").value
            assert close(got, expected, rel=1e-12), (op.name, rule, point)


def test_the_exponent_of_a_negative_base_has_no_derivative():
    assert ops.POW_CONSTANT_EXPONENT.forward(-3.0, 2.0) == 9.0
    dx, dy = ops.POW_CONSTANT_EXPONENT.derivative(-3.0, 2.0, 9.0)
    assert dx == -6.0 and math.isnan(dy)
    assert ops.POW_CONSTANT_EXPONENT.derivative(0.0, 2.0, 0.0) == (0.0, 0.0)     # 0**y is flat for y > 0


@pytest.mark.parametrize("op", [op for op in ALL if op.kink is not None], ids=lambda op: op.name)
def test_kink_conventions_are_zero(op):
    assert op.derivative(op.kink, op.forward(op.kink)) == (0.0,)


@pytest.mark.parametrize("x", [800.0, -800.0, 1e6, -1e6])
def test_tanh_and_sigmoid_are_stable_for_large_arguments(x):
    t = ops.TANH.forward(x)
    assert t == math.copysign(1.0, x) and ops.TANH.derivative(x, t) == (0.0,)
    s = ops.SIGMOID.forward(x)
    assert s == (1.0 if x > 0 else 0.0) and ops.SIGMOID.derivative(x, s) == (0.0,)


@pytest.mark.parametrize("op, args", [
    (ops.LOG, (0.0,)), (ops.LOG, (-1.0,)), (ops.SQRT, (0.0,)), (ops.SQRT, (-4.0,)),
    (ops.DIV, (1.0, 0.0)), (ops.POW, (-2.0, 2.0)), (ops.POW, (0.0, 0.5)),
    (ops.POW_CONSTANT_EXPONENT, (-2.0, 0.5)), (ops.POW_CONSTANT_EXPONENT, (0.0, -1.0)),
    (ops.EXP, (1000.0,)), (ops.POW_CONSTANT_EXPONENT, (9.0, 9.0 ** 9)),
])
def test_leaving_the_domain_raises(op, args):
    with pytest.raises((ValueError, ArithmeticError)):
        op.forward(*args)
