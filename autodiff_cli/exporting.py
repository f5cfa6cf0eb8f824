"""A derivative program in other forms: one expression per input (`--expr`), a Python function
(`--to python`) and LaTeX (`--to latex`).

Each op's Python and LaTeX forms, its domain and its precedence are in the op table, beside its
rule; nothing here names an op.
"""
from __future__ import annotations

import keyword
import re
import unicodedata
from typing import Sequence, TextIO

from . import ops
from .deriving import Derivative, derivative_document, derivative_program, hessian_program
from .engine import has_gates
from .errors import AutodiffError
from .expressions import Expression, Target, add, apply, children, number_text, render
from .ops import ATOM, PRODUCT, UNARY
from .program import Program
from .reports import Report, Style

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

HELPER = "_autodiff_"           # the export's own helpers; a program's names never start with it
RESERVED = {"math", "ValueError", "OverflowError", "__debug__"}     # what the function body itself refers to


def python_function(program: Program, wrt: Sequence[str] | None = None, order: int = 1,
                    function: str = "value_and_grad") -> str:
    """One self-contained module using only `math`: a function whose keyword-only parameters are
    the inputs in order of first appearance (with their values as defaults), returning
    `(value, {input: gradient})`, and with `order=2` also `{a: {b: d2 value / da db}}`.

    It computes what `diff`'s program computes, with the language's rules: an op refuses the
    operands its domain excludes (ValueError, with the op table's message), and a value or a
    gradient too large for a float is an OverflowError, as `eval` reports it.  Every value is
    named, so every one is checked."""
    if order == 2:
        second = hessian_program(program, wrt)
        statements, output = second.statements, second.output
        gradients = second.gradients
        hessian = second.names
    else:
        derivative = derivative_program(program, wrt, inline=False)
        statements, output, gradients, hessian = derivative.statements, derivative.output, derivative.gradients, None
    flags = {} if order == 2 else derivative.flags
    gates = has_gates(program.nodes)        # values that may be left out (where)
    vectors = program.grouped({n: n for n in program.inputs})           # a vector input is one parameter
    names = _python_names([s.name for s in statements] + list(vectors) + list(program.inputs))
    used = sorted({e[1] for s in statements for e in _walk(s.expression) if e[0] == "op"},
                  key=lambda op: op.name)
    parameters = ", ".join(_parameter(program, names, vector, elements) for vector, elements in vectors.items())
    lines = ['"""Written by the diff command of autodiff: the program and its derivatives, by reverse mode."""',
             "import math", "", f"{HELPER}TOO_LARGE = {ops.TOO_LARGE!r}",
             f"{HELPER}GRADIENT_TOO_LARGE = {ops.GRADIENT_TOO_LARGE!r}", ""]
    lines += _python_helpers(used, gates)
    lines += ["", "", f"def {function}(*, {parameters}):" if parameters else f"def {function}():",
              f'    """d {output} / d each input, by reverse mode (written by autodiff diff)."""']
    lines += [f"    {_as_python(names, elements)} = {names[vector]}"
              for vector, elements in vectors.items() if isinstance(elements, list)]
    # where's flags: before the check of what the output needs (second derivatives: in each block)
    forward = [s for s in statements if s.kind == "forward" or s.kind == "flag" and order == 1]
    backward = [s for s in statements if s.kind in ("adjoint", "gradient") or s.kind == "flag" and order == 2]
    def target(check: str | None) -> Target:
        return Target("python", number=repr, names=lambda name: names.get(name) or _constant(name),
                      call=lambda op: f"{HELPER}{op.name}" if op.refuse else None, check=check)

    # the backward pass checks every value of a rule (a rule's intermediates are finite, or the
    # gradient is too large, as on every surface)
    if forward:
        lines += _checked_block(forward, names, target(None), f"{HELPER}TOO_LARGE", gates)
    if gates and order == 1:    # the first value the output needs that does not exist, as eval finds it
        needed = ", ".join(f"({names[s.name]}, {render(flags[s.of.index], target(None)) if s.of.index in flags else 1})"
                           for s in forward if s.of is not None)
        lines.append(f"    {HELPER}needed({needed})")
    elif gates:                 # second derivatives: the values returned (and any a statement uses: it raises)
        lines.append(f"    {HELPER}needed(" + ", ".join(f"({names[n]}, 1)" for n in [output, *gradients.values()]) + ")")
    if backward:
        lines += _checked_block(backward, names, target(f"{HELPER}checked"), f"{HELPER}GRADIENT_TOO_LARGE", False)
    by_input = program.grouped(gradients) if order == 1 else gradients
    grads = ", ".join(f"{n!r}: {_as_python(names, g, lists=True)}" for n, g in by_input.items())
    returned = f"{names[output]}, {{{grads}}}"
    if hessian is not None:
        rows = ", ".join(f"{a!r}: {{" + ", ".join(f"{b!r}: {names[h]}" for b, h in row.items()) + "}"
                         for a, row in hessian.items())
        returned += f", {{{rows}}}"
    lines.append(f"    return {returned}")
    return "\n".join(lines) + "\n"


def _parameter(program: Program, names: dict[str, str], vector: str, elements: object) -> str:
    """`a=2.0`, `x` (no default), or a vector input as a sequence `z=(1.0, 2.0)` (rows for a matrix)."""
    if not isinstance(elements, list):
        node = program.inputs[vector]
        return f"{names[vector]}={node.data!r}" if node.data is not None else names[vector]
    flat = elements if not isinstance(elements[0], list) else [e for row in elements for e in row]
    if any(program.inputs[e].data is None for e in flat):
        return names[vector]
    rows = [elements] if not isinstance(elements[0], list) else elements
    literal = ", ".join("(" + ", ".join(repr(program.inputs[e].data) for e in row) + ",)" for row in rows)
    return f"{names[vector]}={'(' + literal + ')' if isinstance(elements[0], list) else literal}"


def _as_python(names: dict[str, str], value: object, lists: bool = False) -> str:
    """A name, or a vector (matrix) of names as a tuple for unpacking, or as a list to return."""
    if not isinstance(value, list):
        return names[value]
    opening, closing = ("[", "]") if lists else ("(", ",)")
    row = lambda items: opening + ", ".join(names[item] for item in items) + closing     # noqa: E731
    return row(value) if not isinstance(value[0], list) else opening + ", ".join(map(row, value)) + closing


def _checked_block(block: list, names: dict[str, str], target: Target, message: str, dead: bool) -> list[str]:
    """The statements, in a `try` that turns Python's OverflowError into the engine's message, and
    a check that every value is finite: before each statement that calls an op with a domain (so
    an overflow before a refusal is reported first, as `eval` reports it) and at the end.  A value
    that does not exist, in a program with `where` (`dead`), is kept as a dead value: using it
    raises why it does not exist, and `_autodiff_needed` raises for the first one the output needs."""
    check = f"        {HELPER}finite({message}, {{}})"
    lines, pending = ["    try:"], []
    for statement in block:
        refusing = any(e[0] == "op" and e[1].refuse for e in _walk(statement.expression))
        if refusing and pending:
            lines.append(check.format(", ".join(pending)))
            pending = []
        assigned, value = names[statement.name], render(statement.expression, target)
        if dead:
            lines += ["        try:", f"            {assigned} = {value}", f"            {HELPER}finite({message}, {assigned})",
                      "        except OverflowError:", f"            {assigned} = {HELPER}Dead(OverflowError({message}), {len(lines)})",
                      "        except (ArithmeticError, ValueError) as error:",
                      f"            {assigned} = {HELPER}Dead(error, {len(lines)})"]
            continue
        lines.append(f"        {assigned} = {value}")
        pending.append(names[statement.name])
    lines.append(check.format(", ".join(pending)))
    return lines + ["    except OverflowError:", f"        raise OverflowError({message}) from None"]


def _constant(name: str) -> str:
    """A built-in constant of the language (pi) as a Python literal."""
    from .parsing import CONSTANTS

    return repr(CONSTANTS[name])


def _walk(e: Expression):
    stack = [e]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(children(node))


_DEAD = [f"class {HELPER}Dead:",
         '    """A value left out by a closed branch of `where`: using it raises why it does not exist."""',
         "", "    def __init__(self, error, place):",
         "        self.error = error",
         "        self.place = error.place = getattr(error, 'place', place)     # where it started", "",
         "    def fail(self, *operands):",
         "        dead = [v for v in (self, *operands) if isinstance(v, type(self))]",
         "        raise min(dead, key=lambda v: v.place).error      # the first in the program's order", "",
         "    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = fail",
         "    __pow__ = __rpow__ = __neg__ = __pos__ = __abs__ = __float__ = __bool__ = fail",
         "    __lt__ = __le__ = __gt__ = __ge__ = __eq__ = __ne__ = fail", "", "",
         f"def {HELPER}needed(*values):",
         '    """Raise for the first value that does not exist where the output needs it."""',
         "    for value, needed in values:",
         f"        if isinstance(value, {HELPER}Dead) and (isinstance(needed, {HELPER}Dead) or needed):",
         "            raise value.error", "", ""]


def _python_helpers(used: list[ops.Op], gated: bool = False) -> list[str]:
    """A checking function for each op with a domain (`_autodiff_log`), and the finiteness check
    (which passes over dead values, when the program has a `where`)."""
    values = f"(v for v in values if not isinstance(v, {HELPER}Dead))" if gated else "values"
    lines = (_DEAD if gated else []) + [f"def {HELPER}finite(message, *values):",
             f"    if not all(map(math.isfinite, {values})):",
             "        raise OverflowError(message)",
             "", "",
             f"def {HELPER}checked(value):",
             "    if not math.isfinite(value):",
             f"        raise OverflowError({HELPER}GRADIENT_TOO_LARGE)",
             "    return value"]
    for op in used:
        if not op.refuse:
            continue
        operands = "xy"[:op.arity]
        lines += ["", "", f"def {HELPER}{op.name}({', '.join(operands)}):",
                  f"    if not all(map(math.isfinite, ({', '.join(operands)},))):",
                  f"        raise OverflowError({HELPER}TOO_LARGE)"]
        for message, condition in op.refuse.items():
            shown = ", ".join(f"{{{v}!r}}" for v in operands)
            lines += [f"    if {condition.render('python')}:",
                      f"        raise ValueError(f{op.symbol + '(' + shown + '): ' + message!r})"]
        lines.append(f"    return {op.applied_to(dict(zip(operands, operands)), 'python')}")
    return lines


def _python_names(names: list[str]) -> dict[str, str]:
    """Each name of the program as a Python identifier that means only it: Python reads
    identifiers in NFKC (`ﬁ` is `fi`), keywords cannot be assigned, and the export's own names
    (math, its helpers) must not be shadowed.  Others keep their spelling; a clash gets `_`s."""
    result: dict[str, str] = {}
    used: set[str] = set()
    for name in dict.fromkeys(names):
        candidate = unicodedata.normalize("NFKC", name)
        if not candidate.isidentifier():            # a vector's element: z[1] is z_1
            candidate = re.sub(r"\W+", "_", candidate).strip("_")
            candidate = candidate if candidate.isidentifier() else "v_" + candidate
        if candidate.startswith(HELPER):        # the helpers' prefix is the export's own: a name moves out of it
            candidate = "v" + candidate
        while keyword.iskeyword(candidate) or candidate in RESERVED or candidate in used:
            candidate += "_"
        result[name] = candidate
        used.add(candidate)
    return result


# LaTeX

def latex(derivative: Derivative) -> str:
    """The `--expr` form as LaTeX: one `\\frac{\\partial out}{\\partial a} = ...` line per input."""
    target = Target("latex", wrap=r"\left({}\right)".format, number=_latex_number, names=latex_name,
                    number_binds=lambda text: PRODUCT if "cdot" in text else UNARY if text.startswith("-") else ATOM)
    lines = [rf"\frac{{\partial {latex_name(derivative.output)}}}{{\partial {latex_name(name)}}} = "
             f"{render(e, target)}" for name, e in expressions(derivative).items()]
    return "\\begin{align*}\n" + " \\\\\n".join(f"  {line}" for line in lines) + "\n\\end{align*}\n"


_INDEXED = re.compile(r"([A-Za-z])(\d+)")


_ELEMENT = re.compile(r"(\w+)((?:\[\d+\])+)")


def latex_name(name: str) -> str:
    """`x`, `x_{1}` for x1, `\\pi`, `\\mathit{rate}` for longer names (underscores escaped); a
    vector's element z[1] as z_{1}, W[0][2] as W_{0,2}."""
    element = _ELEMENT.fullmatch(name)
    if element:
        return f"{_latex_plain_name(element.group(1))}_{{{','.join(re.findall(r'[0-9]+', element.group(2)))}}}"
    return _latex_plain_name(name)


def _latex_plain_name(name: str) -> str:
    if name == "pi":
        return r"\pi"
    if len(name) == 1 and name.isascii():
        return name
    indexed = _INDEXED.fullmatch(name)
    if indexed:
        return f"{indexed.group(1)}_{{{indexed.group(2)}}}"
    return r"\mathit{" + re.sub(r"([_&%$#{}])", r"\\\1", name) + "}"


def _latex_number(value: float) -> str:
    text = number_text(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \cdot 10^{{{int(exponent)}}}"
    return text


class DiffReport(Report):
    """diff's report: the derivative as a program in the language (`text`), one expression per
    input (`expr`), a Python module (`python`), LaTeX (`latex`) or the statements as JSON; with
    order 2, the second derivatives (as a program, or a Python module)."""

    formats = ("text", "json", "expr", "python", "latex")
    text_formats = formats

    def __init__(self, program: Program, wrt: Sequence[str] | None = None, order: int = 1):
        self.program = program
        self.wrt = list(wrt or ())
        self.order = order

    def write_text(self, out: TextIO, style: Style) -> None:
        if self.order == 2:
            out.write(hessian_program(self.program, self.wrt).text())
        else:
            out.write(derivative_program(self.program, self.wrt).text())

    def write_python(self, out: TextIO, style: Style) -> None:
        out.write(python_function(self.program, self.wrt, order=self.order))

    def write_expr(self, out: TextIO, style: Style) -> None:
        out.write(expression_text(derivative_program(self.program, self.wrt)))

    def write_latex(self, out: TextIO, style: Style) -> None:
        out.write(latex(derivative_program(self.program, self.wrt)))

    def write_json(self, out: TextIO, style: Style) -> None:
        from .output import json_bytes

        out.write(json_bytes(derivative_document(self.program, derivative_program(self.program, self.wrt))).decode())
