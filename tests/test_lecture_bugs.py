"""The lecture's two famous bugs, reproduced on request with the lecture's own numbers: checked
against the lecture's Value class with the same mistakes, written here as the lecture writes it."""
import json
import math

import pytest

from autodiff_cli.lecture_bugs import backward_with_bug
from autodiff_cli.parsing import evaluate
from conftest import LECTURE, LECTURE_SET


class LectureValue:
    """The lecture's Value (add, mul, tanh), with its grads assigned (`overwrite`) or accumulated."""

    def __init__(self, data, children=(), overwrite=False):
        self.data, self.grad, self._prev, self._backward, self.overwrite = data, 0.0, children, lambda: None, overwrite

    def _give(self, node, amount):
        node.grad = amount if self.overwrite else node.grad + amount

    def __add__(self, other):
        out = LectureValue(self.data + other.data, (self, other), self.overwrite)
        out._backward = lambda: (out._give(self, out.grad), out._give(other, out.grad))
        return out

    def __mul__(self, other):
        out = LectureValue(self.data * other.data, (self, other), self.overwrite)
        out._backward = lambda: (out._give(self, other.data * out.grad), out._give(other, self.data * out.grad))
        return out

    def tanh(self):
        t = (math.exp(2 * self.data) - 1) / (math.exp(2 * self.data) + 1)
        out = LectureValue(t, (self,), self.overwrite)
        out._backward = lambda: out._give(self, (1 - t ** 2) * out.grad)
        return out

    def backward(self):
        topo, visited = [], set()

        def build(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build(child)
                topo.append(v)
        build(self)
        self.grad = 1.0
        for node in reversed(topo):
            node._backward()


def lecture_graphs(overwrite):
    a, b, c, f = (LectureValue(v, overwrite=overwrite) for v in (2.0, -3.0, 10.0, -2.0))
    yield "a = 3; b = a + a", [LectureValue(3.0, overwrite=overwrite)], lambda v: v[0] + v[0]
    yield "a = 2; b = -3; c = 10; f = -2; L = (a*b + c)*f", [a, b, c, f], lambda v: (v[0] * v[1] + v[2]) * v[3]
    yield "a = -2; b = 3; L = (a*b)*(a + b)", [LectureValue(-2.0, overwrite=overwrite),
                                              LectureValue(3.0, overwrite=overwrite)], \
        lambda v: (v[0] * v[1]) * (v[0] + v[1])
    yield "x = 0.5; w = -1.5; o = tanh(x*w + x)", [LectureValue(0.5, overwrite=overwrite),
                                                  LectureValue(-1.5, overwrite=overwrite)], \
        lambda v: (v[0] * v[1] + v[0]).tanh()


@pytest.mark.parametrize("bug", ["overwrite", "no-zero"])
def test_the_bugs_give_the_lectures_numbers(bug):
    for text, leaves, build in lecture_graphs(bug == "overwrite"):
        out = build(leaves)
        out.backward()
        if bug == "no-zero":
            out.backward()                      # twice, never zeroed
        program = evaluate(text)
        backward_with_bug(program, bug)
        assert [program.inputs[name].grad for name in program.inputs] == pytest.approx(
            [leaf.grad for leaf in leaves], rel=1e-12), text


def test_a_plus_a_gives_one_instead_of_two(run):
    result = run("eval", "a = 3; b = a + a", "--lecture-bug", "overwrite", "--json")
    document = json.loads(result.stdout)
    assert document["grad"] == {"a": 1.0} and document["warning"].startswith("WRONG on purpose")
    assert run("eval", "a = 3; b = a + a", "--json").stdout.count('"a": 2.0') == 1


def test_every_report_says_it_is_wrong(run):
    table = run("eval", LECTURE, *LECTURE_SET, "--lecture-bug", "no-zero").stdout
    assert table.startswith("# WRONG on purpose: the lecture's bug, backward run a second time") and "24.0000" in table
    lines = run("explain", LECTURE, *LECTURE_SET, "--lecture-bug", "no-zero").stdout.splitlines()
    assert lines[0].startswith("# WRONG on purpose") and "# then backward again, the gradients not zeroed:" in lines
    assert lines[-2:] == ["15 lines; the inputs' gradients: a = 24, b = -16, c = -6, f = 8",
                          "the right gradients, without the bug: a = 6, b = -4, c = -2, f = 4"]
    dot = run("graph", "a = 3; b = a + a", "--lecture-bug", "overwrite").stdout
    assert "label=\"WRONG on purpose" in dot and "grad 1.0000" in dot


@pytest.mark.parametrize("args", [["--hessian"], ["--over", "a=0:1:3"]])
def test_the_bugs_are_for_one_point_and_first_derivatives(run, args):
    result = run("eval", "a = 3; b = a + a", "--lecture-bug", "overwrite", *args)
    assert result.exit_code == 2 and "--lecture-bug" in result.stderr
