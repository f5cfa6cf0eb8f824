"""The lecture's numbers, exactly, and errors that name the culprit."""
import math
import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from autodiff_cli.errors import AutodiffError, DomainError, MissingInputsError
from autodiff_cli.parsing import evaluate, parse
from autodiff_cli.program import shorten
from conftest import NEURON


def test_lecture_graph_every_node():
    prog = evaluate("a = 2; b = -3; c = 10; f = -2\ne = a*b\nd = e + c\nL = d * f")
    assert prog.value == -8.0
    grads = {prog.label(n): n.grad for n in prog.nodes}
    assert grads == {"a": 6.0, "b": -4.0, "c": -2.0, "f": 4.0, "e": -2.0, "d": -2.0, "L": 1.0}


def test_lecture_one_liner():
    prog = evaluate("(a*b+c)*f", a=2, b=-3, c=10, f=-2)
    assert prog.value == -8.0 and prog.grad == {"a": 6.0, "b": -4.0, "c": -2.0, "f": 4.0}
    assert [n.grad for n in prog.nodes[4:]] == [-2.0, -2.0, 1.0]


def test_neuron():
    prog = evaluate(NEURON)
    assert math.isclose(prog.value, 0.7071067811865476, abs_tol=1e-12)
    assert prog.names["n"].grad == pytest.approx(0.5, abs=1e-12)
    expected = {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0}
    for name, grad in expected.items():
        assert prog.grad[name] == pytest.approx(grad, abs=1e-12)


def test_tanh_rebuilt_from_exp_matches_tanh():
    direct = evaluate(NEURON)
    rebuilt = evaluate(NEURON.replace("o = tanh(n)", "o = (exp(2*n) - 1) / (exp(2*n) + 1)"))
    assert math.isclose(rebuilt.value, direct.value, abs_tol=1e-12)
    for name in direct.grad:
        assert math.isclose(rebuilt.grad[name], direct.grad[name], abs_tol=1e-12)


def test_a_plus_a_and_shared_nodes():
    assert evaluate("a + a", a=3).grad == {"a": 2.0}
    assert evaluate("(a*b)*(a+b)", a=-2, b=3).grad == {"a": -3.0, "b": -8.0}


def test_lecture_nudge_by_hand():
    prog = evaluate("(a*b+c)*f", a=2, b=-3, c=10, f=-2)
    prog.set({name: node.data + 0.01 * node.grad for name, node in prog.inputs.items()})
    assert prog.run().value == pytest.approx(-7.286496, abs=1e-12)


@pytest.mark.parametrize("text, values, culprit", [
    ("log(x)", {"x": 0}, "log (x = 0.0)"),
    ("sqrt(x)", {"x": 0}, "sqrt (x = 0.0)"),
    ("sqrt(x)", {"x": -1}, "sqrt needs a number that is not negative"),
    ("sqrt(x)", {"x": 0}, "sqrt has an infinite derivative at 0"),
    ("1/(x-x)", {"x": 2}, "/ (1.0, x-x = 0.0): division by zero"),
    ("(-2)**x", {"x": 2}, "negative base"),
    ("x**0.5", {"x": -4}, "negative base"),
    ("exp(x)", {"x": 1000}, "too large"),
    ("9**9**9", {}, "too large"),
    ("x*x", {"x": 1e200}, "too large"),
    ("1/x", {"x": 1e-160}, "gradient is too large"),
])
def test_domain_errors_name_the_operation_and_operands(text, values, culprit):
    with pytest.raises(DomainError) as info:
        evaluate(text, **values)
    assert culprit in info.value.render()
    assert "line 1, column" in info.value.render()


def test_tanh_800_is_one_with_zero_gradient_and_exp_underflow_is_fine():
    prog = evaluate("tanh(x)", x=800)
    assert prog.value == 1.0 and prog.grad == {"x": 0.0}
    assert evaluate("exp(-1000)").value == 0.0


def test_missing_inputs_are_named_all_at_once():
    with pytest.raises(MissingInputsError) as info:
        evaluate("(a*b+c)*f", b=1)
    assert info.value.names == ["a", "c", "f"]
    assert "the inputs a, c, f have no value" in info.value.render()
    assert "--set" not in info.value.render()           # the library names no option


def test_setting_an_unknown_name_lists_the_inputs():
    prog = parse("e = a*b; e + c")
    with pytest.raises(AutodiffError, match="no input named z; its inputs are: a, b, c"):
        prog.set({"z": 1.0})
    with pytest.raises(AutodiffError, match="e is computed by the program"):
        prog.set({"e": 1.0})


def test_shorten_keeps_short_labels_and_cuts_long_ones():
    assert shorten("a  *\t b", 0, 7) == "a * b"
    long = "x + " * 100
    assert shorten(long, 0, len(long)) == long[:39] + "…"


@given(st.text(alphabet="ab(+)# \t\n", max_size=120).map(lambda t: "x" + t + "y"), st.integers(1, 50))
@example("x#y", 1)
def test_shorten_fast_paths_agree_with_the_definition(text, width):
    folded = " ".join(re.sub(r"#[^\n]*", " ", text).split())
    expected = folded if len(folded) <= width else folded[:width - 1] + "…"
    assert shorten(text, 0, len(text), width) == expected


def test_a_label_spanning_a_long_comment_is_not_cut_short():
    text = "(a + # " + "c" * 500 + "\n b)"
    assert shorten(text, 0, len(text)) == "(a + b)"


def test_a_named_constant_used_as_an_exponent_gets_its_gradient():
    """Every node's grad is d output / d node, constants' included (SymPy as the reference)."""
    import sympy

    prog = evaluate("sigma_ = sin(1); mu = -u**sigma_**2 + sigma_; L = sin(mu)", u=2.252)
    s = sympy.Symbol("s")
    expected = sympy.diff(sympy.sin(-sympy.Float(2.252) ** (s ** 2) + s), s).subs(s, sympy.sin(1))
    assert prog.names["sigma_"].grad == pytest.approx(float(expected), rel=1e-12)
    prog = evaluate("k = 2.5*2; L = h - 2**k", h=1)
    assert prog.names["k"].grad == pytest.approx(-(2 ** 5) * math.log(2), rel=1e-12)


def test_the_exponent_of_a_negative_base_has_an_undefined_gradient():
    prog = evaluate("x**2", x=-3)
    assert prog.value == 9.0 and prog.grad == {"x": -6.0}
    two = prog.nodes[1]
    assert prog.label(two) == "2" and two.grad is None
    prog = evaluate("k = 1 + 1; x**k", x=-3)
    assert [prog.label(n) for n in prog.nodes if n.grad is None] == ["1", "1", "k"]
    assert evaluate("x**2", x=0).nodes[1].grad == 0.0          # 0**y is flat for y > 0


def test_an_overflowing_gradient_is_still_an_error():
    from autodiff_cli.errors import DomainError

    with pytest.raises(DomainError, match="too large"):
        evaluate("x*1e300*1e300 / 1e300", x=1)


@pytest.mark.parametrize("text, name", [("a = 2; b = -3; d = a*b; w1 = +d", "w1"),
                                        ("a = 2; b = -3; d = a*b; L = d", "L"), ("d = a*b; L = (d)", "L")])
def test_the_output_takes_the_last_statements_name(text, name):
    import io
    import json

    from autodiff_cli.tables import write_json

    prog = evaluate(text, a=2, b=-3)
    out = io.StringIO()
    write_json(prog, out)
    report = json.loads(out.getvalue())
    assert report["output"] == name and report["nodes"][-1]["label"] == name


def test_an_input_named_twice_is_refused_wherever_names_are_listed(run):
    for args in (["diff", "a*b", "--wrt", "a,a"], ["check", "a*b", "-s", "a=1", "-s", "b=2", "--inputs", "a,a"],
                 ["diff", "a*b", "--wrt", "a,a", "--order", "2"]):
        done = run(*args)
        assert done.exit_code == 2 and "a is given twice" in done.stderr and not done.stdout, args
