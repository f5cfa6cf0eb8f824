"""Generated programs against SymPy, and garbage input that must never crash."""
import math

import sympy
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from autodiff_cli.cli import cli
from autodiff_cli.errors import AutodiffError
from autodiff_cli.parsing import evaluate

NAMES = ("x", "y", "z")
SYMBOLS = {name: sympy.Symbol(name, real=True) for name in NAMES}
UNARY = {
    "tanh": sympy.tanh, "exp": sympy.exp, "log": sympy.log, "sqrt": sympy.sqrt,
    "relu": lambda e: (e + sympy.Abs(e)) / 2,       # a Piecewise would compare a complex constant with 0
    "sigmoid": lambda e: 1 / (1 + sympy.exp(-e)),
    "sin": sympy.sin, "cos": sympy.cos, "abs": sympy.Abs, "sign": sympy.sign,
    "step": lambda e: (sympy.sign(e) + sympy.Abs(sympy.sign(e))) / 2,
}
BINARY = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
          "/": lambda a, b: a / b, "**": lambda a, b: a ** b}

leaves = st.one_of(
    st.sampled_from(NAMES).map(lambda n: (n, SYMBOLS[n])),
    st.sampled_from(["0.5", "2", "3", "1.5"]).map(lambda t: (t, sympy.Rational(t))),
)


def extend(children):
    unary = st.tuples(st.sampled_from(sorted(UNARY)), children).map(
        lambda t: (f"{t[0]}({t[1][0]})", UNARY[t[0]](t[1][1])))
    neg = children.map(lambda c: (f"-({c[0]})", -c[1]))
    binary = st.tuples(children, st.sampled_from(sorted(BINARY)), children).map(
        lambda t: (f"({t[0][0]}) {t[1]} ({t[2][0]})", BINARY[t[1]](t[0][1], t[2][1])))
    return st.one_of(unary, neg, binary)


programs = st.recursive(leaves, extend, max_leaves=8)
values = st.floats(min_value=-2.0, max_value=2.0, allow_nan=False).filter(lambda v: abs(v) > 1e-3)


def reference(expr, point):
    subs = {SYMBOLS[n]: sympy.Float(v, 30) for n, v in point.items()}
    value = complex(expr.evalf(30, subs=subs))
    grads = {n: complex(flat(sympy.diff(expr, SYMBOLS[n])).evalf(30, subs=subs)) for n in point}
    return value, grads


def flat(derivative):
    """sign and step are flat away from 0: their derivatives' Dirac deltas are 0 at every point we test."""
    derivative = derivative.replace(sympy.DiracDelta, lambda *args: sympy.S.Zero)
    return derivative.replace(lambda e: isinstance(e, sympy.Derivative) and e.expr.func is sympy.sign,
                              lambda e: sympy.S.Zero)


def agrees(ours, ref):
    return math.isclose(ours, ref.real, rel_tol=1e-9, abs_tol=1e-9) and abs(ref.imag) < 1e-12


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much,
                                                                  HealthCheck.too_slow])
@given(programs, st.fixed_dictionaries({n: values for n in NAMES}))
def test_generated_programs_match_sympy(program, point):
    text, expr = program
    used = {n: v for n, v in point.items() if n in text}
    try:
        prog = evaluate(text, **used)
    except AutodiffError:
        assume(False)
    try:
        value, grads = reference(expr, used)
    except (TypeError, ValueError, ZeroDivisionError):
        assume(False)
    assume(all(math.isfinite(abs(v)) for v in [value, *grads.values()]) and abs(value) < 1e12)
    assert agrees(prog.value, value), (text, used, prog.value, value)
    for name, grad in grads.items():
        assert agrees(prog.grad[name], grad), (text, used, name, prog.grad[name], grad)


program_text = st.text(alphabet="abxy0123456789.+-*/^()=;#\n \t\r$eE_tanhlogsqrt,α", max_size=60)


@settings(max_examples=300, deadline=None)
@given(program_text, st.lists(st.text(alphabet="abxy=0123456789.-+e ,", max_size=8), max_size=3))
def test_garbage_never_shows_a_traceback(text, sets):
    args = ["eval", "--json", "--", text]
    for s in sets:
        args[1:1] = ["--set", s]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code == 2:
        assert result.stderr.strip() and "Traceback" not in result.stderr
