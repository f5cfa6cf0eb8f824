"""The engine: `Value` nodes, topological order, forward and backward passes.

A `Value` is micrograd's: `data`, `grad`, the ordered tuple of its `inputs`
(so `a + a` has two edges and gives `a` a gradient of 2), its `op` from the op
table, and a `label`.  It also answers to the lecture's own names (`_prev`,
`_op`, `_backward()`), so the lecture's notebook cells run on it unchanged.
Nodes made by the parser also keep their span in the source, so a report can
label an unnamed node by its own text and an error can point at it.

Nothing here recurses: the topological order is built with an explicit stack,
and the passes are plain loops, so graphs a million nodes deep work.
"""
from __future__ import annotations

import math
from operator import attrgetter
from typing import Iterable, Sequence

from . import ops
from .errors import AutodiffError
from .ops import Op


class Value:
    """A scalar in a computation graph, with its gradient."""

    __slots__ = ("data", "grad", "inputs", "op", "label", "start", "end", "index", "closure")

    def __init__(self, data: float | None = None, inputs: tuple[Value, ...] = (), op: Op | str = ops.INPUT,
                 label: str | None = "", start: int = -1, end: int = -1):
        if isinstance(op, str):             # the lecture's Value(data, (x,), 'sigmoid'): its `_backward` is set by hand
            op = ops.PythonOp(op, len(inputs)) if inputs else ops.INPUT
        self.data = data
        self.grad = 0.0
        self.inputs = tuple(inputs)
        self.op = op
        self.label = label                  # '' as the lecture's, None for a node the parser leaves unnamed
        self.start = start      # span in the program text; -1 for nodes built in Python
        self.end = end
        self.index = -1         # position in a program's topological order

    def __repr__(self) -> str:
        name = f"{self.label}|" if self.label else ""
        return f"Value({name}data={self.data}, grad={self.grad})"

    # Building graphs from Python, as in the lecture: a = Value(2.0, label="a"); L = a * b.
    # The operators and methods (a.tanh()) are installed from the op table below.
    def _apply(self, op: Op, *operands: Value | float) -> Value:
        nodes = tuple(x if isinstance(x, Value) else Value(float(x), op=ops.CONST, label=None) for x in operands)
        out = Value(None, nodes, op)
        forward([out])
        return out

    def backward(self, accumulate: bool = False) -> None:
        """Fill in d self / d node for every node that feeds this one.

        Idempotent: gradients are reset to zero first, so calling it twice gives
        the same gradients.  With `accumulate`, micrograd's own `backward`: no reset,
        `self.grad = 1`, then every node's `_backward()` adds onto the gradients the
        nodes hold (a training loop that forgets `p.grad = 0.0` compounds them).
        """
        order = topological_order(self)
        if not accumulate:
            backward(order)
            return
        self.grad = 1.0
        for node in reversed(order):
            node._backward()

    @property
    def _backward(self):
        """The lecture's closure: this node's own step of the chain rule (the one set by hand, for
        a node made as `Value(t, (x,), 'sigmoid')`)."""
        step = getattr(self, "closure", None)
        return step if step is not None else self._chain_rule_step

    @_backward.setter
    def _backward(self, step) -> None:
        self.closure = step

    # The lecture's own names for a node's parts, so its notebook cells run unchanged on this Value.
    # The package itself never uses them: it walks the ordered `inputs` and reads `op`.

    @property
    def _prev(self) -> set[Value]:
        """The operands as the set the lecture's Value keeps and prints (`a + a` has one)."""
        return set(self.inputs)

    @property
    def _op(self) -> str:
        """The op as the lecture's Value names it: '+', '*', 'tanh', 'exp', '' for a leaf; a power
        with a constant exponent shows it, as micrograd's f'**{other}' does ('**2', '**-1')."""
        if not self.inputs:
            return ""
        if self.op is ops.POW and self.inputs[1].op is ops.CONST:
            exponent = float(self.inputs[1].data)
            return f"**{int(exponent) if exponent.is_integer() else exponent}"
        return self.op.symbol

    def _chain_rule_step(self) -> None:
        """The lecture's closure: this node's own step of the chain rule and nothing else.  Each
        operand's `grad` gets this node's `grad` times its local derivative (from the op table)
        added with +=, so `a + a` gives `a` two shares, and calling it again adds again, exactly as
        the lecture's does.  A leaf's does nothing.

        A local derivative that does not exist makes that operand's gradient None, as `backward`
        leaves it; towards an input it is an error, as in `backward`.
        """
        if not self.inputs:
            return
        if self.op.derivative is None:
            raise NumericError(self, _NO_STEP)
        try:
            local = local_derivatives(self)
        except (ArithmeticError, ValueError) as exc:
            raise NumericError(self, _reason(exc, ops.GRADIENT_TOO_LARGE)) from None
        for k, (x, derivative) in enumerate(zip(self.inputs, local)):
            if derivative is None and x.op is ops.INPUT:
                raise NumericError(self, self.op.why_undefined(k, tuple(i.data for i in self.inputs), self.data)
                                   or ops.NO_DERIVATIVE)
        g = self.grad
        for x, derivative in zip(self.inputs, local):
            if derivative is None or g is None or x.grad is None:
                x.grad = None
            else:
                x.grad += g * derivative
                if not math.isfinite(x.grad):
                    raise NumericError(self, ops.GRADIENT_TOO_LARGE)


def _install(op: Op, added: bool = True) -> None:
    """The op's `Value` method (`__add__`, `tanh`) and reflected operator (`__radd__`), if it has
    them; taken away again when the op leaves the table."""
    if not added:
        for method in (op.method, op.reflected):
            if method and method in vars(Value):
                delattr(Value, method)
        return
    if op.method:
        setattr(Value, op.method, lambda self, *other: self._apply(op, self, *other))
    if op.reflected:
        setattr(Value, op.reflected, lambda self, other: self._apply(op, other, self))


for _op in ops.all_ops():
    _install(_op)
ops.on_register(_install)       # a function added to the table later gets its method too


class NumericError(AutodiffError):
    """A value or gradient left the real numbers at `node`; a program adds where in the text."""

    def __init__(self, node: Value, reason: str):
        operands = ", ".join(repr(x.data) for x in node.inputs)
        super().__init__(f"{node.op.symbol}({operands}): {reason}")
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
    """Recompute `data` of every computed node, in topological order.

    Finiteness is checked once for the whole pass (a sum of every value is
    finite only if each value is), and only a pass that fails it looks for the
    first node that overflowed: the loop itself stays as plain as the lecture's.
    A graph with gates (`where`) whose plain pass fails is run again by `forward_gated`.
    """
    nodes = order if isinstance(order, list) else list(order)
    node = None
    try:
        for node in nodes:
            inputs = node.inputs
            if not inputs or node.op.forward is None:      # a leaf, or an op made in Python: its data as given
                continue
            if len(inputs) == 1:
                node.data = node.op.forward(inputs[0].data)
            else:
                node.data = node.op.forward(inputs[0].data, inputs[1].data)
        finite = math.isfinite(sum(map(_DATA, nodes)))
    except (ArithmeticError, ValueError, TypeError) as exc:
        if has_gates(nodes):
            forward_gated(nodes)
            return
        if isinstance(exc, TypeError):
            raise
        overflowed = _first_not_finite(nodes[:nodes.index(node)], "data")
        if overflowed is not None:          # an op refused an infinity that an earlier node produced
            raise NumericError(overflowed, ops.TOO_LARGE) from None
        raise NumericError(node, _reason(exc)) from None
    if not finite:
        if has_gates(nodes):
            forward_gated(nodes)
            return
        overflowed = _first_not_finite(nodes, "data")
        if overflowed is not None:
            raise NumericError(overflowed, ops.TOO_LARGE)


def has_gates(nodes: Sequence[Value]) -> bool:
    """Whether an op of the graph leaves an operand unused somewhere (`where`'s `when`, `unless`)."""
    return any(node.op.gate is not None for node in nodes)


def forward_gated(nodes: Sequence[Value]) -> None:
    """The forward pass of a graph with gates, where a node only a closed gate uses is not needed:
    its domain and overflows do not matter.  Each node that cannot be computed (an op refuses its
    operands, a value overflows, an operand could not be computed) is left without a value (None);
    the pass fails only if a node that nothing uses (the output, or a statement kept unused, as in
    a derivative program) needs one of them, at the first (in topological order) that one needs,
    with its reason, as `forward` would."""
    failed: dict[int, tuple[Value, str]] = {}       # id -> (the node where it started, why)
    for node in nodes:
        inputs = node.inputs
        if not inputs or node.op.forward is None:
            continue
        closed = _closed(node)
        cause = next((failed.get(id(x), (x, ops.TOO_LARGE)) for k, x in enumerate(inputs)
                      if (id(x) in failed or x.data is None) and not (closed and k == 1)), None)
        if cause is None:
            try:
                value = node.op.forward(*(0.0 if closed and k == 1 else x.data for k, x in enumerate(inputs)))
                cause = None if math.isfinite(value) else (node, ops.TOO_LARGE)
            except (ArithmeticError, ValueError) as exc:
                cause = (node, _reason(exc))
        if cause is None:
            node.data = value
        else:
            failed[id(node)] = cause
            node.data = None
    used = {id(x) for node in nodes for x in node.inputs}
    sinks = [node for node in nodes if id(node) not in used and id(node) in failed]
    if sinks:
        live = live_nodes(nodes, sinks)
        first = next(node for node in nodes if id(node) in live and failed.get(id(node), (None,))[0] is node)
        raise NumericError(first, failed[id(first)][1])


def _closed(node: Value) -> bool:
    """Whether the node's gate is closed: its second operand is not used."""
    gate = node.op.gate
    return gate is not None and node.inputs[0].data is not None and not gate.holds(node.inputs[0].data)


def live_nodes(order: Sequence[Value], needed: Sequence[Value] = ()) -> set[int]:
    """The ids of the nodes the last one (or those `needed`) needs, through open gates only."""
    live = {id(node) for node in needed} or {id(order[-1])}
    for node in reversed(order):
        if id(node) in live:
            closed = _closed(node)
            live.update(id(x) for k, x in enumerate(node.inputs) if not (closed and k == 1))
    return live


_DATA, _GRAD = attrgetter("data"), attrgetter("grad")


def _first_not_finite(nodes: Sequence[Value], field: str) -> Value | None:
    isfinite = math.isfinite
    return next((node for node in nodes if not isfinite(getattr(node, field))), None)


def backward(order: Sequence[Value]) -> None:
    """Reverse-mode pass: d order[-1] / d node for every node, accumulated with +=.

    Resets every gradient first, so it is idempotent.  A gradient that does not
    exist (it goes through the exponent of a negative base) is left as None.
    """
    for node in order:
        node.grad = 0.0
    order[-1].grad = 1.0
    if has_gates(order):
        _backward_gated(order)
        return
    node = None
    try:
        for node in reversed(order):
            inputs = node.inputs
            if not inputs:
                continue
            derivative = node.op.derivative
            if derivative is None:              # an op made in Python: its own closure, set by hand
                _closure_step(node)
                continue
            g = node.grad
            if len(inputs) == 1:
                x = inputs[0]
                x.grad += g * derivative(x.data, node.data)
            else:
                x, y = inputs
                dx, dy = derivative(x.data, y.data, node.data)
                x.grad += g * dx
                y.grad += g * dy
    except (ArithmeticError, ValueError) as exc:
        raise NumericError(node, _reason(exc, ops.GRADIENT_TOO_LARGE)) from None
    if not math.isfinite(sum(map(_GRAD, order))):
        _mark_undefined(order)


def _backward_gated(order: Sequence[Value]) -> None:
    """`backward` for a graph with gates: the nodes the output does not need (only a closed gate
    uses them) pass nothing back, so their values, which may not exist, are never touched."""
    live = live_nodes(order)
    node = None
    try:
        for node in reversed(order):
            inputs = node.inputs
            if not inputs or id(node) not in live:
                continue
            if node.op.derivative is None:
                _closure_step(node)
                continue
            local = node.op.derivative(*(0.0 if x.data is None else x.data for x in inputs), node.data)
            if len(inputs) == 1:
                inputs[0].grad += node.grad * local
            else:
                for x, d in zip(inputs, local):
                    if id(x) in live:
                        x.grad += node.grad * d
    except (ArithmeticError, ValueError) as exc:
        raise NumericError(node, _reason(exc, ops.GRADIENT_TOO_LARGE)) from None
    if not math.isfinite(sum(node.grad for node in order if id(node) in live)):
        _mark_undefined([node for node in order if id(node) in live])


_NO_STEP = "made in Python with no _backward: set its _backward, as the lecture does, or register the op"


def _closure_step(node: Value) -> None:
    step = getattr(node, "closure", None)
    if step is None:
        raise NumericError(node, _NO_STEP)
    step()


def _mark_undefined(order: Sequence[Value]) -> None:
    """Set to None the gradients that do not exist; raise on an input's (or a value's that depends
    on an input) that overflowed, and on an input's that does not exist (an input's gradient always
    exists, or the program is refused there).  A constant's gradient that overflowed or does not
    exist is None: it never fails a program whose value and inputs' gradients exist.

    An undefined local derivative is a NaN (only inputs an op of the op table
    marks `undefined` have one), and NaN spreads to every node below it; a NaN
    anywhere else comes from inf - inf, an overflow.
    """
    undefined = set()                       # ids, for membership only
    origins = []                            # (node, input position) where a derivative does not exist
    for node in reversed(order):
        if id(node) in undefined:
            undefined.update(id(x) for x in node.inputs)
        elif any(node.op.partial):
            for k, (x, local, partial) in enumerate(zip(node.inputs, local_derivatives(node), node.op.partial)):
                if local is None and partial:
                    undefined.add(id(x))
                    origins.append((node, k))
    varying = _varying(order)
    for node in reversed(order):
        if id(node) not in varying:
            if not math.isfinite(node.grad):
                undefined.add(id(node))
        elif math.isinf(node.grad) or (math.isnan(node.grad) and id(node) not in undefined):
            raise NumericError(node, ops.GRADIENT_TOO_LARGE)
    if any(node.op is ops.INPUT and id(node) in undefined for node in order):
        _refuse_undefined(order, origins, varying)
    for node in order:
        if id(node) in undefined:
            node.grad = None


def _varying(order: Sequence[Value]) -> set[int]:
    """The ids of the inputs and of every node that depends on one."""
    varying = set()
    for node in order:
        if node.op is ops.INPUT or any(id(x) in varying for x in node.inputs):
            varying.add(id(node))
    return varying


def _refuse_undefined(order: Sequence[Value], origins: list[tuple[Value, int]], varying: set[int]) -> None:
    """An input's gradient does not exist: refuse at the first op (from the output back) whose
    derivative does not exist towards an input, saying why (`log needs a positive number`)."""
    for node, k in origins:
        if id(node.inputs[k]) in varying:
            raise NumericError(node, node.op.why_undefined(k, tuple(x.data for x in node.inputs), node.data)
                               or ops.NO_DERIVATIVE)


def local_derivatives(node: Value) -> tuple[float | None, ...]:
    """d node / d input for each of the node's inputs, at the current data; None where it does not exist."""
    if not node.inputs:
        return ()
    if isinstance(node.op, ops.PythonOp):
        raise node.op.unknown()
    local = node.op.derivative(*(x.data for x in node.inputs), node.data)
    if len(node.inputs) == 1:
        local = (local,)
    return tuple(None if math.isnan(d) else d for d in local)


def _reason(exc: Exception, too_large: str = ops.TOO_LARGE) -> str:
    text = str(exc)
    if isinstance(exc, OverflowError) or "out of range" in text:
        return too_large
    if text == "math domain error":
        return "outside the function's domain"
    return text
