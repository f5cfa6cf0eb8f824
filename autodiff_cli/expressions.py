"""Expressions in the language, as small trees: built with the simplifications that never change
a value, and printed in the language, Python, JavaScript or LaTeX with only the parentheses the
target needs.

An expression is a tuple:
- ("num", value): a literal;
- ("name", text): a name of the program;
- ("op", op, operands): an op of the op table applied to operand expressions;
- ("sum", terms): terms added left to right (a node's contributions, "gradients add up").

Everything about an op comes from its row in the op table: how to write it in each target
(`template`, `python`, `javascript`, `latex`), how tightly that binds (`binds`, `operands`), and
its algebra (`identity`, `absorbing`, `negated_by`, `odd`, `involution`, `sums`).  The
simplifications are only the exact ones: x*1, x/1, x**1 and x + 0 are x; x*0 is 0 (every value
here is finite); x*(-1) is -x; -(-x) is x; and arithmetic on literals alone is done with the op's
own forward rule, so the result is the float the engine would compute, and only when it is finite.

Building and printing use loops and explicit stacks, never recursion, so an expression 100,000
operations deep prints.
"""
from __future__ import annotations

import math
from typing import Any, Callable

from . import ops
from .ops import ATOM, POWER, SUM, UNARY

Expression = tuple
ZERO = ("num", 0.0)


def num(value: float) -> Expression:
    return ("num", float(value))


def name(text: str) -> Expression:
    return ("name", text)


def is_num(e: Expression, value: float | None = None) -> bool:
    return e[0] == "num" and (value is None or e[1] == value)


def is_atom(e: Expression) -> bool:
    """A name or a literal: cheap to repeat, so it is never given a statement of its own."""
    return e[0] in ("num", "name")


def is_negation(e: Expression) -> bool:
    return e[0] == "op" and e[1].involution


def apply(op: ops.Op, *operands: Expression) -> Expression:
    """`op` applied to the operands, simplified where that cannot change a value."""
    if all(e[0] == "num" for e in operands):
        folded = _fold(op, operands)
        if folded is not None:
            return folded
    if op.sums:
        return add(list(operands))
    if op.involution and is_negation(operands[0]):
        return operands[0][2][0]
    if op.arity == 2:
        simpler = _simplify_binary(op, *operands)
        if simpler is not None:
            return simpler
    return ("op", op, operands)


def _fold(op: ops.Op, operands: tuple[Expression, ...]) -> Expression | None:
    try:
        value = op.forward(*(e[1] for e in operands))
    except (ArithmeticError, ValueError):
        return None
    return num(value) if math.isfinite(value) else None


def _simplify_binary(op: ops.Op, a: Expression, b: Expression) -> Expression | None:
    left, right = op.identity
    if right is not None and is_num(b, right):
        return a
    if left is not None and is_num(a, left):
        return b
    if op.absorbing is not None and (is_num(a, op.absorbing) or is_num(b, op.absorbing)):
        return num(op.absorbing)
    left, right = op.negated_by
    if right is not None and is_num(b, right):
        return apply(ops.NEG, a)
    if left is not None and is_num(a, left):
        return apply(ops.NEG, b)
    if op.odd:          # (-a)*b is -(a*b), exactly: the sign goes outside, where a sum writes it as a subtraction
        if is_negation(a) and not is_negation(b):
            return apply(ops.NEG, apply(op, a[2][0], b))
        if is_negation(b) and not is_negation(a):
            return apply(ops.NEG, apply(op, a, b[2][0]))
    return None


def add(terms: list[Expression]) -> Expression:
    """The terms added left to right, zeros dropped, literals alone folded (when the sum is finite)."""
    terms = [t for t in terms if not is_num(t, 0.0)]
    if not terms:
        return ZERO
    if len(terms) == 1:
        return terms[0]
    if all(t[0] == "num" for t in terms):
        total = terms[0][1]
        for t in terms[1:]:
            total += t[1]
        if math.isfinite(total):
            return num(total)
    return ("sum", terms)


def children(e: Expression) -> tuple[Expression, ...] | list[Expression]:
    """The operands; for a sum, its terms, a negated term by what it negates (it prints as `- x`)."""
    if e[0] == "op":
        return e[2]
    if e[0] == "sum":
        return [t[2][0] if is_negation(t) else t for t in e[1]]
    return ()


def number_text(value: float) -> str:
    """A literal that reads back to the same float: 2 rather than 2.0, repr otherwise."""
    if value.is_integer() and abs(value) < 1e15 and not (value == 0.0 and math.copysign(1.0, value) < 0):
        return str(int(value))
    return repr(value)


class Target:
    """How expressions are written in one language: each op's form (an attribute of the op table's
    rows), the binding strengths it uses, how an operand is put in parentheses, and the leaves."""

    def __init__(self, form: str, *, wrap: Callable[[str], str] = "({})".format,
                 number: Callable[[float], str] = number_text, names: Callable[[str], str] | None = None,
                 number_binds: Callable[[str], int] | None = None, call: Callable[[ops.Op], str | None] | None = None,
                 check: str | None = None):
        self.form = form
        self.check = check          # a function wrapped around every op's value: `check(x*y)` (its finiteness)
        self.wrap = wrap
        self.number = number
        self.names = names or (lambda text: text)
        self.number_binds = number_binds or (lambda text: UNARY if text.startswith("-") else ATOM)
        self.call = call or (lambda op: None)      # a function to call for the op instead of its form

    def binding(self, op: ops.Op) -> tuple[int, tuple[int, ...]]:
        """How tightly the op's form binds, and what each operand needs.  A form that is not the
        language's own template is a call or is in parentheses: it binds as an atom, and its
        operands, put in parentheses unless they are atoms, need nothing more."""
        if self.form == "latex":
            return op.latex_binds, op.latex_operands
        if self.form != "template" and getattr(op, self.form) != op.template:
            return ATOM, (ATOM,) * op.arity
        return op.binds, op.operands

    def leaf(self, e: Expression) -> tuple[str, int]:
        if e[0] == "name":
            return self.names(e[1]), ATOM
        text = self.number(e[1])
        return text, self.number_binds(text)

    def node(self, e: Expression, parts: list[tuple[str, int]]) -> tuple[str, int]:
        """The text of one node from its operands' texts and binding strengths."""
        if e[0] == "sum":
            first, (part, level) = e[1][0], parts[0]
            text = "-" + self.enclose(part, level, POWER) if is_negation(first) else self.enclose(part, level, SUM)
            for term, (part, level) in zip(e[1][1:], parts[1:]):
                text += f" {'-' if is_negation(term) else '+'} {self.enclose(part, level, SUM + 1)}"
            return text, SUM
        op = e[1]
        function = self.call(op)
        if function is not None:
            text, binds = f"{function}({', '.join(text for text, _ in parts)})", ATOM
        else:
            binds, needs = self.binding(op)
            operands = {v: self.enclose(text, level, need) for v, (text, level), need in zip("xy", parts, needs)}
            text = op.applied_to(operands, self.form)
        return (f"{self.check}({text})", ATOM) if self.check else (text, binds)

    def enclose(self, text: str, level: int, needed: int) -> str:
        return text if level >= needed else self.wrap(text)


LANGUAGE = Target("template")


def render(e: Expression, target: Target = LANGUAGE) -> str:
    """The expression as text in the target (by default the language), parenthesised as it needs."""
    return fold(e, target.node, target.leaf)[0]


def fold(e: Expression, form: Callable[[Expression, list], Any], leaf: Callable[[Expression], Any]) -> Any:
    """`leaf(node)` for names and numbers, `form(node, its operands' results)` for the rest, over
    the tree in post-order with an explicit stack (an expression may be nested 100,000 deep)."""
    results: list = []
    stack: list[tuple[Expression, bool]] = [(e, False)]
    while stack:
        node, expanded = stack.pop()
        if node[0] in ("num", "name"):
            results.append(leaf(node))
            continue
        kids = children(node)
        if not expanded:
            stack.append((node, True))
            stack.extend((kid, False) for kid in reversed(kids))
            continue
        parts = results[len(results) - len(kids):]
        del results[len(results) - len(kids):]
        results.append(form(node, parts))
    return results[0]
