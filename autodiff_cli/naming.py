"""Names for what a program leaves unnamed: one scheme, shared by `explain`, `diff` and the page.

The lecture names every intermediate value (`e = a*b; d = e + c; L = d*f`) and derives the
backward pass on those names.  A one-line expression has no such names, so formulas give its
computed nodes short ones: `t1`, `t2`, ... in topological order, and `out` for an unnamed output,
never a name the program already uses.  `explain`'s legend, `diff`'s statements and the page's
chain-rule lines all call the same node by the same name.
"""
from __future__ import annotations

import re
from typing import Iterator

from . import ops
from .engine import Value
from .program import Program

NAME = re.compile(r"(?!\d)\w+")


def taken_names(program: Program) -> set[str]:
    """Every name the program uses, its output's included."""
    taken = set(program.names) | set(program.inputs)
    if program.output_name:
        taken.add(program.output_name)
    return taken


def output_symbol(program: Program) -> str:
    """How formulas call the output: its name (`L`, or `y` in `y = x; y`), else `out` (or `out_1`...
    if `out` is taken): an output that is an input or a constant still gets a name of its own."""
    output = program.output
    computed = output.op is not ops.INPUT and output.op is not ops.CONST
    own = program.output_name or (output.label if computed else None)
    if own and NAME.fullmatch(own) and not (output.op is ops.INPUT and own == program.input_name(output)):
        return own
    return free_name("out", taken_names(program))


def symbols(program: Program) -> list[str]:
    """How formulas call each node, by index: its name; a constant's literal (in parentheses when
    negative); the output's symbol; otherwise a short generated name, t1, t2, ... in order."""
    fresh = fresh_names(taken_names(program))
    out = output_symbol(program)
    result = []
    for node in program.nodes:
        if node.op is ops.INPUT:
            result.append(program.input_name(node))
        elif node.op is ops.CONST:
            label = node.label or program.text[node.start:node.end] if node.start >= 0 else f"{node.data:g}"
            result.append(f"({label})" if label.startswith("-") else label)
        elif node is program.output:
            result.append(out)
        elif node.label is not None and NAME.fullmatch(node.label):
            result.append(node.label)
        else:
            result.append(next(fresh))
    return result


def fresh_names(taken: set[str]) -> Iterator[str]:
    """t1, t2, ... skipping the names in `taken`."""
    n = 0
    while True:
        n += 1
        if f"t{n}" not in taken:
            yield f"t{n}"


def free_name(name: str, taken: set[str]) -> str:
    """`name`, or `name_1`, `name_2`, ... the first that is not in `taken`."""
    candidate, n = name, 0
    while candidate in taken:
        n += 1
        candidate = f"{name}_{n}"
    return candidate


def right_hand_side(node: Value, names: list[str]) -> str:
    """The node's op applied to its inputs' names: `t1 + t2`, `tanh(n)`."""
    return node.op.applied_to(dict(zip("xy", (names[x.index] for x in node.inputs))))


def legend(program: Program, names: list[str]) -> Iterator[str]:
    """A statement for each node that got a generated name, with its source text as a comment
    where that says more: `t3 = t1 + t2   # x1*w1 + x2*w2`."""
    for node in program.nodes:
        if not node.inputs or names[node.index] == program.label(node):
            continue
        rhs = right_hand_side(node, names)
        source = program.label(node)
        statement = f"{names[node.index]} = {rhs}"
        yield statement if not source or same_text(source, rhs) else f"{statement}   # {source}"


def same_text(a: str, b: str) -> bool:
    """The same text but for spaces: `a+b` says nothing that `a + b` does not."""
    return a.replace(" ", "") == b.replace(" ", "")
