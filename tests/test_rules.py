"""Each op's derivative rule text, parsed once, with a node's operands written in."""
import numpy as np
import pytest

from autodiff_cli import ops
from autodiff_cli.expressions import Target, render
from autodiff_cli.naming import symbols
from autodiff_cli.parsing import parse
from autodiff_cli.rules import evaluate_array, local_derivative, node_refs, rule_program


def test_a_rule_is_parsed_once_over_x_y_and_o():
    rule = rule_program(ops.POW, 0)
    assert rule is rule_program(ops.POW, 0) and set(rule.inputs) <= {"x", "y", "o"}


@pytest.mark.parametrize("text, derivatives", [
    ("x**2", ["2*x", "xlogy(out, x)"]), ("tanh(x)", ["1 - out**2"]), ("x*3", ["3", "x"]), ("x/y", ["1/y", "-(out/y)"]),
])
def test_a_nodes_rule_has_its_operands_in_and_constants_simplified(text, derivatives):
    program = parse(text)
    names = symbols(program)
    by_name = Target("template", names=lambda ref: names[int(ref[1:])])
    refs = node_refs(program)
    assert [render(local_derivative(program.output, k, refs), by_name)
            for k in range(len(program.output.inputs))] == derivatives


def test_the_array_form_of_a_rule_is_the_scalar_one_elementwise():
    program = parse("sigmoid(x)")
    x = np.array([-2.0, 0.0, 3.0])
    data = [x, 1 / (1 + np.exp(-x))]
    local = evaluate_array(local_derivative(program.output, 0, node_refs(program)), data, np)
    assert np.allclose(local, data[1] * (1 - data[1]), rtol=1e-15)
