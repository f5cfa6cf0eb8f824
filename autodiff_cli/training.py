"""Training: gradient descent on a program's parameters over rows of data.

`fit` trains a program's parameters, the inputs that are not columns of the data, on the rows
of a file.  A step is the lecture's loop: the loss at the current parameters, its gradient, and
an update.  The loss of a step is the program's output summed (or averaged) over the step's rows
at the parameters *before* the step's update, which is what the lecture's loop prints.  Each step
is one pass over its rows on the array engine (`arrays.ArrayProgram.rows`), a chunk of rows at a
time (`data`), the parameters' gradients summed over the rows.  A row the array pass finds
suspect is run again by the scalar engine, which gives its exact numbers or its exact error; a
row that leaves an op's domain is left out of that step's loss, or, when strict, stops the
training.  A row whose loss or gradient overflows is not left out: the loss is then not finite,
and training stops there.

NumPy is imported only when training.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Collection, Iterator, Mapping, NamedTuple, Sequence, TextIO

from . import ops
from .errors import AutodiffError, MissingInputsError, clip
from .program import Program
from .reports import Report, Style
from .stepping import set_arguments
from .arrays import ArrayProgram
from .data import Data
from .points import numpy
from .numbers import format_column, format_number

# Training

REDUCTIONS = ("sum", "mean")


@dataclass
class Optimizer:
    """The update of a parameter p with gradient g at step t (1, 2, ...), learning rate lr:

    - sgd, the lecture's: p -= lr * g
    - momentum (PyTorch's SGD with momentum): v = momentum * v + g; p -= lr * v  (v starts at 0)
    - adam (PyTorch's, bias-corrected): m = beta1 * m + (1 - beta1) * g; v = beta2 * v + (1 - beta2) * g²;
      p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)  (m and v start at 0)
    """

    name: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def __post_init__(self) -> None:
        if self.name not in ("sgd", "momentum", "adam"):
            raise AutodiffError(f"unknown optimizer {clip(self.name)!r}: the optimizers are sgd, momentum, adam")
        checks = [("the learning rate", self.lr, 0.0, math.inf, False), ("momentum", self.momentum, 0.0, 1.0, True),
                  ("beta1", self.beta1, 0.0, 1.0, True), ("beta2", self.beta2, 0.0, 1.0, True),
                  ("eps", self.eps, 0.0, math.inf, False)]
        for what, value, low, high, zero in checks:
            if not (math.isfinite(value) and (low < value or zero and value == low) and value < high):
                bounds = f"at least {low:g} and below {high:g}" if zero else "a finite number above 0"
                raise AutodiffError(f"{what} must be {bounds}, not {value!r}")

    def describe(self) -> str:
        extra = {"sgd": "", "momentum": f", momentum {self.momentum:g}",
                 "adam": f", beta1 {self.beta1:g}, beta2 {self.beta2:g}, eps {self.eps:g}"}[self.name]
        return f"{self.name}, lr {self.lr:g}{extra}"


class FitStoppedError(AutodiffError):
    """Training cannot go on; `point` holds the last parameters whose loss was finite, the ones
    step `good_step` started from (None when even the first loss was not)."""

    def __init__(self, message: str, point: dict[str, float] | None = None, good_step: int | None = None):
        shown = "" if point is None else ", ".join(f"{name} = {value!r}" for name, value in point.items())
        super().__init__(message, hint="" if point is None else
                         f"the last parameters with a finite loss (step {good_step} started from them) are: {shown}")
        self.point = point
        self.good_step = good_step


class FitRowError(AutodiffError):
    """A row left the program's domain while training strictly: `where` says when ("step 3"),
    `point` holds the parameters then."""

    def __init__(self, message: str, where: str, point: dict[str, float]):
        super().__init__(message)
        self.where = where
        self.point = point


@dataclass
class FitResult:
    """What training did: the parameters before and after, the loss of every step, and the rows
    left out where the program leaves its domain."""

    names: list[str]                    # the parameters, in the program's order of inputs
    start: dict[str, float]
    end: dict[str, float]
    grad: dict[str, float]              # the gradient at the end, over every row, reduced as the loss
    losses: object                      # losses[i]: the loss before step i + 1's update (a NumPy array)
    start_loss: float                   # over every row, at the start
    end_loss: float                     # over every row, at the end
    rows: int
    reduce: str
    batch: int | None
    optimizer: Optimizer
    frozen: frozenset[str] = frozenset()
    passes: int = 0                     # passes over rows: one a step, one for the end loss (and one for the
                                        # start loss, with batches)
    left_out_rows: int = 0              # rows left out at least once
    left_out_times: int = 0             # (row, pass) pairs left out
    first_left_out: str | None = None   # the first one's message


MASK64 = (1 << 64) - 1
PREDICTION_ROWS = 20        # rows of predictions in the report (--predict FILE writes them all)


class Batches:
    """The rows of each step's batch: `size` distinct rows of `count`, drawn by Floyd's algorithm
    from a splitmix64 stream seeded with `seed`, in increasing order.  Plain 64-bit integer
    arithmetic, documented, so that the live page draws the same batches, and the row indices
    alone are drawn: the file is never held to draw from it."""

    def __init__(self, seed: int):
        self.state = seed & MASK64

    def next(self) -> int:
        """splitmix64."""
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, n: int) -> int:
        """A uniform integer in [0, n), without modulo bias (draws past the last whole multiple of n
        are drawn again)."""
        limit = (1 << 64) - (1 << 64) % n
        while True:
            r = self.next()
            if r < limit:
                return r % n

    def draw(self, count: int, size: int):
        """`size` distinct row indices of `count`, sorted (Floyd's algorithm: j from count - size to
        count - 1, take t in [0, j]; if t is taken already, take j)."""
        np = numpy()
        chosen: set[int] = set()
        for j in range(count - size, count):
            t = self.below(j + 1)
            chosen.add(j if t in chosen else t)
        return np.array(sorted(chosen), dtype=np.int64)


OVERFLOWS = (ops.TOO_LARGE, ops.GRADIENT_TOO_LARGE)     # a row's loss or gradient too large: the loss is not finite


class ChunkSums(NamedTuple):
    """One chunk's part of a pass: the loss and each parameter's gradient summed over its rows that
    did not fail (NumPy's pairwise sums), how many those are, and the rows that failed, as (row in
    the chunk, message, reason)."""

    loss: float
    grad: list
    used: int
    errors: list


def chunk_sums(compiled: ArrayProgram, columns: Mapping[str, object], n: int, params: Sequence[str]) -> ChunkSums:
    """The loss and its gradient over one chunk of n rows at the program's current parameters (a
    pass sums these in chunk order, here or on a cluster's workers: the same floats either way)."""
    found = compiled.rows(columns, n, params)
    if not found.errors:
        return ChunkSums(float(found.value.sum()), [g.sum() for g in found.grad.values()], n, [])
    np = numpy()
    good = np.ones(n, dtype=bool)
    errors = []
    for i, exc in found.errors.items():
        good[i] = False
        errors.append((i, exc.one_line(), getattr(exc, "reason", None)))
    return ChunkSums(float(found.value[good].sum()), [g[good].sum() for g in found.grad.values()],
                     int(good.sum()), errors)


ChunkRunner = Callable[[Iterator[tuple], dict], Iterator[tuple]]     # (where, lines, columns) -> (where, lines, sums)


class _Passes:
    """The loss and its gradient over some rows, chunk by chunk, with the rows that fail counted.
    Chunks are summed in their order, each by NumPy's pairwise sum: the same floats every run.
    `run_chunks(chunks, point)`, if given, computes the chunks' `ChunkSums` elsewhere (a cluster),
    at the parameters `point`: (where, lines, sums) for each (where, lines, columns), in order."""

    def __init__(self, program: Program, data: Data, params: list[str], strict: bool, compiled: ArrayProgram,
                 run_chunks: ChunkRunner | None = None):
        self.data = data
        self.params = params
        self.nodes = [program.inputs[name] for name in params]
        self.strict = strict
        self.compiled = compiled
        self.run_chunks = run_chunks
        self.failed_rows: set[int] = set()          # membership and count only
        self.failures = 0
        self.first_failure: str | None = None

    def point(self) -> dict[str, float]:
        return {name: node.data for name, node in zip(self.params, self.nodes)}

    def run(self, rows, when: str, reduce: str):
        """(loss, gradient array) over `rows` (sorted indices, or None for every row), reduced;
        `when` ("step 3") is for messages."""
        np = numpy()
        size = self.compiled.chunk
        chunks = self.data.chunks(size) if rows is None else self.data.take(rows, size)
        if self.run_chunks is None:
            found = ((where, lines, chunk_sums(self.compiled, columns, len(lines), self.params))
                     for where, lines, columns in chunks)
        else:
            found = self.run_chunks(chunks, self.point())
        loss, grad, used, first = 0.0, np.zeros(len(self.nodes)), 0, None
        with np.errstate(all="ignore"):                 # a sum that overflows is inf: training stops
            for where, lines, sums in found:
                message = self._failures(sums.errors, where, lines, when)
                first = first or message
                loss += sums.loss
                grad += sums.grad
                used += sums.used
        if used == 0:
            raise FitStoppedError(f"{when}: every row leaves the program's domain; the first: {first}")
        if reduce == "mean":
            return loss / used, grad / used
        return loss, grad

    def _failures(self, errors: list, where, lines, when: str):
        """The first failure's message (None when no row failed); a row whose loss overflows stops
        training, and any failing row does when strict."""
        first = None
        for i, text, reason in errors:
            message = f"{self.data.source} line {int(lines[i])}: {text}"
            if reason in OVERFLOWS:
                raise FitStoppedError(f"{when}: the loss is not finite, training diverged: {message}")
            if self.strict:
                raise FitRowError(message, when, self.point())
            self.failures += 1
            self.failed_rows.add(int(where[i]) if not isinstance(where, int) else where + i)
            self.first_failure = self.first_failure or message
            first = first or message
        return first


def parameters_of(program: Program, data: Data, freeze: Collection[str], ignore: Collection[str] = ()) -> list[str]:
    """The program's parameters: its inputs that are not columns of the data (every column but
    those in `ignore` must name an input), each with a value to start from."""
    program.check_inputs([name for name in data.names if name not in ignore], f"the columns of {data.source}")
    program.check_inputs(freeze, "cannot freeze")
    columns = [name for name in freeze if name in data.names]
    if columns:
        raise AutodiffError(f"cannot freeze {clip(columns[0])}: it is a column of {data.source}, not a parameter")
    params = [name for name in program.inputs if name not in data.names]
    if not params:
        raise AutodiffError(f"every input of the program is a column of {data.source}: there is nothing to train")
    missing = [name for name in params if program.inputs[name].data is None]
    if missing:
        raise MissingInputsError(missing, program.text, program.inputs[missing[0]].start,
                                 columns=list(data.names))
    return params


def fit(program: Program, data: Data, steps: int, optimizer: Optimizer | None = None, *, reduce: str = "sum",
        batch: int | None = None, seed: int = 0, freeze: Collection[str] = (), strict: bool = False,
        on_step: Callable[[int, float], None] | None = None, compiled: ArrayProgram | None = None,
        accumulate: bool = False, run_chunks: ChunkRunner | None = None) -> FitResult:
    """Train the program's parameters (its inputs that are not columns of `data`, starting at their
    values) for `steps` steps, minimising its output summed (`reduce="sum"`, the lecture's choice)
    or averaged ("mean") over the rows.  Each step takes every row, or with `batch` that many rows
    drawn at random without repeats (seeded by `seed`).  `freeze` names parameters that stay put.

    A row where the program leaves its domain is left out of that step's loss and counted (the
    result says how many), or with `strict` raises `FitRowError`, naming its line in the file.  A
    step whose loss is not finite (a row's loss or gradient overflowing included), or whose update
    is not, raises `FitStoppedError` with the last parameters whose loss was finite; the program
    is left at those.  `on_step(step, loss)` is told after each step.  The program is left at the
    trained parameters.  With 0 steps, the loss and its gradient over every row, nothing trained.

    `run_chunks`, if given, computes each chunk's part of a pass elsewhere (a cluster's workers):
    the chunks are summed in the same order, so the result is the same floats.

    With `accumulate`, the lecture's loop that forgets `p.grad = 0.0`: each step's gradient is
    added to the sum of the ones before it, and the update uses that sum (the gradients compound).
    """
    np = numpy()
    optimizer = optimizer or Optimizer()
    if reduce not in REDUCTIONS:
        raise AutodiffError(f"unknown reduction {clip(reduce)!r}: sum or mean")
    if seed < 0:
        raise AutodiffError(f"the seed of the batches must be at least 0, not {seed}")
    if steps < 0 or batch is not None and batch < 1:
        raise AutodiffError(f"training takes 0 or more steps of at least one row, not {steps} steps of "
                            f"{'every row' if batch is None else batch}")
    freeze = program.elements_of(freeze)
    params = parameters_of(program, data, freeze)
    moving = np.array([name not in freeze for name in params])
    if not moving.any():
        raise AutodiffError("every parameter is frozen: there is nothing to train")
    passes = _Passes(program, data, params, strict, compiled or ArrayProgram(program), run_chunks)
    theta = np.array([program.inputs[name].data for name in params], dtype=float)
    start = dict(zip(params, theta.tolist()))
    update = _updater(optimizer, moving)
    rng = Batches(seed) if batch is not None and batch < len(data) and steps else None
    losses = np.empty(steps)
    good: tuple[int, object] | None = None              # (step, parameters) of the last finite loss

    def stopped(message: str) -> FitStoppedError:
        if good is None:
            return FitStoppedError(message)
        return FitStoppedError(message, dict(zip(params, good[1].tolist())), good[0])

    def evaluate(rows, when: str):
        try:
            loss, grad = passes.run(rows, when, reduce)
        except FitStoppedError as exc:
            raise stopped(exc.message) from None
        if not math.isfinite(loss):
            raise stopped(f"{when}: the loss is {loss!r}: training diverged")
        return loss, grad

    try:
        start_loss = None if rng is None else evaluate(None, "at the start")[0]
        carried = 0.0
        for step in range(1, steps + 1):
            rows = None if rng is None else rng.draw(len(data), batch)
            loss, grad = evaluate(rows, f"step {step}")
            losses[step - 1] = loss
            good = (step, theta.copy())
            carried = carried + grad if accumulate else grad
            theta = update(theta, carried, step)
            if not np.isfinite(theta).all():
                culprit = int(np.flatnonzero(~np.isfinite(theta))[0])
                raise stopped(f"step {step} sent {params[culprit]} to {float(theta[culprit])!r}: training diverged")
            _put(passes, theta)
            if on_step is not None:
                on_step(step, loss)
        end_loss, end_grad = evaluate(None, "after the last step")
    except FitStoppedError as exc:
        if exc.point is not None:
            _put(passes, np.array(list(exc.point.values())))
        raise
    first = float(losses[0]) if steps and start_loss is None else end_loss if start_loss is None else start_loss
    return FitResult(params, start, dict(zip(params, theta.tolist())), dict(zip(params, end_grad.tolist())), losses,
                     first, end_loss, len(data), reduce,
                     None if rng is None else batch, optimizer, frozenset(freeze), steps + 1 + (rng is not None),
                     len(passes.failed_rows), passes.failures, passes.first_failure)


def _put(passes: _Passes, theta) -> None:
    for node, value in zip(passes.nodes, theta.tolist()):
        node.data = value


def _updater(optimizer: Optimizer, moving) -> Callable:
    """The optimizer's update as a function (parameters, gradient, step) -> new parameters; the
    frozen parameters' gradients are taken as 0, so they never move."""
    np = numpy()
    lr = optimizer.lr
    if optimizer.name == "sgd":
        return lambda theta, g, t: theta - lr * np.where(moving, g, 0.0)
    state = {"m": np.zeros(len(moving)), "v": np.zeros(len(moving))}
    if optimizer.name == "momentum":
        def momentum(theta, g, t):
            state["v"] = optimizer.momentum * state["v"] + np.where(moving, g, 0.0)
            return theta - lr * state["v"]
        return momentum
    b1, b2, eps = optimizer.beta1, optimizer.beta2, optimizer.eps

    def adam(theta, g, t):
        g = np.where(moving, g, 0.0)
        state["m"] = b1 * state["m"] + (1 - b1) * g
        state["v"] = b2 * state["v"] + (1 - b2) * g * g
        denominator = np.sqrt(state["v"]) / math.sqrt(1 - b2 ** t) + eps
        return theta - (lr / (1 - b1 ** t)) * state["m"] / denominator
    return adam


# Reports

def write_fit_report(program: Program, result: FitResult, out: TextIO, *, precision: int = 4, rich: bool = False,
                     max_rows: int | None = 200, cut_hint: str = "", right=None) -> None:
    """The loss of every step (as the lecture's loop prints it; evenly spaced ones and the last past
    `max_rows`, beside the right ones when `right` holds them), each parameter's start, trained value
    and gradient there, then the loss before and after."""
    from .tables import write_grid

    steps = len(result.losses)
    if steps:
        stride = 1 if max_rows is None else max(1, -(-steps // max(max_rows - 1, 1)))
        shown = sorted(set(range(0, steps, stride)) | {steps - 1})
        losses = format_column([float(result.losses[i]) for i in shown], precision)
        columns: tuple = ("step", "loss")
        rows: list = [(str(i + 1), loss) for i, loss in zip(shown, losses)]
        if right is not None:
            columns = ("step", "WRONG loss", "right loss")
            fixed = format_column([float(right[i]) for i in shown], precision)
            rows = [(*row, r) for row, r in zip(rows, fixed)]
        write_grid(out, columns, rows, numeric=set(columns), rich=rich,
                   title=f"the loss at each step, before its update ({result.reduce} over the rows)")
    names = result.names
    cut = names if max_rows is None or len(names) <= max_rows else names[:max_rows - 1]
    values = [format_column([source[name] for name in cut], precision) for source in (result.start, result.end,
                                                                                       result.grad)]
    rows = [(name, *(column[i] for column in values), "frozen" if name in result.frozen else "")
            for i, name in enumerate(cut)]
    if len(cut) < len(names):
        rows.append(f"… {len(names) - len(cut)} parameters not shown" + (f" ({cut_hint})" if cut_hint else ""))
    write_grid(out, ("parameter", "start", "trained", "grad", ""), rows, numeric={"start", "trained", "grad"},
               rich=rich, title="the parameters: where they started, where training left them, and the gradient "
                                "there")
    over = f"the {result.reduce} over {result.rows:,} row{'s' if result.rows > 1 else ''}"
    batches = "" if result.batch is None else f", steps of {result.batch:,} rows"
    out.write(f"{program.output_label}: {format_number(result.start_loss, precision)} -> "
              f"{format_number(result.end_loss, precision)} after {steps:,} step{'s' if steps != 1 else ''} "
              f"({over}; {result.optimizer.describe()}{batches})\n")


def fit_document(program: Program, result: FitResult) -> dict:
    """Strict JSON: the loss of every step, the loss over every row at the start and the end, and
    every parameter's start, trained value and gradient."""
    parameters = {name: {"start": result.start[name], "value": result.end[name], "grad": result.grad[name],
                         "frozen": name in result.frozen} for name in result.names}
    optimizer = result.optimizer
    settings = {"sgd": {}, "momentum": {"momentum": optimizer.momentum},
                "adam": {"beta1": optimizer.beta1, "beta2": optimizer.beta2, "eps": optimizer.eps}}[optimizer.name]
    return {"output": program.output_label, "reduce": result.reduce, "rows": result.rows, "batch": result.batch,
            "steps": len(result.losses), "optimizer": {"name": optimizer.name, "lr": optimizer.lr, **settings},
            "loss": result.losses, "start_loss": result.start_loss, "end_loss": result.end_loss,
            "parameters": parameters,
            "left_out": {"rows": result.left_out_rows, "times": result.left_out_times, "first": result.first_left_out}}


class FitReport(Report):
    """fit's report: a table of the parameters and the loss, JSON, or the trained parameters as
    `--set` arguments (`set`)."""

    formats = ("text", "json", "set")
    text_formats = ("text", "set")

    def __init__(self, program: Program, result: FitResult, *, precision: int = 4, max_rows: int | None = 200,
                 cut_hint: str = "", data: Data | None = None, warning: str | None = None, right=None):
        self.program = program
        self.result = result
        self.precision = precision
        self.max_rows = max_rows
        self.cut_hint = cut_hint
        self.data = data            # for the predictions at the end
        self.warning = warning      # the lecture's bug, if it is shown
        self.right = right          # with the bug: the right losses, step by step

    def write_text(self, out: TextIO, style: Style) -> None:
        from .predicting import PredictionReport

        if self.warning:
            out.write(f"# {self.warning}\n")
        write_fit_report(self.program, self.result, out, precision=self.precision, rich=style.rich,
                         max_rows=self.max_rows, cut_hint=self.cut_hint, right=self.right)
        if self.data is not None:
            PredictionReport(self.program, self.data, PREDICTION_ROWS).write_text(out, style)

    def write_set(self, out: TextIO, style: Style) -> None:
        out.write(set_arguments(self.result.end))

    def document(self) -> dict:
        document = fit_document(self.program, self.result)
        if self.warning:
            document = {"warning": self.warning, **document, "right_loss": self.right}
        return document
