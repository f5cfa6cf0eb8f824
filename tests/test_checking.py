"""`autodiff check`: numeric against analytic gradients, and a verdict that can fail."""
import json

import pytest
from hypothesis import HealthCheck, assume, given, settings

from autodiff_cli import ops
from autodiff_cli.checking import check_gradients
from autodiff_cli.errors import AutodiffError
from autodiff_cli.parsing import parse
from conftest import LECTURE, LECTURE_SET, NEURON
from conftest import NAMES, interior, programs, values

OPS = {op.name: op for op in ops.all_ops()}


def checked(text, **kw):
    values = kw.pop("values", {})
    prog = parse(text)
    prog.set({name: v for name, v in values.items() if name in prog.inputs})
    return check_gradients(prog, **kw)


def test_every_ops_written_form_parses_to_that_op():
    for name, op in OPS.items():
        assert parse(op.written).output.op.name == name


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_passes_at_random_points_in_its_domain(name):
    report = checked(OPS[name].written, values=interior(OPS[name]), samples=20, seed=1, nodes="all")
    assert report.ok and report.count("ok") >= 20, report.summary()


def test_lecture_graph_every_node():
    report = checked(LECTURE, values=dict(a=2, b=-3, c=10, f=-2), nodes="all")
    assert report.ok and [c.label for c in report.checks] == ["a", "b", "c", "f", "a*b", "a*b+c", "(a*b+c)*f"]
    assert [round(c.numeric, 6) for c in report.checks] == [6, -4, -2, 4, -2, -2, 1]


@pytest.mark.parametrize("text", [NEURON, "a + a", "(a*b)*(a+b)"])
def test_lecture_cases_pass(text):
    assert checked(text, values={"a": -2, "b": 3} if "a" in text else {}, nodes="all").ok


def test_forward_method_reproduces_the_lecture_formula():
    report = checked(LECTURE, values=dict(a=2, b=-3, c=10, f=-2), method="forward", h=0.001)
    assert report.ok and {c.method for c in report.checks} == {"forward"}
    assert report.checks[0].numeric == pytest.approx(6.0, abs=1e-9)   # L is linear in a


@pytest.mark.parametrize("text", ["relu(x)", "abs(x)", "3*relu(x) + 1"])
def test_kinks_are_reported_as_kinks_not_failures(text):
    report = checked(text, values={"x": 0})
    assert report.ok and [c.status for c in report.checks] == ["kink"]


@pytest.mark.parametrize("text, order, status", [
    ("sign(x)", 1, "kink"),         # a jump: its two sides agree in slope, not in value
    ("abs(x)", 2, "kink"),          # its gradient, sign(x), jumps
    ("abs(x)*x", 1, "ok"),          # smooth, though abs has a kink here
    ("abs(x)*x", 2, "kink"),        # its gradient, 2|x|, has one
])
def test_a_kink_of_the_output_is_told_from_a_kink_of_an_op(run, text, order, status):
    done = run("check", text, "--set", "x=0", "--order", str(order), "--json")
    assert done.exit_code == 0, done.stderr
    assert [c["status"] for c in json.loads(done.stdout)["checks"]] == [status]


def test_points_near_a_domain_edge_are_handled():
    report = checked("log(x) + sqrt(x)", values={"x": 1e-9})
    assert report.ok, report.summary()
    assert all(c.numeric is not None for c in report.checks)


def test_samples_that_leave_the_domain_are_skipped_and_counted():
    report = checked("log(x)", values={"x": 0.3}, samples=40, seed=3)
    assert report.skipped_samples > 0 and report.ok
    assert "samples skipped" in report.summary()


def test_samples_are_reproducible_with_a_seed():
    first = [c.at for c in checked(NEURON, samples=5, seed=7).checks]
    assert first == [c.at for c in checked(NEURON, samples=5, seed=7).checks]
    assert first != [c.at for c in checked(NEURON, samples=5, seed=8).checks]


def test_check_leaves_the_program_at_the_given_point():
    prog = parse(LECTURE)
    prog.set(dict(a=2, b=-3, c=10, f=-2))
    check_gradients(prog, nodes="all", samples=3)
    assert prog.value == -8.0 and prog.grad["a"] == 6.0


def test_a_wrong_derivative_fails_and_names_the_culprit(run, monkeypatch):
    monkeypatch.setattr(ops.TANH, "derivative", lambda x, o: 1.0 + o * o)     # should be 1 - o²
    result = run("check", NEURON, "--nodes", "all")
    assert result.exit_code == 1
    failed = [line.split()[0] for line in result.stdout.splitlines() if line.rstrip().endswith("FAIL")]
    assert "n" in failed and "o" not in failed
    assert result.stdout.splitlines()[-1].endswith("failed") and "0 failed" not in result.stdout


def test_check_json(run):
    result = run("check", LECTURE, *LECTURE_SET, "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and data["ok"] is True and data["passed"] == 4 and data["failed"] == 0
    assert {c["label"]: c["status"] for c in data["checks"]} == {"a": "ok", "b": "ok", "c": "ok", "f": "ok"}


def test_check_bad_options(run):
    assert run("check", "x", "--set", "x=1", "--h", "0").exit_code == 2
    assert run("check", "x", "--set", "x=1", "--method", "backward").exit_code == 2
    with pytest.raises(AutodiffError):
        checked("x", values={"x": 1}, method="sideways")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much,
                                                                 HealthCheck.too_slow])
@given(programs, values, values, values)
def test_generated_programs_pass_the_check(program, x, y, z):
    text, _ = program
    point = {n: v for n, v in zip(NAMES, (x, y, z)) if n in text}
    try:
        report = checked(text, values=point)
    except AutodiffError:
        assume(False)
    assume(report.count("kink") == 0 and report.count("unverifiable") == 0)
    assert report.ok, (text, point, [(c.label, c.analytic, c.numeric) for c in report.checks])


def test_the_lectures_own_nudge_passes_within_its_truncation_error(run):
    """f(x) = 3x² - 4x + 5 at x = 3, forward difference with h = 0.001: 14.003 against 14."""
    result = run("check", "3*x**2 - 4*x + 5", "--set", "x=3", "--method", "forward", "--h", "0.001", "--json")
    data = json.loads(result.stdout)
    (entry,) = data["checks"]
    assert result.exit_code == 0 and entry["status"] == "ok"
    assert entry["numeric"] == pytest.approx(14.003, abs=1e-9)
    assert entry["truncation"] == pytest.approx(2 * (14.006 - 14.003), rel=1e-6)     # twice D(2h) - D(h)
    table = run("check", "3*x**2 - 4*x + 5", "--set", "x=3", "--method", "forward", "--h", "0.001").stdout
    assert "1 passed within the estimated truncation error" in table


def test_a_wrong_derivative_still_fails_with_a_coarse_forward_difference(monkeypatch):
    monkeypatch.setattr(ops.TANH, "derivative", lambda x, o: 1.0 + o * o)     # should be 1 - o²
    report = checked("tanh(x)", values={"x": 0.5}, method="forward", h=0.001)
    assert not report.ok and report.checks[0].truncation is not None


def big_program(inputs):
    prog = parse(" + ".join(f"tanh(w{i}*x{i})" for i in range(inputs // 2)))
    prog.set({name: (-1) ** i * 0.3 for i, name in enumerate(prog.inputs)})
    return prog


def test_many_inputs_are_checked_one_by_one_up_to_a_limit_and_along_a_random_direction():
    report = check_gradients(big_program(300), per_input_limit=20)
    assert report.ok and len(report.checks) == 21
    direction = report.checks[-1]
    assert direction.node is None and direction.label == "random direction (all 300 inputs)"
    assert direction.numeric == pytest.approx(direction.analytic, rel=1e-6)


def test_a_wrong_gradient_is_caught_by_the_random_direction(monkeypatch):
    prog = big_program(300)
    prog.set({name: 0.3 if name not in ("w0", "x0") else 0.1 for name in prog.inputs})
    monkeypatch.setattr(ops.TANH, "derivative", lambda x, o: 1.0 - o * o + (1e-3 if x > 0.05 else 0.0))
    report = check_gradients(prog, per_input_limit=2)
    assert [c.status for c in report.checks] == ["ok", "ok", "FAIL"]


def test_named_inputs_and_progress():
    seen = []
    report = check_gradients(big_program(40), inputs=["x3", "w0"], samples=2, on_check=seen.append)
    assert [c.label for c in report.checks] == ["x3", "w0"] * 3 and seen == list(range(1, 7))
    with pytest.raises(AutodiffError, match="no input named z"):
        check_gradients(big_program(4), inputs=["z"])


def test_the_table_is_capped_and_samples_end_with_each_gradients_worst_error(run):
    result = run("check", "a*b + c", "-s", "a=1", "-s", "b=2", "-s", "c=3", "--samples", "3", "--rows", "5")
    lines = result.stdout.splitlines()
    assert result.exit_code == 0 and "… 7 rows not shown (--all shows every row" in result.stdout
    worst = [line for line in lines if "worst error" in line]
    assert [line.split(":")[0] for line in worst] == ["a", "b", "c"]
    assert all(" at sample " in line and ", where it is " in line for line in worst)
    assert lines[-1] == "12 passed, 0 failed"
    assert len(run("check", "a*b + c", "-s", "a=1", "-s", "b=2", "-s", "c=3", "--samples", "3", "--all")
               .stdout.splitlines()) > 12


@pytest.mark.slow
def test_ten_thousand_inputs_are_checked_in_seconds_not_minutes(run, tmp_path):
    """The 10,000-input, 40,000-node program that took 3 min 39 s and printed 10,002 rows."""
    path = tmp_path / "big.ad"
    path.write_text(" + ".join(f"tanh(w{i}*x{i})" for i in range(5000)))
    settings = [f"--set=w{i}=0.5" for i in range(5000)] + [f"--set=x{i}=-0.25" for i in range(5000)]
    result = run("check", "-f", path, *settings, "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and data["passed"] == 101 and data["checks"][-1]["id"] is None


def test_second_derivatives_are_checked_against_differences_of_the_gradient(run):
    result = run("check", "x**3*y + tanh(x*y)", "-s", "x=0.7", "-s", "y=1.3", "--order", "2", "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and data["passed"] == 4
    assert [c["label"] for c in data["checks"]] == ["d²out/dx dx", "d²out/dy dx", "d²out/dx dy", "d²out/dy dy"]
    assert run("check", "x*y", "-s", "x=1", "-s", "y=1", "--order", "2", "--samples", "3").exit_code == 2


def test_a_wrong_second_derivative_fails(monkeypatch):
    """tanh's rule text drives the derivative program; a wrong rule gives a wrong Hessian."""
    from autodiff_cli.checking import check_second_derivatives

    monkeypatch.setattr(ops.TANH, "rule", ("1 + o**2",))
    monkeypatch.setattr(ops.TANH, "derivative", lambda x, o: 1.0 + o * o)
    monkeypatch.setattr(ops.TANH, "rule_programs", ())
    report = check_second_derivatives(parse("x = 0.5; tanh(x)"))
    assert not report.ok


def test_the_table_shows_every_digit_and_a_sweep_checks_points(run):
    table = run("check", "x*x/3", "--set", "x=0.1").stdout
    assert "0.06666666666666667" in table.replace("0.0666666666666", "0.0666666666666")    # as Python prints it
    swept = run("check", "x*y", "--over", "x=0:1:250", "--set", "y=2").stdout
    assert swept.splitlines()[0].startswith("point") and len(swept.splitlines()) > 250      # piped: every point
