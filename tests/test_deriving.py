"""`autodiff diff`: derivative programs that read like the lecture, run, and agree with eval and SymPy."""
import json
import math
from pathlib import Path

import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from autodiff_cli import deriving
from autodiff_cli.deriving import derivative_program, hessian
from autodiff_cli.errors import AutodiffError
from autodiff_cli.parsing import evaluate, parse
from conftest import LECTURE, LECTURE_SET, NEURON
from conftest import NAMES, SYMBOLS, edge_values, flat, programs, reference, values

GOLDEN = Path(__file__).resolve().parent / "golden"
LECTURE_PROGRAM = "a = 2; b = -3; c = 10; f = -2\ne = a*b\nd = e + c\nL = d*f"


def gradients_of_the_derivative(text, point, wrt=None):
    """The value of each gradient the derivative program names, {input: value} (its forward pass:
    its own derivatives, the second ones, are another question)."""
    prog = parse(text)
    prog.set(point)
    derivative = derivative_program(prog, wrt)
    source = derivative.text()
    found = {}
    for name, gradient in derivative.gradients.items():
        again = parse(source, output=gradient)
        again.forward()
        found[name] = again.value
    return found, derivative


@pytest.mark.parametrize("name, text", [
    ("lecture", LECTURE_PROGRAM), ("lecture_one_line", "a = 2; b = -3; c = 10; f = -2\n(a*b+c)*f"),
    ("neuron", NEURON), ("a_plus_a", "a = 3; b = a + a"), ("shared", "a = -2; b = 3; L = (a*b)*(a+b)"),
])
def test_lecture_examples_match_their_golden_files(name, text):
    """Read by a person once and kept: the diff files in tests/golden."""
    got = derivative_program(parse(text)).text()
    assert got == (GOLDEN / f"diff_{name}.ad").read_text(encoding="utf-8")


def test_the_lectures_gradient_of_a_reads_as_the_hand_derivation():
    derivative = derivative_program(parse("(a*b+c)*f"))
    assert "dout_da = f*b" in derivative.text().splitlines()


@pytest.mark.parametrize("text", [LECTURE_PROGRAM, NEURON, "a = -2; b = 3; L = (a*b)*(a+b)", "a = 3; b = a + a",
                                  "x = 0.7; y = 1.3; relu(x)*abs(y) + sigmoid(x)/y - x**y + sqrt(exp(x)) * log(y)"])
def test_the_derivative_program_gives_evals_gradients(text):
    prog = evaluate(text)
    found, _ = gradients_of_the_derivative(text, {})
    assert found == pytest.approx(prog.grad, rel=1e-12, abs=1e-300)


def test_wrt_keeps_only_what_those_inputs_need():
    derivative = derivative_program(parse(LECTURE_PROGRAM), ["c"])
    assert derivative.gradients == {"c": "dL_dc"}
    assert [s.name for s in derivative.statements if s.kind in ("adjoint", "gradient")] == ["dL_dc"]
    with pytest.raises(AutodiffError, match="no input named z"):
        derivative_program(parse(LECTURE_PROGRAM), ["z"])


def test_adjoint_names_never_collide_with_the_programs():
    text = "dL_dq = 3*1; L = dL_dq*x*x"
    derivative = derivative_program(parse(text))
    assert derivative.gradients == {"x": "dL__dx"}
    found, _ = gradients_of_the_derivative(text, {"x": 1.5})
    assert found["x"] == pytest.approx(2 * 3 * 1.5)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.filter_too_much,
                                                                  HealthCheck.too_slow])
@given(programs, st.fixed_dictionaries({n: values for n in NAMES}))
def test_generated_derivative_programs_agree_with_eval_and_sympy(program, point):
    text, expr = program
    used = {n: v for n, v in point.items() if n in parse(text).inputs}
    try:
        prog = evaluate(text, used)
    except AutodiffError:
        assume(False)
    found, derivative = gradients_of_the_derivative(text, used)
    assert parse(derivative.text()).nodes                       # it always parses
    ref = reference(expr, used)
    assume(ref is not None)
    _, grads = ref
    assume(all(math.isfinite(abs(g)) for g in grads.values()))    # SymPy's 0**x has no derivative at 0; ours is 0
    for name, value in found.items():
        assert math.isclose(value, prog.grad[name], rel_tol=1e-12, abs_tol=1e-12), (text, name)
        assert math.isclose(value, grads[name].real, rel_tol=1e-9, abs_tol=1e-9), (text, name)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.filter_too_much,
                                                                 HealthCheck.too_slow])
@given(programs)
def test_no_swell_at_most_four_statements_per_node(program):
    text, _ = program
    prog = parse(text)
    derivative = derivative_program(prog)
    computed = [s for s in derivative.statements if s.kind != "input"]
    assert len(computed) <= 4 * len(prog.nodes)


def test_a_ten_thousand_deep_chain_differentiates_without_swell_or_recursion():
    depth = 10_000
    text = "x = 0.5\n" + "tanh(" * depth + "x" + ")" * depth
    prog = parse(text)
    derivative = derivative_program(prog)
    computed = [s for s in derivative.statements if s.kind != "input"]
    assert len(computed) <= 4 * len(prog.nodes)
    source = derivative.text()
    assert len(source) < 200 * len(prog.nodes)          # linear: a line or two a node
    again = parse(source, output="dout_dx")
    assert again.run().value == pytest.approx(evaluate(text).grad["x"], rel=1e-12)


@pytest.mark.slow
def test_a_hundred_thousand_node_program_differentiates():
    terms = 33_000
    text = "x = 0.5; y = -1.5\n" + " + ".join(f"{'xy'[i % 2]}*{i % 97 + 0.5}*{'yx'[i % 2]}" for i in range(terms))
    prog = parse(text)
    assert len(prog.nodes) > 100_000
    found, _ = gradients_of_the_derivative(text, {})
    assert found == pytest.approx(evaluate(text).grad, rel=1e-9)


def test_diff_command_pipes_into_eval(run):
    derivative = run("diff", LECTURE, *LECTURE_SET)
    assert derivative.exit_code == 0
    for name, expected in {"a": 6.0, "b": -4.0, "c": -2.0, "f": 4.0}.items():
        result = run("eval", "-f", "-", "--output-node", f"dout_d{name}", "--json", input=derivative.stdout)
        assert json.loads(result.stdout)["value"] == expected


def test_diff_json(run):
    data = json.loads(run("diff", LECTURE_PROGRAM, "--json").stdout)
    assert data["output"] == "L" and data["gradients"] == {"a": "dL_da", "b": "dL_db", "c": "dL_dc", "f": "dL_df"}
    last = data["statements"][-1]
    assert last == {"name": "dL_df", "expression": "d", "kind": "gradient", "node": 3, "label": "f"}
    kinds = [s["kind"] for s in data["statements"]]
    assert kinds == sorted(kinds, key=["input", "forward", "adjoint", "gradient"].index)


def test_the_hessian_of_the_issue_example(run):
    result = run("eval", "x**3*y", "--set", "x=2", "--set", "y=3", "--hessian", "--json")
    assert json.loads(result.stdout)["hessian"] == {"x": {"x": 36.0, "y": 12.0}, "y": {"x": 12.0, "y": 0.0}}
    table = run("eval", "x**3*y", "--set", "x=2", "--set", "y=3", "--hessian").stdout.splitlines()
    assert table[-2].split() == ["x", "36.0000", "12.0000"] and table[-1].split() == ["y", "12.0000", "0.0000"]


def test_a_gradient_that_is_an_input_gives_a_hessian_row_of_its_own():
    """d out/dy of x*y is x itself: its row's backward pass holds x alone, and y's entry is 0,
    not what the row of x left in y's gradient."""
    prog = parse("x*y")
    prog.set({"x": 1.0, "y": 2.0})
    assert hessian(prog.run()) == {"x": {"x": 0.0, "y": 1.0}, "y": {"x": 1.0, "y": 0.0}}


def test_the_second_derivative_program_runs_and_gives_the_hessian(run):
    program = run("diff", NEURON, "--order", "2")
    assert program.exit_code == 0
    prog = parse(NEURON)
    expected = hessian(prog)
    for a, row in expected.items():
        for b, value in row.items():
            got = json.loads(run("eval", "-f", "-", "--output-node", f"d2o_d{a}_d{b}", "--json",
                                 input=program.stdout).stdout)["value"]
            assert got == pytest.approx(value, rel=1e-12, abs=1e-15), (a, b)


def second_reference(expr, point):
    """SymPy's second derivatives at the point, to 30 digits; None where it cannot evaluate them."""
    if expr is None:
        return None
    subs = {SYMBOLS[n]: sympy.Float(v, 30) for n, v in point.items()}
    try:
        return {a: {b: complex(flat(sympy.diff(expr, SYMBOLS[a], SYMBOLS[b])).evalf(30, subs=subs)) for b in point}
                for a in point}
    except (TypeError, ValueError, ZeroDivisionError):
        return None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much,
                                                                 HealthCheck.too_slow])
@given(programs, st.fixed_dictionaries({n: values for n in NAMES}))
def test_generated_second_derivatives_agree_with_sympy(program, point):
    text, expr = program
    prog = parse(text)
    used = {n: v for n, v in point.items() if n in prog.inputs}
    prog.set(used)
    try:
        prog.run()
        second = hessian(prog)
    except AutodiffError:
        assume(False)
    reference_rows = second_reference(expr, used)
    assume(reference_rows is not None)
    for a, row in second.items():
        for b, value in row.items():
            ref = reference_rows[a][b]
            assume(abs(ref.imag) < 1e-12)
            assert math.isclose(value, ref.real, rel_tol=1e-7, abs_tol=1e-7), (text, a, b, value, ref)


def _hessian_outcome(text: str, point: dict, batch_from: int, monkeypatch) -> tuple:
    """The Hessian (as bits: -0.0 and 0.0 differ) or the error, with rows batched from `batch_from` rows."""
    monkeypatch.setattr(deriving, "BATCH_FROM_ROWS", batch_from)
    try:
        prog = evaluate(text, **point)
        rows = hessian(prog)
    except AutodiffError as exc:
        return ("error", str(exc))
    return ("rows", {a: {b: None if v is None else v.hex() for b, v in row.items()} for a, row in rows.items()})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(programs, st.fixed_dictionaries({n: edge_values for n in NAMES}))
def test_the_batched_hessian_gives_the_rows_one_pass_per_row_gives(monkeypatch, program, point):
    """One backward pass over vectors of adjoints, or one pass per row: the same numbers to the
    bit, or the same refusal, at generated programs and every op's domain edges."""
    text, _ = program
    used = {n: v for n, v in point.items() if n in text}
    assert _hessian_outcome(text, used, 1, monkeypatch) == _hessian_outcome(text, used, 10 ** 9, monkeypatch)


def test_the_batched_hessian_is_used_and_split_into_blocks(monkeypatch):
    """Many rows take the batched pass (the comparison above would pass with it never used), in
    blocks when the vectors would not fit."""
    text = "\n".join(f"x{i} = {i / 10 + 0.5}" for i in range(12)) + "\n" + \
        " + ".join(f"tanh(x{i}*x{(i + 1) % 12})" for i in range(12))
    calls = []
    batched = deriving._rows_batched
    monkeypatch.setattr(deriving, "_rows_batched", lambda *args: calls.append(1) or batched(*args))
    monkeypatch.setattr(deriving, "BATCH_BYTES", 8 * 400)
    rows = hessian(evaluate(text))
    assert calls == [1]
    monkeypatch.setattr(deriving, "BATCH_FROM_ROWS", 10 ** 9)
    assert hessian(evaluate(text)) == rows


def test_a_term_that_cannot_change_the_value_is_dropped():
    """0 times a derivative that always exists is 0 (x**3's); one that may not exist at some point
    is kept, so that the program fails where eval does (x**0.5's at 0)."""
    assert derivative_program(parse("x**3*0 + x")).text().splitlines()[-1] == "dout_dx = (1)"
    assert "0*(0.5*x**(-0.5))" in derivative_program(parse("x**0.5*0 + x")).text()
