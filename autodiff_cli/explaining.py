"""Backprop written out by hand, one chain-rule step per edge, as on the lecture's board.

    dL/dd = dL/dL * dL/dd = 1 * f = 1 * -2 = -2

Steps go from the output back to the inputs, in reverse topological order.
A node that feeds several others gets one `+=` step per edge and then a line
that adds them up: the lecture's `a + a` accumulation bug made visible.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Iterator, TextIO

from . import ops
from .engine import Value, local_derivatives
from .expressions import name, num, render
from .naming import NAME, legend, symbols
from .numbers import significant
from .program import Program
from .reports import Report, Style
from .rules import local_derivative

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
    position: int = 0       # which of the parent's inputs the node is (0 or 1; `a + a` has both)
    lesson: str = ""        # what the op does to the gradient, on the first edge of an op that teaches it

    @property
    def contribution(self) -> float | None:
        if self.upstream is None or self.local is None:
            return None
        return self.upstream * self.local

    @property
    def shown_rule(self) -> str:
        """The rule as a chain-rule line shows it: in parentheses unless it is a name or a number."""
        rule = self.local_text
        return rule if NAME.fullmatch(rule) or _NUMBER.fullmatch(rule) or rule.startswith("(") else f"({rule})"


def backward_steps(program: Program, names: list[str] | None = None) -> Iterator[Step | Value]:
    """The backward pass as steps, in explain's order; a bare `Value` marks where a shared node's
    contributions are summed.  The live page replays the same sequence.

    `names` are the formulas' names of the nodes (by default `naming.symbols`).
    Expects a program that has been run.
    """
    names = names or symbols(program)
    refs = [num(node.data) if node.op is ops.CONST else name(names[node.index]) for node in program.nodes]
    edges = [0] * len(program.nodes)
    for node in program.nodes:
        for x in node.inputs:
            edges[x.index] += 1
    taught: set[str] = set()
    for parent in reversed(program.nodes):
        if edges[parent.index] > 1:
            yield parent
        if not parent.inputs:
            continue
        for i, (x, local) in enumerate(zip(parent.inputs, local_derivatives(parent))):
            text = render(local_derivative(parent, i, refs))      # the rule, as diff writes it for this node
            lesson = parent.op.lesson
            yield Step(x, parent, text, local, parent.grad, edges[x.index] > 1, i,
                       "" if lesson in taught else lesson)
            taught.add(lesson)


def gradients_after(program: Program, edges: int) -> list[float | None | bool]:
    """Each node's gradient after the first `edges` edges of the backward pass, in explain's order:
    the output's 1 to start with, partial sums where a shared node has had some of its edges, and
    False where no edge has reached a node yet (the lecture's half-filled pictures).  Expects a
    program that has been run."""
    grads: list[float | None | bool] = [False] * len(program.nodes)
    grads[program.output.index] = 1.0
    done = 0
    for step in backward_steps(program):
        if isinstance(step, Value):
            continue
        if done == edges:
            break
        before, contribution = grads[step.node.index], step.contribution
        if before is None or contribution is None:
            grads[step.node.index] = None
        else:
            grads[step.node.index] = contribution if before is False else before + contribution
        done += 1
    return grads


def explain_lines(program: Program, precision: int = 6) -> Iterator[str]:
    """The lines of `autodiff explain`: the short names' legend (if any), then the chain rule."""
    yield from legend_lines(program)
    yield from chain_rule_lines(program, precision)


def legend_lines(program: Program) -> list[str]:
    """The short names given to unnamed nodes, each with its source text, under a heading."""
    found = list(legend(program, symbols(program)))
    return ["# short names for the unnamed nodes:", *found] if found else []


def chain_rule_lines(program: Program, precision: int = 6, accumulate: bool = True) -> Iterator[str]:
    """dL/dL = 1, then a line per edge of the backward pass, numbered as `graph --upto K` counts
    them, its local derivative written ∂parent/∂node (and the sums of shared nodes).  With
    `accumulate` False, the lecture's overwrite bug: every edge assigns, nothing adds up."""
    names = symbols(program)
    out = names[program.output.index]

    def d(node: Value) -> str:
        return f"d{out}/d{names[node.index]}"

    def num(x: float | None) -> str:
        return significant(x, precision)

    yield f"{d(program.output)} = 1"
    contributions: dict[int, list[float | None]] = {}
    number = 0
    for item in backward_steps(program, names):
        if isinstance(item, Value):
            if not accumulate:
                continue
            parts = contributions.pop(item.index)
            terms = " + ".join(f"({num(c)})" if c is not None and c < 0 else num(c) for c in parts)
            yield f"{d(item)} = {terms} = {num(item.grad)}   (gradients add up)"
            continue
        step = item
        number += 1
        chain = f"{d(step.parent)} * ∂{names[step.parent.index]}/∂{names[step.node.index]}"
        local = num(step.local)
        middle = f"{num(step.upstream)} * {local}"
        if step.local_text != local:
            middle = f"{num(step.upstream)} * {step.shown_rule} = {middle}"
        assign = "+=" if step.shared and accumulate else "="
        line = f"[{number}] {d(step.node)} {assign} {chain} = {middle} = {num(step.contribution)}"
        if step.lesson:
            line += f"   # {step.lesson}"
        if step.shared:
            contributions.setdefault(step.node.index, []).append(step.contribution)
        yield line


def write_explanation(program: Program, out: TextIO, limit: int | None = None, cut_hint: str = "",
                      precision: int = 6, lines: Iterable[str] | None = None, heading: str | None = None,
                      right: dict[str, float | None] | None = None) -> None:
    """The legend of short names, then the chain-rule lines (`chain_rule_lines`, unless `lines`
    says otherwise), at most `limit` of each (then how many more, and `cut_hint`), then a summary
    line with the inputs' gradients; `heading` first, as a comment."""
    if heading is not None:
        out.write(f"# {heading}\n")
    names = legend_lines(program)
    cut = None if limit is None or len(names) <= limit + 1 else limit + 1
    for line in names[:cut]:
        out.write(line + "\n")
    if cut is not None:
        out.write(f"… {len(names) - cut} more short names\n")
    shown = 0
    total = 0
    for line in chain_rule_lines(program, precision) if lines is None else lines:
        total += 1
        if limit is None or shown < limit:
            out.write(line + "\n")
            shown += 1
    if shown < total:
        out.write(f"… {total - shown} more lines" + (f" ({cut_hint})" if cut_hint else "") + "\n")
    grads = ", ".join(f"{name} = {significant(g, precision)}" for name, g in list(program.grad.items())[:20])
    more = " …" if len(program.inputs) > 20 else ""
    out.write(f"{total} lines; the inputs' gradients: {grads}{more}\n")
    if right is not None:
        fixed = ", ".join(f"{name} = {significant(g, precision)}" for name, g in list(right.items())[:20])
        out.write(f"the right gradients, without the bug: {fixed}{more}\n")


def explanation_document(program: Program) -> dict:
    """The steps as strict JSON, one object per edge, plus the inputs' gradients."""
    steps = [{"node": step.node.index, "label": program.label(step.node), "parent": step.parent.index,
              "parent_label": program.label(step.parent), "op": step.parent.op.symbol,
              "local_text": step.local_text, "local": step.local, "upstream": step.upstream,
              "contribution": step.contribution}
             for step in backward_steps(program) if not isinstance(step, Value)]
    return {"output": program.label(program.output), "steps": steps, "grad": program.grad}


class ExplainReport(Report):
    """explain's report: the chain-rule lines as text, or the steps as JSON."""

    def __init__(self, program: Program, *, limit: int | None = None, precision: int = 6, cut_hint: str = "",
                 lines: list[str] | None = None, heading: str | None = None,
                 right: dict[str, float | None] | None = None):
        self.program = program
        self.limit = limit
        self.precision = precision
        self.cut_hint = cut_hint
        self.lines = lines
        self.heading = heading
        self.right = right

    def write_text(self, out: TextIO, style: Style) -> None:
        write_explanation(self.program, out, limit=self.limit, cut_hint=self.cut_hint, precision=self.precision,
                          lines=self.lines, heading=self.heading, right=self.right)

    def document(self) -> dict:
        return explanation_document(self.program)
