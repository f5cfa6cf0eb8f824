"""Gradient checking: backprop's gradients against finite differences.

The lecture checks a gradient by nudging: (f(x+h) - f(x)) / h.  Here the
default is the central difference (f(x+h) - f(x-h)) / 2h, whose error is
O(h²) instead of O(h).  A gradient passes when

    |analytic - numeric| <= atol + rtol * |numeric|

as in PyTorch's gradcheck and NumPy's isclose.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from itertools import islice
from typing import Iterator, TextIO

from . import ops
from .engine import NumericError, Value, forward
from .errors import AutodiffError
from .program import Program

RTOL = 1e-5
ATOL = 1e-7
RELATIVE_STEP = 1e-6        # h = RELATIVE_STEP * max(1, |x|)
SMALLER_STEPS = 3           # retries with h/10, h/100, h/1000 (and 1e-6 |x| for a small x)
SAMPLE_SPREAD = 0.5         # samples: x + U(-s, s) with s = SAMPLE_SPREAD * max(1, |x|)
METHODS = ("central", "forward")


@dataclass
class GradientCheck:
    """One gradient, computed by backprop and estimated by nudging."""

    sample: int                 # 0 is the given point, 1.. the random ones
    node: Value
    label: str
    at: float                   # the node's value at the point
    analytic: float
    numeric: float | None       # None when every nudge leaves the domain
    method: str                 # the difference actually used: central, forward or backward
    h: float                    # the step used
    status: str = field(default="")    # ok, FAIL, kink or unverifiable

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
class CheckReport:
    checks: list[GradientCheck]
    skipped_samples: int
    rtol: float
    atol: float

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
            parts.append(f"{self.skipped_samples} samples skipped (outside the domain)")
        return ", ".join(parts)


def check_gradients(program: Program, *, nodes: str = "inputs", h: float | None = None,
                    method: str = "central", rtol: float = RTOL, atol: float = ATOL,
                    samples: int = 0, seed: int = 0) -> CheckReport:
    """Check every input's gradient (or every node's, with nodes="all") at the current point,
    then at `samples` random points around it."""
    if method not in METHODS:
        raise AutodiffError(f"unknown method {method!r}; use one of: {', '.join(METHODS)}")
    program.run()
    checks = list(_check_point(program, 0, nodes, h, method, rtol, atol))
    skipped = 0
    rng = random.Random(seed)
    given = {name: node.data for name, node in program.inputs.items()}
    for sample in range(1, samples + 1):
        program.set({name: x + rng.uniform(-1, 1) * SAMPLE_SPREAD * max(1.0, abs(x)) for name, x in given.items()})
        try:
            program.run()
        except AutodiffError:
            skipped += 1
            continue
        checks += _check_point(program, sample, nodes, h, method, rtol, atol)
    program.set(given)
    program.run()
    return CheckReport(checks, skipped, rtol, atol)


def _check_point(program: Program, sample: int, nodes: str, h: float | None, method: str,
                 rtol: float, atol: float) -> Iterator[GradientCheck]:
    order = program.nodes
    targets = range(len(program.inputs)) if nodes == "inputs" else _varying(order)
    kinks = [n for n in order if n.op.kink is not None]
    for i in targets:
        node = order[i]
        if h is not None:
            steps = [h]
        else:
            default = RELATIVE_STEP * max(1.0, abs(node.data))
            steps = [default / 10 ** k for k in range(SMALLER_STEPS + 1)]
            if 0.0 < abs(node.data) < 1.0:
                steps.append(RELATIVE_STEP * abs(node.data))     # a step to the scale of a small x
        yield _check_node(program, sample, i, steps, method, kinks, rtol, atol)


def _check_node(program: Program, sample: int, i: int, steps: list[float], method: str,
                kinks: list[Value], rtol: float, atol: float) -> GradientCheck:
    """Estimate with each step in turn until one agrees; smaller steps rescue points close to a
    domain edge (log near 0), where the default step's estimate is poor.  Keeps the closest."""
    node = program.nodes[i]
    best = None
    for step in steps:
        numeric, used, crossed = _estimate(program, i, step, method, kinks)
        check = GradientCheck(sample, node, program.label(node), node.data, node.grad, numeric, used, step)
        check.status = _status(check, crossed, rtol, atol)
        if check.status in ("ok", "kink"):
            return check
        if best is None or best.numeric is None or (check.numeric is not None and
                                                    check.abs_error < best.abs_error):
            best = check
    return best


def _status(check: GradientCheck, crossed_kink: bool, rtol: float, atol: float) -> str:
    if check.numeric is None:
        return "unverifiable"
    if crossed_kink:
        return "kink"
    return "ok" if check.abs_error <= atol + rtol * abs(check.numeric) else "FAIL"


def _estimate(program: Program, i: int, h: float, method: str,
              kinks: list[Value]) -> tuple[float | None, str, bool]:
    """The finite-difference estimate of d output / d order[i], the formula used, and
    whether a nudge touched a kink (relu or abs at 0), where no estimate is valid."""
    order = program.nodes
    node = order[i]
    x, f0 = node.data, program.output.data
    base = [k.inputs[0].data for k in kinks]
    up = _output_with(program, i, x + h)
    crossed = _crossed(kinks, base)
    down = _output_with(program, i, x - h) if method == "central" or up is None else None
    crossed = crossed or _crossed(kinks, base)
    node.data = x
    forward(islice(order, i + 1, None))         # back to the point itself
    if up is not None and down is not None:
        return (up - down) / (2 * h), "central", crossed
    if up is not None:
        return (up - f0) / h, "forward", crossed
    if down is not None:
        return (f0 - down) / h, "backward", crossed
    return None, method, crossed


def _output_with(program: Program, i: int, value: float) -> float | None:
    """The output after setting order[i] to `value` and re-running the forward pass from it
    (the lecture's `e.data += h`); None when that leaves an op's domain."""
    order = program.nodes
    order[i].data = value
    try:
        forward(islice(order, i + 1, None))
    except NumericError:
        return None
    return program.output.data


def _crossed(kinks: list[Value], base: list[float]) -> bool:
    """Whether a nudge moved the argument of a kinked op (relu, abs, ...) onto, off or across its kink."""
    for node, before in zip(kinks, base):
        now, at = node.inputs[0].data, node.op.kink
        if now != before and (before == at or now == at or (now > at) != (before > at)):
            return True
    return False


def _varying(order: list[Value]) -> list[int]:
    """Indices of the nodes that depend on an input (constants are not nudged)."""
    varies = [False] * len(order)
    for i, node in enumerate(order):
        varies[i] = node.op is ops.INPUT or any(varies[x.index] for x in node.inputs)
    return [i for i, v in enumerate(varies) if v]


CHECK_COLUMNS = ("sample", "label", "at", "analytic", "numeric", "abs error", "rel error", "status")
STATUS_STYLES = {"ok": "green", "FAIL": "bold red", "kink": "yellow", "unverifiable": "yellow"}


def write_check_table(report: CheckReport, out: TextIO, *, rich: bool = False) -> None:
    """One row per checked gradient, then the verdict line."""
    from .reports import write_grid

    def number(x: float | None, spec: str) -> str:
        return "-" if x is None else format(x, spec)

    rows = [(str(c.sample), c.label, number(c.at, ".10g"), number(c.analytic, ".10g"),
             number(c.numeric, ".10g"), number(c.abs_error, ".1e"), number(c.rel_error, ".1e"), c.status)
            for c in report.checks]
    columns = CHECK_COLUMNS
    if not any(c.sample for c in report.checks):
        columns, rows = columns[1:], [row[1:] for row in rows]
    write_grid(out, columns, rows, numeric=set(columns) - {"label", "status"}, rich=rich,
               title="analytic (backprop) against numeric (finite differences)",
               styles=[STATUS_STYLES.get(c.status) for c in report.checks])
    out.write(report.summary() + "\n")


def write_check_json(report: CheckReport, out: TextIO) -> None:
    """The report as strict JSON: an overall `ok`, the counts, and one entry per checked gradient."""
    import json

    checks = [{"sample": c.sample, "id": c.node.index, "label": c.label, "at": c.at, "analytic": c.analytic,
               "numeric": c.numeric, "abs_error": c.abs_error, "rel_error": c.rel_error, "method": c.method,
               "h": c.h, "status": c.status} for c in report.checks]
    counts = {key: report.count(status) for key, status in
              (("passed", "ok"), ("failed", "FAIL"), ("kinks", "kink"), ("unverifiable", "unverifiable"))}
    document = {"ok": report.ok, **counts, "skipped_samples": report.skipped_samples,
                "rtol": report.rtol, "atol": report.atol, "checks": checks}
    json.dump(document, out, allow_nan=False, indent=2)
    out.write("\n")
