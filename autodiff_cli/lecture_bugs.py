"""The lecture's two famous mistakes, reproduced on request, so that its bug cells can be run too.

- `overwrite`: each op assigns its contribution to an operand's gradient (`self.grad = ...`)
  instead of adding it (`+=`): a node used twice keeps only the last contribution; `b = a + a`
  gives a.grad 1 instead of 2.
- `no-zero`: the backward pass run a second time without zeroing the gradients first, as calling
  the lecture's `L.backward()` twice does: the output's gradient is set to 1 again and every
  contribution is added onto what the first pass left, and it compounds: a node's second pass
  passes on its first and its second gradient together (L = (a*b + c)*f: a gets 24, not 2 × 6).

The gradients these give are wrong on purpose; every report of them says so.
"""
from __future__ import annotations

from typing import Iterator

from .engine import Value, local_derivatives, topological_order
from .explaining import chain_rule_lines
from .numbers import significant
from .naming import symbols
from .program import Program

BUGS = {
    "overwrite": "gradients assigned (self.grad = ...) instead of accumulated (+=)",
    "no-zero": "backward run a second time without zeroing the gradients (they compound)",
    "no-zero-training": "the gradients not zeroed between steps (p.grad = 0.0 forgotten): they compound",
}


def warning(bug: str) -> str:
    """The label every report of a bug's gradients carries."""
    return f"WRONG on purpose: the lecture's bug, {BUGS[bug]}"


def backward_with_bug(program: Program, bug: str) -> None:
    """Replace the program's gradients (after `run`) with what the lecture's buggy code computes."""
    order = _order(program)
    if bug == "overwrite":
        for node in order:
            node.grad = 0.0
        program.output.grad = 1.0
        for node in reversed(order):
            for x, local in zip(node.inputs, local_derivatives(node)):
                x.grad = None if node.grad is None or local is None else node.grad * local
    else:
        program.output.grad = 1.0
        for node in reversed(order):
            for x, local in zip(node.inputs, local_derivatives(node)):
                x.grad = None if x.grad is None or node.grad is None or local is None else x.grad + node.grad * local


def _order(program: Program) -> list[Value]:
    return program.nodes if program.nodes[-1] is program.output else topological_order(program.output)


def explained(program: Program, bug: str, precision: int = 6) -> list[str]:
    """explain's chain-rule lines as the bug writes them, the program left with the bug's
    gradients: every edge assigning (`overwrite`); or the right pass, then a second one adding
    onto it (`no-zero`)."""
    if bug == "overwrite":
        backward_with_bug(program, bug)
        return list(chain_rule_lines(program, precision, accumulate=False))
    first = list(chain_rule_lines(program, precision))
    backward_with_bug(program, bug)
    return [*first, "# then backward again, the gradients not zeroed:",
            *_second_pass(program, symbols(program), precision)]


def _second_pass(program: Program, names: list[str], precision: int) -> Iterator[str]:
    """The `no-zero` bug's second pass as explain writes it: every edge adds onto the gradient
    the first pass left (`+=`), with the gradients of the second pass (after `backward_with_bug`)."""
    out = names[program.output.index]
    yield f"d{out}/d{out} = 1   (set to 1 again; every other gradient keeps the first pass's)"
    for node in reversed(_order(program)):
        for x, local in zip(node.inputs, local_derivatives(node)):
            contribution = None if node.grad is None or local is None else node.grad * local
            yield (f"d{out}/d{names[x.index]} += d{out}/d{names[node.index]} * d{names[node.index]}/d{names[x.index]}"
                   f" = {significant(node.grad, precision)} * {significant(local, precision)} = {significant(contribution, precision)}")
