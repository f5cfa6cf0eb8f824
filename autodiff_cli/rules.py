"""Each op's derivative rule (the op table's `rule` text), parsed once, as an expression.

The rule is the one written form of a derivative: `diff` prints it, and the sweeps' array
passes, the Python export and the live page evaluate it.  `local_derivative` writes one node's
rule with its operands in, simplified as `expressions` does (`x**2` gives `2*x`, and a constant
exponent 0 gives 0 at base 0 too, as the engine's own derivative does), so every surface
computes the same local derivative from the same text.
"""
from __future__ import annotations

from typing import Sequence

from . import ops
from .engine import Value
from .errors import AutodiffError
from .expressions import Expression, apply, fold, is_negation, num
from .program import Program

_RULES: dict[str, Program] = {}         # rule text -> its parsed program


def rule_program(op: ops.Op, i: int) -> Program:
    """The op's rule for input i, parsed (once per text); a rule that is not in the language is
    the op table's mistake, and says so."""
    text = op.rule[i]
    rule = _RULES.get(text)
    if rule is None:
        rule = _RULES[text] = _parsed_rule(op, text)
    return rule


def _parsed_rule(op: ops.Op, text: str) -> Program:
    from .parsing import parse

    try:
        rule = parse(text)
    except AutodiffError as exc:
        raise ops.OpDefinitionError(f"op {op.name!r}: its rule {text!r} is not in the language: "
                                    f"{exc.message}") from None
    unknown = set(rule.inputs) - {"x", "y", "o"}
    if unknown:
        raise ops.OpDefinitionError(f"op {op.name!r}: its rule {text!r} names {', '.join(sorted(unknown))}; "
                                    "a rule uses only x, y (the operands) and o (the output)")
    return rule


def rule_expression(op: ops.Op, i: int, variables: dict[str, Expression]) -> Expression:
    """The op's derivative rule for input i as an expression, with x, y and o replaced by `variables`."""
    values: list[Expression] = []
    for part in rule_program(op, i).nodes:
        if part.op is ops.INPUT:
            values.append(variables[part.label])
        elif part.op is ops.CONST:
            values.append(num(part.data))
        else:
            values.append(apply(part.op, *(values[x.index] for x in part.inputs)))
    return values[-1]


def local_derivative(node: Value, i: int, refs: Sequence[Expression | None]) -> Expression:
    """The node's rule for input i with x, y and o replaced by how `refs` refers to the operands
    and the node (a literal for a constant, so that it simplifies)."""
    variables = {"o": refs[node.index], **dict(zip("xy", (refs[x.index] for x in node.inputs)))}
    return rule_expression(node.op, i, variables)


def node_refs(program: Program) -> list[Expression]:
    """Each node as a rule refers to it: a constant by its value, anything else by `("name", "#i")`."""
    return [num(node.data) if node.op is ops.CONST else ("name", f"#{node.index}") for node in program.nodes]


def evaluate_array(e: Expression, data: Sequence, np):
    """An expression over `node_refs` names, evaluated with each op's array rule (NumPy passed in)."""
    def leaf(node: Expression):
        if node[0] == "num":
            return np.float64(node[1])              # NumPy's rules for literals too: 1/0 is inf
        return data[int(node[1][1:])]

    def form(node: Expression, values: list):
        if node[0] == "op":
            return node[1].array(np, *values)
        total = -values[0] if is_negation(node[1][0]) else values[0]
        for term, value in zip(node[1][1:], values[1:]):
            total = total - value if is_negation(term) else total + value
        return total

    return fold(e, form, leaf)
