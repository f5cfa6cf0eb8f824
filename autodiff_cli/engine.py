"""The engine: `Value` nodes, topological order, forward and backward passes.

A `Value` is micrograd's: `data`, `grad`, the ordered tuple of its `inputs`
(so `a + a` has two edges and gives `a` a gradient of 2), its `op` from the op
table, and a `label`.  Nodes made by the parser also keep their span in the
source, so a report can label an unnamed node by its own text and an error can
point at it.

Nothing here recurses: the topological order is built with an explicit stack,
and the passes are plain loops, so graphs a million nodes deep work.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from . import ops
from .errors import AutodiffError
from .ops import Op


class Value:
    """A scalar in a computation graph, with its gradient."""

    __slots__ = ("data", "grad", "inputs", "op", "label", "start", "end", "index")

    def __init__(self, data: float | None = None, inputs: tuple[Value, ...] = (), op: Op = ops.INPUT,
                 label: str | None = None, start: int = -1, end: int = -1):
        self.data = data
        self.grad = 0.0
        self.inputs = inputs
        self.op = op
        self.label = label
        self.start = start      # span in the program text; -1 for nodes built in Python
        self.end = end
        self.index = -1         # position in a program's topological order

    def __repr__(self) -> str:
        name = f"{self.label}|" if self.label else ""
        return f"Value({name}data={self.data}, grad={self.grad})"

    # Building graphs from Python, as in the lecture: a = Value(2.0, label="a"); L = a * b
    def _apply(self, op: Op, *operands: Value | float) -> Value:
        nodes = tuple(x if isinstance(x, Value) else Value(float(x), op=ops.CONST) for x in operands)
        out = Value(None, nodes, op)
        forward([out])
        return out

    def __add__(self, other): return self._apply(ops.ADD, self, other)
    def __radd__(self, other): return self._apply(ops.ADD, other, self)
    def __sub__(self, other): return self._apply(ops.SUB, self, other)
    def __rsub__(self, other): return self._apply(ops.SUB, other, self)
    def __mul__(self, other): return self._apply(ops.MUL, self, other)
    def __rmul__(self, other): return self._apply(ops.MUL, other, self)
    def __truediv__(self, other): return self._apply(ops.DIV, self, other)
    def __rtruediv__(self, other): return self._apply(ops.DIV, other, self)
    def __neg__(self): return self._apply(ops.NEG, self)

    def __pow__(self, other):
        op = ops.POW if isinstance(other, Value) and other.op is not ops.CONST else ops.POW_CONSTANT_EXPONENT
        return self._apply(op, self, other)

    def __rpow__(self, other): return self._apply(ops.POW, other, self)
    def tanh(self): return self._apply(ops.TANH, self)
    def exp(self): return self._apply(ops.EXP, self)
    def log(self): return self._apply(ops.LOG, self)
    def sqrt(self): return self._apply(ops.SQRT, self)
    def relu(self): return self._apply(ops.RELU, self)
    def sigmoid(self): return self._apply(ops.SIGMOID, self)
    def sin(self): return self._apply(ops.SIN, self)
    def cos(self): return self._apply(ops.COS, self)
    def __abs__(self): return self._apply(ops.ABS, self)

    def backward(self) -> None:
        """Fill in d self / d node for every node that feeds this one.

        Idempotent: gradients are reset to zero first, so calling it twice gives
        the same gradients (unlike the lecture's version, which accumulates).
        """
        backward(topological_order(self))


class NumericError(AutodiffError):
    """A value or gradient left the real numbers at `node`; the caller adds where."""

    def __init__(self, node: Value, reason: str):
        super().__init__(f"{reason} at {node!r}")
        self.node = node
        self.reason = reason


def topological_order(root: Value) -> list[Value]:
    """Every node `root` depends on, inputs before the nodes that use them, `root` last.

    Depth-first with an explicit stack (no recursion); inputs are visited in
    their order, so the result is the same on every run.
    """
    order: list[Value] = []
    done: set[int] = set()          # membership only; the order never comes from it
    stack: list[tuple[Value, int]] = [(root, 0)]
    while stack:
        node, next_input = stack.pop()
        if next_input < len(node.inputs):
            stack.append((node, next_input + 1))
            child = node.inputs[next_input]
            if id(child) not in done:
                stack.append((child, 0))
        elif id(node) not in done:
            done.add(id(node))
            order.append(node)
    return order


def forward(order: Iterable[Value]) -> None:
    """Recompute `data` of every computed node, in topological order."""
    node = None
    try:
        for node in order:
            inputs = node.inputs
            if not inputs:
                continue
            if len(inputs) == 1:
                out = node.op.forward(inputs[0].data)
            else:
                out = node.op.forward(inputs[0].data, inputs[1].data)
            if out - out != 0.0:                  # inf or nan
                raise OverflowError("the result is too large for a float")
            node.data = out
    except (ArithmeticError, ValueError) as exc:
        raise NumericError(node, _reason(exc)) from None


def backward(order: Sequence[Value]) -> None:
    """Reverse-mode pass: d order[-1] / d node for every node, accumulated with +=.

    Resets every gradient first, so it is idempotent.
    """
    for node in order:
        node.grad = 0.0
    order[-1].grad = 1.0
    node = None
    try:
        for node in reversed(order):
            inputs = node.inputs
            if not inputs:
                continue
            g = node.grad
            if len(inputs) == 1:
                x = inputs[0]
                x.grad += g * node.op.derivative(x.data, node.data)
            else:
                x, y = inputs
                dx, dy = node.op.derivative(x.data, y.data, node.data)
                x.grad += g * dx
                y.grad += g * dy
    except (ArithmeticError, ValueError) as exc:
        raise NumericError(node, _reason(exc)) from None
    for node in reversed(order):
        if node.grad - node.grad != 0.0:
            raise NumericError(node, "the gradient is too large for a float")


def local_derivatives(node: Value) -> tuple[float, ...]:
    """d node / d input for each of the node's inputs, at the current data."""
    if not node.inputs:
        return ()
    local = node.op.derivative(*(x.data for x in node.inputs), node.data)
    return (local,) if len(node.inputs) == 1 else local


def _reason(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, OverflowError) or "out of range" in text:
        return "the result is too large for a float"
    if text == "math domain error":
        return "outside the function's domain"
    return text
