"""Depth and width: nothing recurses, so deep and wide programs just work.

The README's limits list the full sizes tried by hand (100,000 deep, 10^6 terms);
these use sizes that run in a few seconds.
"""
import io
import json

import pytest

from autodiff_cli import tables
from autodiff_cli.parsing import evaluate

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("wrap", ["({})", "tanh({})", "-{}", "{}**1"])
def test_100000_deep_nesting(wrap):
    depth = 100_000
    opening, closing = wrap.split("{}")
    prog = evaluate("x = 0.5\n" + opening * depth + "x" + closing * depth)
    assert prog.nodes[0].label == "x"
    out = io.StringIO()
    tables.write_json(prog, out)
    assert json.loads(out.getvalue())["output"]


def test_deep_chain_gradient_is_exact():
    prog = evaluate("x = 2\n" + "-" * 100_001 + "x")
    assert prog.value == -2.0 and prog.grad == {"x": -1.0}
    assert len(prog.nodes) == 100_002


def test_wide_sum_of_products():
    terms = 100_000
    prog = evaluate("x = 1.5\n" + " + ".join(f"x*{i % 7}" for i in range(terms)))
    assert prog.grad["x"] == float(sum(i % 7 for i in range(terms)))
    assert len(prog.nodes) == 1 + 3 * terms - 1
