"""The derivative as a program: reverse mode written out in the language, runnable and
differentiable again.

The backward pass is a straight-line program with about one statement per
edge (Tapenade and Tangent print the same; SymPy's formulas swell instead,
copying every shared subexpression).  For `(a*b+c)*f`:

    t1 = a*b + c
    out = t1*f
    dout_dt1 = f
    dout_da = f*b
    ...

Forward statements name the nodes that need a name: the program's own names,
nodes used more than once, and values a local derivative reads (the other
factor of a `*`, the output of a `tanh`); every other node is written inline
where it is used.  Then, from the output back to the inputs, each node's
adjoint d out / d node is the sum of its contributions (its parents' adjoints
times the op's local derivative, the rule of the op table parsed as an
expression of the language).  An adjoint that is a single name or number is
used where it is needed; any other gets a statement, so nothing is written
twice and the program grows linearly: at most a forward and an adjoint
statement per node, and a gradient statement per input.

Names: the adjoint of X is `dOUT_dX`, OUT being the output's name (`out` for
an unnamed one); where a name of the program already starts with `dOUT_d`,
the prefix takes more underscores (`dOUT__d`) until none does.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Iterator, Sequence

from . import ops
from .engine import NumericError, Value, backward, forward as forward_pass, has_gates
from .errors import DomainError
from .expressions import Expression, add, apply, is_atom, name, num, number_text, render
from .rules import local_derivative
from .naming import output_symbol, same_text, symbols, taken_names
from .program import Program

_VARIABLE = re.compile(r"\b[xyo]\b")
SIGNED_LITERAL = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
ADD_UP = "used more than once: the gradients add up"


@dataclass
class Statement:
    """One line of a derivative program: `name = expression`."""

    name: str
    expression: Expression
    kind: str                   # "input" (a default value), "forward", "flag" (where: see _liveness), "adjoint", "gradient"
    of: Value | None            # the node whose value (forward) or adjoint this is
    comment: str = ""
    rendered: str = ""          # the expression as text, when it is already known

    def text(self) -> str:
        value = self.rendered or render(self.expression)
        if self.kind != "input" and SIGNED_LITERAL.fullmatch(value):
            value = f"({value})"            # `k = (5)`, `k = (-2)` name a constant; `k = 5` would declare an input
        line = f"{self.name} = {value}"
        return f"{line}   # {self.comment}" if self.comment else line


@dataclass
class Derivative:
    """A derivative program: the statements, the output's name, and each input's gradient's name."""

    statements: list[Statement]
    output: str
    gradients: dict[str, str]           # input name -> the name of d output / d input

    prefix: str                         # dOUT_d: the adjoint of X is named prefix + X
    flags: dict[int, Expression] | None = None  # node -> 1 where the output needs it (a chosen branch of `where`)

    def lines(self) -> list[Statement | None]:
        """The statements in the order `text` writes them, one a line (None for a comment line)."""
        forward = [s for s in self.statements if s.kind in ("input", "forward", "flag")]
        backward = [s for s in self.statements if s.kind in ("adjoint", "gradient")]
        return [None, *forward, None, *backward]

    def text(self) -> str:
        """The program as text: the forward statements, then the derivative's."""
        header = f"# its derivative: {self.prefix}X is d {self.output} / d X, from the output back to the inputs"
        lines = [s.text() if s is not None else header for s in self.lines()]
        lines[0] = "# the program"
        return "\n".join(lines) + "\n"

    def error_in(self, program: Program, graph: Program, exc: NumericError, what: str) -> DomainError:
        """An error of the derivative program's graph, at the place in the user's program it comes
        from: the node whose value or adjoint the failing statement computes."""
        line, _ = graph.position(exc.node)
        lines = self.lines()
        statement = lines[line - 1] if 0 < line <= len(lines) else None
        node = statement.of if statement is not None and statement.of is not None else program.output
        where = f" ({statement.name})" if statement is not None else ""
        return DomainError(f"{what}{where}: {exc.reason}", program.text, node.start, node.end)


def derivative_program(program: Program, wrt: Sequence[str] | None = None, *, inline: bool = True,
                       gradient_prefix: str | None = None, flag_prefix: str | None = None) -> Derivative:
    """The program with its reverse-mode derivative: d output / d each input in `wrt` (default: all).

    `inline=False` names every computed node (the same names for the same
    graph, whichever its output); `gradient_prefix` names the gradients
    (default: the adjoints' prefix, `dOUT_d`), and `flag_prefix` the flags of `where`'s branches
    (default `live_`).
    """
    wrt = list(program.inputs) if not wrt else list(wrt)
    program.check_inputs(wrt)
    nodes = program.nodes
    reaches = _reaching(nodes, {program.inputs[n].index for n in wrt})
    uses = [0] * len(nodes)
    for node in nodes:
        for x in node.inputs:
            uses[x.index] += 1
    read = _values_read(nodes, reaches)
    symbol = symbols(program)
    out = output_symbol(program)
    names = _forward_names(program, symbol, uses, read, inline)
    refs: list[Expression | None] = [None] * len(nodes)
    statements = list(_forward(program, names, refs, out))
    prefix = _adjoint_prefix(out, taken_names(program) | set(symbol) | {out})
    flags, flag_statements = _liveness(program, refs, symbol, flag_prefix or _free_prefix(
        "live_", taken_names(program) | set(symbol) | {out}))
    statements += flag_statements
    adjoint_statements, gradients = _backward(program, reaches, refs, names, prefix, symbol, flags)
    statements += adjoint_statements
    gradient_names = {}
    for input_name in wrt:
        node = program.inputs[input_name]
        gradient = f"{gradient_prefix or prefix}{element_symbol(input_name)}"
        expression, comment = gradients.get(node.index, (num(0.0), ""))
        statements.append(Statement(gradient, expression, "gradient", node, comment))
        gradient_names[input_name] = gradient
    return Derivative(statements, out, gradient_names, prefix,
                      {i: flag for i, flag in enumerate(flags) if flag is not None})


def _reaching(nodes: list[Value], targets: set[int]) -> list[bool]:
    """Whether each node depends on one of the targets (only those nodes need an adjoint)."""
    reaches = [False] * len(nodes)
    for node in nodes:
        reaches[node.index] = node.index in targets or any(reaches[x.index] for x in node.inputs)
    return reaches


def _values_read(nodes: list[Value], reaches: list[bool]) -> list[bool]:
    """Whether a local derivative that the backward pass needs reads the node's value."""
    read = [False] * len(nodes)
    for node in nodes:
        for i, x in enumerate(node.inputs):
            if not reaches[x.index]:
                continue
            used = set(_VARIABLE.findall(node.op.rule[i]))
            if "o" in used:
                read[node.index] = True
            for variable, operand in zip("xy", node.inputs):
                if variable in used:
                    read[operand.index] = True
    return read


def _forward_names(program: Program, symbol: list[str], uses: list[int], read: list[bool],
                   inline: bool) -> list[str | None]:
    """The name of each node that gets a statement (or is an input), None for one written inline.
    Names are `naming.symbols`, as `explain` and the page call the same nodes.

    A node is written inline in its one user only when no statement comes between them: the
    derivative program then computes every value in the program's own order, so a point where
    two values fail (an overflow, a log of a negative number) fails at the same one as `eval`."""
    nodes = program.nodes
    user = [-1] * len(nodes)
    for node in nodes:
        for x in node.inputs:
            user[x.index] = node.index
    names: list[str | None] = [None] * len(nodes)
    next_statement = len(nodes)                 # the first node after this one that gets a statement
    for node in reversed(nodes):
        i = node.index
        if node.op is ops.CONST:
            continue
        if (node.op is ops.INPUT or node is program.output or node.label or uses[i] > 1 or read[i]
                or not inline or next_statement < user[i]):
            names[i] = symbol[i]
            next_statement = i
    return names


def _forward(program: Program, names: list[str | None], refs: list[Expression | None],
             out: str) -> Iterator[Statement]:
    """Statements for the inputs' values and the named nodes; fills `refs`, how each node is referred to."""
    vectors = program.vector_inputs()
    declared: set[str] = set()
    for node in program.nodes:
        i = node.index
        if node.op is ops.INPUT:
            refs[i] = name(names[i])
            vector = vectors.get(names[i])
            if vector is not None and vector not in declared and node.data is not None:
                declared.add(vector)            # `z = [1, 2]`: a vector input stays a vector
                literal = _literal(program, vector)
                yield Statement(vector, name(literal), "input", node, rendered=literal)
            elif vector is None and node.data is not None:
                yield Statement(names[i], num(node.data), "input", node)
        elif node.op is ops.CONST:
            refs[i] = name("pi") if program.label(node) == "pi" else num(node.data)
        else:
            expression = ("op", node.op, tuple(refs[x.index] for x in node.inputs))    # as written: no folding
            if names[i] is None:
                refs[i] = expression
                continue
            refs[i] = name(names[i])
            source = program.label(node)
            rendered = render(expression)
            comment = "" if not source or source == names[i] or same_text(source, rendered) else source
            yield Statement(names[i], expression, "forward", node, comment, rendered)
    output = program.output
    if names[output.index] != out:                  # `2`, or `y = x`: the output still gets its statement
        yield Statement(out, refs[output.index], "forward", output)


def _liveness(program: Program, refs: list[Expression | None], symbol: list[str],
              prefix: str) -> tuple[list[Expression | None], list[Statement]]:
    """For each node that the output needs only through the chosen branch of a `where` (a gate's
    operand), a flag that is 1 where it is needed and 0 where not; None for a node always needed.
    The backward pass multiplies nothing by a local derivative where its node's flag is 0, as the
    engine passes nothing back from a node that a closed gate leaves out (whose value may not
    exist there).  Flags nest through `when`, so a flag never reads a value that may not exist."""
    nodes = program.nodes
    always = [False] * len(nodes)
    always[program.output.index] = True
    terms: list[list[Expression]] = [[] for _ in nodes]
    flags: list[Expression | None] = [None] * len(nodes)
    statements: list[Statement] = []
    if not has_gates(nodes):
        return flags, statements
    for node in reversed(nodes):
        i = node.index
        if not always[i]:
            if not terms[i] or not node.inputs:
                continue                        # not needed by the output at all, or passes nothing back
            unique = list(dict.fromkeys(terms[i]))
            flag = unique[0] if len(unique) == 1 else apply(ops.NE, add(unique), num(0.0))
            if not is_atom(flag):
                statements.append(Statement(f"{prefix}{symbol[i]}", flag, "flag", None,
                                            f"1 where {program.label(node)} is needed"))
                flag = name(f"{prefix}{symbol[i]}")
            flags[i] = flag
        for k, x in enumerate(node.inputs):
            gated = node.op.gate is not None and k == 1
            if flags[i] is None and not gated:
                always[x.index] = True
            elif gated:
                open_ = local_derivative(node, 1, refs)
                terms[x.index].append(open_ if flags[i] is None else ("op", ops.WHEN, (flags[i], open_)))
            else:
                terms[x.index].append(flags[i])
    return flags, statements


def element_symbol(input_name: str) -> str:
    """An input's name as part of a gradient's name: `z[1]` as `z_1`, `W[0][2]` as `W_0_2`."""
    return input_name.replace("][", "_").replace("[", "_").replace("]", "")


def _literal(program: Program, vector: str) -> str:
    """A vector or matrix input's values as the language writes them: `[1, 2]`, `[[1, 2], [3, 4]]`."""
    from .vectors import element_names

    values = program.grouped({element: program.inputs[element].data
                              for element in element_names(vector, program.shapes[vector])})[vector]
    if not isinstance(values[0], list):
        return "[" + ", ".join(number_text(v) for v in values) + "]"
    return "[" + ", ".join("[" + ", ".join(number_text(v) for v in row) + "]" for row in values) + "]"


def _free_prefix(prefix: str, taken: set[str]) -> str:
    while any(n.startswith(prefix) for n in taken):
        prefix += "_"
    return prefix


def _adjoint_prefix(out: str, taken: set[str]) -> str:
    prefix = f"d{out}_d"
    while any(n.startswith(prefix) for n in taken):
        prefix = prefix[:-1] + "_d"
    return prefix


def _backward(program: Program, reaches: list[bool], refs: list[Expression | None], names: list[str | None],
              prefix: str, symbol: list[str], flags: list[Expression | None]
              ) -> tuple[list[Statement], dict[int, tuple[Expression, str]]]:
    """The adjoint statements, from the output back; and each input's gradient expression and comment.
    A node with a flag (see `_liveness`) passes its contributions back only where the flag is 1."""
    contributions: list[list[Expression]] = [[] for _ in program.nodes]
    statements: list[Statement] = []
    gradients: dict[int, tuple[Expression, str]] = {}
    for node in reversed(program.nodes):
        i = node.index
        if not reaches[i]:
            continue
        adjoint = num(1.0) if node is program.output else add(contributions[i])
        notes = [ADD_UP] if len(contributions[i]) > 1 else []
        contributions[i] = []
        if node.op is ops.INPUT:
            gradients[i] = (adjoint, "; ".join(notes))
            continue
        if not is_atom(adjoint):
            label = names[i] or symbol[i]
            if not names[i]:
                notes.insert(0, f"d {prefix[1:-2]} / d ({program.label(node)})")
            statements.append(Statement(f"{prefix}{label}", adjoint, "adjoint", node, "; ".join(notes)))
            adjoint = name(f"{prefix}{label}")
        for k, x in enumerate(node.inputs):
            if reaches[x.index]:
                local = local_derivative(node, k, refs)
                if adjoint == num(0.0) and local[0] != "num" and _may_not_exist(node, k):
                    term = ("op", ops.MUL, (adjoint, local))   # 0 times a derivative that may not exist: kept,
                elif node.op.gate is not None and k == 0 and adjoint[0] != "num":
                    term = ("op", ops.MUL, (adjoint, local))   # a gate's condition: its adjoint is read, as a
                else:                                           # flat op's is, so that where it does not exist
                                                                # this fails as eval does
                    term = apply(ops.MUL, adjoint, local)
                if term != num(0.0):
                    contributions[x.index].append(term if flags[i] is None else ("op", ops.WHEN, (flags[i], term)))
    return statements, gradients


def _may_not_exist(node: Value, k: int) -> bool:
    """Whether the node's derivative towards input k may not exist at some point, given its
    constant operands (x**3's towards x always exists; x**0.5's does not at 0)."""
    known = {v: x.data for v, x in zip("xy", node.inputs) if x.op is ops.CONST}
    return any(condition.could_hold(known) for condition in node.op.undefined[k].values())


def derivative_document(program: Program, derivative: Derivative) -> dict:
    """The statements as strict JSON: for each, its name, its expression in the language, its kind
    (input, forward, adjoint, gradient) and the node it is for (id and label, as `eval --json` has them)."""
    statements = [{"name": s.name, "expression": render(s.expression), "kind": s.kind,
                   "node": None if s.of is None else s.of.index,
                   "label": None if s.of is None else program.label(s.of)} for s in derivative.statements]
    return {"output": derivative.output, "gradients": derivative.gradients, "statements": statements}


@dataclass
class Hessian:
    """The second-derivative program: the derivative program with every computed value named,
    then for each input a the backward pass of d out / d a, ending in d² out / da db."""

    forward: list[Statement]
    blocks: list[tuple[str, list[Statement]]]   # (the first derivative, its backward pass)
    names: dict[str, dict[str, str]]            # a -> b -> the name of d² out / da db
    output: str                                 # the output's name
    gradients: dict[str, str]                   # a -> the name of d out / da

    @property
    def statements(self) -> list[Statement]:
        return self.forward + [s for _, block in self.blocks for s in block]

    def text(self) -> str:
        lines = ["# the program and its derivative, every value named"]
        lines += [s.text() for s in self.forward]
        for gradient, block in self.blocks:
            lines.append(f"# the derivative of {gradient}")
            lines += [s.text() for s in block]
        return "\n".join(lines) + "\n"


def hessian_program(program: Program, wrt: Sequence[str] | None = None) -> Hessian:
    """d² output / da db for every pair of inputs in `wrt`, as a program: `diff` applied to the
    derivative program once per gradient.  The second derivative d² OUT / da db is `d2OUT_da_db`."""
    wrt = list(program.inputs) if not wrt else list(wrt)
    first = derivative_program(program, wrt)
    graph = parse_all(first.text())
    prefix = _adjoint_prefix(f"2{first.output}", set(graph.names))
    forward: list[Statement] = []
    blocks = []
    names: dict[str, dict[str, str]] = {}
    for a in wrt:
        gradient = first.gradients[a]
        second = derivative_program(graph.with_output(gradient), wrt, inline=False,
                                    gradient_prefix=f"{prefix}{element_symbol(a)}_d",
                                    flag_prefix=_free_prefix(f"live_{element_symbol(a)}_", set(graph.names)))
        forward = forward or _naming_every_gradient(second, first)
        blocks.append((gradient, [s for s in second.statements if s.kind in ("flag", "adjoint", "gradient")]))
        names[a] = second.gradients
    if not wrt:                                 # no inputs: the program alone, its output named
        forward = [s for s in first.statements if s.kind in ("input", "forward")]
    return Hessian(forward, blocks, names, first.output, first.gradients)


def hessian(program: Program, wrt: Sequence[str] | None = None) -> dict[str, dict[str, float | None]]:
    """The second derivatives at the program's point: reverse mode over the derivative program.

    One forward pass of the derivative program's graph serves every row; each row is one backward
    pass from its gradient.  An error names the place in the user's program it comes from."""
    wrt = list(program.inputs) if not wrt else list(wrt)
    first = derivative_program(program, wrt)
    graph = parse_all(first.text())
    graph.set({name: value for name, value in program.point().items() if value is not None})
    try:
        forward_pass(graph.nodes)
    except NumericError as exc:
        raise first.error_in(program, graph, exc, "its derivative") from None
    inputs = [graph.inputs[b] for b in wrt]
    outs = [graph.names[first.gradients[a]] for a in wrt]
    batched = _rows_batched(graph.nodes, outs, inputs) if len(wrt) >= BATCH_FROM_ROWS else None
    if batched is not None:
        return {a: dict(zip(wrt, row)) for a, row in zip(wrt, batched)}
    rows = {}
    try:
        for a, out in zip(wrt, outs):
            for node in inputs:             # the row's pass may not reach them (d out / da = b)
                node.grad = 0.0
            backward(graph.nodes[:out.index + 1])
            rows[a] = {b: node.grad for b, node in zip(wrt, inputs)}
    except NumericError as exc:
        raise first.error_in(program, graph, exc, "its second derivative") from None
    return rows


BATCH_FROM_ROWS = 8             # from this many rows, one pass over vectors beats a pass per row
BATCH_BYTES = 1 << 26           # the vectors of adjoints: at most 64 MB at a time


def _rows_batched(nodes: Sequence[Value], outs: list[Value], inputs: list[Value]) -> list[list[float]] | None:
    """Every row's backward pass at once: each node's adjoint is a vector over the rows (NumPy),
    seeded with 1 at each row's gradient.  It does the same operations in the same order as a pass
    per row, so it gives the same numbers wherever every number is finite; elsewhere (an overflow,
    a derivative that does not exist, one that fails) it gives None, and the pass per row says
    what went wrong as `eval` would.  A constant's derivative that does not exist (the exponent 2 of
    a negative base) is left out, as the pass per row leaves it unused."""
    import numpy as np

    top = max(out.index for out in outs) + 1
    steps = []
    for node in reversed(nodes[:top]):
        if not node.inputs:
            continue
        try:
            local = node.op.derivative(*(x.data for x in node.inputs), node.data)
        except (ArithmeticError, ValueError):
            return None
        pairs = []
        for x, d, partial in zip(node.inputs, local if len(node.inputs) > 1 else (local,), node.op.partial):
            if math.isnan(d) and partial and x.op is ops.CONST:
                continue
            if not math.isfinite(d):
                return None
            if d != 0.0:
                pairs.append((x.index, d))
        steps.append((node.index, pairs))
    rows: list[list[float]] = []
    block = max(1, BATCH_BYTES // (8 * top))
    with np.errstate(all="ignore"):
        for first in range(0, len(outs), block):
            seeds = outs[first:first + block]
            adjoints = np.zeros((top, len(seeds)))
            adjoints[[out.index for out in seeds], np.arange(len(seeds))] = 1.0
            for i, pairs in steps:
                g = adjoints[i]
                for j, d in pairs:
                    adjoints[j] += g if d == 1.0 else g * d
            if not np.isfinite(adjoints).all():
                return None
            rows += adjoints[[x.index for x in inputs]].T.tolist()
    return rows


def _naming_every_gradient(second: Derivative, first: Derivative) -> list[Statement]:
    """The forward statements of a second derivative, plus a statement for the output and for each
    gradient of the first derivative that is only another name of a value (`out = b`,
    `dout_dy = x`), so every one is defined."""
    statements = [s for s in second.statements if s.kind in ("input", "forward")]
    defined = {s.name for s in statements}
    for wanted in (first.output, *first.gradients.values()):
        if wanted not in defined:
            statement = next(s for s in first.statements if s.name == wanted)
            statements.append(Statement(wanted, statement.expression, "forward", statement.of))
            defined.add(wanted)
    return _in_order(statements)


def _in_order(statements: list[Statement]) -> list[Statement]:
    """The statements, each after the statements whose names it uses (in their order otherwise)."""
    by_name = {s.name: s for s in statements}
    placed: set[str] = set()
    ordered: list[Statement] = []
    for statement in statements:
        stack = [(statement, False)]
        while stack:
            s, expanded = stack.pop()
            if s.name in placed:
                continue
            if expanded:
                placed.add(s.name)
                ordered.append(s)
                continue
            stack.append((s, True))
            stack.extend((by_name[n], False) for n in reversed(_names_in(s.expression))
                         if n in by_name and n not in placed and n != s.name)
    return ordered


def _names_in(expression: Expression) -> list[str]:
    found, stack = [], [expression]
    while stack:
        e = stack.pop()
        if e[0] == "name":
            found.append(e[1])
        elif e[0] == "op":
            stack.extend(e[2])
        elif e[0] == "sum":
            stack.extend(e[1])
    return found


def parse_all(text: str) -> Program:
    """A derivative program's graph, every statement kept (each gradient is an output of interest)."""
    from .parsing import parse

    return parse(text, keep_unused=True)
