"""Vectors, matrices, user functions and `where`: sugar that expands to scalar nodes.  Checked
against closed forms (NumPy), the lecture's numbers, the same program unrolled by hand, and across
every surface (a sweep row, diff's program run by eval, the Python export, the page's JavaScript)
on programs generated from the op registry."""
import json
import math
import os
import random
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from autodiff_cli.parsing import parse
from conftest import edge_values, vector_program, vector_programs
from surfaces import (agree_on_every_surface, by_derivative_program, by_eval, page_disagreements, reason_of, same,
                      well_conditioned)


def cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    """The real command, in a process of its own."""
    return subprocess.run([sys.executable, "-m", "autodiff_cli", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


def evaluated(*args):
    done = cli("eval", *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_softmax_cross_entropy_has_the_closed_form_gradients():
    report = evaluated("z = [2.0, 1.0, 0.1]; t = [1, 0, 0]; loss = -sum(t*log(softmax(z)))")
    z, t = np.array([2.0, 1.0, 0.1]), np.array([1.0, 0.0, 0.0])
    softmax = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    assert report["value"] == pytest.approx(-np.log(softmax[0]), rel=1e-15)
    assert report["grad"]["z"] == pytest.approx(softmax - t, rel=1e-14, abs=1e-16)
    assert report["grad"]["t"] == pytest.approx(-np.log(softmax), rel=1e-14)
    assert [node["label"] for node in report["nodes"][:3]] == ["z[0]", "z[1]", "z[2]"]


def test_the_neuron_as_a_user_function_gives_the_lecture_numbers():
    program = """neuron(x, w, b) = tanh(dot(x, w) + b)
x = [2.0, 0.0]; w = [-3.0, 1.0]; b = 6.8813735870195432
o = neuron(x, w, b)"""
    report = evaluated(program)
    assert round(report["value"], 4) == 0.7071
    assert [round(g, 4) for g in report["grad"]["x"]] == [-1.5, 0.5]
    assert [round(g, 4) for g in report["grad"]["w"]] == [1.0, 0.0]
    assert round(report["grad"]["b"], 4) == 0.5


def test_the_hessian_of_softmax_cross_entropy_is_diag_p_minus_p_p_transposed(tmp_path):
    """diff --order 2 --to python, run: d²L/dz_i dz_j = p_i δ_ij - p_i p_j for a one-hot target."""
    exported = cli("diff", "--order", "2", "--to", "python", "z = [2.0, 1.0, 0.1]; t = [1, 0, 0]\n"
                   "loss = -sum(t*log(softmax(z)))")
    assert exported.returncode == 0, exported.stderr
    namespace = {}
    exec(exported.stdout, namespace)                # the export is ours, not user text
    _, _, hessian = namespace["value_and_grad"]()
    z = np.array([2.0, 1.0, 0.1])
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    got = np.array([[hessian[f"z[{i}]"][f"z[{j}]"] for j in range(3)] for i in range(3)])
    assert got == pytest.approx(np.diag(p) - np.outer(p, p), abs=1e-15)


def test_a_layer_gradient_is_the_outer_product():
    W = [[0.5, -1, 0.25], [1.5, 0.5, -0.75]]
    x, b = [1.0, 2.0, -0.5], [0.1, -0.2]
    report = evaluated(f"W = {W}; x = {x}; b = {b}\nh = tanh(W @ x + b); out = sum(h*h)")
    h = np.tanh(np.array(W) @ np.array(x) + np.array(b))
    assert np.array(report["grad"]["W"]) == pytest.approx(np.outer(2 * h * (1 - h**2), x), rel=1e-13)
    assert np.array(report["grad"]["b"]) == pytest.approx(2 * h * (1 - h**2), rel=1e-13)


@pytest.mark.parametrize("x, value, grad", [(-1.0, 0.0, 0.0), (0.0, 0.0, 0.0), (2.0, math.log(2.0), 0.5)])
def test_where_takes_the_chosen_branch_and_its_domain_only(x, value, grad):
    report = evaluated("where(x > 0, log(x), 0)", "--set", f"x={x}")
    assert (report["value"], report["grad"]["x"]) == (value, grad)


def test_a_program_that_is_one_definition_computes_it_at_its_parameters():
    report = evaluated("f(x) = x**2", "--set", "x=3")
    assert (report["output"], report["value"], report["grad"]) == ("f", 9.0, {"x": 6.0})


def test_named_vectors_in_a_literal_are_values_not_new_inputs():
    report = evaluated("u = [1, 2]; v = [3, 4]; w = [u, v]; sum(w[1]) * u[0]")
    assert report["grad"] == {"u": [7.0, 0.0], "v": [1.0, 1.0]}
    assert [node["label"] for node in report["nodes"] if node["op"] == "input"] == ["u[0]", "u[1]", "v[0]", "v[1]"]


def test_a_piecewise_formula():
    assert evaluated("where(x > 0, x**2, -x)", "-s", "x=-3")["grad"] == {"x": -1.0}
    assert evaluated("where(x > 0, x**2, -x)", "-s", "x=3")["grad"] == {"x": 6.0}


@pytest.mark.parametrize("vector, unrolled", [
    ("u = [0.5, -1, 2]; v = [1.5, 2, -0.25]; sum(u*v)", "u0 = 0.5; u1 = -1; u2 = 2; v0 = 1.5; v1 = 2; v2 = -0.25\n"
                                                         "u0*v0 + u1*v1 + u2*v2"),
    ("u = [0.5, -1, 2]; mean(tanh(u)**2)", "u0 = 0.5; u1 = -1; u2 = 2\n(tanh(u0)**2 + tanh(u1)**2 + tanh(u2)**2)/3"),
    ("u = [0.5, -1, 2]; v = [1.5, 2, -0.25]; dot(u, v) + max(u)",
     "u0 = 0.5; u1 = -1; u2 = 2; v0 = 1.5; v1 = 2; v2 = -0.25\nu0*v0 + u1*v1 + u2*v2 + max(max(u0, u1), u2)"),
    ("W = [[1, 2], [3, 4]]; x = [0.5, -1]; (W @ x)[1]", "W0 = 1; W1 = 2; W2 = 3; W3 = 4; x0 = 0.5; x1 = -1\n"
                                                       "W2*x0 + W3*x1"),
    ("f(a, b) = a*b + 1; u = [0.5, -1]; f(u[0], u[1]) * f(u[1], 2)", "u0 = 0.5; u1 = -1\n(u0*u1 + 1) * (u1*2 + 1)"),
])
def test_a_vector_program_computes_what_it_unrolls_to_by_hand(vector, unrolled):
    ours, by_hand = parse(vector), parse(unrolled)
    ours.run()
    by_hand.run()
    assert ours.value == by_hand.value
    assert list(ours.grad.values()) == list(by_hand.grad.values())


@pytest.mark.parametrize("program, message", [
    ("u = [1, 2]; v = [1, 2, 3]; sum(u*v)", "line 1, column 32: * needs operands of the same shape, not a vector of 2 and a vector of 3"),
    ("u = [1, 2]; u[2]", "line 1, column 15: index 2 is out of range"),
    ("u = [1, 2]; exp(u)", "a vector"),
    ("f(x) = x + 1\nf(1, 2)", "line 2, column 1: f takes 1 argument (x), not 2"),
    ("y = g(2)\ng(x) = x", "used before its definition"),
    ("W = [[1, 2], [3]]; sum(W[0])", "line 1"),
    ("u = [1, 2]; sum(u) + dot(u, [1, 2, 3])", "dot needs vectors of one length"),
])
def test_bad_vector_programs_are_one_message_with_a_place(program, message):
    done = cli("eval", program)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr
    assert message in done.stderr


@pytest.mark.parametrize("value, message", [
    ("[1, 2]", "z is a vector of 3: it takes 3 values, not 2 values"),
    ("[[1, 2, 3]]", "not 1 row of 3"),
    ("[1, 2", "a [ is not closed"),
    ("[1,,2]", "a missing value"),
    ("[]", "an empty list"),
])
def test_a_vector_set_of_the_wrong_shape_is_refused(value, message):
    done = cli("eval", "z = [1, 2, 3]; sum(z)", "--set", f"z={value}")
    assert done.returncode == 2 and done.stdout == "" and message in done.stderr


def test_set_a_vector_and_a_matrix_and_sweep_an_element():
    program = "W = [[1, 0], [0, 1]]; x = [1, 2]; sum(W @ x)"
    report = evaluated(program, "--set", "W=[[1,2],[3,4]]", "--set", "x=[-1,0.5]")
    assert report["value"] == (1 * -1 + 2 * 0.5) + (3 * -1 + 4 * 0.5)
    assert report["grad"]["x"] == [4.0, 6.0] and report["grad"]["W"] == [[-1.0, 0.5], [-1.0, 0.5]]
    done = cli("eval", program, "--over", "x[1]=0:1:3")
    assert done.returncode == 0, done.stderr
    rows = [line.split(",") for line in done.stdout.splitlines()]
    header = rows[0]
    assert [float(row[header.index("x[1]")]) for row in rows[1:]] == [0.0, 0.5, 1.0]
    assert [float(row[header.index("value")]) for row in rows[1:]] == [1.0, 1.5, 2.0]


def test_fit_trains_a_vector_parameter_on_columns_that_name_elements(tmp_path):
    rng = np.random.default_rng(7)
    xs = rng.uniform(-1, 1, size=(30, 2))
    ys = xs @ np.array([1.5, -0.5]) + 0.25 + rng.normal(0, 0.01, size=30)
    rows = tmp_path / "rows.csv"
    rows.write_text("x[0],x[1],y\n" + "".join(f"{a!r},{b!r},{y!r}\n" for (a, b), y in zip(xs.tolist(), ys.tolist())))
    done = cli("fit", "w = [0, 0]; c = 0; x = [0, 0]\ndot(w, x) + c - y", "--data", str(rows), "--residual", "--json")
    assert done.returncode == 0, done.stderr
    fitted = json.loads(done.stdout)["parameters"]
    solution, *_ = np.linalg.lstsq(np.column_stack([xs, np.ones(30)]), ys, rcond=None)
    got = [fitted[name]["value"] for name in ("w[0]", "w[1]", "c")]
    assert got == pytest.approx(solution, rel=1e-9)


def test_a_vector_output_is_refused_with_a_hint():
    done = cli("eval", "u = [1, 2]; u*2")
    assert done.returncode == 2 and "sum(" in done.stderr


def test_the_node_ceiling_refuses_a_large_product_early():
    rows = ", ".join("[" + ", ".join(["1"] * 40) + "]" for _ in range(40))
    done = cli("eval", f"W = [{rows}]; x = [{', '.join(['1'] * 40)}]; sum(W @ x)", AUTODIFF_MAX_NODES="1000")
    assert done.returncode == 2 and "AUTODIFF_MAX_NODES" in done.stderr and "1,000" in done.stderr


# Every surface, on programs generated from the op registry

def grouped_python(text, point):
    """The Python export called as a user calls it: vectors as sequences, gradients as lists."""
    from autodiff_cli.exporting import python_function

    program = parse(text)
    namespace = {}
    exec(python_function(program), namespace)                   # the export is ours, not user text
    try:
        value, grads = namespace["value_and_grad"](**program.grouped(point))
    except (ValueError, OverflowError) as exc:
        return ("error", reason_of(str(exc)))
    flat = {}
    for name, gradient in grads.items():
        items = gradient if isinstance(gradient, list) else [gradient]
        items = [g for row in items for g in (row if isinstance(row, list) else [row])]
        elements = [n for n in program.inputs if n == name or n.startswith(name + "[")]
        flat.update(zip(elements, items))
    return ("ok", value, flat)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow,
                                                                HealthCheck.large_base_example])
@given(vector_programs, st.lists(edge_values, min_size=14, max_size=14))
def test_every_surface_agrees_with_eval_on_vector_programs(text, values):
    program = parse(text)
    point = dict(zip(program.inputs, values))
    expected = by_eval(text, point)
    assume(expected[0] == "ok" or expected[1] != "the gradient is too large for a float")
    agree_on_every_surface(text, point, expected, [by_derivative_program, grouped_python])


def test_the_page_javascript_agrees_with_eval_on_vector_programs(js_engine):
    rng = random.Random(20261203)
    cases = []
    for _ in range(150):
        text = vector_program(rng)
        cases.append((text, [{n: rng.choice([0.0, 1.0, -1.0, 0.5, 2.0, -3.0]) if rng.random() < 0.5 else
                              rng.uniform(-3, 3) for n in parse(text).inputs} for _ in range(3)]))
    differing, mismatches = page_disagreements(js_engine, cases)
    assert mismatches == [] and len(differing) <= 5, differing


def hessian_by_diff(text, point):
    """diff --order 2's program, run by eval: every second derivative's statement."""
    from autodiff_cli.deriving import hessian_program
    from autodiff_cli.errors import DomainError

    hessian = hessian_program(parse(text))
    program = parse(hessian.text(), keep_unused=True)
    try:
        program.set(point)
        program.forward()
    except DomainError as exc:
        return ("error", reason_of(exc.message))
    return ("ok", program.names[hessian.output].data,
            {f"{a} {b}": program.names[name].data for a, row in hessian.names.items() for b, name in row.items()})


def hessian_by_python(text, point):
    from autodiff_cli.exporting import python_function

    program = parse(text)
    namespace = {}
    exec(python_function(program, order=2), namespace)              # the export is ours, not user text
    try:
        value, _, hessian = namespace["value_and_grad"](**program.grouped(point))
    except (ValueError, OverflowError) as exc:
        return ("error", reason_of(str(exc)))
    return ("ok", value, {f"{a} {b}": h for a, row in hessian.items() for b, h in row.items()})


def test_second_derivatives_agree_between_diff_and_the_python_export_on_vector_programs():
    rng = random.Random(20261204)
    checked = 0
    for _ in range(25):
        text = vector_program(rng, leaves=3)
        program = parse(text)
        point = {n: rng.choice([0.0, 1.0, -1.0, 0.5, 2.0]) if rng.random() < 0.5 else rng.uniform(-2, 2)
                 for n in program.inputs}
        expected, got = hessian_by_diff(text, point), hessian_by_python(text, point)
        assert same(expected, got) or not well_conditioned(text, point), (text, point, expected, got)
        checked += expected[0] == "ok"
    assert checked >= 10
