"""The fast LALR loop builds exactly the graph Lark's parser builds, or leaves the program to Lark.

Programs are drawn from the grammar's own pieces (statements, assignments, comments, new lines
inside parentheses, both power spellings, calls of every arity, numbers in every form) and then,
half the time, damaged: the result must be the same graph or the same error either way.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiff_cli import ops, parsing
from autodiff_cli.errors import AutodiffError
from autodiff_cli.lalr import NoFastParse

NAMES = ["a", "b", "x", "y_1", "é", "pi", "e"]
NUMBERS = ["2", "0.5", ".5", "3.", "1e3", "2.5E-2", "007"]
SPACES = ["", " ", "  ", "\t", " # note\n"[:-1]]
BINARY = ["+", "-", "*", "/", "**", "^"]


@st.composite
def expressions(draw, depth=0):
    """An expression as people write it, possibly with a new line inside its parentheses."""
    choice = draw(st.integers(0, 5 if depth < 4 else 1))
    space = draw(st.sampled_from(SPACES))
    if choice == 0:
        return draw(st.sampled_from(NAMES))
    if choice == 1:
        return draw(st.sampled_from(NUMBERS))
    if choice == 2:
        return f"{draw(expressions(depth + 1))}{space}{draw(st.sampled_from(BINARY))}{draw(expressions(depth + 1))}"
    if choice == 3:
        return f"{draw(st.sampled_from(['-', '+', '--']))}{draw(expressions(depth + 1))}"
    if choice == 4:
        gap = draw(st.sampled_from(["", "\n", " # why\n"]))
        return f"({gap}{draw(expressions(depth + 1))}{space})"
    op = draw(st.sampled_from(sorted(ops.FUNCTIONS)))
    arguments = [draw(expressions(depth + 1)) for _ in range(ops.FUNCTIONS[op].arity)]
    return f"{op}({','.join(arguments)})"


@st.composite
def programs(draw):
    """Statements separated by `;` and new lines, some assigned, comments and blank lines between."""
    statements = []
    for i in range(draw(st.integers(1, 4))):
        expression = draw(expressions())
        statements.append(f"v{i} = {expression}" if draw(st.booleans()) else expression)
        statements.append(draw(st.sampled_from(["\n", ";", "; ", "\n\n", "  # done\n", "\r\n"])))
    return "".join(statements[:-1] if draw(st.booleans()) else statements)


@st.composite
def damaged(draw):
    """A program, or the same program with a character dropped, doubled or put in."""
    text = draw(programs())
    if draw(st.booleans()) or not text:
        return text
    at = draw(st.integers(0, len(text) - 1))
    how = draw(st.sampled_from(["drop", "double", "insert"]))
    if how == "drop":
        return text[:at] + text[at + 1:]
    if how == "double":
        return text[:at] + text[at] + text[at:]
    return text[:at] + draw(st.sampled_from(list("()+*,;=$x1.\n"))) + text[at:]


def outcome(text: str) -> tuple:
    """Everything a parse decides: each node's op, label, span, inputs and value, the names and the
    output; or the error's message, place and hint."""
    try:
        program = parsing.parse(text)
    except AutodiffError as error:
        return ("error", type(error).__name__, str(error), getattr(error, "start", None),
                getattr(error, "end", None), getattr(error, "hint", None))
    nodes = [(node.op.name, node.label, node.start, node.end, node.data,
              tuple(x.index for x in node.inputs)) for node in program.nodes]
    names = sorted((name, node.index) for name, node in program.names.items())
    return ("graph", nodes, names, program.output.index, program.output_name)


def lark_only(text: str) -> tuple:
    """The outcome with Lark's own loop alone: the reference."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parsing, "_fast_parse", lambda *args: NoFastParse)
        return outcome(text)


@settings(max_examples=400, deadline=None)
@given(damaged())
def test_the_fast_loop_builds_what_lark_builds(text):
    assert outcome(text) == lark_only(text)


@pytest.mark.parametrize("text", [
    "(a*b+c)*f", "x = 2\ny = x**-x^2\ny", "-2**2", "2**-1", "f(x)", "sin(x,)", "a b", "3(x+1)",
    "x = 1; x = 2", "y = x; x = 1", "x²", "(\n  a\n  + b # c\n)", "", "# only\n", "\ufeffx", "1e999",
    "max(a, b)", "xlogy(a, b, c)", "a ** ** b", "a = ", "= a",
])
def test_the_fast_loop_agrees_on_what_people_type(text):
    assert outcome(text) == lark_only(text)


def test_the_fast_loop_parses_programs_and_reports_errors_itself(monkeypatch):
    """The fast loop does the work, for a syntax error too (the comparisons above would pass with it
    never used): a program is never parsed twice."""
    calls = []
    lark = parsing._parser(None)[0]
    parse_with_lark = lark.parse
    monkeypatch.setattr(lark, "parse", lambda *args, **kwargs: calls.append(1) or parse_with_lark(*args, **kwargs))
    parsing.parse("x = 2\ny = (x*x +\n 3) ^ 2 # c\nsin(y) + xlogy(x, y)")
    assert calls == []
    with pytest.raises(AutodiffError, match="unexpected '\\*'"):
        parsing.parse("x +* 2")
    assert calls == []
