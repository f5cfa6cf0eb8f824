"""Sweeps: one program at many points, a chunk at a time, on the array engine (`arrays`).

The points come from `points` (ranges, grids, files); each chunk's rows come from
`ArrayProgram.rows`, which runs every suspect point again on the scalar engine, so a failed
point's message is exactly a single-point `eval`'s.  Chunks come out in order, numbered, for the
writers in `sweep_output`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator, Mapping

from .arrays import ArrayProgram, column
from .errors import AutodiffError, MissingInputsError
from .points import Points
from .program import Program


@dataclass
class Chunk:
    """The results at consecutive points: `start` is the first one's number in the sweep.

    `inputs` holds every input's values (swept or fixed), `value` the output's,
    `grad` d output / d input.  A point in `errors` (chunk-relative index ->
    message) failed: its value and gradients are NaN.  Elsewhere a NaN
    gradient is one that does not exist (`null` in JSON, as in `eval`).
    """

    start: int
    inputs: dict
    value: object
    grad: dict
    errors: dict[int, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.value)


def sweep(program: Program, points: Points, *, strict: bool = False,
          on_progress: Callable[[int], None] | None = None) -> Iterator[Chunk]:
    """Run `program` at every point, a chunk at a time.

    Inputs the points do not give keep their current value (a default, or one
    set before).  With `strict`, the first point that fails raises its error
    (as a single-point run would) instead of being recorded.  `on_progress(n)`
    is told after each chunk how many points are done.
    """
    program.check_inputs(points.names)
    missing = [name for name, value in program.point().items() if value is None and name not in points.names]
    if missing:
        raise MissingInputsError(missing, program.text, program.inputs[missing[0]].start)
    compiled = ArrayProgram(program)
    start = 0
    for columns in points.chunks(compiled.chunk):
        chunk = run_chunk(program, columns, start, strict, compiled)
        start += len(chunk)
        if on_progress is not None:
            on_progress(start)
        yield chunk
    if not start:
        raise AutodiffError(f"{getattr(points, 'source', 'the sweep')}: no points to run at (a header alone?)")


def run_chunk(program: Program, columns: Mapping[str, object], start: int = 0, strict: bool = False,
              compiled: ArrayProgram | None = None) -> Chunk:
    """The program at the points of `columns` (input name -> array, all of one length).
    `compiled` is the program's `ArrayProgram`, when the caller runs many chunks."""
    n = len(next(iter(columns.values()))) if columns else 1
    rows = (compiled or ArrayProgram(program)).rows(columns, n, list(program.inputs), strict)
    inputs = {name: column(columns[name] if name in columns else node.data, n)
              for name, node in program.inputs.items()}
    return Chunk(start, inputs, rows.value, rows.grad, {i: exc.one_line() for i, exc in rows.errors.items()})
