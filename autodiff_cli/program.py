"""A parsed program: its graph of `Value` nodes, its inputs, and how to run it.

This is the model every command and report reads; it parses nothing and
presents nothing (see `parsing`, `tables` and `drawing`).
"""
from __future__ import annotations

import bisect
import math
import re
from array import array
from contextlib import contextmanager
from typing import Iterable, Iterator, Mapping, Sequence

from . import ops
from .engine import NumericError, Value, backward, forward, topological_order
from .errors import AutodiffError, DomainError, MissingInputsError, clip

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
                 names: dict[str, Value], output: Value, output_name: str | None = None,
                 shapes: dict[str, tuple[int, ...]] | None = None):
        self.text = text
        self.nodes = nodes
        self.inputs = inputs
        self.names = names
        self.output = output
        self.output_name = output_name      # the last statement's name (`L = d` names d's node L here)
        self.shapes = shapes or {}          # the vectors' and matrices' names: their shapes
        self._line_starts: Sequence[int] | None = None
        self._input_names: dict[int, str] | None = None

    @classmethod
    def from_value(cls, root: Value) -> Program:
        """A program over a graph built in Python (`L = a*b + c`), so every report can show it.
        Inputs are named by their labels; an unlabelled one `input3`, and a label used twice gets
        `_1`, `_2`, ... (two `Value`s labelled x are two inputs, x and x_1, with a slider each)."""
        order = topological_order(root)
        inputs: dict[str, Value] = {}
        for i, node in enumerate(order):
            node.index = i
            if node.op is ops.INPUT:
                inputs[_unused(node.label or f"input{i}", inputs)] = node
        return cls("", order, inputs, {}, root)

    def with_output(self, name: str) -> Program:
        """The same graph with the node called `name` as its output (its nodes must all be here)."""
        return Program(self.text, self.nodes, self.inputs, self.names, self.names[name], name, self.shapes)

    @property
    def value(self) -> float:
        """The output's value (after `run`)."""
        return self.output.data

    @property
    def grad(self) -> dict[str, float]:
        """d output / d input for every input, in order of first appearance."""
        return {name: node.grad for name, node in self.inputs.items()}

    def grouped(self, values: Mapping[str, object]) -> dict[str, object]:
        """Values by input name (`z[0]`, `z[1]`, `b`) grouped as the program declares its inputs:
        a vector input's as one list, a matrix input's as a list of rows (`{"z": [..], "b": ..}`)."""
        from .vectors import element_names

        result: dict[str, object] = {}
        members = self.vector_inputs()
        for name, value in values.items():
            group = members.get(name)
            if group is None:
                result[name] = value
            elif group not in result:
                vector, shape = group, self.shapes[group]
                flat = [values[element] for element in element_names(vector, shape)]
                result[vector] = flat if len(shape) == 1 else [flat[i * shape[1]:(i + 1) * shape[1]]
                                                               for i in range(shape[0])]
        return result

    def elements_of(self, names: Iterable[str]) -> list[str]:
        """The names, a vector or matrix input's name standing for its elements (`b2` for `b2[0]`, ...)."""
        groups: dict[str, list[str]] = {}
        for element, vector in self.vector_inputs().items():
            groups.setdefault(vector, []).append(element)
        return [element for name in names for element in groups.get(name, [name])]

    def vector_inputs(self) -> dict[str, str]:
        """The input elements of the vectors and matrices that are inputs: element name -> vector name."""
        from .vectors import element_names

        members = {}
        for vector, shape in self.shapes.items():
            names = element_names(vector, shape)
            if all(self.inputs.get(name) is not None and self.input_name(self.inputs[name]) == name for name in names):
                members.update(dict.fromkeys(names, vector))
        return members

    def check_inputs(self, names: Iterable[str], what: str = "") -> None:
        """Refuse names that are not inputs, all of them at once, and a name given twice; `what`
        says where they came from."""
        names = list(names)
        unknown = [name for name in names if name not in self.inputs]
        if unknown:
            raise AutodiffError((f"{what}: " if what else "") + self.not_an_input(*unknown))
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise AutodiffError((f"{what}: " if what else "") + f"{clip(name)} is given twice")
            seen.add(name)

    def set(self, values: Mapping[str, object]) -> None:
        """Give inputs new values; names that are not inputs are an error.  A vector or matrix
        input takes a list (of rows) of its shape, or its elements one by one (`z[1]`)."""
        values = self.expanded(values)
        self.check_inputs(values)
        for name, value in values.items():
            value = float(value)
            if not math.isfinite(value):
                raise AutodiffError(f"the value of {name} must be a finite number, not {value!r}")
            self.inputs[name].data = value

    def expanded(self, values: Mapping[str, object]) -> dict[str, object]:
        """`{"z": [1, 2]}` as `{"z[0]": 1, "z[1]": 2}` for a vector input z; other names as they are."""
        if not any(isinstance(value, (list, tuple)) for value in values.values()):
            return dict(values)
        from .vectors import describe, element_names

        result: dict[str, object] = {}
        for name, value in values.items():
            if not isinstance(value, (list, tuple)):
                result[name] = value
                continue
            shape = self.shapes.get(name)
            if shape is None or name not in self.vector_inputs().values():
                what = "computed by the program" if shape is not None else "not a vector input"
                raise AutodiffError(f"{clip(name)} is {what}: a list of values sets a vector input")
            flat, given = _flatten(value)
            if given != shape:
                raise AutodiffError(f"{clip(name)} is {describe(shape)}: it takes {_shape_words(shape)}, "
                                    f"not {_shape_words(given)}")
            result.update(zip(element_names(name, shape), flat))
        return result

    def point(self) -> dict[str, float | None]:
        """Every input's value, by name, in order (None for one without a value)."""
        return {name: node.data for name, node in self.inputs.items()}

    @contextmanager
    def at(self, values: Mapping[str, float] | None = None) -> Iterator[Program]:
        """The program with some inputs set to `values` for the time of the block; every input's
        value is put back afterwards, whatever happens (the one way to try a point)."""
        saved = self.point()
        try:
            if values:
                self.set(values)
            yield self
        finally:
            for name, node in self.inputs.items():
                node.data = saved[name]

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

    @property
    def output_label(self) -> str:
        """How reports name the output: eval's `output`."""
        return self.label(self.output)

    def label(self, node: Value) -> str:
        """How reports name a node: its name (the output's is the last statement's), else its own
        source text, folded and shortened."""
        if node is self.output and self.output_name is not None:
            return self.output_name
        if node.op is ops.INPUT:
            return self.input_name(node)
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

    def domain_error(self, exc: NumericError) -> DomainError:
        node = exc.node
        operands = ", ".join(repr(x.data) if x.op is ops.CONST else f"{self.label(x)} = {x.data!r}"
                             for x in node.inputs)
        where = f"{node.op.symbol} ({operands})" if node.inputs else self.label(node)
        return DomainError(f"{where}: {exc.reason}", self.text, node.start, node.end, reason=exc.reason)

    def input_name(self, node: Value) -> str:
        """The name an input has in `inputs` (its label, unless two `Value`s share one)."""
        if self._input_names is None:
            self._input_names = {id(x): name for name, x in self.inputs.items()}
        return self._input_names[id(node)]

    def not_an_input(self, *names: str) -> str:
        known = ", ".join(self.inputs) or "none"
        shown = ", ".join(clip(name) for name in names[:10]) + (" …" if len(names) > 10 else "")
        if len(names) == 1 and names[0] in self.names:
            return f"{shown} is computed by the program, not an input; the inputs are: {known}"
        if len(names) == 1:
            return f"the program has no input named {shown}; its inputs are: {known}"
        return f"the program has no inputs named {shown}; its inputs are: {known}"


def _flatten(value: list | tuple) -> tuple[list, tuple[int, ...]]:
    """A list of numbers, or of equal lists of numbers: the numbers, and the shape."""
    if value and all(isinstance(row, (list, tuple)) for row in value):
        widths = {len(row) for row in value}
        if len(widths) == 1 and not any(isinstance(x, (list, tuple)) for row in value for x in row):
            return [x for row in value for x in row], (len(value), widths.pop())
        return [], (-1,)
    if any(isinstance(x, (list, tuple)) for x in value):
        return [], (-1,)
    return list(value), (len(value),)


def _shape_words(shape: tuple[int, ...]) -> str:
    if shape == (-1,):
        return "lists of different shapes"
    if len(shape) == 1:
        return f"{shape[0]} value{'s' if shape[0] != 1 else ''}"
    return f"{shape[0]} row{'s' if shape[0] != 1 else ''} of {shape[1]}"


def _unused(name: str, taken: Mapping[str, object]) -> str:
    candidate, n = name, 0
    while candidate in taken:
        n += 1
        candidate = f"{name}_{n}"
    return candidate


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
