"""Expressions in the language, as small trees: built with the simplifications that never change
a value, and printed with only the parentheses the grammar needs.

An expression is a tuple:
- ("num", value): a literal;
- ("name", text): a name of the program;
- ("op", op, operands): an op of the op table applied to operand expressions;
- ("sum", terms): terms added left to right (a node's contributions, "gradients add up").

Building and printing use loops and explicit stacks, never recursion, so an
expression 100,000 operations deep prints.  The simplifications are only the
exact ones: x*1, 1*x, x/1, x**1 and x + 0 are x; a zero contribution is
dropped; x*(-1) is -x; -(-x) is x; and arithmetic on literals alone is done
with the op's own forward rule, so the result is the float the engine would
compute.  (x*0 is 0 too: every value and gradient here is finite.)
"""
from __future__ import annotations

import math
from typing import Callable

from . import ops

Expression = tuple

ATOM, POWER, UNARY, PRODUCT, SUM = 5, 4, 3, 2, 1       # binding strength, tightest first
LEVELS = {"add": SUM, "sub": SUM, "mul": PRODUCT, "div": PRODUCT, "pow": POWER, "pow_constant_exponent": POWER,
          "neg": UNARY}
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


def apply(op: ops.Op, *operands: Expression) -> Expression:
    """`op` applied to the operands, simplified where that cannot change a value."""
    if all(e[0] == "num" for e in operands):
        folded = _fold(op, operands)
        if folded is not None:
            return folded
    simplify = _SIMPLIFY.get(op.name)
    if simplify is not None:
        simpler = simplify(*operands)
        if simpler is not None:
            return simpler
    return ("op", op, operands)


def _fold(op: ops.Op, operands: tuple[Expression, ...]) -> Expression | None:
    try:
        value = op.forward(*(e[1] for e in operands))
    except (ArithmeticError, ValueError):
        return None
    return num(value) if math.isfinite(value) else None


def _mul(a: Expression, b: Expression) -> Expression | None:
    for x, y in ((a, b), (b, a)):
        if is_num(x, 1.0):
            return y
        if is_num(x, 0.0):
            return ZERO
        if is_num(x, -1.0):
            return apply(ops.NEG, y)
    return _sign_outside(ops.MUL, a, b)


def _div(a: Expression, b: Expression) -> Expression | None:
    return a if is_num(b, 1.0) else _sign_outside(ops.DIV, a, b)


def _sign_outside(op: ops.Op, a: Expression, b: Expression) -> Expression | None:
    """(-a)*b is -(a*b), exactly, in floating point too: the sign goes outside, where a sum
    can write it as a subtraction."""
    if is_negation(a) and not is_negation(b):
        return apply(ops.NEG, apply(op, a[2][0], b))
    if is_negation(b) and not is_negation(a):
        return apply(ops.NEG, apply(op, a, b[2][0]))
    return None


def _neg(a: Expression) -> Expression | None:
    if a[0] == "op" and a[1] is ops.NEG:
        return a[2][0]
    return None


def _first_unless_second_is(value: float) -> Callable[[Expression, Expression], Expression | None]:
    return lambda a, b: a if is_num(b, value) else None


def _sub(a: Expression, b: Expression) -> Expression | None:
    if is_num(b, 0.0):
        return a
    if is_num(a, 0.0):
        return apply(ops.NEG, b)
    return None


_SIMPLIFY = {
    "mul": _mul, "neg": _neg, "sub": _sub,
    "add": lambda a, b: add([a, b]),
    "div": _div,
    "pow": _first_unless_second_is(1.0), "pow_constant_exponent": _first_unless_second_is(1.0),
}


def add(terms: list[Expression]) -> Expression:
    """The terms added left to right, zeros dropped, literals alone folded."""
    terms = [t for t in terms if not is_num(t, 0.0)]
    if not terms:
        return ZERO
    if len(terms) == 1:
        return terms[0]
    if all(t[0] == "num" for t in terms):
        total = terms[0][1]
        for t in terms[1:]:
            total += t[1]
        return num(total)
    return ("sum", terms)


def is_negation(e: Expression) -> bool:
    return e[0] == "op" and e[1] is ops.NEG


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


def render(e: Expression) -> str:
    """The expression as text in the language, parenthesised as the grammar needs."""
    return render_with(e, language_form)[0]


def language_form(e: Expression, parts: list[tuple[str, int]]) -> tuple[str, int]:
    """The text of one node from its operands' texts and binding strengths."""
    if e[0] == "sum":
        first, (part, level) = e[1][0], parts[0]
        text = ("-" + (part if level >= POWER else f"({part})")) if is_negation(first) else part
        for term, (part, level) in zip(e[1][1:], parts[1:]):
            text += f" {'-' if is_negation(term) else '+'} {part if level > SUM else f'({part})'}"
        return text, SUM
    op = e[1]
    level = LEVELS.get(op.name)
    if level is None:                                     # a function: f(x)
        return op.applied_to({"x": parts[0][0]}), ATOM
    if op.arity == 1:                                      # -x
        part, inner = parts[0]
        return "-" + (part if inner >= POWER else f"({part})"), UNARY
    (left, left_level), (right, right_level) = parts
    if level == POWER:                                     # the base an atom, the exponent above unary
        left = left if left_level == ATOM else f"({left})"
        right = right if right_level >= POWER else f"({right})"
    else:                                                  # left-associative: a right operand at the same level needs parentheses
        left = left if left_level >= level else f"({left})"
        right = right if right_level > level else f"({right})"
    return op.applied_to({"x": left, "y": right}), level


def _leaf(e: Expression) -> tuple[str, int]:
    if e[0] == "name":
        return e[1], ATOM
    text = number_text(e[1])
    return text, (UNARY if text.startswith("-") else ATOM)


def render_with(e: Expression, form: Callable[[Expression, list[tuple[str, int]]], tuple[str, int]],
                leaf: Callable[[Expression], tuple[str, int]] | None = None) -> tuple[str, int]:
    """`form(node, operand parts)` over the tree in post-order with an explicit stack: the
    operands' texts and binding strengths first, then the node's."""
    leaf = leaf or _leaf
    results: list[tuple[str, int]] = []
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
