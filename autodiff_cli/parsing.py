"""Parsing: program text -> `Program`, in one pass with no parse tree.

The grammar lives in grammar/autodiff.lark.  Lark's LALR parser (generated at
build time into `_generated_parser.py`) calls the `GraphBuilder` callbacks
below as it reduces each rule, so the graph is built while parsing: no tree,
no recursion, and a program 100,000 parentheses deep is just a deep stack list.
A rule whose alias names an op in the op table (`expr "+" product -> add`)
builds that op's node; the grammar holds only precedence and syntax.

Every expression rule returns an *occurrence* `(node, start, end, varies)`:
the node, where this mention of it sits in the text (a name used twice is one
node with two occurrences), and whether it depends on an input.
"""
from __future__ import annotations

import gc
import math
import re
from contextlib import contextmanager
from functools import partial
from typing import Iterator, Mapping

from . import _generated_parser as lark_standalone
from . import ops
from .engine import Value
from .lalr import FastParser, FastSyntaxError, NoFastParse
from .errors import AutodiffError, DomainError, SourceError, clip, line_and_column
from .program import Program

Occurrence = tuple  # (node: Value, start: int, end: int, varies: bool), always unpacked by name
Token = lark_standalone.Token

TOKEN_WORDS = {
    "NUMBER": "a number", "NAME": "a name", "LPAR": "'('", "RPAR": "')'", "EQUAL": "'='", "SEMICOLON": "';'",
    "COMMA": "','",
    "_NEWLINE": "a new line", "$END": "the end of the program",
}
END_OF_STATEMENT = {"$END", "_NEWLINE", "SEMICOLON"}


CONSTANTS = {"pi": math.pi}                 # built-in constants, unless a program assigns the name first
FUNCTION_ALIASES = {"ln": "log", "arcsin": "asin", "arccos": "acos", "arctan": "atan", "arctan2": "atan2",
                    "fabs": "abs", "ceiling": "ceil", "swish": "silu", "maximum": "max", "minimum": "min",
                    "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh"}    # what people type, other names
FUNCTION_HINTS = {                          # what people type for a function the language does not have
    "pow": "write powers with **, as x**y",
    "square": "write x**2",
    "sec": "sec(x) is 1/cos(x)",
    "cot": "cot(x) is 1/tan(x)",
}
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def as_power(word: str) -> str:
    """`x²` as the language writes it, `x**2`; a word with no superscript as it is."""
    for i, char in enumerate(word):
        if char in "⁰¹²³⁴⁵⁶⁷⁸⁹⁻":
            return f"{word[:i]}**{word[i:].translate(_SUPERSCRIPTS)}"
    return word


class GraphBuilder:
    """Lark inline-transformer callbacks that build `Value` nodes while parsing."""

    def __init__(self, text: str = ""):
        self.reset(text)

    def reset(self, text: str) -> None:
        """Ready to build the graph of `text` (one builder serves every parse: see `_parser`)."""
        self.text = text
        self.created: list[Value] = []          # creation order, which is topological
        self.inputs: dict[str, Value] = {}
        self.names: dict[str, Value] = {}
        self.constants: set[str] = set()        # the names whose node depends on no input
        self.assigned: set[str] = set()
        self.last: tuple[Value, str | None] | None = None      # the last statement's node and name

    def __getattr__(self, rule: str):
        """The callback of a rule whose alias is an op in the op table (add, mul, neg, ...)."""
        op = ops.OPERATORS.get(rule)
        if op is None:
            raise AttributeError(rule)
        return partial(self._binary if op.arity == 2 else self._unary, op)

    def __default__(self, rule: str, children: list, meta):
        """Lark's own helper rules (`__start_star_0`) are inlined into their parent; any other
        rule with neither a callback nor an op is a clear error, never a parse tree."""
        if rule.startswith("_"):
            return _Inlined(children)
        start = _start_of(children[0]) if children else 0
        raise SourceError(f"the grammar's rule {rule!r} has no op in the op table", self.text, start,
                          hint="add an op with that name to autodiff_cli/ops.py")

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
            return known, start, end, token not in self.constants
        self._check_name(token)
        label = str(token)
        if label in CONSTANTS:                      # pi, unless the program assigns it first
            node = Value(CONSTANTS[label], (), ops.CONST, None, start, end)
            self.constants.add(label)
        else:
            node = Value(None, (), ops.INPUT, label, start, end)
            self.inputs[label] = node
        self.created.append(node)
        self.names[label] = node
        return node, start, end, label not in self.constants

    def paren(self, children: list) -> Occurrence:
        lpar, (node, _, _, varies), rpar = children
        return node, lpar.start_pos, rpar.end_pos, varies

    # operators: one callback for every op the grammar names by alias
    def _binary(self, op: ops.Op, children: list) -> Occurrence:
        """`left OP right`: the grammar's operator tokens are anonymous, so the children are the operands."""
        try:
            (left, start, _, left_varies), (right, _, end, varies) = children
        except (TypeError, ValueError):
            raise self._not_an_operator_rule(op, children) from None
        out = Value(None, (left, right), op, None, start, end)
        self.created.append(out)
        return out, start, end, varies or left_varies

    def _unary(self, op: ops.Op, children: list) -> Occurrence:
        """`SIGN operand`: the sign token (a named terminal) gives the start."""
        try:
            sign, (node, start, end, varies) = children
        except (TypeError, ValueError):
            raise self._not_an_operator_rule(op, children) from None
        if op is ops.NEG and self._is_bare_literal(node, start):       # -3 is the constant -3
            node.data = -node.data
            node.start = sign.start_pos
            return node, node.start, end, False
        out = Value(None, (node,), op, None, sign.start_pos, end)
        self.created.append(out)
        return out, sign.start_pos, end, varies

    def _not_an_operator_rule(self, op: ops.Op, children: list) -> SourceError:
        shape = "two operands" if op.arity == 2 else "a sign token and one operand"
        return SourceError(f"the grammar's rule {op.name!r} does not give the op {shape}", self.text,
                           _start_of(children[0]) if children else 0)

    def pos(self, children: list) -> Occurrence:
        sign, (node, start, end, varies) = children
        if self._is_bare_literal(node, start):      # +3 is the literal 3, written with its sign
            node.start = sign.start_pos
        return node, sign.start_pos, end, varies

    def call(self, children: list) -> Occurrence:
        name, *arguments, rpar = children
        op = ops.FUNCTIONS.get(name)
        if op is None:
            raise self._unknown_function(name)
        if len(arguments) != op.arity:
            raise SourceError(f"{name} takes {_count(op.arity, 'argument')}, not {len(arguments)}", self.text,
                              name.start_pos, rpar.end_pos, hint=f"write {op.written}")
        out = Value(None, tuple(node for node, _, _, _ in arguments), op, None, name.start_pos, rpar.end_pos)
        self.created.append(out)
        return out, name.start_pos, rpar.end_pos, any(varies for _, _, _, varies in arguments)

    # statements: each records itself as the last and returns nothing, so that the parser's list of
    # statements holds no occurrences (a program of 250,000 statements would keep them all)
    def statement(self, children: list) -> None:
        """An expression statement; a bare name (`y = x; y`) gives the output that name."""
        (node, start, end, _), = children
        written = self.text[start:end]
        named = self.names.get(written) is node and (written not in CONSTANTS or written in self.assigned)
        self.last = (node, written if named else None)

    def assign(self, children: list) -> None:
        name, (node, start, end, varies) = children
        label = str(name)
        self._check_name(name)
        self._check_new_name(name)
        self.assigned.add(label)
        if self._is_signed_literal(node, start, end):       # a = -3 declares an input
            node.op, node.label, node.start, node.end = ops.INPUT, label, name.start_pos, name.end_pos
            self.inputs[label] = node
            varies = True
        elif node.label is None:
            node.label = label
        self.names[label] = node
        if not varies:
            self.constants.add(label)
        self.last = (node, label)

    def start(self, statements: list) -> tuple[Value, str | None] | None:
        """The output and the last statement's name, if it is an assignment; None for no statement."""
        return self.last

    # helpers
    def _is_bare_literal(self, node: Value, start: int) -> bool:
        return node.op is ops.CONST and node.start == start and self.text[start] in "0123456789."

    def _is_signed_literal(self, node: Value, start: int, end: int) -> bool:
        """A number as written, with its sign (`-3`), not a constant's name (`pi`) or an expression."""
        return (node.op is ops.CONST and node.label is None and node.start == start and node.end == end
                and self.text[start] in "0123456789.+-")

    def _check_new_name(self, name) -> None:
        if name in self.assigned:
            first = self.names[name]
            raise SourceError(f"{clip(name)} is already assigned; a name is assigned once", self.text,
                              name.start_pos, name.end_pos,
                              hint=f"use a new name (the first assignment is at {_where(self.text, first.start)})")
        if name in self.names:
            first = self.names[name]
            raise SourceError(f"{clip(name)} is assigned after it is used", self.text, name.start_pos, name.end_pos,
                              hint=f"assign it before its first use at {_where(self.text, first.start)}")

    def _check_name(self, name) -> None:
        """Python's rules for names: `x²` is not one (a power was meant)."""
        if name.isidentifier():
            return
        hint = (f"write powers with **: did you mean {as_power(name)}?" if as_power(name) != name
                else "names follow Python's rules: letters, digits and _, not starting with a digit")
        raise SourceError(f"{clip(name)} is not a name", self.text, name.start_pos, name.end_pos, hint)

    def _unknown_function(self, name) -> SourceError:
        import difflib
        known = sorted(ops.FUNCTIONS)
        meant = FUNCTION_ALIASES.get(str(name)) or next(iter(difflib.get_close_matches(str(name), known, n=1)), None)
        advice = FUNCTION_HINTS.get(str(name))
        hint = (f"{advice}; " if advice else f"did you mean {meant}? " if meant else "") + \
            "known functions: " + ", ".join(known)
        return SourceError(f"unknown function {clip(name)}", self.text, name.start_pos, name.end_pos, hint)

    def named(self, name: str) -> Value:
        """The node a name stands for (a constant like pi is not a name of the program)."""
        node = self.names.get(name)
        if node is None or name in CONSTANTS and name not in self.assigned:
            names = ", ".join(n for n in self.names if n not in CONSTANTS or n in self.assigned)
            raise AutodiffError(f"the program names no {clip(name)}; its names are: {clip(names, 400)}")
        return node

    def finish(self, output: Value, output_name: str | None, keep_unused: bool = False) -> Program:
        """The program's topological order: inputs first, then what the output needs (or, with
        `keep_unused`, every node), in creation order."""
        output.index = 0                            # index doubles as the "needed" mark here
        for node in reversed(self.created):
            if node.index != -1 or keep_unused:
                node.index = 0
                for x in node.inputs:
                    x.index = 0
        order = self.created                        # compacted in place: no second list of every node
        kept = 0
        for node in order:
            if node.index != -1 and node.op is not ops.INPUT:
                order[kept] = node
                kept += 1
        del order[kept:]
        order[:0] = self.inputs.values()
        self.created = []
        for i, node in enumerate(order):
            node.index = i
        return Program(self.text, order, self.inputs, self.names, output, output_name)


class _Inlined:
    """What Lark's parser expects of a helper rule's result: its children, to splice into the parent."""

    __slots__ = ("children",)

    def __init__(self, children: list):
        self.children = children


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _start_of(child: Occurrence | Token) -> int:
    if type(child) is tuple:
        _, start, _, _ = child
        return start
    return child.start_pos


def parse(text: str, grammar: str | None = None, output: str | None = None, keep_unused: bool = False) -> Program:
    """Parse a program into its graph, ready to `run()`; raises `SourceError` on bad input.

    The output is the last statement, or the node named `output` (any name the
    program assigns, or an input): its value, and its gradients.  Nodes the
    output does not need are dropped, unless `keep_unused` (for a program with
    several outputs of interest, such as a derivative program's gradients).

    `grammar` is the text of another grammar to parse with instead of the
    generated parser (it needs `lark`): for trying a change to the language
    before regenerating, as the tests do.
    """
    if len(text) > LARGE_PROGRAM:
        refuse_garbage(text)
    parser, builder, unexpected_input = _parser(grammar)
    joined = join_lines_in_parentheses(text)
    with _collector_paused(), _released(builder):
        result = _fast_parse(joined, text, builder) if grammar is None else NoFastParse
        if result is NoFastParse:
            builder.reset(text)
            try:
                result = parser.parse(joined)
            except unexpected_input as exc:
                raise syntax_error(text, exc, parser.terminals) from None
        if result is None:
            raise SourceError("the program is empty", text, 0,
                              hint='write an expression, e.g. "(a*b+c)*f"')
        if output is not None:
            result = (builder.named(output), output)
        return builder.finish(*result, keep_unused=keep_unused)


LARGE_PROGRAM = 100_000     # characters; above this, cheap checks refuse garbage before Lark sees it
_COMMENT = re.compile(r"#[^\n]*")
_OPERAND = re.compile(r"[\w.]")
_OPERAND_FREE_PREFIX = re.compile(r"[ \t\f\r\n;]*[-+( \t\f\r]*")      # in text without comments
_TRAILING_OPERATOR = re.compile(r"(?:\*\*|[-+*/^=])[ \t\f\r]*([\n;]?)[ \t\f\r\n;]*\Z")
OPERAND_WORDS = "a number, a name, a function call or '('"


def refuse_garbage(text: str) -> None:
    """Refuse, at C speed, the garbage that Lark would take minutes to reject (10 MB of '(', a
    megabyte of '+'): unbalanced parentheses, text with no number or name in it, and
    text that ends with an operator.

    Lark shifts every token of a valid prefix before it fails, about 5 µs each;
    these checks count and search instead, and raise the usual error with its
    line, column and caret (for unbalanced parentheses, at the culprit
    parenthesis, or after an operator that ends the program, either of which
    may come after the first error Lark would have found).
    """
    code = _without_comments(text)
    opens, closes = code.count("("), code.count(")")
    if opens > closes:
        raise SourceError("'(' is never closed", text, _innermost_unclosed(code))
    if closes > opens:
        raise SourceError("unexpected ')'", text, _first_unopened(code), hint="this ')' closes no '('")
    if _OPERAND.search(code) is None:
        pos = _OPERAND_FREE_PREFIX.match(join_lines_in_parentheses(code)).end()
        if not code[:pos].strip(" \t\f\r\n;"):
            raise SourceError("the program is empty", text, 0, hint='write an expression, e.g. "(a*b+c)*f"')
        raise _operand_expected(text, pos)
    trailing = _TRAILING_OPERATOR.search(code)
    if trailing is not None:
        raise _operand_expected(text, trailing.start(1))


def _without_comments(text: str) -> str:
    """The text with each comment blanked out, every position kept."""
    return _COMMENT.sub(lambda m: " " * len(m.group()), text) if "#" in text else text


def _operand_expected(text: str, pos: int) -> SourceError:
    found = ("end of the program" if pos == len(text) else
             "end of the line" if text[pos] == "\n" else repr(text[pos]))
    return SourceError(f"unexpected {found}; expected {OPERAND_WORDS}", text, pos)


def _innermost_unclosed(code: str) -> int:
    """The last '(' that no ')' closes (there is one: more open than close)."""
    return _unmatched(code, "(", ")", range(len(code) - 1, -1, -1))


def _first_unopened(code: str) -> int:
    """The first ')' that closes no '(' (there is one: more close than open)."""
    return _unmatched(code, ")", "(", range(len(code)))


def _unmatched(code: str, wanted: str, other: str, positions: range) -> int:
    """Scanning `positions`, the first `wanted` parenthesis that no `other` seen before it pairs with."""
    depth = 0
    for i in positions:
        char = code[i]
        if char == other:
            depth += 1
        elif char == wanted:
            if depth == 0:
                return i
            depth -= 1
    raise ValueError(f"every {wanted!r} is matched")


_GENERATED: list[tuple] = []


def _fast_parse(joined: str, text: str, builder: GraphBuilder) -> object:
    """The fast loop's parse of a valid program; `NoFastParse` (the class) when Lark must parse it,
    for a syntax error and its message.  An error the builder raises (an unknown function, a name
    assigned twice) stands: Lark would meet it at the same token."""
    if not _FAST:
        _FAST.append(FastParser(_parser(None)[0]))
    builder.reset(text)
    try:
        return _FAST[0].parse(joined, builder, _Inlined)
    except FastSyntaxError as exc:          # the fast loop's own account of the error: no second parse
        raise syntax_error(text, exc, _parser(None)[0].terminals) from None
    except NoFastParse:
        return NoFastParse


_FAST: list[FastParser] = []


def _parser(grammar: str | None) -> tuple:
    """The parser for `grammar`, its builder and its error type.  The generated parser (grammar
    None) is made once: loading Lark's tables takes about 3 ms, far more than parsing a small
    program (a rule, a value given on the command line); its builder is reset for every parse, so
    parsing is not reentrant.  Another grammar gets a new parser each time, built by `lark`."""
    if grammar is not None:
        import lark
        builder = GraphBuilder()
        return lark.Lark(grammar, parser="lalr", lexer="contextual", transformer=builder), builder, lark.UnexpectedInput
    if not _GENERATED:
        builder = GraphBuilder()
        _GENERATED.append((lark_standalone.Lark_StandAlone(transformer=builder), builder,
                           lark_standalone.UnexpectedInput))
    return _GENERATED[0]


def evaluate(program: str, values: Mapping[str, float] | None = None, **kwargs: float) -> Program:
    """Parse, set inputs, run forward and backward: the library form of `autodiff eval`.

    >>> r = evaluate("(a*b+c)*f", a=2, b=-3, c=10, f=-2)
    >>> r.value, r.grad["a"]
    (-8.0, 6.0)
    """
    prog = parse(program)
    prog.set({**(values or {}), **kwargs})
    return prog.run()


NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def constant(text: str, what: str) -> float:
    """A number, or one expression of numbers such as `2/3`, `-pi` or `2*pi` (a value given on the
    command line); `what` names it in messages.  `1; 2` is two statements, not one value."""
    text = text.strip()
    if NUMBER.fullmatch(text):
        value = float(text)
        if math.isinf(value):
            raise AutodiffError(f"{what}: the number {clip(text)} is too large for a float")
        return value
    try:
        program = parse(text)
        one = ";" not in text and "\n" not in text.strip()
        if not program.inputs and one:
            return program.run().value
    except DomainError as exc:
        raise AutodiffError(f"{what}: {exc.message}") from None
    except AutodiffError:
        pass
    raise ConstantError(f"{what}: {clip(text)!r} is not a number", text)


class ConstantError(AutodiffError):
    """A value that is not a number or an expression of numbers; the CLI adds a hint."""

    def __init__(self, message: str, text: str):
        super().__init__(message)
        self.text = text


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
def _released(builder: GraphBuilder) -> Iterator[None]:
    """The builder lets go of the graph when the parse ends, so a finished program is its only owner."""
    try:
        yield
    finally:
        builder.reset("")


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


def syntax_error(text: str, exc: Exception, terminals=()) -> SourceError:
    """Lark's exception, in words people use, with a hint for common mistakes.

    `terminals` are the grammar's (Lark's TerminalDef list): a token whose
    pattern matches an operator of the op table is described as an operator.
    """
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
        expected -= END_OF_STATEMENT
    at_end = token is not None and token.type in END_OF_STATEMENT
    if unclosed is not None and at_end and "RPAR" in expected:
        return SourceError("'(' is never closed", text, unclosed)
    found = _describe_found(text, pos, token)
    message = f"unexpected {found}; expected {_describe_expected(expected, _operator_tokens(terminals))}"
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
        return f"name {clip(str(token))!r}"
    if token.type == "NUMBER":
        return f"number {clip(str(token))!r}"
    return repr(clip(str(token)))


def _operator_tokens(terminals) -> set[str]:
    """The grammar's token types that spell an operator of the op table (PLUS, STAR, _POW, ...)."""
    symbols = ops.operator_symbols()
    return {t.name for t in terminals
            if any(re.fullmatch(t.pattern.to_regexp(), symbol) for symbol in symbols)}


def _describe_expected(expected: set, operator_tokens: set[str]) -> str:
    if expected & {"NUMBER", "NAME"}:
        return OPERAND_WORDS
    words = []
    if expected & operator_tokens:
        words.append(f"an operator ({' '.join(ops.operator_symbols())})")
    words += [TOKEN_WORDS[t] for t in ("RPAR", "EQUAL") if t in expected]
    if expected & END_OF_STATEMENT:
        words.append("the end of the statement")
    if not words:
        words = sorted(TOKEN_WORDS.get(t, t) for t in expected)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _hint(text: str, pos: int) -> str:
    if text[pos:pos + 2] == "//" or text[max(0, pos - 1):pos + 1] == "//":
        return "// is not an operator here: write / to divide (there is no floor division)"
    closed = re.search(r"(\([^()\n]{0,30}\))[ \t]*$", text[max(0, pos - 40):pos])
    if closed and text[pos:pos + 1] == "(":
        group = re.match(r"\([^()\n]{0,30}\)", text[pos:])
        return f"did you mean {closed.group(1)}*{group.group() if group else '(...)'}? (write a product with *)"
    before = re.search(r"(\w+\.?\w*)[ \t]*$", text[max(0, pos - 40):pos])
    after = re.match(r"\w+\.?\w*", text[pos:pos + 40])
    if before and after:
        word, operand = before.group(1), as_power(after.group(0))
        if word in ops.FUNCTIONS or word in FUNCTION_ALIASES:
            return f"a function takes its argument in parentheses: did you mean {word}({operand})?"
        return f"did you mean {word}*{operand}?"
    if before and text[pos:pos + 1] == "(":
        group = re.match(r"\([^()\n]{0,30}\)", text[pos:])
        return f"did you mean {before.group(1)}*{group.group() if group else '(...)'}? (a number is not a function)"
    if text[pos:pos + 1] == ")":
        return "this ')' closes no '('"
    if text[pos:pos + 1] == "=" and text[pos + 1:pos + 2] != "=":
        return "only a plain name can be assigned: NAME = expression"
    return ""


def _unclosed_paren(text: str) -> int | None:
    """The position of the innermost '(' left open, ignoring comments; None if there is none."""
    try:
        return _innermost_unclosed(_without_comments(text))
    except ValueError:
        return None


def _where(text: str, pos: int) -> str:
    return "line {}, column {}".format(*line_and_column(text, pos))
