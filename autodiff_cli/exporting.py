"""A derivative program in other forms: one expression per input (`--expr`), a Python function
(`--to python`) and LaTeX (`--to latex`).

Each op's Python and LaTeX forms are in the op table, beside its rule.
"""
from __future__ import annotations

import json
import keyword
import re

from .deriving import Derivative, rule_expression
from .errors import AutodiffError
from .expressions import (ATOM, POWER, PRODUCT, SUM, UNARY, Expression, add, apply, children, is_negation,
                          language_form, number_text, render, render_with)
from .ops import Op
from .program import Program

EXPR_LIMIT = 400            # operations in an expression written out in full; past this, the program form


class ExpressionTooLargeError(AutodiffError):
    """A derivative that would swell if written as one expression."""


def expressions(derivative: Derivative) -> dict[str, Expression]:
    """Each input's gradient as one expression, every named intermediate written in (what SymPy's
    diff shows); refused past EXPR_LIMIT operations, where sharing is what keeps it small."""
    known: dict[str, Expression] = {}
    result = {}
    gradient_of = {gradient: name for name, gradient in derivative.gradients.items()}
    for statement in derivative.statements:
        if statement.kind == "input":
            continue
        expanded = _substitute(statement.expression, known)
        if _size(expanded) > EXPR_LIMIT:
            raise ExpressionTooLargeError(f"the derivative written as one expression would have more than "
                                          f"{EXPR_LIMIT} operations (every shared value copied where it is used)",
                                          hint="the program form names shared values instead, and stays small")
        known[statement.name] = expanded
        if statement.name in gradient_of:
            result[gradient_of[statement.name]] = expanded
    return result


def _substitute(expression: Expression, known: dict[str, Expression]) -> Expression:
    """The expression with every name in `known` replaced by its expression, simplified again."""
    done: dict[int, Expression] = {}
    stack = [(expression, False)]
    while stack:
        e, expanded = stack.pop()
        if id(e) in done:
            continue
        if e[0] == "name":
            done[id(e)] = known.get(e[1], e)
        elif e[0] == "num":
            done[id(e)] = e
        elif not expanded:
            stack.append((e, True))
            stack.extend((kid, False) for kid in (e[2] if e[0] == "op" else e[1]))
        elif e[0] == "op":
            done[id(e)] = apply(e[1], *(done[id(kid)] for kid in e[2]))
        else:
            done[id(e)] = add([done[id(kid)] for kid in e[1]])
    return done[id(expression)]


def _size(expression: Expression) -> int:
    """Operations in the expression written out as a tree (shared parts counted each time)."""
    sizes: dict[int, int] = {}
    stack = [(expression, False)]
    while stack:
        e, expanded = stack.pop()
        kids = children(e)
        if not kids:
            sizes[id(e)] = 0
        elif not expanded:
            stack.append((e, True))
            stack.extend((kid, False) for kid in kids if id(kid) not in sizes)
        else:
            sizes[id(e)] = 1 + sum(sizes[id(kid)] for kid in kids)
    return sizes[id(expression)]


def expression_text(derivative: Derivative) -> str:
    """`dout_da = f*b`, one line per input."""
    return "".join(f"{derivative.gradients[name]} = {render(e)}\n" for name, e in expressions(derivative).items())


# Python

def python_function(program: Program, derivative: Derivative, function: str = "value_and_grad") -> str:
    """One self-contained function using only `math`: its parameters are the inputs in order of
    first appearance (with their values as defaults), and it returns (value, {input: gradient})."""
    names = _python_names(derivative)
    parameters = ", ".join(f"{names[n]}={node.data!r}" if node.data is not None else names[n]
                           for n, node in program.inputs.items())
    lines = ["import math", "", "", f"def {function}({parameters}):",
             f'    """d {derivative.output} / d each input, by reverse mode (written by autodiff diff)."""']
    for statement in derivative.statements:
        if statement.kind != "input":
            lines.append(f"    {names[statement.name]} = {_python(statement.expression, names)}")
    grads = ", ".join(f"{n!r}: {names[g]}" for n, g in derivative.gradients.items())
    lines.append(f"    return {names[derivative.output]}, {{{grads}}}")
    return "\n".join(lines) + "\n"


def _python_names(derivative: Derivative) -> dict[str, str]:
    """Every name of the program as a Python identifier: keywords and `math` get an underscore."""
    taken = {s.name for s in derivative.statements} | set(derivative.gradients)
    names = {}
    for name in sorted(taken):
        python = name
        while keyword.iskeyword(python) or python == "math" or (python != name and python in taken):
            python += "_"
        names[name] = python
    return names


def _python(expression: Expression, names: dict[str, str], target: str = "python") -> str:
    """The expression in Python (or, with target "javascript", in JavaScript): each op in its form
    from the op table, names replaced by `names`."""
    def leaf(e: Expression) -> tuple[str, int]:
        if e[0] == "name":
            return names.get(e[1], e[1]), ATOM
        text = repr(e[1])
        return text, (UNARY if text.startswith("-") else ATOM)

    def form(e: Expression, parts: list[tuple[str, int]]) -> tuple[str, int]:
        if e[0] == "op" and getattr(e[1], target) != e[1].template:     # a call or a conditional: an atom
            operands = {v: text if level == ATOM else f"({text})" for v, (text, level) in zip("xy", parts)}
            return e[1].applied_to(operands, target), ATOM
        return language_form(e, parts)

    return render_with(expression, form, leaf)[0]


# LaTeX

def latex(derivative: Derivative) -> str:
    """The `--expr` form as LaTeX: one `\\frac{\\partial out}{\\partial a} = ...` line per input."""
    lines = []
    for name, e in expressions(derivative).items():
        lines.append(rf"\frac{{\partial {_latex_name(derivative.output)}}}{{\partial {_latex_name(name)}}} = "
                     f"{_latex(e)}")
    return "\\begin{align*}\n" + " \\\\\n".join(f"  {line}" for line in lines) + "\n\\end{align*}\n"


_INDEXED = re.compile(r"([A-Za-z])(\d+)")


def _latex_name(name: str) -> str:
    if len(name) == 1:
        return name
    indexed = _INDEXED.fullmatch(name)
    if indexed:
        return f"{indexed.group(1)}_{{{indexed.group(2)}}}"
    return r"\mathit{" + name.replace("_", r"\_") + "}"


def _latex(expression: Expression) -> str:
    def leaf(e: Expression) -> tuple[str, int]:
        if e[0] == "name":
            return _latex_name(e[1]), ATOM
        text = number_text(e[1])
        if "e" in text:
            mantissa, exponent = text.split("e")
            text = rf"{mantissa} \cdot 10^{{{int(exponent)}}}"
            return text, PRODUCT
        return text, (UNARY if text.startswith("-") else ATOM)

    def form(e: Expression, parts: list[tuple[str, int]]) -> tuple[str, int]:
        if e[0] == "sum":
            text = parts[0][0] if not is_negation(e[1][0]) else "-" + _wrap(parts[0], POWER)
            for term, part in zip(e[1][1:], parts[1:]):
                text += f" {'-' if is_negation(term) else '+'} {_wrap(part, SUM + 1)}"
            return text, SUM
        op = e[1]
        if op.name == "div":
            return op.applied_to({"x": parts[0][0], "y": parts[1][0]}, "latex"), ATOM
        if op.name in ("pow", "pow_constant_exponent"):
            return op.applied_to({"x": _wrap(parts[0], ATOM), "y": parts[1][0]}, "latex"), POWER
        if op.name == "neg":
            return "-" + _wrap(parts[0], POWER), UNARY
        if op.arity == 1:                                   # a function: its form delimits its argument
            return op.applied_to({"x": parts[0][0]}, "latex"), ATOM
        level = {"add": SUM, "sub": SUM, "mul": PRODUCT}[op.name]
        left = _wrap(parts[0], level)
        right = _wrap(parts[1], level + 1)
        return op.applied_to({"x": left, "y": right}, "latex"), level

    return render_with(expression, form, leaf)[0]


def _wrap(part: tuple[str, int], needed: int) -> str:
    text, level = part
    return text if level >= needed else rf"\left({text}\right)"


# JavaScript, for the live page

def javascript_ops(used: list[Op]) -> str:
    """`{"tanh": [(x, y) => forward, (x, y, o) => [d/dx, d/dy]], ...}`: each op's forward rule from
    the op table and its local derivatives from the table's rule texts, in JavaScript."""
    entries = []
    for op in used:
        variables = {v: ("name", v) for v in "xyo"}
        rules = ", ".join(_python(rule_expression(op, i, variables), {}, "javascript") for i in range(op.arity))
        entries.append(f"  {json.dumps(op.name)}: [(x, y) => {op.applied_to({'x': 'x', 'y': 'y'}, 'javascript')}, "
                       f"(x, y, o) => [{rules}]]")
    return "{\n" + ",\n".join(entries) + "\n}"
