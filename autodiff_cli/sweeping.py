"""Sweeps: one program at many points, a chunk at a time, on the array engine (`arrays`).

The points come from `points` (ranges, grids, files); each chunk's rows come from
`ArrayProgram.rows`, which runs every suspect point again on the scalar engine, so a failed
point's message is exactly a single-point `eval`'s.  Chunks come out in order, numbered, for the
writers in `sweep_output`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Mapping

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
          on_progress: Callable[[int], None] | None = None, runner: Runner | None = None) -> Iterator[Chunk]:
    """Run `program` at every point, a chunk at a time.

    Inputs the points do not give keep their current value (a default, or one
    set before).  With `strict`, the first point that fails raises its error
    (as a single-point run would) instead of being recorded.  `on_progress(n)`
    is told after each chunk how many points are done.  `runner`, if given,
    runs the chunks elsewhere (a cluster's): it is handed the program, its
    `ArrayProgram`, (first point, columns) per chunk and `strict`, and gives
    back the chunks in the same order.
    """
    program.check_inputs(points.names)
    missing = [name for name, value in program.point().items() if value is None and name not in points.names]
    if missing:
        raise MissingInputsError(missing, program.text, program.inputs[missing[0]].start)
    compiled = ArrayProgram(program)
    pieces = _numbered(points.chunks(compiled.chunk))
    chunks = (run_chunk(program, columns, start, strict, compiled) for start, columns in pieces) \
        if runner is None else runner(program, compiled, pieces, strict)
    done = 0
    for chunk in chunks:
        done += len(chunk)
        if on_progress is not None:
            on_progress(done)
        yield chunk
    if not done:
        raise AutodiffError(f"{getattr(points, 'source', 'the sweep')}: no points to run at (a header alone?)")


Runner = Callable[[Program, ArrayProgram, Iterator[tuple[int, Mapping[str, object]]], bool], Iterable[Chunk]]


def _numbered(chunks: Iterable[Mapping[str, object]]) -> Iterator[tuple[int, Mapping[str, object]]]:
    """Each chunk of points with the number of its first point in the sweep."""
    start = 0
    for columns in chunks:
        yield start, columns
        start += points_in(columns)


def points_in(columns: Mapping[str, object]) -> int:
    return len(next(iter(columns.values()))) if columns else 1


def run_chunk(program: Program, columns: Mapping[str, object], start: int = 0, strict: bool = False,
              compiled: ArrayProgram | None = None) -> Chunk:
    """The program at the points of `columns` (input name -> array, all of one length).
    `compiled` is the program's `ArrayProgram`, when the caller runs many chunks."""
    n = points_in(columns)
    rows = (compiled or ArrayProgram(program)).rows(columns, n, list(program.inputs), strict)
    return chunk_of(program, columns, start, rows.value, rows.grad,
                    {i: exc.one_line() for i, exc in rows.errors.items()})


def chunk_of(program: Program, columns: Mapping[str, object], start: int, value, grad: dict,
             errors: dict[int, str]) -> Chunk:
    """A chunk from its results: every input's values (the swept ones from `columns`) beside them."""
    n = len(value)
    inputs = {name: column(columns[name] if name in columns else node.data, n)
              for name, node in program.inputs.items()}
    return Chunk(start, inputs, value, grad, errors)
