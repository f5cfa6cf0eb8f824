"""Every surface a program runs through, each giving ("ok", value, {input: gradient}) or
("error", reason) at a point: eval, a sweep row, diff's program run by eval, the Python export
and (in a batch, through the `js_engine` fixture) the live page's JavaScript.  A reason is the op
table's message (or the overflow messages), which every surface must give alike."""
import math

import numpy as np

from autodiff_cli import ops
from autodiff_cli.deriving import derivative_program
from autodiff_cli.errors import DomainError
from autodiff_cli.exporting import python_function
from autodiff_cli.parsing import parse
from autodiff_cli.sweeping import run_chunk


def reasons():
    return sorted({m for op in ops.all_ops() for m in op.refuse} | undefined_reasons()
                  | {ops.TOO_LARGE, ops.GRADIENT_TOO_LARGE, ops.NO_DERIVATIVE}, key=len, reverse=True)


def reason_of(message):
    """The reason a message ends with (the part every surface words alike)."""
    return next((r for r in reasons() if message.endswith(r)), message)


def by_eval(text, point, grammar=None):
    program = parse(text, grammar=grammar)
    try:
        program.set(point)
        program.run()
    except DomainError as exc:
        return ("error", reason_of(exc.message))
    return ("ok", program.value, program.grad)


def by_sweep(text, point, grammar=None):
    program = parse(text, grammar=grammar)
    chunk = run_chunk(program, {name: np.array([value]) for name, value in point.items()})
    if chunk.errors:
        return ("error", reason_of(chunk.errors[0]))
    grads = {n: None if math.isnan(g[0]) else float(g[0]) for n, g in chunk.grad.items()}
    return ("ok", float(chunk.value[0]), grads)


def by_derivative_program(text, point, grammar=None):
    """diff's program, parsed and run by eval: the output's value and every gradient statement's.
    A value too large in the derivative's statements is a gradient too large."""
    derivative = derivative_program(parse(text, grammar=grammar))
    program = parse(derivative.text(), grammar=grammar, keep_unused=True)
    try:
        program.set(point)
        program.forward()
    except DomainError as exc:
        reason = reason_of(exc.message)
        line = derivative.text().count("\n", 0, exc.start) + 1
        statement = derivative.lines()[line - 1]
        if reason == ops.TOO_LARGE and statement is not None and statement.kind in ("adjoint", "gradient"):
            reason = ops.GRADIENT_TOO_LARGE
        return ("error", reason)
    value = program.names[derivative.output].data
    return ("ok", value, {n: program.names[g].data for n, g in derivative.gradients.items()})


def by_python(text, point, grammar=None):
    namespace = {}
    exec(python_function(parse(text, grammar=grammar)), namespace)        # the export is ours, not user text
    try:
        value, grads = namespace["value_and_grad"](**point)
    except (ValueError, OverflowError) as exc:
        return ("error", reason_of(str(exc)))
    return ("ok", value, grads)


def from_js(result):
    if "error" in result:
        return ("error", reason_of(result["error"]))
    return ("ok", result["value"], result["grad"])


def undefined_reasons():
    return {m for op in ops.all_ops() for conditions in op.undefined for m in conditions}


def same(expected, got, tolerance=1e-9, another_program=False):
    """The same outcome: both fail with the same reason, or the same value and gradients.

    `another_program`: `got` comes from the derivative program (diff, the Python export), a
    program of its own.  Where eval refuses because an input's gradient does not exist, that
    program refuses too, but where its own expression of the derivative first fails (x**y at
    0, 0 fails in y*x**(y - 1) as well as in the exponent's derivative)."""
    if expected[0] != got[0]:
        return False
    if expected[0] == "error":
        return expected[1] == got[1] or (another_program and expected[1] in undefined_reasons())
    close = lambda a, b: (a is None and b is None) or (                            # noqa: E731
        a is not None and b is not None and math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance))
    return close(expected[1], got[1]) and all(close(g, got[2].get(n)) for n, g in expected[2].items())


def input_gradients_outcome(text, point, grammar=None):
    """eval's outcome where it reports only what diff and the export compute (the inputs'
    gradients): None when eval refuses for a number only its table shows (a constant's gradient
    too large), where those surfaces rightly succeed."""
    from autodiff_cli.engine import NumericError, backward, forward

    outcome = by_eval(text, point, grammar)
    if outcome[0] == "error" and outcome[1] == ops.GRADIENT_TOO_LARGE:
        program = parse(text, grammar=grammar)
        program.set(point)
        forward(program.nodes)
        varying = set()
        for node in program.nodes:
            if node.op is ops.INPUT or any(id(x) in varying for x in node.inputs):
                varying.add(id(node))
        try:
            backward(program.nodes)
        except NumericError as exc:
            if id(exc.node) not in varying:
                return None
    return outcome


def well_conditioned(text, point, grammar=None, tolerance=1e-9):
    """Whether eval's outcome at the point survives nudging every input by a few units in the last
    place: where it does not (cos of a number near 10^18, an exp of an exp), surfaces whose
    functions differ by an ulp (NumPy's, JavaScript's) rightly give other numbers."""
    expected = by_eval(text, point, grammar)
    for direction in (1.0, -1.0):
        nudged = {n: v + direction * 4 * math.ulp(v) for n, v in point.items()}
        if not same(expected, by_eval(text, nudged, grammar), tolerance):
            return False
    return True


def page_disagreements(js_engine, cases):
    """(text, points) cases run by the page's JavaScript in one batch: the points where it does
    not give eval's outcome, and those of them that are well conditioned (which must be none)."""
    batch = [(parse(text), points) for text, points in cases]
    expected = [[by_eval(text, point) for point in points] for text, points in cases]
    differing = [(program.text, point, want, from_js(got))
                 for (program, points), wants, gots in zip(batch, expected, js_engine(batch))
                 for point, want, got in zip(points, wants, gots) if not same(want, from_js(got))]
    return differing, [case for case in differing if well_conditioned(case[0], case[1])]


def agree_on_every_surface(text, point, expected, others, expected_by_others=None):
    """A sweep row gives eval's outcome `expected` (or the point is ill conditioned: Hypothesis
    is told to look elsewhere), and each surface of `others`, a program of its own (diff's, the
    Python export's), gives `expected_by_others` (default: `expected`)."""
    from hypothesis import assume

    sweep = by_sweep(text, point)
    if not same(expected, sweep):
        assume(well_conditioned(text, point))
        raise AssertionError((text, point, expected, sweep))
    for surface in others:
        got = surface(text, point)
        want = expected if expected_by_others is None else expected_by_others
        assert same(want, got, another_program=True), (surface.__name__, text, point, want, got)
