"""Nudging the inputs along the gradient: the lecture's `a.data += 0.01 * a.grad`.

A positive learning rate walks uphill (the output grows), as in the lecture;
`minimize=True` walks downhill, as when training on a loss.
"""
from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Callable, Collection, Sequence, TextIO

from .errors import AutodiffError
from .program import Program
from .lecture_bugs import BUGS
from .reports import Report, Style
from .numbers import format_column, format_number


class StepLeftDomainError(AutodiffError):
    """A step left an op's domain; `point` is the last good one, where the program is left."""

    def __init__(self, step: int, reason: str, point: dict[str, float]):
        shown = ", ".join(f"{name} = {value!r}" for name, value in point.items())
        super().__init__(f"step {step} left the domain: {reason}",
                         hint=f"the last good point (after step {step - 1}) is: {shown}")
        self.step = step
        self.point = point


@dataclass
class StepResult:
    """Where the walk started and ended, and the output before and after every step."""

    start: dict[str, float]
    start_grad: dict[str, float]
    end: dict[str, float]
    end_grad: dict[str, float]
    trajectory: Sequence[float]     # trajectory[0] is the output before the first step (8 bytes a step)
    frozen: frozenset[str]


def gradient_steps(program: Program, lr: float, steps: int = 1, *, minimize: bool = False,
                   freeze: Collection[str] = (),
                   on_step: Callable[[int], None] | None = None, accumulate: bool = False) -> StepResult:
    """Take `steps` gradient steps of size `lr` on every input not in `freeze`.

    `on_step(n)` is called after step n (a progress bar, say). Stops with an
    `AutodiffError` when a step leaves an op's domain, naming the last good
    point; the program is left there.  With `accumulate`, the lecture's bug: the
    gradients are not zeroed between steps, each step moves by the sum of every
    gradient so far.
    """
    program.check_inputs(freeze, "cannot freeze")
    sign = -1.0 if minimize else 1.0
    moving = [node for name, node in program.inputs.items() if name not in freeze]
    program.run()
    start = program.point()
    start_grad = program.grad
    trajectory = array("d", [program.value])
    carried = [0.0] * len(moving)
    for step in range(1, steps + 1):
        good = program.point()
        for k, node in enumerate(moving):
            carried[k] = carried[k] + node.grad if accumulate else node.grad
            node.data += sign * lr * carried[k]
        try:
            program.run()
        except AutodiffError as exc:
            program.set(good)
            program.run()
            raise StepLeftDomainError(step, exc.message, program.point()) from None
        trajectory.append(program.value)
        if on_step is not None:
            on_step(step)
    return StepResult(start, start_grad, program.point(), program.grad, trajectory, frozenset(freeze))


def write_step_report(program: Program, result: StepResult, out: TextIO, *, precision: int = 4,
                      rich: bool = False, max_rows: int | None = 50) -> None:
    """Each input's old value, gradient and new value; the output's trajectory when there are several steps."""
    from .tables import write_grid

    def fmt(x: float) -> str:
        return format_number(x, precision)

    before, after = result.trajectory[0], result.trajectory[-1]
    steps = len(result.trajectory) - 1
    if steps > 1:
        stride = 1 if max_rows is None else max(1, -(-steps // (max_rows - 1)))     # ceiling division
        shown = sorted(set(range(0, steps + 1, stride)) | {steps})
        outputs = format_column([result.trajectory[i] for i in shown], precision)
        write_grid(out, ("step", "output"), [(str(i), text) for i, text in zip(shown, outputs)],
                   numeric={"step", "output"}, rich=rich, title="the output after each step")
    names = list(result.start)
    columns = [format_column([source[name] for name in names], precision)
               for source in (result.start, result.start_grad, result.end, result.end_grad)]
    rows = [(name, *(column[i] for column in columns), "frozen" if name in result.frozen else "")
            for i, name in enumerate(names)]
    numeric = {"old", "grad at old", "new", "grad at new"}
    write_grid(out, ("input", "old", "grad at old", "new", "grad at new", ""), rows, numeric=numeric, rich=rich,
               title="the inputs, and the gradient before and after")
    label = program.label(program.output)
    change = after - before
    out.write(f"{label}: {fmt(before)} -> {fmt(after)} ({'+' if change >= 0 else ''}{fmt(change)}) "
              f"after {steps} step{'s' if steps != 1 else ''}\n")


def step_document(program: Program, result: StepResult) -> dict:
    """Strict JSON: the output's label, final value and trajectory, and every input's start, gradient and end."""
    inputs = {name: {"start": result.start[name], "grad": result.start_grad[name], "end": result.end[name],
                     "end_grad": result.end_grad[name], "frozen": name in result.frozen} for name in result.start}
    return {"output": program.label(program.output), "value": result.trajectory[-1],
            "trajectory": result.trajectory.tolist(), "inputs": inputs}


def set_arguments(point: dict[str, float]) -> str:
    """A point as `--set` arguments, to feed into the next command (a line)."""
    return " ".join(f"--set {name}={value!r}" for name, value in point.items()) + "\n"


class StepReport(Report):
    """step's report: a table of the inputs before and after (and the output's trajectory), JSON,
    or the new values as `--set` arguments (`set`)."""

    formats = ("text", "json", "set")
    text_formats = ("text", "set")

    def __init__(self, program: Program, result: StepResult, *, precision: int = 4, max_rows: int | None = 50,
                 right: StepResult | None = None):
        self.program = program
        self.result = result
        self.precision = precision
        self.max_rows = max_rows
        self.right = right          # with the lecture's bug: the walk without it

    def write_text(self, out: TextIO, style: Style) -> None:
        if self.right is not None:
            out.write(f"# WRONG on purpose: the lecture's bug, {BUGS['no-zero-training']}\n")
        write_step_report(self.program, self.result, out, precision=self.precision, rich=style.rich,
                          max_rows=self.max_rows)
        if self.right is not None:
            fixed = self.right.trajectory
            out.write(f"the right walk, without the bug: {self.program.output_label} "
                      f"{format_number(fixed[0], self.precision)} -> {format_number(fixed[-1], self.precision)}\n")

    def write_set(self, out: TextIO, style: Style) -> None:
        out.write(set_arguments(self.result.end))

    @classmethod
    def of_point(cls, program: Program, point: dict[str, float]) -> StepReport:
        """A report of nothing but a point, for its `--set` line (fitted parameters, say)."""
        return cls(program, StepResult(point, {}, point, {}, array("d"), frozenset()))

    def document(self) -> dict:
        document = step_document(self.program, self.result)
        if self.right is not None:
            document = {"warning": f"WRONG on purpose: the lecture's bug, {BUGS['no-zero-training']}", **document,
                        "right_trajectory": self.right.trajectory.tolist()}
        return document
