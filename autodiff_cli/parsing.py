"""Parsing: program text -> `Program`, in one pass with no parse tree.

The grammar lives in grammar/autodiff.lark.  Lark's LALR parser (generated
ahead of time into `_generated_parser.py`) calls the `GraphBuilder` methods
below as it reduces each rule, so the graph is built while parsing: no tree,
no recursion, and a program 100,000 parentheses deep is just a deep stack list.

Every expression rule returns an *occurrence* `(node, start, end, varies)`:
the node, where this mention of it sits in the text (a name used twice is one
node with two occurrences), and whether it depends on an input.
"""
from __future__ import annotations

import gc
import math
import re
from contextlib import contextmanager
from typing import Iterator

from . import _generated_parser as lark_standalone
from . import ops
from .engine import Value
from .errors import SourceError, line_and_column
from .program import Program

Occurrence = tuple  # (Value, start: int, end: int, varies: bool)

TOKEN_WORDS = {
    "NUMBER": "a number", "NAME": "a name", "LPAR": "'('", "RPAR": "')'", "MINUS": "'-'", "PLUS": "'+'",
    "STAR": "'*'", "SLASH": "'/'", "_POW": "'**'", "EQUAL": "'='", "SEMICOLON": "';'",
    "_NEWLINE": "a new line", "$END": "the end of the program",
}


class GraphBuilder:
    """Lark inline-transformer callbacks that build `Value` nodes while parsing."""

    def __init__(self, text: str):
        self.text = text
        self.created: list[Value] = []          # creation order, which is topological
        self.inputs: dict[str, Value] = {}
        self.names: dict[str, tuple[Value, bool]] = {}
        self.assigned: set[str] = set()

    # atoms
    def number(self, children: list) -> Occurrence:
        token = children[0]
        value = float(token)
        if math.isinf(value):
            raise SourceError("this number is too large for a float", self.text, token.start_pos, token.end_pos)
        node = Value(value, (), ops.CONST, None, token.start_pos, token.end_pos)
        self.created.append(node)
        return node, token.start_pos, token.end_pos, False

    def name(self, children: list) -> Occurrence:
        token = children[0]
        start, end = token.start_pos, token.end_pos
        known = self.names.get(token)
        if known is not None:
            return known[0], start, end, known[1]
        node = Value(None, (), ops.INPUT, str(token), start, end)
        self.created.append(node)
        self.inputs[node.label] = node
        self.names[node.label] = (node, True)
        return node, start, end, True

    def paren(self, children: list) -> Occurrence:
        lpar, (node, _, _, varies), rpar = children
        return node, lpar.start_pos, rpar.end_pos, varies

    # operators
    def _binary(self, op: ops.Op, children: list) -> Occurrence:
        left, right = children
        node = Value(None, (left[0], right[0]), op, None, left[1], right[2])
        self.created.append(node)
        return node, left[1], right[2], left[3] or right[3]

    def add(self, children: list) -> Occurrence:
        return self._binary(ops.ADD, children)

    def sub(self, children: list) -> Occurrence:
        return self._binary(ops.SUB, children)

    def mul(self, children: list) -> Occurrence:
        return self._binary(ops.MUL, children)

    def div(self, children: list) -> Occurrence:
        return self._binary(ops.DIV, children)

    def pow(self, children: list) -> Occurrence:
        return self._binary(ops.POW if children[1][3] else ops.POW_CONSTANT_EXPONENT, children)

    def neg(self, children: list) -> Occurrence:
        sign, (node, start, end, varies) = children
        if self._is_bare_literal(node, start):      # -3 is the constant -3, as in Value(-3.0)
            node.data = -node.data
            node.start = sign.start_pos
            return node, sign.start_pos, end, False
        out = Value(None, (node,), ops.NEG, None, sign.start_pos, end)
        self.created.append(out)
        return out, sign.start_pos, end, varies

    def pos(self, children: list) -> Occurrence:
        sign, (node, start, end, varies) = children
        if self._is_bare_literal(node, start):      # +3 is the literal 3, written with its sign
            node.start = sign.start_pos
        return node, sign.start_pos, end, varies

    def call(self, children: list) -> Occurrence:
        name, (node, _, _, varies), rpar = children
        op = ops.FUNCTIONS.get(name)
        if op is None:
            raise self._unknown_function(name)
        out = Value(None, (node,), op, None, name.start_pos, rpar.end_pos)
        self.created.append(out)
        return out, name.start_pos, rpar.end_pos, varies

    # statements
    def assign(self, children: list) -> Occurrence:
        name, (node, start, end, varies) = children
        label = str(name)
        self._check_new_name(name)
        self.assigned.add(label)
        if self._is_signed_literal(node, start, end):       # a = -3 declares an input
            node.op, node.label, node.start, node.end = ops.INPUT, label, name.start_pos, name.end_pos
            self.inputs[label] = node
            varies = True
        elif node.label is None:
            node.label = label
        self.names[label] = (node, varies)
        return node, start, end, varies

    def start(self, statements: list) -> Value | None:
        last = statements[-1]
        return None if last is None else last[0]

    # helpers
    def _is_bare_literal(self, node: Value, start: int) -> bool:
        return node.op is ops.CONST and node.start == start and self.text[start] in "0123456789."

    def _is_signed_literal(self, node: Value, start: int, end: int) -> bool:
        return node.op is ops.CONST and node.label is None and node.start == start and node.end == end

    def _check_new_name(self, name) -> None:
        if name in self.assigned:
            first = self.names[name][0]
            raise SourceError(f"{name} is already assigned; a name is assigned once", self.text,
                              name.start_pos, name.end_pos,
                              hint=f"use a new name (the first assignment is at {_where(self.text, first.start)})")
        if name in self.names:
            first = self.names[name][0]
            raise SourceError(f"{name} is assigned after it is used", self.text, name.start_pos, name.end_pos,
                              hint=f"assign it before its first use at {_where(self.text, first.start)}")

    def _unknown_function(self, name) -> SourceError:
        import difflib
        known = sorted(ops.FUNCTIONS)
        close = difflib.get_close_matches(str(name), known, n=1)
        hint = (f"did you mean {close[0]}? " if close else "") + "known functions: " + ", ".join(known)
        return SourceError(f"unknown function {name}", self.text, name.start_pos, name.end_pos, hint)

    def finish(self, output: Value) -> Program:
        """The program's topological order: inputs first, then what the output needs, in creation order."""
        output.index = 0                            # index doubles as the "needed" mark here
        for node in reversed(self.created):
            if node.index != -1:
                for x in node.inputs:
                    x.index = 0
        order = list(self.inputs.values())
        order += [n for n in self.created if n.index != -1 and n.op is not ops.INPUT]
        for i, node in enumerate(order):
            node.index = i
        names = {name: node for name, (node, _) in self.names.items()}
        return Program(self.text, order, self.inputs, names, output)


def parse(text: str) -> Program:
    """Parse a program into its graph, ready to `run()`; raises `SourceError` on bad input."""
    builder = GraphBuilder(text)
    parser = lark_standalone.Lark_StandAlone(transformer=builder)
    with _collector_paused():
        try:
            output = parser.parse(join_lines_in_parentheses(text))
        except lark_standalone.UnexpectedInput as exc:
            raise syntax_error(text, exc) from None
        if output is None:
            raise SourceError("the program is empty", text, 0,
                              hint='write an expression, e.g. "(a*b+c)*f"')
        return builder.finish(output)


_PARENTHESES_COMMENTS_NEW_LINES = re.compile(r"#[^\n]*|[()\n]")   # a '(' in a comment opens nothing


def join_lines_in_parentheses(text: str) -> str:
    """Inside parentheses a new line does not end the statement, as in Python.

    Each such new line, and any comment before it, becomes spaces, so every
    position in the text (and every line and column an error reports) stays
    what it was.
    """
    if "\n" not in text or "(" not in text:
        return text
    pieces, depth, copied = [], 0, 0
    for match in _PARENTHESES_COMMENTS_NEW_LINES.finditer(text):
        char = match.group()
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif depth:                                 # a new line or a comment
            pieces += (text[copied:match.start()], " " * len(char))
            copied = match.end()
    return "".join(pieces) + text[copied:] if pieces else text


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The graph has no reference cycles; the cyclic GC only slows building it (about 3x at 10^6 nodes)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def syntax_error(text: str, exc: Exception) -> SourceError:
    """Lark's exception, in words people use, with a hint for common mistakes."""
    pos = getattr(exc, "pos_in_stream", None)
    token = getattr(exc, "token", None)
    if token is not None and token.type == "$END":
        pos = len(text.rstrip())
    if pos is None:
        pos = token.start_pos if token is not None else 0
    expected = set(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())
    unclosed = _unclosed_paren(text[:pos])
    if unclosed is None:                            # LALR's lists are loose: no ')' outside parentheses,
        expected.discard("RPAR")
    else:                                           # no end of statement inside them
        expected -= {"$END", "_NEWLINE", "SEMICOLON"}
    at_end = token is not None and token.type in ("$END", "_NEWLINE", "SEMICOLON")
    if unclosed is not None and at_end and "RPAR" in expected:
        return SourceError("'(' is never closed", text, unclosed)
    found = _describe_found(text, pos, token)
    message = f"unexpected {found}; expected {_describe_expected(expected)}"
    hint = _hint(text, pos)
    if unclosed is not None and (at_end or "\n" in text[unclosed:pos]):
        hint = f"the '(' at {_where(text, unclosed)} is still open"
    return SourceError(message, text, pos, pos + (len(token) if token else 1), hint=hint)


def _describe_found(text: str, pos: int, token) -> str:
    if token is None:
        return f"character {text[pos]!r}" if pos < len(text) else "end of the program"
    if token.type == "$END":
        return "end of the program"
    if token.type == "_NEWLINE":
        return "end of the line"
    if token.type == "NAME":
        return f"name {str(token)!r}"
    if token.type == "NUMBER":
        return f"number {str(token)!r}"
    return repr(str(token))


def _describe_expected(expected: set) -> str:
    if expected & {"NUMBER", "NAME"}:
        return "a number, a name, a function call or '('"
    words = []
    if expected & {"PLUS", "MINUS", "STAR", "SLASH", "_POW"}:
        words.append("an operator (+ - * / **)")
    words += [TOKEN_WORDS[t] for t in ("RPAR", "EQUAL") if t in expected]
    if expected & {"$END", "_NEWLINE", "SEMICOLON"}:
        words.append("the end of the statement")
    if not words:
        words = sorted(TOKEN_WORDS.get(t, t) for t in expected)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _hint(text: str, pos: int) -> str:
    before = re.search(r"(\w+\.?\w*)[ \t]*$", text[max(0, pos - 40):pos])
    after = re.match(r"\w+", text[pos:pos + 40])
    if before and after:
        return f"did you mean {before.group(1)}*{after.group(0)}?"
    if text[pos:pos + 1] == ")":
        return "this ')' closes no '('"
    if text[pos:pos + 1] == "=" and text[pos + 1:pos + 2] != "=":
        return "only a plain name can be assigned: NAME = expression"
    return ""


def _unclosed_paren(text: str) -> int | None:
    """The position of the innermost '(' left open, ignoring comments."""
    stack: list[int] = []
    for match in _PARENTHESES_COMMENTS_NEW_LINES.finditer(text):
        if match.group() == "(":
            stack.append(match.start())
        elif match.group() == ")" and stack:
            stack.pop()
    return stack[-1] if stack else None


def _where(text: str, pos: int) -> str:
    return "line {}, column {}".format(*line_and_column(text, pos))
