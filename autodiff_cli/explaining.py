"""Backprop written out by hand, one chain-rule step per edge, as on the lecture's board.

    dL/dd = dL/dL * dL/dd = 1 * f = 1 * -2 = -2

Steps go from the output back to the inputs, in reverse topological order.
A node that feeds several others gets one `+=` step per edge and then a line
that adds them up: the lecture's `a + a` accumulation bug made visible.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, TextIO

from .engine import Value, local_derivatives
from .program import Program

_NAME = re.compile(r"(?!\d)\w+")
_NUMBER = re.compile(r"-?[\d.]+(e[+-]?\d+)?")


@dataclass
class Step:
    """One edge of the backward pass: `node` gets `upstream * local` through `parent`."""

    node: Value
    parent: Value
    local_text: str         # the local derivative in symbols, e.g. "b" or "1 - o**2"
    local: float | None     # None where it does not exist (the exponent of a negative base)
    upstream: float | None  # d output / d parent
    shared: bool            # the node feeds more than one edge, so its gradient is a sum

    @property
    def contribution(self) -> float | None:
        if self.upstream is None or self.local is None:
            return None
        return self.upstream * self.local


def backward_steps(program: Program) -> Iterator[Step | Value]:
    """The backward pass as steps; a bare `Value` marks where a shared node's contributions are summed.

    Expects a program that has been run.
    """
    edges = [0] * len(program.nodes)
    for node in program.nodes:
        for x in node.inputs:
            edges[x.index] += 1
    for parent in reversed(program.nodes):
        if edges[parent.index] > 1:
            yield parent
        if not parent.inputs:
            continue
        names = {"o": symbol(program, parent, bare_numbers=True)}
        names.update(zip("xy", (symbol(program, x, bare_numbers=True) for x in parent.inputs)))
        for i, (x, local) in enumerate(zip(parent.inputs, local_derivatives(parent))):
            yield Step(x, parent, parent.op.rule_with(i, names), local, parent.grad, edges[x.index] > 1)


def symbol(program: Program, node: Value, bare_numbers: bool = False) -> str:
    """A node's label, in parentheses unless it is a plain name (or, in formulas, a number)."""
    label = program.label(node)
    bare = _NAME.fullmatch(label) or (bare_numbers and _NUMBER.fullmatch(label))
    return label if bare else f"({label})"


def number(x: float | None) -> str:
    return "undefined" if x is None else f"{x:.6g}"


def explain_lines(program: Program) -> Iterator[str]:
    """The lines of `autodiff explain`, the first being dL/dL = 1."""
    out = symbol(program, program.output)

    def d(node: Value) -> str:
        return f"d{out}/d{symbol(program, node)}"

    yield f"{d(program.output)} = 1"
    taught: set[str] = set()
    contributions: dict[int, list[float]] = {}
    for item in backward_steps(program):
        if isinstance(item, Value):
            parts = contributions.pop(item.index)
            terms = " + ".join(f"({number(c)})" if c is not None and c < 0 else number(c) for c in parts)
            yield f"{d(item)} = {terms} = {number(item.grad)}   (gradients add up)"
            continue
        step = item
        p, x = symbol(program, step.parent), symbol(program, step.node)
        chain = f"{d(step.parent)} * d{p}/d{x}"
        local = number(step.local)
        middle = f"{number(step.upstream)} * {local}"
        if step.local_text != local:
            rule = step.local_text
            if not (_NAME.fullmatch(rule) or _NUMBER.fullmatch(rule) or rule.startswith("(")):
                rule = f"({rule})"
            middle = f"{number(step.upstream)} * {rule} = {middle}"
        line = f"{d(step.node)} {'+=' if step.shared else '='} {chain} = {middle} = {number(step.contribution)}"
        lesson = step.parent.op.lesson
        if lesson not in taught:
            taught.add(lesson)
            line += f"   # {lesson}"
        if step.shared:
            contributions.setdefault(step.node.index, []).append(step.contribution)
        yield line


def write_explanation(program: Program, out: TextIO, limit: int | None = None, cut_hint: str = "") -> None:
    """The steps, at most `limit` of them (then how many more, and `cut_hint`), then a summary
    line with the inputs' gradients."""
    shown = 0
    total = 0
    for line in explain_lines(program):
        total += 1
        if limit is None or shown < limit:
            out.write(line + "\n")
            shown += 1
    if shown < total:
        out.write(f"… {total - shown} more lines" + (f" ({cut_hint})" if cut_hint else "") + "\n")
    grads = ", ".join(f"{name} = {number(g)}" for name, g in list(program.grad.items())[:20])
    more = " …" if len(program.inputs) > 20 else ""
    out.write(f"{total} lines; the inputs' gradients: {grads}{more}\n")


def write_explanation_json(program: Program, out: TextIO) -> None:
    """The steps as strict JSON, one object per edge, plus the inputs' gradients."""
    import json

    steps = [{"node": step.node.index, "label": program.label(step.node), "parent": step.parent.index,
              "parent_label": program.label(step.parent), "op": step.parent.op.symbol,
              "local_text": step.local_text, "local": step.local, "upstream": step.upstream,
              "contribution": step.contribution}
             for step in backward_steps(program) if not isinstance(step, Value)]
    document = {"output": program.label(program.output), "steps": steps, "grad": program.grad}
    json.dump(document, out, allow_nan=False, indent=2)
    out.write("\n")
