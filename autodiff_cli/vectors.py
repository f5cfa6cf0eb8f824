"""Vectors and matrices: sugar that the parser expands to scalar nodes.

A `Tensor` lives only while a program is parsed: a shape and its scalar nodes in row-major
order.  Every operation on tensors makes the scalar nodes a user would get by writing each
element out by hand: `u*v` is `u[0]*v[0]`, `u[1]*v[1]`, ...; `dot(u, v)` is
`u[0]*v[0] + u[1]*v[1] + ...`, summed left to right as the parser reads a written-out sum;
`W @ x` is one such dot product per row of W.  So nothing after the parser knows about vectors
but the names of their elements (`z[0]`, `W[1][2]`) and the shapes reports group them by.

The functions here make nodes through a `make(op, operands, label)` the parser gives them (it
places them in the text and in the graph); they raise `ShapeError`, which the parser turns into
an error at the expression with its line and column.
"""
from __future__ import annotations

import math
import os
from functools import lru_cache
from itertools import product
from typing import Callable, Sequence, Union

from . import ops
from .engine import Value

MAX_NODES = 10_000_000          # about 3 GB of graph; a vector expression that would pass it is refused
NODES_SETTING = "AUTODIFF_MAX_NODES"

Make = Callable[[ops.Op, tuple, str], Value]      # op, operand nodes, label -> a new node in the graph


class ShapeError(ValueError):
    """Operands whose shapes do not fit the operation (the message says both)."""


class Tensor:
    """A vector (`shape` (n,)) or matrix ((m, n)) of scalar nodes, `items` in row-major order;
    `literal` when written as numbers only (`[2.0, -1]`), which an assignment makes an input."""

    __slots__ = ("shape", "items", "literal")

    def __init__(self, shape: tuple[int, ...], items: list[Value], literal: bool = False):
        self.shape = shape
        self.items = items
        self.literal = literal

    def __len__(self) -> int:
        return self.shape[0]

    def part(self, i: int) -> Value | Tensor:
        """Element i of a vector, row i of a matrix."""
        if len(self.shape) == 1:
            return self.items[i]
        width = len(self.items) // self.shape[0]
        return Tensor(self.shape[1:], self.items[i * width:(i + 1) * width])


Operand = Union[Value, Tensor]


def describe(shape: tuple[int, ...]) -> str:
    """`a vector of 3`, `a 2×3 matrix`, `a number`."""
    if not shape:
        return "a number"
    if len(shape) == 1:
        return f"a vector of {shape[0]}"
    return f"a {'×'.join(map(str, shape))} matrix"


def shape_of(x: Operand) -> tuple[int, ...]:
    return x.shape if type(x) is Tensor else ()


def element_names(name: str, shape: tuple[int, ...]) -> list[str]:
    """`z[0]`, `z[1]`, ... or `W[0][0]`, `W[0][1]`, ... in row-major order."""
    return [name + index for index in _indices(shape)]


@lru_cache(maxsize=256)
def _indices(shape: tuple[int, ...]) -> tuple[str, ...]:
    """`[0]`, `[1]`, ... (`[0][0]`, ...) for a shape: written once per shape, not per element."""
    return tuple("".join(f"[{i}]" for i in index) for index in product(*map(range, shape)))


@lru_cache(maxsize=1)
def max_nodes() -> int:
    """The most nodes one vector expression may add: MAX_NODES, or the environment's setting (read
    once: a parse asks at every vector operation)."""
    setting = os.environ.get(NODES_SETTING, "")
    return int(setting) if setting.isdigit() and int(setting) > 0 else MAX_NODES


def check_size(count: int, what: str) -> None:
    ceiling = max_nodes()
    if count > ceiling:
        raise ShapeError(f"{what} would make {count:,} nodes, more than the ceiling of {ceiling:,} "
                         f"(the {NODES_SETTING} setting raises it)")


def elementwise(make: Make, op: ops.Op, operands: Sequence[Operand], label: str) -> Tensor:
    """`op` applied element by element; a number goes with every element, and tensors must have
    the same shape."""
    shapes = [x.shape for x in operands if type(x) is Tensor]
    shape = shapes[0]
    for other in shapes[1:]:
        if other != shape:
            raise ShapeError(f"{op.symbol} needs operands of the same shape, not {describe(shape)} and "
                             f"{describe(other)}")
    count = len(operands[0].items) if type(operands[0]) is Tensor else len(operands[1].items)
    check_size(count, label)
    columns = [x.items if type(x) is Tensor else [x] * count for x in operands]
    names = element_names(label if _plain(label) else f"({label})", shape)
    return Tensor(shape, [make(op, operands, name) for operands, name in zip(zip(*columns), names)])


def _plain(label: str) -> bool:
    """Whether `label[0]` reads as indexing the whole label: a name, a call or a bracketed group."""
    return label.replace("_", "a").isalnum() or (label.endswith((")", "]")) and _balanced_tail(label))


def _balanced_tail(label: str) -> bool:
    """The closing bracket at the end opens at the start or just after a name (`tanh(...)`)."""
    depth = 0
    for i in range(len(label) - 1, -1, -1):
        depth += {")": 1, "]": 1, "(": -1, "[": -1}.get(label[i], 0)
        if depth == 0:
            return label[:i].replace("_", "a").isalnum() or i == 0
    return False


def fold(make: Make, op: ops.Op, items: Sequence[Value], label: str, name: Callable[[Value], str]) -> Value:
    """items[0] op items[1] op ... from the left, as the parser reads `a + b + c`; the last node is
    labelled `label`, the partial ones by what they hold."""
    check_size(len(items), label)
    total = items[0]
    text = name(total)
    for k, item in enumerate(items[1:], 2):
        text = _join(op, text, name(item))
        total = make(op, (total, item), label if k == len(items) else text)
    return total


def _join(op: ops.Op, left: str, right: str) -> str:
    written = f"{op.name}({left}, {right})" if op.is_function else f"{left} {op.symbol} {right}"
    return written if len(written) <= 40 else written[:39] + "…"


def dot(make: Make, u: Sequence[Value], v: Sequence[Value], label: str, name: Callable[[Value], str]) -> Value:
    """u[0]*v[0] + u[1]*v[1] + ... from the left: each product made just before it is added, as
    the parser makes a written-out sum of products."""
    check_size(2 * len(u), label)
    if len(u) == 1:
        return make(ops.MUL, (u[0], v[0]), label)
    first = make(ops.MUL, (u[0], v[0]), f"{name(u[0])}*{name(v[0])}")
    total, text = first, name(first)
    for k in range(1, len(u)):
        term = make(ops.MUL, (u[k], v[k]), f"{name(u[k])}*{name(v[k])}")
        text = _join(ops.ADD, text, name(term))
        total = make(ops.ADD, (total, term), label if k == len(u) - 1 else text)
    return total


def matmul(make: Make, a: Operand, b: Operand, label: str, name: Callable[[Value], str]) -> Operand:
    """`a @ b` for a matrix or vector on each side, as NumPy's `@`: (m, n) @ (n,) is (m,),
    (n,) @ (n, p) is (p,), (m, n) @ (n, p) is (m, p), and (n,) @ (n,) a number."""
    sa, sb = shape_of(a), shape_of(b)
    if not sa or not sb:
        raise ShapeError(f"@ multiplies vectors and matrices, not {describe(sa)} and {describe(sb)}: "
                         "write * for numbers")
    inner_a, inner_b = sa[-1], sb[0]
    if inner_a != inner_b:
        raise ShapeError(f"@ needs the columns of the left to match the rows of the right: "
                         f"{describe(sa)} @ {describe(sb)}")
    rows = sa[0] if len(sa) == 2 else None
    cols = sb[1] if len(sb) == 2 else None
    check_size(2 * inner_a * (rows or 1) * (cols or 1), label)
    left = [a.part(i).items for i in range(rows)] if rows is not None else [a.items]
    right = ([[b.items[k * cols + j] for k in range(inner_b)] for j in range(cols)] if cols is not None
             else [b.items])
    shape = tuple(n for n in (rows, cols) if n is not None)
    if not shape:
        return dot(make, left[0], right[0], label, name)
    names = element_names(f"({label})", shape)
    items = [dot(make, row, column, names[len(right) * i + j], name)
             for i, row in enumerate(left) for j, column in enumerate(right)]
    return Tensor(shape, items)


def logsumexp(make: Make, items: Sequence[Value], label: str, name: Callable[[Value], str]) -> Value:
    """log(exp(v[0]) + exp(v[1]) + ...) as a fold of `logaddexp`, which never overflows."""
    if len(items) == 1:
        return items[0]
    return fold(make, ops.FUNCTIONS["logaddexp"], items, label, name)


def softmax(make: Make, items: Sequence[Value], shape: tuple[int, ...], label: str,
            name: Callable[[Value], str]) -> Tensor:
    """exp(v[i] - logsumexp(v)) for each i: every exponent is at most 0, so nothing overflows."""
    total = logsumexp(make, items, f"logsumexp({label})", name)
    names = element_names(f"softmax({label})", shape)
    shifted = [make(ops.SUB, (item, total), f"{name(item)} - logsumexp({label})") for item in items]
    return Tensor(shape, [make(ops.EXP, (x,), n) for x, n in zip(shifted, names)])


def index_of(value: float, length: int) -> int:
    """A literal whole number as an index into `length` elements (negative counts from the end)."""
    if not (math.isfinite(value) and value == int(value)):
        raise ShapeError(f"an index is a whole number, not {value!r}")
    i = int(value)
    if not -length <= i < length:
        raise ShapeError(f"index {i} is out of range for {length} element{'s' if length != 1 else ''} "
                         f"(0 to {length - 1}, or -{length} to -1 from the end)")
    return i % length
