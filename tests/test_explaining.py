"""`autodiff explain`: the lecture's hand-derived backward pass, and contributions that add up."""
import io
import json

from hypothesis import HealthCheck, assume, given, settings

from autodiff_cli.errors import AutodiffError
from autodiff_cli.explaining import backward_steps, explain_lines, write_explanation
from autodiff_cli.parsing import evaluate
from conftest import LECTURE, LECTURE_SET
from conftest import NAMES, programs, values

LECTURE_PROGRAM = "a = 2; b = -3; c = 10; f = -2\ne = a*b\nd = e + c\nL = d * f"


def test_lecture_board():
    lines = [line.split("   #")[0] for line in explain_lines(evaluate(LECTURE_PROGRAM))]
    assert lines == [
        "dL/dL = 1",
        "[1] dL/dd = dL/dL * ∂L/∂d = 1 * f = 1 * -2 = -2",
        "[2] dL/df = dL/dL * ∂L/∂f = 1 * d = 1 * 4 = 4",
        "[3] dL/de = dL/dd * ∂d/∂e = -2 * 1 = -2",
        "[4] dL/dc = dL/dd * ∂d/∂c = -2 * 1 = -2",
        "[5] dL/da = dL/de * ∂e/∂a = -2 * b = -2 * -3 = 6",
        "[6] dL/db = dL/de * ∂e/∂b = -2 * a = -2 * 2 = -4",
    ]


def test_each_op_is_taught_in_words_once():
    text = "\n".join(explain_lines(evaluate(LECTURE_PROGRAM)))
    assert text.count("# * swaps in the other factor") == 1
    assert text.count("# + routes the gradient unchanged") == 1
    neuron = "\n".join(explain_lines(evaluate("x = 0.3; o = tanh(x)")))
    assert "tanh gives 1 - o²" in neuron and "1 * (1 - o**2) = 1 * 0.91" in neuron


def test_shared_nodes_show_their_gradients_adding_up():
    lines = list(explain_lines(evaluate("a = -2; b = 3; L = (a*b)*(a+b)")))
    assert "dL/da = (-6) + 3 = -3   (gradients add up)" in lines
    assert sum(" dL/da +=" in line for line in lines) == 2
    assert "db/da = 1 + 1 = 2   (gradients add up)" in list(explain_lines(evaluate("a = 3; b = a + a")))


def test_limit_and_summary():
    out = io.StringIO()
    write_explanation(evaluate("x = 1\n" + " + ".join(["x"] * 50)), out, limit=10)
    lines = out.getvalue().splitlines()
    assert lines[0] == "# short names for the unnamed nodes:" and lines[11] == "… 39 more short names"
    chain = lines[12:]
    assert len(chain) == 12 and chain[0] == "dout/dout = 1" and "more lines" in chain[-2]
    assert "the inputs' gradients: x = 50" in chain[-1]


def test_the_cap_counts_chain_rule_lines_not_the_legend(run):
    lines = run("explain", "tanh(x1*w1 + x2*w2 + b)", "-s", "x1=2", "-s", "x2=0", "-s", "w1=-3", "-s", "w2=1",
                "-s", "b=6.88", "--rows", "3").stdout.splitlines()
    assert lines[:5] == ["# short names for the unnamed nodes:", "t1 = x1*w1", "t2 = x2*w2",
                         "t3 = t1 + t2   # x1*w1 + x2*w2", "… 2 more short names"]
    assert lines[5] == "dout/dout = 1" and lines[6].startswith("[1] dout/dt4 = ") and len(lines) == 5 + 3 + 2


def test_explain_json(run):
    result = run("explain", LECTURE, *LECTURE_SET, "--json")
    data = json.loads(result.stdout)
    assert data["grad"] == {"a": 6.0, "b": -4.0, "c": -2.0, "f": 4.0}
    step = next(s for s in data["steps"] if s["label"] == "a")
    assert step == {"node": 0, "label": "a", "parent": 4, "parent_label": "a*b", "op": "*", "local_text": "b",
                    "local": -3.0, "upstream": -2.0, "contribution": 6.0}


def test_explain_command(run):
    result = run("explain", LECTURE_PROGRAM)
    assert result.exit_code == 0 and result.stdout.startswith("dL/dL = 1\n")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.filter_too_much,
                                                                 HealthCheck.too_slow])
@given(programs, values, values, values)
def test_contributions_add_up_to_each_nodes_gradient(program, x, y, z):
    text, _ = program
    try:
        prog = evaluate(text, **{n: v for n, v in zip(NAMES, (x, y, z)) if n in text})
    except AutodiffError:
        assume(False)
    totals = [0.0] * len(prog.nodes)
    totals[-1] = 1.0
    for step in backward_steps(prog):
        if not hasattr(step, "contribution"):
            continue
        if step.contribution is None or totals[step.node.index] is None:
            totals[step.node.index] = None
        else:
            totals[step.node.index] += step.contribution
    assert totals == [node.grad for node in prog.nodes]


def test_unnamed_nodes_get_short_names_with_a_legend():
    prog = evaluate("tanh(x1*w1 + x2*w2 + b)", x1=2, x2=0, w1=-3, w2=1, b=6.8813735870195432)
    lines = list(explain_lines(prog))
    assert lines[:6] == [
        "# short names for the unnamed nodes:",
        "t1 = x1*w1", "t2 = x2*w2",
        "t3 = t1 + t2   # x1*w1 + x2*w2",
        "t4 = t3 + b   # x1*w1 + x2*w2 + b",
        "out = tanh(t4)   # tanh(x1*w1 + x2*w2 + b)",
    ]
    assert any(line.endswith("dout/dt4 = dout/dout * ∂out/∂t4 = 1 * (1 - out**2) = 1 * 0.5 = 0.5   # tanh gives 1 - o²") for line in lines)
    assert not any("d(" in line for line in lines)


def test_short_names_never_take_a_users_name():
    lines = list(explain_lines(evaluate("t1 = 2; out = 3; (t1*x)*out", x=1)))
    assert "t2 = t1*x" in lines and "out_1 = t2*out   # (t1*x)*out" in lines


def test_precision_of_the_numbers():
    lines = list(explain_lines(evaluate("x = 2/3; y = x*3"), precision=3))
    assert any(line.startswith("[1] dy/dx = dy/dy * ∂y/∂x = 1 * 3 = 3") for line in lines)
    assert any("0.667" in line for line in lines)
