"""The op table: every op's forms against each other and against SymPy, at random points and at
its domain edges; registration that refuses a row missing a form; and an op added for real (a
function and a binary operator, grammar included) through every surface."""
import math
import random
from pathlib import Path

import numpy as np
import pytest
import sympy

from autodiff_cli import ops
from autodiff_cli.engine import Value
from autodiff_cli.errors import AutodiffError
from autodiff_cli.expressions import name, num, render
from autodiff_cli.parsing import evaluate, parse
from autodiff_cli.rules import evaluate_array, local_derivative, node_refs
from conftest import EDGES, have_dot, require_in_ci

X, Y = sympy.symbols("x y", real=True)
DOMAIN = {"log": (0.05, 5), "sqrt": (0.05, 5), "pow": (0.1, 3)}
ALL = ops.all_ops()
GRAMMAR = Path(__file__).resolve().parent.parent / "grammar" / "autodiff.lark"


def points(op, n=25):
    """Random points in the op's domain, away from its kink; a constant exponent is an integer."""
    rng = random.Random(op.name)
    low, high = DOMAIN.get(op.name, (-4, 4))
    while n:
        x, y = rng.uniform(low, high), rng.uniform(-3, 3)
        if op is ops.DIV:
            y = rng.choice([-1, 1]) * rng.uniform(0.2, 3)
        if op is ops.XLOGY:
            y = rng.uniform(0.1, 4)
        if op.kink is not None and abs(x - op.kink) < 1e-3:
            continue
        n -= 1
        yield (x, y)[:op.arity]


def edge_points(op):
    """Every pair of edge values."""
    if op.arity == 1:
        return [(x,) for x in EDGES]
    return [(x, y) for x in EDGES for y in EDGES]


def locals_of(op, point, out):
    """The local derivatives as a tuple, unary ops' included (they return a float)."""
    local = op.derivative(*point, out)
    return (local,) if op.arity == 1 else local


def close(a, b, rel=1e-12):
    return math.isclose(a, b, rel_tol=rel, abs_tol=rel)


def forward_or_reason(op, point):
    try:
        return op.forward(*point)
    except OverflowError:
        return "overflow"
    except ValueError as exc:
        return str(exc)


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
def test_the_declared_domain_is_where_forward_refuses_with_the_same_message(op):
    """The `refuse` conditions (which the page, the sweeps and the Python export are generated
    from) hold exactly where the scalar rule refuses, and name the same reason."""
    for point in edge_points(op) + list(points(op, 10)):
        got = forward_or_reason(op, point)
        declared = op.refusal(*point)
        if isinstance(got, float) or got == "overflow":
            assert declared is None, (op.name, point, declared)
        else:
            assert got == declared, (op.name, point)


def rule_in_the_language(op, point, k, constant=()):
    """The rule for input k, written for a node whose operands in `constant` are literals (as
    every surface writes a constant), its value computed by our own language: the value, or the
    reason it refuses."""
    operands = [Value(v, op=ops.CONST if i in constant else ops.INPUT) for i, v in enumerate(point)]
    node = Value(op.forward(*point), tuple(operands), op)
    for i, value in enumerate([*operands, node]):
        value.index = i
    refs = [num(v.data) if v.op is ops.CONST else name("xyo"[i] if i < op.arity else "o")
            for i, v in enumerate([*operands, node])]
    text = render(local_derivative(node, k, refs))
    program = parse(text)
    program.set({n: v for n, v in zip("xy"[:op.arity] + "o", [*point, node.data]) if n in program.inputs})
    try:
        program.forward()
    except AutodiffError as exc:
        return exc.message
    return program.value


@pytest.mark.parametrize("op, constant", [(op, ()) for op in ALL] + [(op, (1,)) for op in ALL if op.arity == 2],
                         ids=lambda v: v.name if isinstance(v, ops.Op) else ("constant right" if v else "varying"))
def test_the_rule_text_is_the_derivative_wherever_the_value_exists(op, constant):
    """The text `explain` shows and every other surface computes gives the engine's local
    derivative, at random points and at the domain edges; where the engine's does not exist,
    the op table's `undefined` says so, with the reason."""
    for point in list(points(op, 10)) + edge_points(op):
        out = forward_or_reason(op, point)
        if not isinstance(out, float) or not math.isfinite(out):
            continue
        undefined = [bool([m for m, c in op.undefined[k].items() if c.holds(*point, out)]) for k in range(op.arity)]
        for k, expected in enumerate(locals_of(op, point, out)):
            assert math.isnan(expected) == undefined[k], (op.name, point, k, expected)
            others_undefined = any(u for j, u in enumerate(undefined) if j != k and j not in constant)
            if math.isnan(expected) or k in constant or others_undefined:
                continue            # (with a varying operand's derivative undefined, eval refuses the point)
            got = rule_in_the_language(op, point, k, constant)
            if isinstance(got, str) or not math.isfinite(expected):
                assert not math.isfinite(expected) or abs(expected) > 1e300, (op.name, point, k, expected, got)
            else:
                assert close(got, expected, rel=1e-12), (op.name, point, k, got, expected)


@pytest.mark.parametrize("op", ALL, ids=lambda op: op.name)
def test_each_array_rule_is_its_scalar_rule_elementwise(op):
    pts = edge_points(op)
    columns = [np.array(c) for c in zip(*pts)]
    with np.errstate(all="ignore"):
        refused = np.broadcast_to(op.refuses(np, *columns) if op.refuse else False, len(pts))
        values = np.broadcast_to(op.array(np, *columns), len(pts))
    for i, xs in enumerate(pts):
        expected = forward_or_reason(op, xs)
        if isinstance(expected, str):
            assert refused[i] or not math.isfinite(values[i]), (op.name, xs)
            continue
        assert not refused[i], (op.name, xs)
        if not math.isfinite(expected):
            assert not math.isfinite(values[i])
            continue
        assert values[i] == pytest.approx(expected, rel=1e-14, abs=0.0), (op.name, xs)


@pytest.mark.parametrize("op", ALL, ids=lambda op: op.name)
def test_the_array_derivative_from_the_rule_is_the_scalar_one(op):
    """Sweeps evaluate the rule texts over arrays: the same numbers where the derivative exists."""
    pts = [p for p in list(points(op, 20)) if math.isfinite(op.forward(*p))]
    program = parse("x + y" if op.arity == 2 else "x")            # a scaffold: three nodes to index
    node = Value(None, tuple(Value(0.0) for _ in range(op.arity)), op)
    nodes = [*node.inputs, node]
    for i, v in enumerate(nodes):
        v.index = i
    program.nodes = nodes
    refs = node_refs(program)
    columns = [np.array(c) for c in zip(*pts)]
    data = [*columns, op.array(np, *columns)]
    for k in range(op.arity):
        got = np.broadcast_to(evaluate_array(local_derivative(node, k, refs), data, np), len(pts))
        for i, p in enumerate(pts):
            expected = locals_of(op, p, op.forward(*p))[k]
            assert got[i] == pytest.approx(expected, rel=1e-12, abs=1e-300), (op.name, p, k)


@pytest.mark.parametrize("op", [op for op in ALL if op.kink is not None], ids=lambda op: op.name)
def test_kink_conventions_are_zero(op):
    assert op.derivative(op.kink, op.forward(op.kink)) == 0.0


@pytest.mark.parametrize("x", [800.0, -800.0, 1e6, -1e6])
def test_tanh_and_sigmoid_are_stable_for_large_arguments(x):
    t = ops.TANH.forward(x)
    assert t == math.copysign(1.0, x) and ops.TANH.derivative(x, t) == 0.0
    s = ops.SIGMOID.forward(x)
    assert s == (1.0 if x > 0 else 0.0) and ops.SIGMOID.derivative(x, s) == 0.0


def test_the_exponent_of_a_negative_base_has_no_derivative_and_base_zero_gives_zero():
    assert ops.POW.forward(-3.0, 2.0) == 9.0
    dx, dy = ops.POW.derivative(-3.0, 2.0, 9.0)
    assert dx == -6.0 and math.isnan(dy)
    assert ops.POW.derivative(0.0, 2.0, 0.0) == (0.0, 0.0)      # 0**y is flat for y > 0, as JAX and PyTorch say
    assert evaluate("x**y", x=0, y=2).grad == {"x": 0.0, "y": 0.0}


# Registration

def softplus(**changes):
    """A function the table does not have: log(1 + exp(x)), written stably, every form given."""
    row = dict(name="softplus", arity=1, forward=lambda x: max(x, 0.0) + math.log1p(math.exp(-abs(x))),
               derivative=lambda x, o: ops.SIGMOID.forward(x), rule=("sigmoid(x)",),
               array=lambda np, x: np.logaddexp(0.0, x),
               python="((x if x > 0.0 else 0.0) + math.log1p(math.exp(-math.fabs(x))))",
               javascript="(Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))))",
               latex=r"\operatorname{softplus}\left(x\right)", sympy="log(1 + exp(x))",
               lesson="softplus gives sigmoid(x)", meaning="log(1 + exp(x))", method="softplus")
    row.update(changes)
    return ops.Op(**row)


@pytest.mark.parametrize("form", ["forward", "derivative", "array", "python", "javascript", "latex", "lesson",
                                  "meaning", "rule"])
def test_a_row_missing_a_form_is_refused_naming_the_op_and_the_form(registry, form):
    empty = {"rule": (), "forward": None, "derivative": None, "array": None}.get(form, "")
    with pytest.raises(ops.OpDefinitionError, match=rf"op 'softplus': .*{'rule' if form == 'rule' else form}"):
        registry.register(softplus(**{form: empty}))
    assert "softplus" not in registry.FUNCTIONS


def test_a_name_that_is_taken_is_refused(registry):
    with pytest.raises(ops.OpDefinitionError, match="op 'tanh': the name is taken"):
        registry.register(softplus(name="tanh"))


@pytest.mark.parametrize("form, text", [("python", "math.log1p(x) + 1"), ("javascript", "x"),
                                        ("python", "math.fabs(y)")])
def test_a_text_form_that_does_not_delimit_itself_or_misses_an_operand_is_refused(registry, form, text):
    with pytest.raises(ops.OpDefinitionError, match=f"op 'softplus': its {form} form"):
        registry.register(softplus(**{form: text}))


def test_a_rule_that_is_not_in_the_language_fails_loudly_at_first_use(registry):
    from autodiff_cli.deriving import derivative_program

    registry.register(softplus(rule=("sigmoid(z)",)))
    with pytest.raises(ops.OpDefinitionError, match=r"op 'softplus': its rule 'sigmoid\(z\)' names z"):
        derivative_program(parse("softplus(x)"))


def test_the_registry_fixture_puts_the_table_and_value_back(registry):
    registry.register(softplus())
    assert hasattr(Value, "softplus")
    registry.restore(registry.snapshot())      # restoring to now changes nothing
    assert "softplus" in registry.FUNCTIONS


def test_after_the_fixture_the_added_function_is_gone():
    assert "softplus" not in ops.FUNCTIONS and not hasattr(Value, "softplus")


def test_the_readme_op_table_is_the_op_table():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    rows = ["| op | value | local derivative | kink |", "| --- | --- | --- | --- |"]
    for op in ops.all_ops():
        rule = ", ".join(f"`{r}`" for r in op.rule)
        kink = "" if op.kink is None else f"{op.kink:g}"
        rows.append(f"| `{op.written}` | {op.meaning} | {rule} | {kink} |")
    assert "\n".join(rows) in readme


def test_a_grammar_rule_without_an_op_is_a_clear_error():
    from autodiff_cli.errors import SourceError

    grammar = GRAMMAR.read_text().replace('| product "/" unary  -> div',
                                          '| product "/" unary  -> div\n        | product "%" unary  -> mod')
    with pytest.raises(SourceError, match="the grammar's rule 'mod' has no op in the op table"):
        parse("a % b", grammar=grammar)


# An op added for real: a function and a binary operator (grammar included), through every surface.

def fmod(x, y):
    if y == 0.0:
        raise ValueError("% needs a divisor that is not 0")
    return math.fmod(x, y)


def mod():
    """C's fmod as the operator `%`, at the precedence of `*` and `/`: every form given."""
    return ops.Op(name="mod", symbol="%", arity=2, template="x % y", binds=ops.PRODUCT,
                  operands=(ops.PRODUCT, ops.UNARY), forward=fmod, derivative=lambda x, y, o: (1.0, -(x - o) / y),
                  rule=("1", "-(x - o)/y"), refuse={"% needs a divisor that is not 0": ops.Y == 0},
                  array=lambda np, x, y: np.fmod(x, y), python="math.fmod(x, y)", javascript="x % y",
                  latex=r"x \bmod y", lesson="% gives 1 to x and -(x - o)/y to y", meaning="remainder (C's fmod)")


@pytest.fixture
def extended(registry):
    """The table with softplus and %, and the grammar with % beside * and /."""
    registry.register(softplus())
    registry.register(mod(), operator=True)
    product = '| product "/" unary  -> div'
    return GRAMMAR.read_text().replace(product, product + '\n        | product "%" unary  -> mod')


def test_a_new_function_and_operator_run_through_every_surface(extended, js_engine):
    from surfaces import by_derivative_program, by_eval, by_python, by_sweep, from_js, same
    from autodiff_cli.checking import check_gradients
    from autodiff_cli.deriving import derivative_program
    from autodiff_cli.explaining import explain_lines
    from autodiff_cli.exporting import latex

    text = "r = a % b * 2\nr + softplus(a*b - 3)"
    points = [{"a": 7.5, "b": 2.0}, {"a": -4.25, "b": 1.5}, {"a": 3.0, "b": 0.0}]
    program = parse(text, grammar=extended)
    javascript = js_engine([(program, points)])[0]
    for point, in_js in zip(points, javascript):
        expected = by_eval(text, point, extended)
        for surface in (by_sweep, by_derivative_program, by_python):
            assert same(expected, surface(text, point, extended)), (surface.__name__, point)
        assert same(expected, from_js(in_js)), point
    assert by_eval(text, points[2], extended) == ("error", "% needs a divisor that is not 0")
    value, grads = by_eval(text, points[0], extended)[1:]
    assert value == pytest.approx(3.0 + math.log1p(math.exp(12.0))) and grads["b"] == pytest.approx(
        -2 * 3 + 7.5 * ops.SIGMOID.forward(12.0))

    program.set(points[0])
    program.run()
    lines = list(explain_lines(program))
    assert any("% gives 1 to x and -(x - o)/y to y" in line for line in lines)
    assert any("softplus gives sigmoid(x)" in line for line in lines)
    assert check_gradients(program).ok
    written = latex(derivative_program(program))
    assert written.count("{") == written.count("}") and r"\sigma" in written and r"\bmod" in written
    assert all(f"\\partial {name}}}" in written for name in ("a", "b"))


def test_a_new_operator_is_on_the_live_page(extended, browser, tmp_path):
    from autodiff_cli.page import live_page

    require_in_ci(have_dot(), "Graphviz's dot")
    program = parse("a % b * 2", grammar=extended)
    program.set({"a": 7.5, "b": 2.0})
    program.run()
    path = tmp_path / "mod.html"
    path.write_text(live_page(program), encoding="utf-8")
    page = browser.new_page()
    page.goto(path.as_uri())
    page.locator('[data-input="a"]').evaluate("el => { el.value = '9.25'; el.dispatchEvent(new Event('input')); }")
    program.set({"a": 9.25})
    program.run()
    assert page.text_content("[data-output]") == f"{program.value:.4f}"
    page.close()
