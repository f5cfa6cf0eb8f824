"""A parsed program: its graph of `Value` nodes, its inputs, and how to run it.

This is the model every command and report reads; it parses nothing and
presents nothing (see `parsing`, `reports` and `drawing`).
"""
from __future__ import annotations

import bisect
from array import array
import math
import re
from typing import Mapping, Sequence

from . import ops
from .engine import NumericError, Value, backward, forward, topological_order
from .errors import AutodiffError, DomainError, MissingInputsError, SourceError

LABEL_WIDTH = 40
_FOLDABLE = re.compile(r"\s\s|[^\S ]|#")   # what folding would change: whitespace runs, comments
_COMMENT = re.compile(r"#[^\n]*")


class Program:
    """The graph of one program.

    `nodes` is a topological order: the inputs first (in order of their first
    appearance in the text), then every node the output depends on, the output
    last.  `inputs` maps each input's name to its node, in the same order.
    """

    def __init__(self, text: str, nodes: list[Value], inputs: dict[str, Value],
                 names: dict[str, Value], output: Value, output_name: str | None = None):
        self.text = text
        self.nodes = nodes
        self.inputs = inputs
        self.names = names
        self.output = output
        self.output_name = output_name      # the last statement's name (`L = d` names d's node L here)
        self._line_starts: Sequence[int] | None = None

    @classmethod
    def from_value(cls, root: Value) -> Program:
        """A program over a graph built in Python (`L = a*b + c`), so every report can show it."""
        order = topological_order(root)
        for i, node in enumerate(order):
            node.index = i
        inputs = {node.label or f"input{node.index}": node for node in order if node.op is ops.INPUT}
        return cls("", order, inputs, {}, root)

    def with_output(self, name: str) -> Program:
        """The same graph with the node called `name` as its output (its nodes must all be here)."""
        return Program(self.text, self.nodes, self.inputs, self.names, self.names[name], name)

    @property
    def value(self) -> float:
        """The output's value (after `run`)."""
        return self.output.data

    @property
    def grad(self) -> dict[str, float]:
        """d output / d input for every input, in order of first appearance."""
        return {name: node.grad for name, node in self.inputs.items()}

    def set(self, values: Mapping[str, float]) -> None:
        """Give inputs new values; names that are not inputs are an error."""
        for name, value in values.items():
            if name not in self.inputs:
                raise AutodiffError(self.not_an_input(name))
            value = float(value)
            if not math.isfinite(value):
                raise AutodiffError(f"the value of {name} must be a finite number, not {value!r}")
            self.inputs[name].data = value

    def run(self) -> Program:
        """Forward pass, then backward pass; returns self."""
        self.forward()
        self.backward()
        return self

    def forward(self) -> None:
        missing = [name for name, node in self.inputs.items() if node.data is None]
        if missing:
            raise MissingInputsError(missing, self.text, self.inputs[missing[0]].start)
        try:
            forward(self.nodes)
        except NumericError as exc:
            raise self.domain_error(exc) from None

    def backward(self) -> None:
        """d output / d node for every node (0 for the nodes the output does not depend on)."""
        order = self.nodes
        if order[-1] is not self.output:            # another output than the last statement
            for node in order:
                node.grad = 0.0
            order = topological_order(self.output)
        try:
            backward(order)
        except NumericError as exc:
            raise self.domain_error(exc) from None

    def label(self, node: Value) -> str:
        """How reports name a node: its name (the output's is the last statement's), else its own
        source text, folded and shortened."""
        if node is self.output and self.output_name is not None:
            return self.output_name
        if node.label is not None:
            return node.label
        if node.start < 0:              # built in Python: unnamed, as in the lecture's draw_dot
            return f"{node.data:g}" if node.op is ops.CONST else ""
        return shorten(self.text, node.start, node.end)

    def position(self, node: Value) -> tuple[int, int]:
        """1-based line and column of the node in the source."""
        starts = self.line_starts()
        line = bisect.bisect_right(starts, node.start)
        return line, node.start - starts[line - 1] + 1

    def line_starts(self) -> Sequence[int]:
        """The offset where each line of the source begins (an array: 8 bytes a line, not 36)."""
        if self._line_starts is None:
            self._line_starts = array("q", [0])
            self._line_starts.extend(m.end() for m in re.finditer("\n", self.text))
        return self._line_starts

    def source_error(self, message: str, node: Value, hint: str = "") -> AutodiffError:
        return SourceError(message, self.text, node.start, node.end, hint)

    def domain_error(self, exc: NumericError) -> DomainError:
        node = exc.node
        operands = ", ".join(repr(x.data) if x.op is ops.CONST else f"{self.label(x)} = {x.data!r}"
                             for x in node.inputs)
        where = f"{node.op.symbol} ({operands})" if node.inputs else self.label(node)
        return DomainError(f"{where}: {exc.reason}", self.text, node.start, node.end)

    def not_an_input(self, name: str) -> str:
        known = ", ".join(self.inputs) or "none"
        if name in self.names:
            return f"{name} is computed by the program, not an input; the inputs are: {known}"
        return f"the program has no input named {name}; its inputs are: {known}"


def shorten(text: str, start: int, end: int, width: int = LABEL_WIDTH) -> str:
    """text[start:end] without comments and with runs of whitespace folded to one space,
    cut to `width` characters with an ellipsis.

    Cheap in the common cases (a report labels every node): a short span that
    needs no folding is returned as it is, and a long span whose first
    characters need none is cut without folding the rest.
    """
    if end - start <= width:
        raw = text[start:end]
        if not _FOLDABLE.search(raw):
            return raw
    else:
        head = text[start:start + width + 1]
        if not _FOLDABLE.search(head) and head[-1] != " ":
            return head[:width - 1] + "…"
    size = 8 * width                        # fold a window, widened until it is long enough
    while True:
        folded = " ".join(_COMMENT.sub(" ", text[start:min(end, start + size)]).split())
        if len(folded) > width:
            return folded[:width - 1] + "…"
        if start + size >= end:
            return folded
        size *= 8
