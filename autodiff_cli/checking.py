"""Gradient checking: backprop's gradients against finite differences.

The lecture checks a gradient by nudging: (f(x+h) - f(x)) / h.  Here the
default is the central difference (f(x+h) - f(x-h)) / 2h, whose error is
O(h²) instead of O(h).  A gradient passes when

    |analytic - numeric| <= atol + rtol * |numeric| + truncation

as in PyTorch's gradcheck and NumPy's isclose, where `truncation` is the
difference's own error, estimated (only for a gradient that would fail
without it) from the same difference at 2h: D(2h) - D(h) is about
(2^p - 1) times the error of D(h), p = 1 for the forward difference and 2
for the central one.  So the lecture's own nudge (forward, h = 0.001: 14.003
against 14) passes, while a wrong derivative still fails.

A program with many inputs is checked as JAX's check_grads does: each input
on its own up to PER_INPUT_LIMIT of them, and the whole gradient at once
along a random direction v, comparing grad·v with the difference of
f(x ± h·v).
"""
from __future__ import annotations

import math
import random
import itertools
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Callable, Iterable, Iterator, Mapping, Sequence, TextIO

from . import ops
from .engine import NumericError, Value, forward
from .errors import AutodiffError
from .program import Program
from .reports import Report, Style

RTOL = 1e-5
ATOL = 1e-7
RELATIVE_STEP = 1e-6        # h = RELATIVE_STEP * max(1, |x|)
SMALLER_STEPS = 3           # retries with h/10, h/100, h/1000 (and 1e-6 |x| for a small x)
SAMPLE_SPREAD = 0.5         # samples: x + U(-s, s) with s = SAMPLE_SPREAD * max(1, |x|)
PER_INPUT_LIMIT = 100       # inputs checked one by one by default; the rest along a random direction
METHODS = {"central": 2, "forward": 1}      # method -> order of its truncation error
DIRECTION = "random direction"
DIRECTION_STEP_FACTOR = 10


@dataclass
class GradientCheck:
    """One gradient (or, with node None, the whole gradient along a random direction),
    computed by backprop and estimated by nudging."""

    sample: int                 # 0 is the given point, 1.. the random ones
    node: Value | None          # None for the random-direction check
    label: str
    at: float | None            # the node's value at the point (None for a direction)
    analytic: float
    numeric: float | None       # None when every nudge leaves the domain
    method: str                 # the difference actually used: central, forward or backward
    h: float                    # the step used
    truncation: float | None = None     # the estimated error of the difference, where it was needed
    status: str = field(default="")     # ok, FAIL, kink or unverifiable

    @property
    def abs_error(self) -> float | None:
        return None if self.numeric is None else abs(self.analytic - self.numeric)

    @property
    def rel_error(self) -> float | None:
        if self.numeric is None:
            return None
        scale = max(abs(self.analytic), abs(self.numeric))
        return 0.0 if scale == 0.0 else abs(self.analytic - self.numeric) / scale


@dataclass
class CheckReport(Report):
    """Every gradient checked, with the settings; written as a table or as JSON."""

    checks: list[GradientCheck]
    skipped_samples: int
    rtol: float
    atol: float
    points: list[dict[str, float]]      # the input values of each sample, 0 being the given point
    swept: bool = False                 # the points are a sweep's (--over, --points), not samples
    precision: int | None = None        # significant digits in the table (None: every digit, as repr)
    limit: int | None = 200             # rows in the table
    cut_hint: str = ""

    def write_text(self, out: TextIO, style: Style) -> None:
        write_check_table(self, out, rich=style.rich, precision=self.precision, limit=self.limit,
                          cut_hint=self.cut_hint)

    def document(self) -> dict:
        return check_document(self)

    def count(self, status: str) -> int:
        return sum(1 for c in self.checks if c.status == status)

    @property
    def ok(self) -> bool:
        return self.count("FAIL") == 0

    def summary(self) -> str:
        parts = [f"{self.count('ok')} passed", f"{self.count('FAIL')} failed"]
        parts += [f"{n} {word}" for n, word in ((self.count("kink"), "at kinks"),
                                                (self.count("unverifiable"), "unverifiable")) if n]
        if self.skipped_samples:
            parts.append(f"{self.skipped_samples} {'points' if self.swept else 'samples'} skipped (outside the domain)")
        return ", ".join(parts)

    def truncation_note(self) -> str | None:
        """Says how many passed only within the estimated truncation error of their difference."""
        n = sum(1 for c in self.checks if c.truncation is not None and c.status == "ok")
        if not n:
            return None
        return (f"{n} passed within the estimated truncation error of the difference "
                "(from the same difference at 2h)")

    def worst(self) -> list[tuple[str, GradientCheck]]:
        """For each checked gradient, the check with the largest error over every point."""
        worst: dict[str, GradientCheck] = {}
        for c in self.checks:
            if c.abs_error is not None and (c.label not in worst or c.abs_error > worst[c.label].abs_error):
                worst[c.label] = c
        return list(worst.items())


def check_gradients(program: Program, *, nodes: str = "inputs", inputs: Sequence[str] | None = None,
                    h: float | None = None, method: str = "central", rtol: float = RTOL, atol: float = ATOL,
                    samples: int = 0, seed: int = 0, per_input_limit: int = PER_INPUT_LIMIT,
                    points: Iterable[Mapping[str, float]] | None = None,
                    on_check: Callable[[int], None] | None = None,
                    run_chunks: Callable[[Iterable[tuple[int, list]], CheckSettings], Iterable[tuple]] | None = None
                    ) -> CheckReport:
    """Check the gradients at the current point, then at `samples` random points around it; or,
    given `points` (a sweep: each gives some inputs values, the others keep theirs), at those
    points only, a chunk of CHECK_CHUNK points at a time (`run_chunks` runs the chunks elsewhere,
    on a cluster, and gives back what `check_chunk` gives, in order).  A point outside the
    program's domain is skipped and counted.

    Which gradients: every node's that depends on an input (nodes="all", which
    costs a forward pass per node); the named `inputs`; or by default every
    input, but past `per_input_limit` inputs only the first ones, plus the whole
    gradient along a random direction.  `on_check(n)` is called after each
    check (a progress bar, say).
    """
    if method not in METHODS:
        raise AutodiffError(f"unknown method {method!r}; use one of: {', '.join(METHODS)}")
    if not program.inputs:
        raise AutodiffError("the program has no inputs: there is nothing to check")
    settings = CheckSettings(nodes, tuple(inputs or ()), h, method, rtol, atol, seed, per_input_limit)
    if points is not None:
        return _check_sweep(program, points, settings, on_check, run_chunks)
    targets, direction = _targets(program, nodes, inputs, per_input_limit)
    program.run()
    given = program.point()
    rng = random.Random(seed)
    checks: list[GradientCheck] = []
    skipped = 0
    counter = _counter(on_check)
    randoms = ({name: x + rng.uniform(-1, 1) * SAMPLE_SPREAD * max(1.0, abs(x)) for name, x in given.items()}
               for _ in range(samples))
    checked = [given]
    for point in itertools.chain([{}], randoms):
        with program.at(point):
            if point:
                if not _runs(program):
                    skipped += 1
                    continue
                checked.append(program.point())
            for check in _checks_here(program, len(checked) - 1, targets, direction, rng, settings):
                checks.append(check)
                counter()
    program.run()
    return CheckReport(checks, skipped, rtol, atol, checked, swept=False)


CHECK_CHUNK = 256           # a sweep's points checked a chunk at a time (a task each, on a cluster)


@dataclass(frozen=True)
class CheckSettings:
    """What a check needs besides the program and the points: a chunk's task carries it."""

    nodes: str
    inputs: tuple[str, ...]
    h: float | None
    method: str
    rtol: float
    atol: float
    seed: int
    per_input_limit: int


def _check_sweep(program: Program, points: Iterable[Mapping[str, float]], settings: CheckSettings,
                 on_check: Callable[[int], None] | None, run_chunks) -> CheckReport:
    """A sweep's checks, chunk by chunk: each chunk's sample numbers follow the points checked before it."""
    pieces = _pieces(points)
    chunks = run_chunks(pieces, settings) if run_chunks is not None else (
        check_chunk(program, start, chunk, settings) for start, chunk in pieces)
    checks: list[GradientCheck] = []
    checked: list[dict] = []
    skipped = 0
    for found, missed, here in chunks:
        checks += [replace(check, sample=check.sample + len(checked)) for check in found]
        checked += here
        skipped += missed
        if on_check is not None:
            on_check(len(checks))
    return CheckReport(checks, skipped, settings.rtol, settings.atol, checked, swept=True)


def _pieces(points: Iterable[Mapping[str, float]]) -> Iterator[tuple[int, list]]:
    """(the number of the chunk's first point in the sweep, the chunk's points)."""
    chunk: list = []
    start = 0
    for point in points:
        chunk.append(dict(point))
        if len(chunk) == CHECK_CHUNK:
            yield start, chunk
            start, chunk = start + CHECK_CHUNK, []
    if chunk:
        yield start, chunk


def check_chunk(program: Program, start: int, points: list, settings: CheckSettings
                ) -> tuple[list[GradientCheck], int, list[dict]]:
    """The checks at a chunk of a sweep's points (its first is the sweep's point `start`): the
    checks (sample numbers counted within the chunk), the points skipped, the points checked.  The
    random direction (past the per-input limit) is drawn for each point from a generator seeded by
    the seed and the point's number, so a chunk needs nothing of the chunks before it."""
    targets, direction = _targets(program, settings.nodes, settings.inputs or None, settings.per_input_limit)
    checks: list[GradientCheck] = []
    checked: list[dict] = []
    skipped = 0
    for k, point in enumerate(points, start):
        with program.at(point):
            if not _runs(program):
                skipped += 1
                continue
            checked.append(program.point())
            rng = random.Random(f"{settings.seed}/{k}")
            checks += _checks_here(program, len(checked) - 1, targets, direction, rng, settings)
    return checks, skipped, checked


def _runs(program: Program) -> bool:
    """Run the program at its point: False where the point is outside its domain (skipped, counted)."""
    try:
        program.run()
    except AutodiffError:
        return False
    return True


def _checks_here(program: Program, sample: int, targets: list[int], direction: bool, rng: random.Random,
                 settings: CheckSettings) -> Iterator[GradientCheck]:
    """The checks at the program's current point (run): each target node, then the random direction."""
    here = _Settings(settings.h, settings.method, settings.rtol, settings.atol,
                     [n for n in program.nodes if n.op.piece is not None])
    for i in targets:
        yield _check_node(program, sample, i, here)
    if direction:
        yield _check_direction(program, sample, rng, here)


def check_second_derivatives(program: Program, *, inputs: Sequence[str] | None = None, h: float | None = None,
                             method: str = "central", rtol: float = RTOL, atol: float = ATOL,
                             per_input_limit: int = PER_INPUT_LIMIT,
                             on_check: Callable[[int], None] | None = None) -> CheckReport:
    """Each second derivative d² out / da db (from the derivative program, by reverse mode over
    reverse mode) against the finite difference of the gradient d out / da as b is nudged."""
    from .deriving import hessian

    if method not in METHODS:
        raise AutodiffError(f"unknown method {method!r}; use one of: {', '.join(METHODS)}")
    targets, _ = _targets(program, "inputs", inputs, per_input_limit)
    names = [program.nodes[i].label for i in targets]
    program.run()
    point = {name: node.data for name, node in program.inputs.items()}
    gradient = program.grad
    analytic = hessian(program, names)
    out = program.output_name or program.output.label or "out"
    settings = _Settings(h, method, rtol, atol, [n for n in program.nodes if n.op.piece is not None])
    checks = []
    counter = _counter(on_check)
    for b in names:
        node = program.inputs[b]
        for a in names:
            def nudge(t: float, node: Value = node, x: float = point[b], a: str = a) -> float | None:
                node.data = x + t
                try:
                    program.run()
                except AutodiffError:
                    return None
                return program.grad[a]

            def restore(node: Value = node, x: float = point[b]) -> None:
                node.data = x
                program.run()

            label = f"d²{out}/d{a} d{b}"
            checks.append(_check(program, 0, node, label, point[b], analytic[a][b], nudge, restore,
                                 _steps(point[b], settings.h), settings, f0=gradient[a]))
            counter()
    return CheckReport(checks, 0, rtol, atol, [point])


def planned_checks(program: Program, *, nodes: str = "inputs", inputs: Sequence[str] | None = None,
                   samples: int = 0, order: int = 1, per_input_limit: int = PER_INPUT_LIMIT) -> int:
    """How many checks `check_gradients` (or, order 2, `check_second_derivatives`) will make."""
    targets, direction = _targets(program, nodes, inputs, per_input_limit)
    if order == 2:
        return len(targets) ** 2
    return (len(targets) + direction) * (samples + 1)


MAX_WORK = 5 * 10**7        # node evaluations a check may run (about 30 s), unless raised
NODE_EVALUATIONS_PER_SECOND = 1.5e6     # measured on 1,500 tanh inputs with 20 samples, and a sin chain


class CheckTooLargeError(AutodiffError):
    """A check that would run past the ceiling of node evaluations; the CLI names the options."""

    def __init__(self, work: int, limit: int):
        super().__init__(f"this check would run about {work:,} node evaluations (about {work / NODE_EVALUATIONS_PER_SECOND:,.0f} s), "
                         f"past the ceiling of {limit:,}")
        self.work = work


def check_work(program: Program, *, nodes: str = "inputs", inputs: Sequence[str] | None = None, samples: int = 0,
               order: int = 1, limit: int | None = None, per_input_limit: int = PER_INPUT_LIMIT) -> int:
    """The node evaluations a check will run (refused past `limit`, MAX_WORK): each nudge of a node
    runs the graph from that node on, twice (central) and at each sample; order 2 runs a whole
    gradient (forward and backward) per nudge of an input."""
    targets, direction = _targets(program, nodes, inputs, per_input_limit)
    n = len(program.nodes)
    if order == 2:
        work = len(targets) * 2 * 2 * n
    else:
        work = (sum(2 * (n - i) for i in targets) + direction * 2 * n) * (samples + 1)
    if work > (limit or MAX_WORK):
        raise CheckTooLargeError(work, limit or MAX_WORK)
    return work


def _targets(program: Program, nodes: str, inputs: Sequence[str] | None,
             per_input_limit: int) -> tuple[list[int], bool]:
    """The indices of the nodes to check one by one, and whether to check along a random direction."""
    if nodes == "all":
        return _varying(program.nodes), False
    if inputs:
        program.check_inputs(inputs)
        return [program.inputs[name].index for name in inputs], False
    every = [node.index for node in program.inputs.values()]
    return every[:per_input_limit], len(every) > per_input_limit


def _counter(on_check: Callable[[int], None] | None) -> Callable[[], None]:
    done = 0

    def count() -> None:
        nonlocal done
        done += 1
        if on_check is not None:
            on_check(done)
    return count


@dataclass
class _Settings:
    h: float | None
    method: str
    rtol: float
    atol: float
    kinks: list[Value]


def _steps(x: float, h: float | None) -> list[float]:
    """The step, and smaller ones to retry with: they rescue points close to a domain edge (log
    near 0).  A step too small to move x (or that underflows to 0) is left out."""
    if h is not None:
        steps = [h]
    else:
        default = RELATIVE_STEP * max(1.0, abs(x))
        steps = [default / 10 ** k for k in range(SMALLER_STEPS + 1)]
        if 0.0 < abs(x) < 1.0:
            steps.append(RELATIVE_STEP * abs(x))     # a step to the scale of a small x
    moving = [step for step in steps if step > 0.0 and x + step != x and x - step != x]
    return moving or [steps[0]]


def _check_node(program: Program, sample: int, i: int, settings: _Settings) -> GradientCheck:
    node = program.nodes[i]
    x = node.data

    def nudge(t: float) -> float | None:        # the lecture's `e.data += h`, then the rest of the forward pass
        node.data = x + t
        return _output_from(program, i + 1)

    def restore() -> None:
        node.data = x
        forward(islice(program.nodes, i + 1, None))

    return _check(program, sample, node, program.label(node), x, node.grad, nudge, restore,
                  _steps(x, settings.h), settings)


def _check_direction(program: Program, sample: int, rng: random.Random, settings: _Settings) -> GradientCheck:
    """grad·v against the difference of f(x ± h·v), v a random unit vector over every input."""
    inputs = list(program.inputs.values())
    v = [rng.gauss(0.0, 1.0) for _ in inputs]
    norm = math.sqrt(sum(c * c for c in v)) or 1.0
    v = [c / norm for c in v]
    x = [node.data for node in inputs]
    first = len(inputs)                           # the inputs come first in the order

    def nudge(t: float) -> float | None:
        for node, xi, vi in zip(inputs, x, v):
            node.data = xi + t * vi
        return _output_from(program, first)

    def restore() -> None:
        for node, xi in zip(inputs, x):
            node.data = xi
        forward(islice(program.nodes, first, None))

    analytic = math.fsum(node.grad * vi for node, vi in zip(inputs, v))
    label = f"{DIRECTION} (all {len(inputs)} inputs)"
    scale = DIRECTION_STEP_FACTOR * max(1.0, *map(abs, x))    # a sum over many inputs is noisier: a larger step
    return _check(program, sample, None, label, None, analytic, nudge, restore, _steps(scale, settings.h), settings)


def _check(program: Program, sample: int, node: Value | None, label: str, at: float | None, analytic: float,
           nudge: Callable[[float], float | None], restore: Callable[[], None], steps: list[float],
           settings: _Settings, f0: float | None = None) -> GradientCheck:
    """Estimate with each step in turn until one agrees; keeps the closest.  `nudge(t)` returns the
    function's value with the variable moved by t; `f0` is its value at the point (by default the
    program's output)."""
    best = None
    f0 = program.output.data if f0 is None else f0
    for step in steps:
        numeric, used, crossed = _estimate(f0, nudge, step, settings)
        check = GradientCheck(sample, node, label, at, analytic, numeric, used, step)
        check.status = _status(check, crossed, settings, f0, nudge)
        restore()
        if check.status in ("ok", "kink"):
            return check
        if best is None or best.numeric is None or (check.numeric is not None and
                                                    check.abs_error < best.abs_error):
            best = check
    return best


def _status(check: GradientCheck, crossed_kink: bool, settings: _Settings, f0: float,
            nudge: Callable[[float], float | None]) -> str:
    if check.numeric is None:
        return "unverifiable"
    if crossed_kink and not _smooth_here(check.h, f0, nudge, settings):
        return "kink"
    tolerance = settings.atol + settings.rtol * abs(check.numeric)
    if check.abs_error <= tolerance:
        return "ok"
    check.truncation = _truncation(check, f0, nudge, settings)
    return "ok" if check.truncation is not None and check.abs_error <= tolerance + check.truncation else "FAIL"


def _smooth_here(h: float, f0: float, nudge: Callable[[float], float | None], settings: _Settings) -> bool:
    """Whether the output itself is smooth where a nudge crossed an op's kink (x·|x| is, at 0):
    it does not jump (sign's -1 to 1: the gap between its two sides stays as the step shrinks),
    and its slopes on the left and the right agree, or differ by an amount that shrinks with the
    step (curvature), not one that stays (a kink of the output: relu's jump from 0 to 1)."""
    sides = {step: (nudge(step), nudge(-step)) for step in (h, 2 * h)}
    if any(value is None for pair in sides.values() for value in pair):
        return False

    def shrinks(near: float, far: float) -> bool:
        return near <= settings.atol + settings.rtol * max(1.0, abs(f0)) or near < 0.75 * far

    jumps = {step: abs(up - down) for step, (up, down) in sides.items()}
    bends = {step: abs((up - f0) / step - (f0 - down) / step) for step, (up, down) in sides.items()}
    return shrinks(jumps[h], jumps[2 * h]) and shrinks(bends[h], bends[2 * h])


TRUNCATION_SAFETY = 2.0     # the estimate is first order: allow twice it


def _truncation(check: GradientCheck, f0: float, nudge: Callable[[float], float | None],
                settings: _Settings) -> float | None:
    """The error of the difference at h, estimated from the same difference at 2h."""
    twice, used, crossed = _estimate(f0, nudge, 2 * check.h, settings)
    if twice is None or used != check.method or crossed:
        return None
    order = METHODS.get(used, 1)
    return TRUNCATION_SAFETY * abs(twice - check.numeric) / (2 ** order - 1)


def _estimate(f0: float, nudge: Callable[[float], float | None], h: float,
              settings: _Settings) -> tuple[float | None, str, bool]:
    """The finite-difference estimate, the formula used, and whether a nudge touched a kink
    (relu or abs at 0), where no estimate is valid."""
    kinks = settings.kinks
    base = [tuple(x.data for x in k.inputs) for k in kinks]
    up = nudge(h)
    crossed = _crossed(kinks, base)
    down = nudge(-h) if settings.method == "central" or up is None else None
    crossed = crossed or _crossed(kinks, base)
    if up is not None and down is not None:
        return (up - down) / (2 * h), "central", crossed
    if up is not None:
        return (up - f0) / h, "forward", crossed
    if down is not None:
        return (f0 - down) / h, "backward", crossed
    return None, settings.method, crossed


def _output_from(program: Program, first: int) -> float | None:
    """The output after re-running the forward pass from order[first]; None when that leaves an op's domain."""
    try:
        forward(islice(program.nodes, first, None))
    except NumericError:
        return None
    return program.output.data


def _crossed(kinks: list[Value], base: list[tuple[float, ...]]) -> bool:
    """Whether a nudge moved the operands of a kinked op (relu, abs, max, floor, ...) onto, off or
    across its kink."""
    return any(node.op.crosses(before, tuple(x.data for x in node.inputs)) for node, before in zip(kinks, base))


def _varying(order: list[Value]) -> list[int]:
    """Indices of the nodes that depend on an input (constants are not nudged)."""
    varies = [False] * len(order)
    for i, node in enumerate(order):
        varies[i] = node.op is ops.INPUT or any(varies[x.index] for x in node.inputs)
    return [i for i, v in enumerate(varies) if v]


CHECK_COLUMNS = ("sample", "label", "at", "analytic", "numeric", "abs error", "rel error", "status")
STATUS_STYLES = {"ok": "green", "FAIL": "bold red", "kink": "yellow", "unverifiable": "yellow"}


def write_check_table(report: CheckReport, out: TextIO, *, rich: bool = False, precision: int | None = None,
                      limit: int | None = 200, cut_hint: str = "") -> None:
    """One row per checked gradient (at most `limit`, failures first to be kept), the worst error of
    each gradient over the samples, then the verdict line."""
    from .tables import write_grid

    def number(x: float | None, spec: str) -> str:
        return "-" if x is None else repr(x) if not spec else format(x, spec)

    value = "" if precision is None else f".{precision}g"
    shown = _rows_to_show(report.checks, limit)
    rows: list = [(str(c.sample), c.label, number(c.at, value), number(c.analytic, value), number(c.numeric, value),
                   number(c.abs_error, ".1e"), number(c.rel_error, ".1e"), c.status) for c in shown]
    styles: list = [STATUS_STYLES.get(c.status) for c in shown]
    columns = ("point", *CHECK_COLUMNS[1:]) if report.swept else CHECK_COLUMNS
    if not any(c.sample for c in report.checks) and not report.swept:
        columns, rows = columns[1:], [row[1:] for row in rows]
    if len(shown) < len(report.checks):
        rows.append(f"… {len(report.checks) - len(shown)} rows not shown" + (f" ({cut_hint})" if cut_hint else ""))
        styles.append(None)
    write_grid(out, columns, rows, numeric=set(columns) - {"label", "status"}, rich=rich,
               title="analytic (backprop) against numeric (finite differences)", styles=styles)
    if len(report.points) > 1:
        for label, c in report.worst():
            where = "" if c.at is None else f", where it is {number(c.at, value)}"
            out.write(f"{label}: worst error {c.abs_error:.1e} (relative {c.rel_error:.1e}) "
                      f"at {'point' if report.swept else 'sample'} {c.sample}{where}\n")
    note = report.truncation_note()
    if note:
        out.write(note + "\n")
    out.write(report.summary() + "\n")


def _rows_to_show(checks: list[GradientCheck], limit: int | None) -> list[GradientCheck]:
    """Every check, or at most `limit` of them in their order, failures kept first."""
    if limit is None or len(checks) <= limit:
        return checks
    keep = {id(c) for c in [c for c in checks if c.status == "FAIL"][:limit]}
    for c in checks:
        if len(keep) >= limit:
            break
        keep.add(id(c))
    return [c for c in checks if id(c) in keep]


def check_document(report: CheckReport) -> dict:
    """The report as strict JSON: an overall `ok`, the counts, one entry per checked gradient
    (`id` null for the random direction), and the points of the samples."""
    checks = [{"sample": c.sample, "id": None if c.node is None else c.node.index, "label": c.label, "at": c.at,
               "analytic": c.analytic, "numeric": c.numeric, "abs_error": c.abs_error, "rel_error": c.rel_error,
               "method": c.method, "h": c.h, "truncation": c.truncation, "status": c.status}
              for c in report.checks]
    counts = {key: report.count(status) for key, status in
              (("passed", "ok"), ("failed", "FAIL"), ("kinks", "kink"), ("unverifiable", "unverifiable"))}
    return {"ok": report.ok, **counts, "skipped_samples": report.skipped_samples,
            "rtol": report.rtol, "atol": report.atol, "points": report.points, "checks": checks}
