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
from .program import Program, shorten
from .vectors import ShapeError, Tensor, describe, element_names
from . import vectors

Occurrence = tuple  # (node: Value, start: int, end: int, varies: bool), always unpacked by name
Token = lark_standalone.Token

TOKEN_WORDS = {
    "NUMBER": "a number", "NAME": "a name", "LPAR": "'('", "RPAR": "')'", "EQUAL": "'='", "SEMICOLON": "';'",
    "COMMA": "','", "LSQB": "'['", "RSQB": "']'", "DEFINITION": "a function's definition",
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


VECTOR_FUNCTIONS = {"sum": 1, "mean": 1, "logsumexp": 1, "softmax": 1, "len": 1, "dot": 2, "where": 3}
REDUCING = {"max", "min"}                   # of one vector: its largest (smallest) element; of two: the ops
_HEAD = re.compile(r"(\w+)[ \t]*\(([^)]*)\)[ \t]*=")


class GraphBuilder:
    """Lark inline-transformer callbacks that build `Value` nodes while parsing."""

    def __init__(self, text: str = ""):
        self.reset(text)

    def reset(self, text: str, joined: str | None = None) -> None:
        """Ready to build the graph of `text` (one builder serves every parse: see `_parser`);
        `joined` is the text the parser reads (new lines inside brackets made spaces)."""
        self.text = text
        self.joined = text if joined is None else joined
        self.created: list[Value] = []          # creation order, which is topological
        self.inputs: dict[str, Value] = {}
        self.names: dict[str, Value] = {}
        self.vectors: dict[str, Tensor] = {}    # the names of vectors and matrices
        self.functions: dict[str, Function] = {}
        self.constants: set[str] = set()        # the names whose node depends on no input
        self.assigned: set[str] = set()
        self.last: tuple | None = None          # the last statement's occurrence and name
        self.defined_last: Function | None = None   # the last statement, when it defines a function

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
        vector = self.vectors.get(token)
        if vector is not None:                      # a named vector is a value, never a literal that declares
            return Tensor(vector.shape, vector.items, False), start, end, token not in self.constants
        if token in self.functions:
            raise SourceError(f"{clip(token)} is a function: call it, as {clip(token)}(...)", self.text, start, end)
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

    def vector(self, children: list) -> Occurrence:
        """`[a, b, c]`, or a matrix `[[1, 2], [3, 4]]`: its elements (rows) have one shape."""
        lsqb, *items, rsqb = children
        start, end = lsqb.start_pos, rsqb.end_pos
        shape = vectors.shape_of(items[0][0])
        for value, item_start, item_end, _ in items:
            if vectors.shape_of(value) != shape:
                raise SourceError(f"the rows of a matrix have one length: this is {describe(vectors.shape_of(value))}"
                                  f" after {describe(shape)}", self.text, item_start, item_end)
        if len(shape) > 1:
            raise SourceError("vectors and matrices only: [ ] nests at most twice", self.text, start, end)
        flat = [x for value, _, _, _ in items for x in (value.items if type(value) is Tensor else (value,))]
        literal = all(value.literal if type(value) is Tensor else self._is_signed_literal(value, s, e)
                      for value, s, e, _ in items)
        return Tensor((len(items), *shape), flat, literal), start, end, any(varies for *_, varies in items)

    def index(self, children: list) -> Occurrence:
        """`v[0]`, `v[-1]`, `W[1]` (a row), `W[1][2]`: chosen when the program is parsed."""
        (base, start, _, varies), lsqb, (index, index_start, index_end, _), rsqb = children
        if type(base) is not Tensor:
            raise SourceError(f"{clip(self._span_label(start, lsqb.start_pos))} is a number, not a vector: it has "
                              "no elements to index", self.text, start, rsqb.end_pos,
                              hint="declare a vector with its values, as z = [1.0, 2.0, 3.0]")
        if not self._is_signed_literal(index, index_start, index_end):
            raise SourceError("an index is a whole number written out, as v[0] or v[-1]", self.text,
                              index_start, index_end)
        if self.created and self.created[-1] is index:      # the literal is not a node of the graph
            self.created.pop()
        try:
            i = vectors.index_of(index.data, len(base))
        except ShapeError as exc:
            raise SourceError(str(exc), self.text, index_start, index_end) from None
        return base.part(i), start, rsqb.end_pos, varies

    # operators: one callback for every op the grammar names by alias
    def _binary(self, op: ops.Op, children: list) -> Occurrence:
        """`left OP right`: the grammar's operator tokens are anonymous, so the children are the operands."""
        try:
            (left, start, _, left_varies), (right, _, end, varies) = children
        except (TypeError, ValueError):
            raise self._not_an_operator_rule(op, children) from None
        if type(left) is Tensor or type(right) is Tensor:
            return self._elementwise(op, (left, right), start, end), start, end, varies or left_varies
        out = Value(None, (left, right), op, None, start, end)
        self.created.append(out)
        return out, start, end, varies or left_varies

    def _unary(self, op: ops.Op, children: list) -> Occurrence:
        """`SIGN operand`: the sign token (a named terminal) gives the start."""
        try:
            sign, (node, start, end, varies) = children
        except (TypeError, ValueError):
            raise self._not_an_operator_rule(op, children) from None
        if type(node) is Tensor:
            return self._elementwise(op, (node,), sign.start_pos, end), sign.start_pos, end, varies
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
        if type(node) is not Tensor and self._is_bare_literal(node, start):   # +3 is the literal 3, with its sign
            node.start = sign.start_pos
        return node, sign.start_pos, end, varies

    def matmul(self, children: list) -> Occurrence:
        (left, start, _, left_varies), (right, _, end, varies) = children
        try:
            out = vectors.matmul(self._maker(start, end), left, right, self._span_label(start, end), self._name_of)
        except ShapeError as exc:
            raise SourceError(str(exc), self.text, start, end) from None
        return out, start, end, varies or left_varies

    def call(self, children: list) -> Occurrence:
        name, *arguments, rpar = children
        function = self.functions.get(name)
        if function is not None:
            return self._expand(function, arguments, name, rpar)
        if name in VECTOR_FUNCTIONS or (name in REDUCING and len(arguments) == 1):
            return self._vector_function(name, arguments, name.start_pos, rpar.end_pos)
        op = ops.FUNCTIONS.get(name)
        if op is None:
            raise self._unknown_function(name)
        if len(arguments) != op.arity:
            raise SourceError(f"{name} takes {_count(op.arity, 'argument')}, not {len(arguments)}", self.text,
                              name.start_pos, rpar.end_pos, hint=f"write {op.written}")
        values = tuple(node for node, _, _, _ in arguments)
        varies = any(varies for _, _, _, varies in arguments)
        if any(type(value) is Tensor for value in values):
            return self._elementwise(op, values, name.start_pos, rpar.end_pos), name.start_pos, rpar.end_pos, varies
        out = Value(None, values, op, None, name.start_pos, rpar.end_pos)
        self.created.append(out)
        return out, name.start_pos, rpar.end_pos, varies

    def _vector_function(self, name: str, arguments: list, start: int, end: int) -> Occurrence:
        """sum, mean, max, min, logsumexp, softmax, len and dot of vectors, and where."""
        wanted = 1 if name in REDUCING else VECTOR_FUNCTIONS[name]
        if len(arguments) != wanted:
            raise SourceError(f"{name} takes {_count(wanted, 'argument')}, not {len(arguments)}", self.text,
                              start, end)
        varies = any(varies for *_, varies in arguments)
        if name == "where":
            return self._where(arguments, start, end), start, end, varies
        for value, value_start, value_end, _ in arguments:
            if type(value) is not Tensor:
                hint = (f"declare a vector with its values, as {value.label} = [1.0, 2.0, 3.0]"
                        if value.op is ops.INPUT else "")
                raise SourceError(f"{name} takes a vector, not a number", self.text, value_start, value_end, hint=hint)
        values = [value for value, *_ in arguments]
        label, make = self._span_label(start, end), self._maker(start, end)
        if name == "len":
            return self._constant(float(len(values[0])), start, end), start, end, False
        if name in ("softmax", "dot") and any(len(value.shape) != 1 for value in values):
            raise SourceError(f"{name} takes vectors, not matrices", self.text, start, end)
        try:
            if name == "dot":
                u, v = values
                if len(u) != len(v):
                    raise ShapeError(f"dot needs vectors of one length, not {describe(u.shape)} and {describe(v.shape)}")
                return vectors.dot(make, u.items, v.items, label, self._name_of), start, end, varies
            if name == "softmax":
                return vectors.softmax(make, values[0].items, values[0].shape, self._argument_label(arguments[0]),
                                       self._name_of), start, end, varies
            if name == "logsumexp":
                return vectors.logsumexp(make, values[0].items, label, self._name_of), start, end, varies
            items = values[0].items
            if name == "mean":
                total = vectors.fold(make, ops.ADD, items, f"sum({self._argument_label(arguments[0])})", self._name_of)
                return make(ops.DIV, (total, self._constant(float(len(items)), start, end)), label), start, end, varies
            op = ops.ADD if name == "sum" else ops.FUNCTIONS[name]
            return vectors.fold(make, op, items, label, self._name_of), start, end, varies
        except ShapeError as exc:
            raise SourceError(str(exc), self.text, start, end) from None

    def _where(self, arguments: list, start: int, end: int) -> Value | Tensor:
        """`where(c, a, b)`: a where c holds (is not 0), else b; see `ops.WHEN`."""
        (condition, *_), (then, *_), (otherwise, *_) = arguments
        label = self._span_label(start, end)
        try:
            if any(type(x) is Tensor for x in (condition, then, otherwise)):
                chosen = self._elementwise(ops.FUNCTIONS["when"], (condition, then), start, end)
                rest = self._elementwise(ops.FUNCTIONS["unless"], (condition, otherwise), start, end)
                return self._elementwise(ops.ADD, (chosen, rest), start, end)
        except SourceError as exc:
            raise SourceError(exc.message.replace("when needs", "where needs").replace("unless needs", "where needs")
                              .replace("+ needs", "where needs"), self.text, start, end) from None
        make = self._maker(start, end)
        chosen = make(ops.FUNCTIONS["when"], (condition, then), f"{self._name_of(then)} when {self._name_of(condition)}")
        rest = make(ops.FUNCTIONS["unless"], (condition, otherwise),
                    f"{self._name_of(otherwise)} unless {self._name_of(condition)}")
        return make(ops.ADD, (chosen, rest), label)

    def _elementwise(self, op: ops.Op, operands: tuple, start: int, end: int) -> Tensor:
        try:
            return vectors.elementwise(self._maker(start, end), op, operands, self._span_label(start, end))
        except ShapeError as exc:
            raise SourceError(str(exc), self.text, start, end) from None

    def _maker(self, start: int, end: int):
        """How the vector functions make a node: placed at `start:end` in the text, in the graph."""
        created = self.created

        def make(op: ops.Op, operands: tuple, label: str) -> Value:
            node = Value(None, operands, op, label, start, end)
            created.append(node)
            return node
        return make

    def _constant(self, value: float, start: int, end: int) -> Value:
        """A number the parser adds (a vector's length), labelled by its value, not by the text there."""
        node = Value(value, (), ops.CONST, f"{value:g}", start, end)
        self.created.append(node)
        return node

    def _span_label(self, start: int, end: int) -> str:
        return shorten(self.text, start, end)

    def _argument_label(self, argument: Occurrence) -> str:
        _, start, end, _ = argument
        return self._span_label(start, end)

    def _name_of(self, node: Value) -> str:
        """How a vector function's labels call one of its operands."""
        if node.label is not None:
            return node.label
        return shorten(self.text, node.start, node.end) if node.start >= 0 else f"{node.data:g}"

    # user functions
    def define(self, children: list) -> None:
        """`f(x, y) = body`: the body's reductions recorded, to be replayed at each call."""
        token, = children
        head = _HEAD.match(token)
        name, start = head.group(1), token.start_pos
        parameters = [p.strip() for p in head.group(2).split(",")] if head.group(2).strip() else []
        name_end = start + len(name)
        if name in ops.FUNCTIONS or name in VECTOR_FUNCTIONS or name in REDUCING:
            raise SourceError(f"{name} is a built-in function: give yours another name", self.text, start, name_end)
        if name in self.functions or name in self.names or name in self.vectors:
            first = (self.functions[name].start if name in self.functions else
                     (self.names.get(name) or self.vectors[name].items[0]).start)
            raise SourceError(f"{clip(name)} is already {'defined' if name in self.functions else 'a name'}",
                              self.text, start, name_end, hint=f"the first is at {_where(self.text, first)}")
        for k, parameter in enumerate(parameters):
            if parameter in parameters[:k] or parameter == name:
                at = start + head.group(0).index(parameter, head.start(2) + 1 if parameter == name else head.start(2))
                raise SourceError(f"the parameter {clip(parameter)} is given twice" if parameter != name else
                                  "a parameter cannot be the function's own name", self.text, at, at + len(parameter))
        recorder = _Recorder(self, name, parameters)
        body_start = start + head.end()
        if not self.joined[body_start:token.end_pos].strip():
            raise SourceError(f"the body of {name} is empty", self.text, token.end_pos,
                              hint=f"write what it computes: {name}({', '.join(parameters)}) = expression")
        _fast_parser().parse(self.joined, recorder, _Inlined, body_start, token.end_pos)
        self.functions[name] = Function(name, parameters, recorder.steps, start)
        self.defined_last = self.functions[name]
        self.last = None

    def _expand(self, function: Function, arguments: list, name, rpar) -> Occurrence:
        """A call: the function's body built again here, with these arguments for its parameters."""
        if len(arguments) != len(function.parameters):
            raise SourceError(f"{function.name} takes {_count(len(function.parameters), 'argument')} "
                              f"({', '.join(function.parameters)}), not {len(arguments)}", self.text,
                              name.start_pos, rpar.end_pos,
                              hint=f"{function.name} is defined at {_where(self.text, function.start)}")
        results: list = []
        try:
            for rule, children in function.steps:
                if rule == "_param":                    # the argument, where the body names the parameter
                    k, token = children
                    node, _, _, varies = arguments[k]
                    results.append((node, token.start_pos, token.end_pos, varies))
                    continue
                resolved = [results[c] if type(c) is _Ref else c for c in children]
                if rule == "_span":
                    (node, _, _, varies), first, last = resolved
                    results.append((node, first.start_pos, last.end_pos, varies))
                else:
                    results.append(getattr(self, rule)(resolved))
        except SourceError as exc:
            if "in the call of" in exc.hint:
                raise
            where = _where(self.text, name.start_pos)
            raise SourceError(exc.message, exc.text, exc.start, exc.end,
                              hint=f"in the call of {function.name} at {where}" + (f"; {exc.hint}" if exc.hint else "")
                              ) from None
        node, _, _, varies = results[-1]
        return node, name.start_pos, rpar.end_pos, varies

    def _definition_as_output(self, function: Function) -> tuple:
        """A program that ends with a definition computes it at its parameters, as inputs."""
        arguments = []
        head = self.text[function.start:]
        for parameter in function.parameters:
            at = function.start + head.index(parameter, len(function.name))
            arguments.append(self.name([_token("NAME", parameter, at)]))
        name = _token("NAME", function.name, function.start)
        close = _token("RPAR", ")", function.start + head.index(")"))
        return self._expand(function, arguments, name, close), function.name

    # statements: each records itself as the last and returns nothing, so that the parser's list of
    # statements holds no occurrences (a program of 250,000 statements would keep them all)
    def statement(self, children: list) -> None:
        """An expression statement; a bare name (`y = x; y`) gives the output that name."""
        occurrence, = children
        node, start, end, _ = occurrence
        written = self.text[start:end]
        named = type(node) is not Tensor and self.names.get(written) is node and \
            (written not in CONSTANTS or written in self.assigned)
        self.last = (occurrence, written if named or written in self.vectors else None)
        self.defined_last = None

    def assign(self, children: list) -> None:
        name, occurrence = children
        node, start, end, varies = occurrence
        label = str(name)
        self._check_name(name)
        self._check_new_name(name)
        self.assigned.add(label)
        self.defined_last = None
        if type(node) is Tensor:
            varies = self._assign_vector(label, node) or varies
        elif self._is_signed_literal(node, start, end):       # a = -3 declares an input
            node.op, node.label, node.start, node.end = ops.INPUT, label, name.start_pos, name.end_pos
            self.inputs[label] = node
            varies = True
        elif node.label is None:
            node.label = label
        if type(node) is not Tensor:
            self.names[label] = node
        if not varies:
            self.constants.add(label)
        self.last = ((node, name.start_pos, end, varies), label)

    def _assign_vector(self, label: str, tensor: Tensor) -> bool:
        """`z = [2.0, 1.0]` declares a vector input, its elements z[0], z[1]; any other vector is
        named, its elements (those without a name of their own) z[0], z[1], ...  True if it is an input."""
        self.vectors[label] = tensor
        names = element_names(label, tensor.shape)
        for element, element_name in zip(tensor.items, names):
            if tensor.literal:
                element.op, element.label = ops.INPUT, element_name
                self.inputs[element_name] = element
            elif element.op is not ops.INPUT and self.names.get(element.label) is not element:
                element.label = element_name
            self.names.setdefault(element_name, element)
        return tensor.literal

    def start(self, statements: list) -> tuple[Value, str | None] | None:
        """The output and the last statement's name, if it is an assignment; None for no statement."""
        if self.defined_last is not None:
            (node, _, _, _), name = self._definition_as_output(self.defined_last)
            return node, name
        if self.last is None:
            return None
        (node, start, end, _), name = self.last
        if type(node) is Tensor:
            raise SourceError(f"the output must be a number, not {describe(node.shape)}", self.text, start, end,
                              hint=f"end with sum({name}) or {name}[0]" if name else
                              f"sum it, as sum({self._span_label(start, end)}), or take one element, as "
                              f"({self._span_label(start, end)})[0]")
        return node, name

    # helpers
    def _is_bare_literal(self, node: Value, start: int) -> bool:
        return node.op is ops.CONST and node.start == start and self.text[start] in "0123456789."

    def _is_signed_literal(self, node: Value, start: int, end: int) -> bool:
        """A number as written, with its sign (`-3`), not a constant's name (`pi`) or an expression."""
        return (node.op is ops.CONST and node.label is None and node.start == start and node.end == end
                and self.text[start] in "0123456789.+-")

    def _check_new_name(self, name) -> None:
        if name in self.assigned:
            raise SourceError(f"{clip(name)} is already assigned; a name is assigned once", self.text,
                              name.start_pos, name.end_pos,
                              hint=f"use a new name (the first assignment is at {self._first_place(name)})")
        if name in self.names:
            raise SourceError(f"{clip(name)} is assigned after it is used", self.text, name.start_pos, name.end_pos,
                              hint=f"assign it before its first use at {self._first_place(name)}")
        if name in self.functions:
            raise SourceError(f"{clip(name)} is a function", self.text, name.start_pos, name.end_pos,
                              hint=f"use a new name ({clip(name)} is defined at {self._first_place(name)})")

    def _first_place(self, name: str) -> str:
        first = (self.functions[name].start if name in self.functions else
                 self.names[name].start if name in self.names else self.vectors[name].items[0].start)
        return _where(self.text, first)

    def _check_name(self, name) -> None:
        """Python's rules for names: `x²` is not one (a power was meant)."""
        if name.isidentifier():
            return
        hint = (f"write powers with **: did you mean {as_power(name)}?" if as_power(name) != name
                else "names follow Python's rules: letters, digits and _, not starting with a digit")
        raise SourceError(f"{clip(name)} is not a name", self.text, name.start_pos, name.end_pos, hint)

    def _unknown_function(self, name) -> SourceError:
        import difflib
        later = re.compile(rf"(?m)^[ \t;]*{re.escape(name)}[ \t]*\([^()=\n;]*\)[ \t]*=(?!=)").search(
            self.text, name.end_pos)
        if later is not None:
            defined = later.end() - len(later.group().lstrip(" \t;"))
            return SourceError(f"{clip(name)} is used before its definition", self.text, name.start_pos, name.end_pos,
                               hint=f"define it before its first use (it is defined at {_where(self.text, defined)})")
        known = sorted({*ops.FUNCTIONS, *VECTOR_FUNCTIONS, *self.functions})
        meant = FUNCTION_ALIASES.get(str(name)) or next(iter(difflib.get_close_matches(str(name), known, n=1)), None)
        advice = FUNCTION_HINTS.get(str(name))
        hint = (f"{advice}; " if advice else f"did you mean {meant}? " if meant else "") + \
            "known functions: " + ", ".join(known)
        return SourceError(f"unknown function {clip(name)}", self.text, name.start_pos, name.end_pos, hint)

    def named(self, name: str) -> Value:
        """The node a name stands for (a constant like pi is not a name of the program)."""
        if name in self.vectors:
            raise AutodiffError(f"{clip(name)} is {describe(self.vectors[name].shape)}; the output is a number: "
                                f"name one element, as {clip(name)}{'[0]' * len(self.vectors[name].shape)}")
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
        shapes = {name: tensor.shape for name, tensor in self.vectors.items()}
        return Program(self.text, order, self.inputs, self.names, output, output_name, shapes)


class _Inlined:
    """What Lark's parser expects of a helper rule's result: its children, to splice into the parent."""

    __slots__ = ("children",)

    def __init__(self, children: list):
        self.children = children


class Function:
    """A function the program defines: its parameters, and its body's reductions as the parser
    made them (each a rule and its children, a child `_Ref` being an earlier reduction's result)."""

    __slots__ = ("name", "parameters", "steps", "start")

    def __init__(self, name: str, parameters: list[str], steps: list[tuple], start: int):
        self.name = name
        self.parameters = parameters
        self.steps = steps
        self.start = start


class _Ref(int):
    """A child that is the result of an earlier step of a recorded body."""


class _Recorder:
    """The builder's stand-in while a function's body is parsed: it records each reduction, to be
    replayed by the builder at every call with the call's arguments for the parameters.  A call of
    an earlier function is recorded as that function's own steps, so a replay never calls itself
    and a function can call only those defined before it."""

    def __init__(self, builder: GraphBuilder, name: str, parameters: list[str]):
        self.builder = builder
        self.function = name
        self.parameters = parameters
        self.steps: list[tuple] = []

    def __getattr__(self, rule: str):
        if rule.startswith("__"):
            raise AttributeError(rule)
        return partial(self._record, rule)

    def _record(self, rule: str, children) -> _Ref:
        self.steps.append((rule, children))
        return _Ref(len(self.steps) - 1)

    def name(self, children: list) -> _Ref:
        token = children[0]
        if token in self.parameters:
            return self._record("_param", (self.parameters.index(token), token))
        return self._record("name", children)

    def call(self, children: list) -> _Ref:
        name, *arguments, rpar = children
        callee = self.builder.functions.get(name)
        if name == self.function:
            raise SourceError(f"{clip(name)} calls itself: a function can call only those defined before it",
                              self.builder.text, name.start_pos, name.end_pos)
        if callee is None:
            if name not in ops.FUNCTIONS and name not in VECTOR_FUNCTIONS:
                raise self.builder._unknown_function(name)
            return self._record("call", children)
        if len(arguments) != len(callee.parameters):
            return self._record("call", children)        # the replay says what is wrong, at the call
        base = len(self.steps)
        for rule, parts in callee.steps:
            if rule == "_param":                    # the caller's argument, where the callee names it
                k, token = parts
                self.steps.append(("_span", [arguments[k], token, token]))
            else:
                self.steps.append((rule, [_Ref(c + base) if type(c) is _Ref else c for c in parts]))
        return self._record("_span", [_Ref(len(self.steps) - 1), name, rpar])

    def statement(self, children: list) -> _Ref:
        return children[0]

    def assign(self, children: list) -> None:
        raise self._not_one_expression(children[0])

    def define(self, children: list) -> None:
        raise self._not_one_expression(children[0])

    def _not_one_expression(self, token) -> SourceError:
        return SourceError(f"the body of {self.function} is one expression", self.builder.text, token.start_pos,
                           token.end_pos)

    def start(self, statements: list) -> _Ref:
        return statements[-1]


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _token(kind: str, text: str, start: int) -> Token:
    """A token as the parser makes it, for text the builder reads again (a definition's head)."""
    return Token(kind, text, start_pos=start, end_pos=start + len(text))


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
            builder.reset(text, joined)
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


def _fast_parser() -> FastParser:
    if not _FAST:
        _FAST.append(FastParser(_parser(None)[0]))
    return _FAST[0]


def _fast_parse(joined: str, text: str, builder: GraphBuilder) -> object:
    """The fast loop's parse of a valid program; `NoFastParse` (the class) when Lark must parse it,
    for a syntax error and its message.  An error the builder raises (an unknown function, a name
    assigned twice) stands: Lark would meet it at the same token."""
    parser = _fast_parser()
    builder.reset(text, joined)
    try:
        return parser.parse(joined, builder, _Inlined)
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


def constant_or_array(text: str, what: str) -> float | list:
    """A value given on the command line: a number or expression of numbers (see `constant`), or a
    vector `[0.5, -1, 2]` or matrix `[[1, 2], [3, 4]]` of them (shapes are checked by the program)."""
    stripped = text.strip()
    if not stripped.startswith("["):
        return constant(text, what)
    pieces = re.findall(r"[\[\],]|[^\[\],]+", stripped)
    stack: list[list] = []
    result: list | None = None
    expect_value = True                     # after `[` or `,`: a value or `[` (or `]` after `[`)
    for i, piece in enumerate(pieces):
        if result is not None and piece.strip():
            raise AutodiffError(f"{what}: text after the closing ]: {clip(''.join(pieces[i:]))!r}")
        if piece == "[":
            stack.append([])
            expect_value = True
        elif piece == "]":
            if not stack or (expect_value and stack[-1] and pieces[i - 1] == ","):
                raise AutodiffError(f"{what}: unbalanced ] in {clip(stripped)!r}")
            done = stack.pop()
            if not done:
                raise AutodiffError(f"{what}: an empty list: a vector has at least one element")
            if stack:
                stack[-1].append(done)
            else:
                result = done
            expect_value = False
        elif piece == ",":
            if expect_value or not stack:
                raise AutodiffError(f"{what}: a missing value before , in {clip(stripped)!r}")
            expect_value = True
        elif piece.strip():
            if not stack or not expect_value:
                raise AutodiffError(f"{what}: expected , or ] before {clip(piece.strip())!r}")
            stack[-1].append(constant(piece, what))
            expect_value = False
    if result is None:
        raise AutodiffError(f"{what}: a [ is not closed in {clip(stripped)!r}")
    return result


class ConstantError(AutodiffError):
    """A value that is not a number or an expression of numbers; the CLI adds a hint."""

    def __init__(self, message: str, text: str):
        super().__init__(message)
        self.text = text


_PARENTHESES_COMMENTS_NEW_LINES = re.compile(r"#[^\n]*|[()\[\]\n]")   # a '(' in a comment opens nothing


def join_lines_in_parentheses(text: str) -> str:
    """Inside parentheses and brackets a new line does not end the statement, as in Python.

    Each such new line, and any comment before it, becomes spaces, so every
    position in the text (and every line and column an error reports) stays
    what it was.
    """
    if "\n" not in text or ("(" not in text and "[" not in text):
        return text
    pieces, depth, copied = [], 0, 0
    for match in _PARENTHESES_COMMENTS_NEW_LINES.finditer(text):
        char = match.group()
        if char in "([":
            depth += 1
        elif char in ")]":
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
