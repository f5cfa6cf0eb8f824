"""Differential tests: the same generated programs (over every op of the registry) and points
(including every op's domain edges) through every surface: eval, a sweep row, diff's program run
by eval, the Python export, and the live page's JavaScript in Chromium.  Same value and gradients
(to a few ulps: NumPy's and JavaScript's functions are not always Python's, bit for bit), or the
same refusal with the same reason."""
import random

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from autodiff_cli.errors import AutodiffError
from autodiff_cli.parsing import parse
from conftest import NAMES, edge_values, program_texts, random_program, EDGES
from surfaces import (agree_on_every_surface, by_derivative_program, by_eval, by_python, input_gradients_outcome,
                      page_disagreements)


def used_point(text, point):
    try:
        inputs = parse(text).inputs
    except AutodiffError:
        return None
    return {n: v for n, v in point.items() if n in inputs}


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.filter_too_much,
                                                                  HealthCheck.too_slow])
@given(program_texts, st.fixed_dictionaries({n: edge_values for n in NAMES}))
def test_eval_a_sweep_row_the_derivative_program_and_the_python_export_agree(text, point):
    point = used_point(text, point)
    assume(point is not None)
    expected, inputs_only = by_eval(text, point), input_gradients_outcome(text, point)
    others = [by_derivative_program, by_python] if inputs_only is not None else []   # else: only the sweep
    agree_on_every_surface(text, point, expected, others, inputs_only)


def test_the_page_javascript_agrees_with_eval_at_every_point(js_engine):
    rng = random.Random(20261129)
    cases = []
    for _ in range(300):
        text = random_program(rng)
        cases.append((text, [{n: rng.choice(EDGES) if rng.random() < 0.6 else rng.uniform(-3, 3)
                              for n in parse(text).inputs} for _ in range(4)]))
    differing, mismatches = page_disagreements(js_engine, cases)
    assert mismatches == [] and len(differing) <= 12, differing        # ill-conditioned points: at most 1 in 100
