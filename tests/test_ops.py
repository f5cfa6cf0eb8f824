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


def locals_of(op, point, out):
    """The local derivatives as a tuple, unary ops' included (they return a float)."""
    local = op.derivative(*point, out)
    return (local,) if op.arity == 1 else local


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
        for got, d in zip(locals_of(op, point, out), derivatives):
            assert close(got, float(d.subs(subs)))


@pytest.mark.parametrize("op", ALL, ids=lambda op: op.name)
def test_the_rule_text_is_the_derivative_in_the_language(op):
    """The text that `explain` shows (and that derivative programs will print) computes, in our own
    language, the same number as the op's local derivative."""
    for point in points(op, n=10):
        out = op.forward(*point)
        values = {**dict(zip("xy", point)), "o": out}
        for rule, expected in zip(op.rule, locals_of(op, point, out)):
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
    assert op.derivative(op.kink, op.forward(op.kink)) == 0.0


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


@pytest.fixture
def cube():
    """A throwaway function, added to the op table alone, and taken out again."""
    op = ops.Op("cube", "cube", 1, lambda x: x ** 3, lambda x, o: 3 * x * x, ("3*x**2",),
                "cube gives 3x²", "x cubed", "cube")
    ops.register(op)
    yield op
    del ops.FUNCTIONS["cube"]


@pytest.mark.usefixtures("cube")
def test_a_function_added_to_the_table_alone_is_in_the_language_value_explain_and_check():
    from autodiff_cli.checking import check_gradients
    from autodiff_cli.engine import Value
    from autodiff_cli.explaining import explain_lines
    from autodiff_cli.parsing import parse

    prog = evaluate("y = cube(x)", x=2)
    assert (prog.value, prog.grad) == (8.0, {"x": 12.0})
    v = Value(2.0)
    out = v.cube()
    out.backward()
    assert (out.data, v.grad) == (8.0, 12.0)
    lines = list(explain_lines(prog))
    assert "dy/dx = dy/dy * dy/dx = 1 * (3*x**2) = 1 * 12 = 12   # cube gives 3x²" in lines
    report = check_gradients(parse("x = 1.5; cube(x) + x"), samples=5)
    assert report.ok and report.count("ok") == 6


def test_a_binary_operator_needs_only_the_table_and_its_place_in_the_grammar():
    from pathlib import Path

    from autodiff_cli.errors import SourceError
    from autodiff_cli.parsing import parse

    grammar = (Path(__file__).resolve().parent.parent / "grammar" / "autodiff.lark").read_text()
    product = '| product "/" unary  -> div'
    assert product in grammar
    grammar = grammar.replace(product, product + '\n        | product "%" unary  -> mod')
    mod = ops.Op("mod", "%", 2, math.fmod, lambda x, y, o: (1.0, -float(int(x / y))), ("1", "-trunc(x/y)"),
                 "% routes the gradient to x", "remainder")
    ops.register(mod, operator=True)
    try:
        prog = parse("a % b * 2", grammar=grammar)
        prog.set({"a": 7.5, "b": 2.0})
        prog.run()
        assert prog.value == 3.0 and prog.grad == {"a": 2.0, "b": -6.0}
        assert prog.output.inputs[0].op is mod
        with pytest.raises(SourceError, match=r"an operator \(\+ - \* / \*\* %\)"):
            parse("a b", grammar=grammar)
    finally:
        del ops.OPERATORS["mod"]


def test_a_grammar_rule_without_an_op_is_a_clear_error():
    from pathlib import Path

    from autodiff_cli.errors import SourceError
    from autodiff_cli.parsing import parse

    grammar = (Path(__file__).resolve().parent.parent / "grammar" / "autodiff.lark").read_text()
    product = '| product "/" unary  -> div'
    grammar = grammar.replace(product, product + '\n        | product "%" unary  -> mod')
    with pytest.raises(SourceError, match="the grammar's rule 'mod' has no op in the op table"):
        parse("a % b", grammar=grammar)


def test_the_readme_op_table_is_the_op_table():
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    rows = ["| op | value | local derivative | kink |", "| --- | --- | --- | --- |"]
    for op in ops.all_ops():
        rule = ", ".join(f"`{r}`" for r in op.rule)
        kink = "" if op.kink is None else f"{op.kink:g}"
        rows.append(f"| `{op.written}` | {op.meaning} | {rule} | {kink} |")
    assert "\n".join(rows) in readme
