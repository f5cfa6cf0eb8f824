"""The array engine: a program run at many points at once, every node's data an array.

Each chunk of points runs the graph once: every node's data is computed by its op's array rule
from the op table, and the backward pass accumulates array gradients with the op's rule texts
(`rules.local_derivative`), evaluated over arrays.

Exactness is one policy, owned here (`ArrayProgram.rows`): a point where any op refuses its
operands, or where a value or a wanted gradient is not finite, is run again by the scalar
engine, which gives the same error (op, place and reason) as a single-point `eval`, or the
numbers if the array pass was only suspicious.  Every other point is the array pass's own
result, which agrees with the scalar engine to within a few units in the last place (NumPy's
exp, tanh, sin... are not always Python's).  Sweeps, plots and training all run rows here.

NumPy is imported here only, so a single-point command never pays for it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from . import ops
from .errors import AutodiffError
from .points import MAX_CHUNK, numpy
from .program import Program

CHUNK_BYTES = 1 << 24           # aim for about 16 MB of node arrays per chunk


MMAP_THRESHOLD = 1 << 26        # arrays below 64 MB come from the heap, and are reused
TRIM_THRESHOLD = 1 << 28        # the heap keeps up to 256 MB of freed memory for the next chunk
_HEAP_SET = False


def keep_temporaries_in_the_heap() -> None:
    """glibc serves an allocation above its mmap threshold (128 KB at first, then as large as the
    largest freed) with fresh pages from the kernel: every chunk's temporaries (512 KB at 65,536
    rows) page-fault anew, a third of a training step's CPU.  Raised thresholds keep them in the
    heap: `fit`'s step on the lecture's MLP over 10^5 rows went from 183 to 82 ms and from 25,843 to
    208 page faults (bench/fit.py).  Elsewhere (not glibc) nothing is done."""
    global _HEAP_SET
    if _HEAP_SET:
        return
    _HEAP_SET = True
    import ctypes
    import os
    import sys

    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return                                  # a user's own setting stands
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    mallopt(-3, MMAP_THRESHOLD)                 # M_MMAP_THRESHOLD
    mallopt(-1, TRIM_THRESHOLD)                 # M_TRIM_THRESHOLD


def chunk_size(nodes: int) -> int:
    """Points per chunk: large enough to keep NumPy busy, small enough for the node arrays to fit."""
    return max(64, min(MAX_CHUNK, CHUNK_BYTES // (16 * max(nodes, 1))))


@dataclass
class Rows:
    """A program at n points: the output's value and the wanted inputs' gradients per point
    (read-only arrays, possibly broadcast views), and the points that failed, with their error.
    A failed point's numbers are NaN; elsewhere a NaN gradient is one that does not exist."""

    value: object
    grad: dict[str, object]
    errors: dict[int, AutodiffError] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.value)


class ArrayProgram:
    """A program ready to run over arrays: its local derivatives written once as expressions of
    its nodes (the op table's rules, simplified for this program's constants)."""

    def __init__(self, program: Program):
        keep_temporaries_in_the_heap()
        self.program = program
        self.chunk = chunk_size(len(program.nodes))
        self._derivatives: list | None = None
        self.varies = [False] * len(program.nodes)        # depends on an input: only these need a gradient
        for node in program.nodes:
            self.varies[node.index] = node.op is ops.INPUT or any(self.varies[x.index] for x in node.inputs)

    @property
    def derivatives(self) -> list[list]:
        """Each node's local derivatives as expressions of the nodes, written when first needed."""
        if self._derivatives is None:
            from .rules import local_derivative, node_refs

            refs = node_refs(self.program)
            self._derivatives = [[local_derivative(node, k, refs) for k in range(len(node.inputs))]
                                 for node in self.program.nodes]
        return self._derivatives

    def forward(self, columns: Mapping[str, object], n: int):
        """Every node's data over the points (an array, or a float where it does not vary), and a
        mask of the points to run again: an op refused them, or some value is not finite."""
        np = numpy()
        program = self.program
        data: list = [None] * len(program.nodes)
        suspect = np.zeros(n, dtype=bool)
        total = np.zeros(n)
        with np.errstate(all="ignore"):
            for name, node in program.inputs.items():
                data[node.index] = columns[name] if name in columns else np.float64(node.data)
            for i, node in enumerate(program.nodes):
                if node.op is ops.CONST:
                    data[i] = np.float64(node.data)    # NumPy's rules even for constants: 1/0 is inf
                elif node.inputs:
                    xs = [data[x.index] for x in node.inputs]
                    if node.op.refuse:
                        suspect |= node.op.refuses(np, *xs)
                    data[i] = node.op.array(np, *xs)
                    total += data[i]
        suspect |= ~np.isfinite(total)
        return data, suspect

    def backward(self, data: list, n: int):
        """d output / d node over the points for every node that depends on an input (0 for the
        others, and where the output does not depend on it), and a mask of the points where an
        intermediate of a rule is not finite (there the gradient is too large, as the scalar
        engine says: those points are run again)."""
        from .rules import evaluate_array

        np = numpy()
        program, varies = self.program, self.varies
        grads: list = [None] * len(program.nodes)
        grads[program.output.index] = 1.0
        bad = np.zeros(n, dtype=bool)
        with np.errstate(all="ignore"):
            for i in range(program.output.index, -1, -1):
                node, g = program.nodes[i], grads[i]
                if g is None or not node.inputs:
                    continue
                for x, e in zip(node.inputs, self.derivatives[i]):
                    if not varies[x.index]:
                        continue
                    d = evaluate_array(e, data, np, bad)
                    contribution = g if isinstance(d, float) and d == 1.0 else g * d    # + passes g on, uncopied
                    j = x.index
                    grads[j] = contribution if grads[j] is None else grads[j] + contribution
        return [0.0 if g is None else g for g in grads], bad

    def rows(self, columns: Mapping[str, object], n: int, wanted: Sequence[str], strict: bool = False) -> Rows:
        """The output and the `wanted` inputs' gradients at the points of `columns` (input name ->
        array of n values; other inputs keep their value), every suspect point run again by the
        scalar engine.  With `strict`, the first point that fails raises its error."""
        np = numpy()
        program = self.program
        data, suspect = self.forward(columns, n)
        grads, bad = self.backward(data, n)
        suspect |= bad
        value = column(data[program.output.index], n)
        grad = {name: column(grads[program.inputs[name].index], n) for name in wanted}
        for g in grad.values():
            suspect |= ~np.isfinite(g)
        suspects = np.flatnonzero(suspect)
        if not len(suspects):
            return Rows(value, grad)
        value = value.copy()                # writable, and no longer shared with another column
        grad = {name: g.copy() for name, g in grad.items()}
        errors = {}
        with program.at():                  # every input's value put back afterwards
            for i in suspects.tolist():
                try:
                    program.set({name: float(values[i]) for name, values in columns.items()})
                    program.run()
                except AutodiffError as exc:
                    if strict:
                        raise
                    errors[i] = exc
                    value[i] = math.nan
                    for g in grad.values():
                        g[i] = math.nan
                    continue
                value[i] = program.value
                for name in wanted:
                    node_grad = program.inputs[name].grad
                    grad[name][i] = math.nan if node_grad is None else node_grad
        return Rows(value, grad, errors)


def column(x, n: int):
    """`x` (an array, or a number that does not vary) as n floats: a read-only view, not a copy."""
    np = numpy()
    return np.broadcast_to(np.asarray(x, dtype=float), (n,))
