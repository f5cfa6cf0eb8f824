"""The op table: every row's forms against each other at its edge points and against SymPy to 30
digits; registration that refuses a malformed row, naming the op; and ops added through the
documented steps only (a unary function, a binary function, a binary operator with its grammar
line) running through every surface."""
import math
import random
from pathlib import Path

import numpy as np
import pytest
import sympy

from autodiff_cli import ops, rules
from autodiff_cli.engine import Value
from autodiff_cli.errors import AutodiffError
from autodiff_cli.expressions import name, num, render
from autodiff_cli.parsing import evaluate, parse
from autodiff_cli.rules import evaluate_array, local_derivative, node_refs
from conftest import flat, have_dot, require_in_ci
from scratch_ops import GRAMMAR_LINE, scratch_cube, scratch_mean, scratch_mod

X, Y = sympy.symbols("x y", real=True)
ALL = ops.all_ops()
GRAMMAR = Path(__file__).resolve().parent.parent / "grammar" / "autodiff.lark"


def points(op, n=25):
    """Random points where the op has a value and every derivative (off its kinks); a comparison's
    operands are sometimes equal, and an integer exponent sometimes a whole number."""
    rng = random.Random(op.name)
    found = 0
    while found < n:
        xs = tuple(rng.uniform(-4, 4) for _ in range(op.arity))
        if rng.random() < 0.2:
            xs = xs[:1] + (float(round(xs[-1])),) * (op.arity - 1)
        if op.refusal(*xs) is not None or op.on_kink(*xs):
            continue
        out = op.forward(*xs)
        if not math.isfinite(out) or any(op.why_undefined(k, xs, out) for k in range(op.arity)):
            continue
        found += 1
        yield xs


def locals_of(op, point, out):
    """The local derivatives as a tuple, unary ops' included (they return a float)."""
    local = op.derivative(*point, out)
    return (local,) if op.arity == 1 else local


def reference(op):
    expr = sympy.sympify(op.sympy, locals={"x": X, "y": Y})
    return expr, [flat(sympy.diff(expr, v)) for v in (X, Y)[:op.arity]]


def close(a, b, rel=1e-12):
    return math.isclose(a, b, rel_tol=rel, abs_tol=rel)


@pytest.mark.parametrize("op", ALL, ids=lambda op: op.name)
def test_every_row_passes_the_checks_registration_makes(op):
    """forward against `refuse`, the array and Python forms against forward, the derivative against
    its rule, every rule's intermediates finite where its value is: at every pair of edge values."""
    rules.check_row(op)


@pytest.mark.parametrize("op", ALL, ids=lambda op: op.name)
def test_value_and_derivatives_match_sympy_to_30_digits(op):
    expr, derivatives = reference(op)
    variables = (X, Y)[:op.arity]
    for point in points(op):
        subs = {v: sympy.Float(p, 30) for v, p in zip(variables, point)}
        out = op.forward(*point)
        assert close(out, float(expr.evalf(30, subs=subs))), (op.name, point)
        for got, d in zip(locals_of(op, point, out), derivatives):
            assert close(got, float(d.evalf(30, subs=subs))), (op.name, point)


def surfaces_at(text, point):
    """eval, a one-point sweep and the Python export of diff, each: (value, {input: gradient})."""
    from autodiff_cli.exporting import python_function
    from autodiff_cli.sweeping import run_chunk

    by_eval = evaluate(text, point)
    chunk = run_chunk(parse(text), {n: np.array([v]) for n, v in point.items()})
    namespace = {}
    exec(python_function(parse(text)), namespace)           # the export is ours, not user text
    return [(by_eval.value, by_eval.grad), (float(chunk.value[0]), {n: float(g[0]) for n, g in chunk.grad.items()}),
            namespace["value_and_grad"](**point)]


@pytest.mark.parametrize("op", ALL, ids=lambda op: op.name)
def test_eval_a_sweep_and_the_python_export_match_sympy_inside_the_domain(op):
    expr, derivatives = reference(op)
    text = op.applied_to({"x": "x", "y": "y"})
    for point in list(points(op, 8)):
        named = dict(zip("xy", point))
        subs = {v: sympy.Float(p, 30) for v, p in zip((X, Y), point)}
        value = float(expr.evalf(30, subs=subs))
        grads = {n: float(d.evalf(30, subs=subs)) for n, d in zip("xy", derivatives)}
        for got_value, got_grads in surfaces_at(text, named):
            assert close(got_value, value, 1e-11), (op.name, point)
            assert all(close(got_grads[n], g, 1e-11) for n, g in grads.items()), (op.name, point, got_grads, grads)


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
    program = parse(render(local_derivative(node, k, refs)))
    program.set({n: v for n, v in zip("xy"[:op.arity] + "o", [*point, node.data]) if n in program.inputs})
    try:
        program.forward()
    except AutodiffError as exc:
        return exc.message
    return program.value


@pytest.mark.parametrize("op, constant", [(op, ()) for op in ALL] + [(op, (1,)) for op in ALL if op.arity == 2],
                         ids=lambda v: v.name if isinstance(v, ops.Op) else ("constant right" if v else "varying"))
def test_the_rule_as_diff_writes_it_is_the_derivative_where_the_value_exists(op, constant):
    """The text `explain` shows and `diff` prints (a constant operand written in and simplified)
    gives the engine's local derivative, at random points and at the domain edges."""
    for point in list(points(op, 10)) + rules.edge_points(op):
        try:
            out = op.forward(*point)
        except (ArithmeticError, ValueError):
            continue
        if not math.isfinite(out):
            continue
        undefined = [op.why_undefined(k, point, out) is not None for k in range(op.arity)]
        for k, expected in enumerate(locals_of(op, point, out)):
            assert math.isnan(expected) == undefined[k], (op.name, point, k, expected)
            if undefined[k] or k in constant or any(u for j, u in enumerate(undefined) if j not in constant):
                continue            # (with a varying operand's derivative undefined, eval refuses the point)
            got = rule_in_the_language(op, point, k, constant)
            if isinstance(got, str) or not math.isfinite(expected):
                assert not math.isfinite(expected) or abs(expected) > 1e300, (op.name, point, k, expected, got)
            else:
                assert close(got, expected, rel=1e-12), (op.name, point, k, got, expected)


@pytest.mark.parametrize("op", ALL, ids=lambda op: op.name)
def test_the_array_derivative_from_the_rule_is_the_scalar_one(op):
    """Sweeps evaluate the rule texts over arrays: the same numbers where the derivative exists."""
    pts = list(points(op, 20))
    node = Value(None, tuple(Value(0.0) for _ in range(op.arity)), op)
    nodes = [*node.inputs, node]
    for i, v in enumerate(nodes):
        v.index = i
    program = parse("x + y" if op.arity == 2 else "x")            # a scaffold: its nodes replaced
    program.nodes = nodes
    columns = [np.array(c) for c in zip(*pts)]
    data = [*columns, np.broadcast_to(op.array(np, *columns), len(pts))]
    for k in range(op.arity):
        got = np.broadcast_to(evaluate_array(local_derivative(node, k, node_refs(program)), data, np), len(pts))
        for i, p in enumerate(pts):
            expected = locals_of(op, p, op.forward(*p))[k]
            assert got[i] == pytest.approx(expected, rel=1e-12, abs=1e-300), (op.name, p, k)


@pytest.mark.parametrize("op", [op for op in ALL if op.piece is not None], ids=lambda op: op.name)
def test_at_a_kink_the_derivative_is_the_documented_convention(op):
    """0 for relu and abs at 0 and for the flat ops; half to each input of max and min at a tie
    (PyTorch's); the kinks are where the table says."""
    kink = {1: (0.0,), 2: (0.75, 0.75)}[op.arity] if op.name not in ("floor", "ceil") else (2.0,)
    if op.gate is not None:
        kink = (0.0, 0.75)                          # a gate's condition flips at 0
    assert op.on_kink(*kink) and not op.on_kink(*(x + 0.25 for x in kink[:1]), *kink[1:])
    local = locals_of(op, kink, op.forward(*kink))
    expected = (0.5, 0.5) if op.name in ("max", "min") else (0.0,) * op.arity
    if op.gate is not None:                         # the gate gets none; y its share where the gate is open
        expected = (0.0, op.forward(0.0, 1.0))
    assert local == expected, op.name


@pytest.mark.parametrize("x", [800.0, -800.0, 1e6, -1e6])
def test_tanh_and_sigmoid_are_stable_for_large_arguments(x):
    t = ops.TANH.forward(x)
    assert t == math.copysign(1.0, x) and ops.TANH.derivative(x, t) == 0.0
    s = ops.SIGMOID.forward(x)
    assert s == (1.0 if x > 0 else 0.0) and ops.SIGMOID.derivative(x, s) == 0.0


def test_the_stable_forms_hold_where_the_naive_ones_do_not():
    assert ops.LOG1P.forward(1e-20) == 1e-20 and ops.EXPM1.forward(1e-20) == 1e-20          # log(1 + x) gives 0
    assert ops.HYPOT.forward(1e200, 1e200) == pytest.approx(math.sqrt(2) * 1e200, rel=1e-15)  # x**2 overflows
    assert ops.SOFTPLUS.forward(1000.0) == 1000.0 and ops.SOFTPLUS.forward(-1000.0) == 0.0   # exp(1000) overflows
    assert evaluate("atan2(y, x)", y=1.0, x=1e300).grad == {"y": 1e-300, "x": -0.0}          # x**2 overflows


def test_the_exponent_of_a_negative_base_has_no_derivative_and_base_zero_gives_zero():
    assert ops.POW.forward(-3.0, 2.0) == 9.0
    dx, dy = ops.POW.derivative(-3.0, 2.0, 9.0)
    assert dx == -6.0 and math.isnan(dy)
    assert ops.POW.derivative(0.0, 2.0, 0.0) == (0.0, 0.0)      # 0**y is flat for y > 0, as JAX and PyTorch say
    assert evaluate("x**y", x=0, y=2).grad == {"x": 0.0, "y": 0.0}


@pytest.mark.parametrize("text, point, reason", [
    ("asin(x)", {"x": 1.5}, ops.ASIN_DOMAIN), ("acosh(x)", {"x": 0.5}, ops.ACOSH_DOMAIN),
    ("atanh(x)", {"x": 1.0}, ops.ATANH_DOMAIN), ("log2(x)", {"x": 0.0}, ops.LOG2_NEEDS_POSITIVE),
    ("log10(x)", {"x": -1.0}, ops.LOG10_NEEDS_POSITIVE), ("log1p(x)", {"x": -1.0}, ops.LOG1P_DOMAIN),
    ("cbrt(x)", {"x": 0.0}, ops.CBRT_AT_ZERO), ("asin(x)", {"x": 1.0}, ops.ASIN_EDGE),
    ("acosh(x)", {"x": 1.0}, ops.ACOSH_EDGE), ("hypot(x, y)", {"x": 0.0, "y": 0.0}, ops.HYPOT_AT_ORIGIN),
    ("atan2(x, y)", {"x": 0.0, "y": 0.0}, ops.ATAN2_AT_ORIGIN),
])
def test_domain_errors_say_why(text, point, reason):
    with pytest.raises(AutodiffError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        evaluate(text, point)


# A constant's gradient never fails a command

@pytest.mark.parametrize("text, point, value, grad", [
    ("x**4", {"x": 1e77}, 1e308, 4e231), ("(0)/(y)", {"y": 5e-324}, 0.0, -0.0),
])
def test_a_constants_gradient_that_overflows_is_undefined(run, text, point, value, grad):
    (name, number), = point.items()
    result = run("eval", text, "--set", f"{name}={number!r}", "--json")
    assert result.exit_code == 0, result.stderr
    import json

    document = json.loads(result.stdout)
    assert document["value"] == pytest.approx(value, rel=1e-15) and document["grad"][name] == pytest.approx(grad)
    constants = [node for node in document["nodes"] if node["op"] == "const"]
    assert any(node["grad"] is None for node in constants)
    table = run("eval", text, "--set", f"{name}={number!r}")
    assert table.exit_code == 0 and " -\n" in table.stdout.replace("   -\n", " -\n")
    sweep = run("eval", text, "--over", f"{name}={number!r}:{number!r}:1", "--jsonl")
    assert sweep.exit_code == 0 and json.loads(sweep.stdout)["grad"][name] == document["grad"][name]


# Registration

@pytest.mark.parametrize("form", ["forward", "python", "javascript", "latex", "lesson", "meaning", "rule"])
def test_a_row_missing_a_form_is_refused_naming_the_op_and_the_form(registry, form):
    empty = {"rule": (), "forward": None}.get(form, "")
    with pytest.raises(ops.OpDefinitionError, match=rf"op 'scratch_cube': .*{form}"):
        registry.register(scratch_cube(**{form: empty}))
    assert "scratch_cube" not in registry.FUNCTIONS


@pytest.mark.parametrize("changes, says", [
    ({"rule": ("3*x**2 + sigmod(x)",)}, r"its rule '3\*x\*\*2 \+ sigmod\(x\)' is not in the language"),
    ({"rule": ("3*y**2",)}, "names y; a rule uses only x"),
    ({"rule": ("3*x**2", "1")}, "one derivative text per input"),
    ({"arity": 3}, "takes 1 or 2 operands"),
    ({"rule": ("3*x**3",)}, r"its rule '3\*x\*\*3' and the slope of its forward rule \(input 1\) disagree"),
    ({"sympy": "x**"}, "its sympy form 'x\\*\\*' is not an expression"),
    ({"derivative": lambda x, o: 2 * x}, r"its derivative \(input 1\) and its rule '3\*x\*\*2' disagree"),
    ({"refuse": {"needs a positive output": ops.O > 0}}, "the refusal 'needs a positive output' needs a condition on x"),
    ({"python": "math.pow(x, 3.0) + z"}, "python form"),
    ({"array": lambda np, x: x * x}, "its array form disagree"),
    ({"forward": lambda x: 1 / x if x else 0.0}, "disagree"),
])
def test_a_malformed_row_is_refused_at_registration_naming_the_op(registry, changes, says):
    with pytest.raises(ops.OpDefinitionError, match=f"op 'scratch_cube': .*{says}") as info:
        registry.register(scratch_cube(**changes))
    assert isinstance(info.value, AutodiffError) and "scratch_cube" not in registry.FUNCTIONS


def test_a_rule_that_overflows_on_the_way_is_refused(registry):
    row = scratch_mean(name="scratch_atan2", forward=math.atan2, rule=("y/(x**2 + y**2)", "-x/(x**2 + y**2)"),
                       array=lambda np, x, y: np.arctan2(x, y), python="math.atan2(x, y)", javascript="Math.atan2(x, y)",
                       undefined=({"no derivative at 0": (ops.X == 0) & (ops.Y == 0)},) * 2)
    with pytest.raises(ops.OpDefinitionError, match="overflows on the way|refuses at .* where the value exists"):
        registry.register(row)


def test_an_undefined_condition_on_the_output_of_a_unary_op_is_bound_by_arity(registry):
    """A unary op's `undefined` may name the output O (it used to be bound to y, and eval raised KeyError)."""
    row = scratch_cube(name="scratch_root", forward=lambda x: math.cbrt(x), rule=("1/(3*o**2)",),
                       array=lambda np, x: np.cbrt(x), python="math.cbrt(x)", javascript="Math.cbrt(x)",
                       undefined=({"infinite at 0": ops.O == 0},), sympy="cbrt(x)")
    registry.register(row)
    with pytest.raises(AutodiffError, match="scratch_root .*: infinite at 0"):
        evaluate("scratch_root(x)", x=0.0)
    assert evaluate("scratch_root(x)", x=8.0).grad["x"] == pytest.approx(1 / 12)


def test_a_name_that_is_taken_is_refused(registry):
    with pytest.raises(ops.OpDefinitionError, match="op 'tanh': the name is taken"):
        registry.register(scratch_cube(name="tanh"))


@pytest.mark.parametrize("form, text", [("python", "math.pow(x, 3.0) + 0"), ("javascript", "x"),
                                        ("python", "math.fabs(y)")])
def test_a_text_form_that_does_not_delimit_itself_or_misses_an_operand_is_refused(registry, form, text):
    with pytest.raises(ops.OpDefinitionError, match=f"op 'scratch_cube': its {form} form"):
        registry.register(scratch_cube(**{form: text}))


def test_the_registry_fixture_puts_the_table_and_value_back(registry):
    registry.register(scratch_cube())
    assert hasattr(Value, "scratch_cube")
    registry.restore(registry.snapshot())      # restoring to now changes nothing
    assert "scratch_cube" in registry.FUNCTIONS


def test_after_the_fixture_the_added_function_is_gone_and_no_real_op_takes_the_scratch_prefix():
    assert "scratch_cube" not in ops.FUNCTIONS and not hasattr(Value, "scratch_cube")
    assert not [op.name for op in ops.all_ops() if op.name.startswith(ops.SCRATCH)]


def test_a_grammar_rule_without_an_op_is_a_clear_error():
    from autodiff_cli.errors import SourceError

    grammar = GRAMMAR.read_text().replace(*GRAMMAR_LINE)
    with pytest.raises(SourceError, match="the grammar's rule 'scratch_mod' has no op in the op table"):
        parse("a % b", grammar=grammar)


# Ops added through the documented steps only, through every surface.

@pytest.fixture
def extended(registry):
    """The table with a unary function, a binary function and an operator, and the grammar with %
    beside * and /."""
    registry.register(scratch_cube())
    registry.register(scratch_mean())
    registry.register(scratch_mod(), operator=True)
    return GRAMMAR.read_text().replace(*GRAMMAR_LINE)


def test_new_ops_run_through_every_surface(extended, js_engine):
    from surfaces import by_derivative_program, by_eval, by_python, by_sweep, from_js, same
    from autodiff_cli.checking import check_gradients
    from autodiff_cli.deriving import derivative_program
    from autodiff_cli.explaining import explain_lines
    from autodiff_cli.exporting import latex

    text = "r = a % b * 2\nr + scratch_cube(a*b - 3) + scratch_mean(a, b)"
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
    assert value == pytest.approx(3.0 + 12.0 ** 3 + 4.75) and grads["b"] == pytest.approx(
        -2 * 3 + 3 * 12.0 ** 2 * 7.5 + 0.5)

    program.set(points[0])
    program.run()
    lines = list(explain_lines(program))
    assert any("% gives 1 to x and -(x - o)/y to y" in line for line in lines)
    assert any("scratch_cube gives 3x²" in line for line in lines)
    assert check_gradients(program).ok
    written = latex(derivative_program(program))
    assert written.count("{") == written.count("}") and r"\bmod" in written


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


def test_the_docs_op_table_is_the_op_table():
    """The table in docs/language.md, row for row; a missing row is reported as the line to paste."""
    docs = (Path(__file__).resolve().parent.parent / "docs" / "language.md").read_text(encoding="utf-8")
    rows = [op_table_row(op) for op in ops.all_ops()]
    missing = [row for row in rows if row not in docs]
    assert missing == [], "paste into docs/language.md's op table:\n" + "\n".join(missing)


def op_table_row(op) -> str:
    rule = ", ".join(f"`{r}`" for r in op.rule)
    return f"| `{op.written}` | {op.meaning} | {rule} | {op.kinks} |"
