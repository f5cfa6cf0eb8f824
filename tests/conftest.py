import math
import os
import random
import re
import shutil

import pytest
import sympy
from click.testing import CliRunner
from hypothesis import settings
from hypothesis import strategies as st

from autodiff_cli import ops
from autodiff_cli.cli import cli

# A known environment for every test and every process a test starts: the suite passes whatever
# the developer's terminal, locale and Python settings are.  Output is buffered, as in a user's
# shell (the contract tests must hold without PYTHONUNBUFFERED); colour and width are fixed.
KNOWN_ENVIRONMENT = {"TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40", "LANG": "C.UTF-8",
                     "LC_ALL": "C.UTF-8"}
UNSET = ("NO_COLOR", "FORCE_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "PYTHONUNBUFFERED", "PYTHONIOENCODING",
         "PYTHONWARNINGS", "DASK_SCHEDULER_ADDRESS")
for _name in UNSET:
    os.environ.pop(_name, None)
os.environ.update(KNOWN_ENVIRONMENT)

# Hypothesis: derandomized by default (CI, and the README's test command), so a run is repeatable;
# `python -m pytest --hypothesis-profile random` draws new examples every run, for developers.
settings.register_profile("derandomized", derandomize=True, print_blob=True)
settings.register_profile("random", derandomize=False, print_blob=True)
settings.load_profile("derandomized")

LECTURE = "(a*b+c)*f"
LECTURE_SET = ["--set", "a=2", "--set", "b=-3", "--set", "c=10", "--set", "f=-2"]
NEURON = "x1 = 2; x2 = 0; w1 = -3; w2 = 1; b = 6.8813735870195432\nn = x1*w1 + x2*w2 + b\no = tanh(n)"


@pytest.fixture
def run():
    """Invoke the CLI in-process; returns click's Result (exit_code, stdout, stderr)."""
    def invoke(*args, input=None):
        return CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)
    return invoke


@pytest.fixture
def registry():
    """`register` (rules.register, the documented way in) and the op table, put back as it was after
    the test (ops registered in it are taken out, with their Value methods)."""
    from types import SimpleNamespace

    from autodiff_cli import rules

    saved = ops.snapshot()
    yield SimpleNamespace(register=rules.register, FUNCTIONS=ops.FUNCTIONS, OPERATORS=ops.OPERATORS,
                          snapshot=ops.snapshot, restore=ops.restore)
    ops.restore(saved)


def require_in_ci(available: bool, what: str) -> None:
    """Skip a test whose tool is missing locally, but fail it in CI, where everything is installed."""
    if not available:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{what} is missing in CI")
        pytest.skip(f"{what} is not installed")


def have_dot() -> bool:
    return shutil.which("dot") is not None


def chromium_path():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


# Generated programs over the whole op registry, with SymPy's reading of each as the reference.

NAMES = ("x", "y", "z")
SYMBOLS = {name: sympy.Symbol(name, real=True) for name in NAMES}
LITERALS = ["0.5", "2", "3", "1.5", "0"]
WRITTEN_OPS = ops.all_ops()            # every op a program can write
# Points at the domain edges of every op: zeros of both signs, the smallest floats, integers and
# halves for exponents, and arguments near overflow.
EDGES = [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, -3.0, 5e-324, -5e-324, 1e-300, 700.0, 710.0,
         -745.0, 1e154, -1e154, 1e300]


def applied(op, operands):
    """`op` applied to (text, sympy) operands: the text parenthesised, the SymPy form from the table
    (None where SymPy cannot build it, as `Piecewise` on a non-real operand: a reference that cannot
    evaluate a point is skipped, and counted as a Hypothesis event)."""
    text = op.applied_to({v: f"({t})" for v, (t, _) in zip("xy", operands)})
    if any(e is None for _, e in operands):
        return text, None
    try:
        expr = sympy.sympify(op.sympy, locals={v: e for v, (_, e) in zip("xy", operands)})
    except (TypeError, ValueError, sympy.SympifyError):
        expr = None
    return text, expr


leaves = st.one_of(st.sampled_from(NAMES).map(lambda n: (n, SYMBOLS[n])),
                   st.sampled_from(LITERALS).map(lambda t: (t, sympy.Rational(t))))


def extend(children):
    return st.sampled_from(WRITTEN_OPS).flatmap(
        lambda op: st.tuples(*[children] * op.arity).map(lambda operands: applied(op, operands)))


programs = st.recursive(leaves, extend, max_leaves=8)


def extend_text(children):
    return st.sampled_from(WRITTEN_OPS).flatmap(
        lambda op: st.tuples(*[children] * op.arity).map(
            lambda operands: op.applied_to({v: f"({t})" for v, t in zip("xy", operands)})))


# the same programs as text alone, for tests that need no SymPy reference (building one can take
# mpmath minutes on some expressions)
program_texts = st.recursive(st.one_of(st.sampled_from(NAMES), st.sampled_from(LITERALS)), extend_text, max_leaves=8)
values = st.floats(min_value=-2.0, max_value=2.0, allow_nan=False).filter(lambda v: abs(v) > 1e-3)
edge_values = st.one_of(st.sampled_from(EDGES), st.floats(min_value=-3.0, max_value=3.0, allow_nan=False))


VECTOR_HEADER = """u = [0.5, -1, 2]
v = [1.5, 2, -0.25]
s = 0.5
r = -1
W = [[1, -0.5, 2], [0.25, 1, -1]]
g(p, q) = p*q + tanh(q)
"""
VECTOR_REDUCTIONS = ["sum(E)", "mean(E)", "max(E)", "min(E)", "logsumexp(E)", "dot(E, u)", "softmax(E)[1]",
                     "E[2]", "E[-1]", "where(s > 0, sum(E), E[0])", "g(sum(E), E[1])", "sum(W @ E)", "sum(tanh(W @ E) * [1, s])"]


def vector_program(rng: random.Random, leaves: int = 4) -> str:
    """A program over vectors: every op of the registry applied element by element (a number
    broadcasts), reduced to its output by a vector function, an index, a user function or `W @`."""
    parts = [rng.choice(["u", "v"])] + [rng.choice(["u", "v", "s", "r", rng.choice(LITERALS)])
                                        for _ in range(leaves - 1)]
    while len(parts) > 1 or rng.random() < 0.3:
        op = rng.choice(WRITTEN_OPS)
        operands = [parts.pop(rng.randrange(len(parts))) for _ in range(min(op.arity, len(parts)))]
        while len(operands) < op.arity:
            operands.append(rng.choice(["u", "v"]))
        if not any(re.search(r"\b[uv]\b", o) for o in operands):
            operands[0] = "u"                           # keep it a vector
        parts.append(op.applied_to({v: f"({t})" for v, t in zip("xy", operands)}))
    return VECTOR_HEADER + "E = " + parts[0] + "\nout = " + rng.choice(VECTOR_REDUCTIONS).replace("E", "(E)")


vector_programs = st.randoms(use_true_random=False).map(vector_program)


def interior(op) -> dict:
    """A point well inside the op's domain: with check's samples around it (x ± 0.5·max(1, |x|))
    inside too."""
    for x, y in ((1.3, 0.7), (0.3, 0.7), (2.5, 0.7)):
        nearby = [x + s * 0.5 * max(1.0, abs(x)) for s in (-1.0, -0.5, 0.0, 0.5, 1.0)]
        if all(op.refusal(*(v, y)[:op.arity]) is None for v in nearby):
            return {"x": x, "y": y}
    raise AssertionError(f"no interior point for {op.name}")


def random_program(rng: random.Random, leaves: int = 6) -> str:
    """A program drawn as `programs` draws them, from a seeded generator (for the tests that run
    a batch at once, such as the page's JavaScript in one browser)."""
    parts = [rng.choice(NAMES) if rng.random() < 0.7 else rng.choice(LITERALS) for _ in range(leaves)]
    while len(parts) > 1 or rng.random() < 0.3:
        op = rng.choice(WRITTEN_OPS)
        operands = [parts.pop(rng.randrange(len(parts))) for _ in range(min(op.arity, len(parts)))]
        while len(operands) < op.arity:
            operands.append(rng.choice(NAMES))
        parts.append(op.applied_to({v: f"({t})" for v, t in zip("xy", operands)}))
    return parts[0]


def reference(expr, point):
    """SymPy's value and gradient at the point, to 30 digits (complex where it leaves the reals);
    None where SymPy cannot evaluate it (the caller skips the point, and it is counted)."""
    from hypothesis import event

    if expr is None:
        event("the SymPy reference cannot build this program")
        return None
    subs = {SYMBOLS[n]: sympy.Float(v, 30) for n, v in point.items()}
    try:
        value = complex(expr.evalf(30, subs=subs))
        grads = {n: complex(flat(sympy.diff(expr, SYMBOLS[n])).evalf(30, subs=subs)) for n in point}
    except (TypeError, ValueError, ZeroDivisionError, sympy.SympifyError):
        event("the SymPy reference cannot evaluate this point")
        return None
    return value, grads


def flat(derivative):
    """sign, step, floor and ceil are flat away from their jumps: their derivatives' Dirac deltas
    (and SymPy's unevaluated derivatives of them) are 0 at every point we test."""
    derivative = derivative.replace(sympy.DiracDelta, lambda *args: sympy.S.Zero)
    return derivative.replace(lambda e: isinstance(e, sympy.Derivative)
                              and e.expr.func in (sympy.sign, sympy.floor, sympy.ceiling), lambda e: sympy.S.Zero)


def agrees(ours, ref, tolerance=1e-9):
    return math.isclose(ours, ref.real, rel_tol=tolerance, abs_tol=tolerance) and abs(ref.imag) < 1e-12


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (the system's), driven by Playwright; missing locally: skip, in CI: fail."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    require_in_ci(sync_playwright is not None, "Playwright")
    require_in_ci(chromium_path() is not None, "Chromium")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=chromium_path(), args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield chromium
        chromium.close()


@pytest.fixture
def js_engine(browser):
    """Runs programs' engine.js (the live page's forward and backward passes) in the browser:
    `js_engine([(program, [point, ...]), ...])` gives, for each point, {"value", "grad"} or
    {"error"}, with eval's one-line error message."""
    from autodiff_cli.page import engine_script

    page = browser.new_page()

    def run_all(batch):
        scripts = ",\n".join(f"(function () {{\n{engine_script(program)}\nreturn run;\n}})()" for program, _ in batch)
        page.set_content("<!DOCTYPE html><script>const RUNS = [\n" + scripts + "\n];</script>")
        return page.evaluate("""(batch) => batch.map(([i, points, inputs, output]) => points.map((point) => {
            try {
                const r = RUNS[i](point);
                return {value: r.data[output], grad: Object.fromEntries(inputs.map(([n, id]) => [n, r.grad[id]]))};
            } catch (e) { return {error: e.message}; }
        }))""", [[i, points, [[n, x.index] for n, x in program.inputs.items()], program.output.index]
                  for i, (program, points) in enumerate(batch)])

    yield run_all
    page.close()


LECTURE_ROWS = ([2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0])
LECTURE_TARGETS = (1.0, -1.0, -1.0, 1.0)


def mlp_program(sizes=(3, 4, 4, 1), seed=1, rows=LECTURE_ROWS, targets=LECTURE_TARGETS) -> str:
    """The lecture's next example as one program: an MLP (tanh neurons, weights drawn as the lecture
    draws them) on four rows, with the summed squared loss as the output (41 weights, 400 nodes)."""
    rng = random.Random(seed)
    lines, layers, fan_in = [], [], sizes[0]
    for layer, width in enumerate(sizes[1:]):
        neurons = []
        for n in range(width):
            weights = [f"w{layer}_{n}_{i}" for i in range(fan_in)]
            lines += [f"{w} = {rng.uniform(-1, 1)!r}" for w in weights] + [f"b{layer}_{n} = {rng.uniform(-1, 1)!r}"]
            neurons.append((weights, f"b{layer}_{n}"))
        layers.append(neurons)
        fan_in = width
    losses = []
    for r, (xs, y) in enumerate(zip(rows, targets)):
        previous = [f"({x!r})" for x in xs]
        for layer, neurons in enumerate(layers):
            current = []
            for n, (weights, bias) in enumerate(neurons):
                lines.append(f"h{r}_{layer}_{n} = tanh({' + '.join(f'{w}*{p}' for w, p in zip(weights, previous))}"
                             f" + {bias})")
                current.append(f"h{r}_{layer}_{n}")
            previous = current
        losses.append(f"({previous[0]} - ({y!r}))**2")
    lines.append("loss = " + " + ".join(losses))
    return "\n".join(lines)
