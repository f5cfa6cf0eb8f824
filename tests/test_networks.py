"""`autodiff net`: micrograd's MLP as a program, its parameters drawn as the lecture draws them."""
import json

import pytest

from autodiff_cli.errors import AutodiffError
from autodiff_cli.networks import MAX_PARAMETERS, mlp_program, parameter_count
from autodiff_cli.parsing import parse
from micrograd import XS, YS, lecture_mlp, parameter_names


def test_net_parses_with_41_parameters_drawn_as_the_lecture_draws_them(run):
    text = run("net", 3, 4, 4, 1, "--seed", 1).stdout
    program = parse(text)
    parameters = {name: node.data for name, node in program.inputs.items() if name not in ("x0", "x1", "x2", "y")}
    assert len(parameters) == 41 == parameter_count([3, 4, 4, 1])
    assert [program.inputs[name].data for name in ("x0", "x1", "x2", "y")] == [None] * 4
    drawn = [p.data for p in lecture_mlp(1).parameters()]
    assert [parameters[name] for name in parameter_names([3, 4, 4, 1])] == drawn
    for value in parameters.values():
        assert repr(value) in text                      # the shortest text that reads back to the same float
    assert program.output_name == "loss"
    assert [line for line in text.splitlines() if line.startswith("# layer")] == [
        "# layer 0: 4 tanh neurons of x", "# layer 1: 4 tanh neurons of h0", "# layer 2: 1 tanh neuron of h1 (the output)"]
    assert [line for line in text.splitlines() if "=" in line and "[" not in line.split("=")[0] and not
            line.startswith(("#", "W", "b", " "))] == [                  # one line per layer
        "x = [x0, x1, x2]", "h0 = tanh(W0 @ x + b0)", "h1 = tanh(W1 @ h0 + b1)", "out = tanh(W2 @ h1 + b2)[0]",
        "loss = (out - y)**2"]


def test_another_seed_draws_other_parameters(run):
    one, two = (parse(run("net", 2, 3, 1, "--seed", seed).stdout) for seed in (1, 2))
    assert one.inputs["W0[0][0]"].data != two.inputs["W0[0][0]"].data
    assert parse(run("net", 2, 3, 1).stdout).inputs["W0[0][0]"].data == lecture_mlp(1337, (2, 3, 1)).parameters()[0].data


@pytest.mark.parametrize("linear_out", [False, True])
def test_eval_of_one_row_is_the_lecture_mlps_output(run, linear_out):
    flags = ["--loss", "none"] + (["--linear-out"] if linear_out else [])
    text = run("net", 3, 4, 4, 1, "--seed", 1, *flags).stdout
    assert "y" not in parse(text).inputs
    assert text.rstrip().splitlines()[-1] == "out = " + ("(W2 @ h1 + b2)[0]" if linear_out else "tanh(W2 @ h1 + b2)[0]")
    mlp = lecture_mlp(1, linear_out=linear_out)
    for x in XS:
        done = run("eval", text, *[f"--set=x{i}={v}" for i, v in enumerate(x)], "--json")
        assert json.loads(done.stdout)["value"] == pytest.approx(mlp(x).data, rel=1e-12)


def test_the_losses_of_one_row(run):
    mlp = lecture_mlp(1)
    x, y = XS[1], YS[1]
    row = [f"--set=x{i}={v}" for i, v in enumerate(x)] + [f"--set=y={y}"]
    squared = run("net", 3, 4, 4, 1, "--seed", 1).stdout
    hinge = run("net", 3, 4, 4, 1, "--seed", 1, "--loss", "hinge").stdout
    assert squared.rstrip().endswith("loss = (out - y)**2") and hinge.rstrip().endswith("loss = relu(1 - y*out)")
    out = mlp(x).data
    assert json.loads(run("eval", squared, *row, "--json").stdout)["value"] == pytest.approx((out - y) ** 2, rel=1e-12)
    assert json.loads(run("eval", hinge, *row, "--json").stdout)["value"] == pytest.approx(max(0.0, 1 - y * out),
                                                                                           rel=1e-12)


def test_several_outputs_have_a_target_each():
    text = mlp_program([2, 3, 2], seed=5)
    program = parse(text)
    assert {"y0", "y1"} <= set(program.inputs) and "y" not in program.inputs and program.shapes["out"] == (2,)
    assert text.rstrip().endswith("loss = sum((out - [y0, y1])**2)")
    with pytest.raises(AutodiffError, match="a program has one output"):
        mlp_program([2, 3, 2], loss="none")


@pytest.mark.parametrize("args, says", [
    ([1000, 1000, 1000], "has 2,002,000 parameters, more than the ceiling of 100,000"),
    ([3], "the size of each layer"),
    ([3, 0], "0 is not in the range x>=1"),
    ([3, 4, "--loss", "cross"], "'cross' is not one of"),
])
def test_net_refuses_absurd_sizes(run, args, says):
    result = run("net", *args)
    assert result.exit_code == 2 and says in result.stderr and result.stdout == ""


def test_the_ceiling_counts_weights_and_biases():
    assert parameter_count([99_999, 1]) == MAX_PARAMETERS
    assert mlp_program([99_999, 1]).count("\n") == 11            # one line per layer, its W, its b
    with pytest.raises(AutodiffError, match="a 100000-1 net has 100,001 parameters"):
        mlp_program([100_000, 1])


@pytest.mark.slow
def test_a_net_at_the_ceiling_parses():
    assert len(parse(mlp_program([300, 300, 32, 1])).inputs) == parameter_count([300, 300, 32, 1]) + 300 + 1
