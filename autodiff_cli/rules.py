"""Each op's derivative rule (the op table's `rule` text): checked when the op is registered,
compiled into the scalar derivative where the row has none, and written with a node's operands
in for every other surface.

The rule is the one written form of a derivative: `diff` prints it, explain shows it, and the
sweeps' array passes, the Python export and the live page evaluate it.  `local_derivative`
writes one node's rule with its operands in, simplified as `expressions` does (`x**2` gives
`2*x`), so every surface computes the same local derivative from the same text.

One meaning of a rule on every surface: every intermediate value of a rule must be finite; where
one is not, the derivative is too large (the engine, the sweeps, the page and the Python export
all say so).  `register` checks at the op's edge points that a rule keeps its intermediates
finite wherever its value is finite, so this never refuses a derivative that exists.
"""
from __future__ import annotations

import ast
import itertools
import math
import operator
from typing import Callable, Sequence

from . import ops
from .engine import Value
from .errors import AutodiffError
from .expressions import Expression, apply, fold, is_negation, num
from .program import Program

# Operands at the edges of every op's domain: zeros of both signs, the smallest floats, integers
# and halves (for exponents), and arguments near overflow.
EDGE_VALUES = (0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, -3.0, 5e-324, -5e-324, 1e-300, -1e-300, 700.0,
               710.0, -745.0, 1e154, -1e154, 1e300, -1e300, 1.7976931348623157e308)
AGREE = 1e-12           # how closely a hand-written derivative must follow its rule, relatively


def register(op: ops.Op, *, operator: bool = False) -> None:
    """Add a function (or, with `operator`, a grammar rule's op) to the language, and so to `Value`,
    every command and every surface.  Checks the whole row first and refuses it with an
    `OpDefinitionError` naming the op and what is wrong: a missing or malformed form, a rule that
    is not in the language or names what it may not, a hand-written form that disagrees with its
    rule or with `refuse` at the edge points, a rule whose intermediates overflow where its value
    is finite, or a name that is taken.  A row without a hand-written derivative gets one compiled
    from its rule."""
    ops.validate(op)
    if op.name in ops.OPERATORS or op.name in ops.FUNCTIONS:
        raise ops.OpDefinitionError(f"op {op.name!r}: the name is taken")
    op.rule_programs = tuple(_parsed_rule(op, text) for text in op.rule)
    if op.derivative is None:
        op.derivative = compiled_derivative(op)
    check_row(op)
    ops.add(op, operator=operator)


def rule_program(op: ops.Op, i: int) -> Program:
    """The op's rule for input i, parsed (once: when registered, or for a built-in row at first use)."""
    if isinstance(op, ops.PythonOp):
        raise op.unknown()
    if len(op.rule_programs) != op.arity:
        op.rule_programs = tuple(_parsed_rule(op, text) for text in op.rule)
    return op.rule_programs[i]


def _parsed_rule(op: ops.Op, text: str) -> Program:
    from .parsing import parse

    try:
        rule = parse(text)
    except AutodiffError as exc:
        raise ops.OpDefinitionError(f"op {op.name!r}: its rule {text!r} is not in the language: "
                                    f"{exc.message}") from None
    allowed = {"x", "y", "o"} if op.arity == 2 else {"x", "o"}
    unknown = set(rule.inputs) - allowed
    if unknown:
        raise ops.OpDefinitionError(f"op {op.name!r}: its rule {text!r} names {', '.join(sorted(unknown))}; "
                                    f"a rule uses only {', '.join(sorted(allowed - {'o'}))} (the operands) and o "
                                    "(the output)")
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


def evaluate_array(e: Expression, data: Sequence, np, bad=None):
    """An expression over `node_refs` names, evaluated with each op's array rule (NumPy passed in).
    With `bad` (a boolean array), the points where an intermediate is not finite are marked in
    it: there the derivative is too large, as the scalar engine says."""
    def leaf(node: Expression):
        if node[0] == "num":
            return np.float64(node[1])              # NumPy's rules for literals too: 1/0 is inf
        return data[int(node[1][1:])]

    def form(node: Expression, values: list):
        if node[0] == "op":
            result = node[1].array(np, *values)
        else:
            result = -values[0] if is_negation(node[1][0]) else values[0]
            for term, value in zip(node[1][1:], values[1:]):
                result = result - value if is_negation(term) else result + value
        if bad is not None:
            np.logical_or(bad, ~np.isfinite(result), out=bad)
        return result

    return fold(e, form, leaf)


# A rule as a scalar function

def compiled_derivative(op: ops.Op) -> Callable:
    """The op's local derivatives as a Python function of the operands and the output, computed
    from its rules by each op's own forward rule: NaN where `undefined` says the derivative does
    not exist, and infinity where an intermediate is not finite (the engine says the gradient is
    too large, as every surface does).  Each input's derivative on its own: one that overflows
    leaves the other as it is."""
    rules = [_rule_function(rule_program(op, i)) for i in range(op.arity)]
    undefined = op.undefined

    def one(k: int, rule: Callable, xs: tuple, o: float, values: dict) -> float:
        if any(c.holds(*xs, o=o) for c in undefined[k].values()):
            return math.nan
        try:
            return rule(values)
        except OverflowError:
            return math.inf
        except (ArithmeticError, ValueError):       # a refusal `undefined` does not name: no derivative here
            return math.nan

    def derivative(*xs_and_o: float):
        xs, o = xs_and_o[:-1], xs_and_o[-1]
        values = {"x": xs[0], "y": xs[1] if len(xs) > 1 else None, "o": o}
        local = tuple(one(k, rule, xs, o, values) for k, rule in enumerate(rules))
        return local[0] if len(local) == 1 else local
    return derivative


def _rule_function(rule: Program) -> Callable[[dict], float]:
    """A rule program as a function of {x, y, o}: its nodes run in order, each value checked."""
    steps = [(part.op, part.label, part.data, tuple(x.index for x in part.inputs)) for part in rule.nodes]

    def run(values: dict) -> float:
        results: list[float] = []
        for op, label, data, inputs in steps:
            if op is ops.INPUT:
                value = values[label]
            elif op is ops.CONST:
                value = data
            else:
                value = op.forward(*(results[i] for i in inputs))
                if not math.isfinite(value):
                    raise OverflowError(ops.GRADIENT_TOO_LARGE)
            results.append(value)
        return results[-1]
    return run


# The row's checks at its edge points

def edge_points(op: ops.Op) -> list[tuple[float, ...]]:
    return [point for point in itertools.product(EDGE_VALUES, repeat=op.arity)]


def check_row(op: ops.Op) -> None:
    """The row's forms against each other at the edge points: `forward` refuses exactly where
    `refuse` says, with its message; the array and Python forms compute `forward`'s values; the
    derivative (hand-written or compiled) is the rule's, with every intermediate finite."""
    import numpy as np

    python = _python_form(op)
    try:
        ast.parse(op.sympy, mode="eval")
    except SyntaxError:
        raise ops.OpDefinitionError(f"op {op.name!r}: its sympy form {op.sympy!r} is not an expression") from None
    rules = [_rule_function(rule_program(op, i)) for i in range(op.arity)]
    _check_rule_against_forward(op, rules)
    points = edge_points(op)
    values = [_outcome(op.forward, point) for point in points]
    with np.errstate(all="ignore"):
        arrays = np.broadcast_to(op.array(np, *(np.array(c) for c in zip(*points))), len(points))
    for point, value, array in zip(points, values, arrays.tolist()):
        declared = op.refusal(*point)
        if isinstance(value, str) and value != ops.TOO_LARGE or declared is not None:
            if value != declared:
                raise _disagrees(op, "forward rule and its `refuse` conditions", point, value, declared)
            continue
        if value == ops.TOO_LARGE:
            continue
        if not _same(array, value, 1e-14):
            raise _disagrees(op, "array form", point, array, value)
        written = _outcome(python, point)
        if not _same(written, value, 1e-14):
            raise _disagrees(op, "python form", point, written, value)
        if math.isfinite(value):
            _check_derivative(op, point, value, rules)


def _check_derivative(op: ops.Op, point: tuple[float, ...], o: float, rules: list[Callable]) -> None:
    local = _outcome(lambda *v: op.derivative(*v), (*point, o))
    if isinstance(local, str):
        local = (local,) * op.arity
    elif op.arity == 1:
        local = (local,)
    for k, rule in enumerate(rules):
        if op.why_undefined(k, point, o) is not None:
            if not (isinstance(local[k], float) and math.isnan(local[k])):
                raise _disagrees(op, f"derivative (input {k + 1}) where `undefined` holds", point, local[k], "NaN")
            continue
        values = {"x": point[0], "y": point[1] if op.arity == 2 else None, "o": o}
        by_rule = _outcome(lambda: rule(values), ())
        unchecked = _outcome(lambda: _unchecked(rule_program(op, k), values), ())
        if isinstance(by_rule, str) and by_rule != ops.TOO_LARGE:
            raise ops.OpDefinitionError(
                f"op {op.name!r}: its rule {op.rule[k]!r} refuses at {_shown(point)} ({by_rule}), where the value "
                "exists: write it so that it does not, or say where in `undefined`")
        if by_rule == ops.TOO_LARGE and isinstance(unchecked, float) and math.isfinite(unchecked):
            raise ops.OpDefinitionError(
                f"op {op.name!r}: its rule {op.rule[k]!r} has a value at {_shown(point)} ({unchecked!r}) but "
                "overflows on the way: write it so that no intermediate overflows (hypot, or dividing twice)")
        if op.handwritten and not _same(local[k], by_rule, AGREE):
            raise _disagrees(op, f"derivative (input {k + 1}) and its rule {op.rule[k]!r}", point, local[k], by_rule)


def _check_rule_against_forward(op: ops.Op, rules: list[Callable]) -> None:
    """Each rule against central differences of `forward` at ordinary points (off kinks, inside the
    domain): a rule that is not the derivative of the forward rule is refused."""
    for point in itertools.product(ORDINARY_VALUES, repeat=op.arity):
        try:
            o = op.forward(*point)
        except (ArithmeticError, ValueError):
            continue
        for k, rule in enumerate(rules):
            h = DIFFERENCE_STEP * max(1.0, abs(point[k]))
            moved = [tuple(v + s * h if i == k else v for i, v in enumerate(point)) for s in (-1.0, 1.0)]
            if op.why_undefined(k, point, o) is not None or any(op.crosses(point, m) for m in moved):
                continue
            try:
                numeric = (op.forward(*moved[1]) - op.forward(*moved[0])) / (2 * h)
                exact = rule({"x": point[0], "y": point[1] if op.arity == 2 else None, "o": o})
            except (ArithmeticError, ValueError):
                continue
            if not math.isclose(exact, numeric, rel_tol=1e-5, abs_tol=1e-6):
                raise _disagrees(op, f"rule {op.rule[k]!r} and the slope of its forward rule (input {k + 1})",
                                 point, exact, numeric)


ORDINARY_VALUES = (-2.7, -1.3, -0.6, 0.35, 0.8, 1.6, 2.9)
DIFFERENCE_STEP = 1e-6


def _unchecked(rule: Program, values: dict) -> float:
    """The rule's value with IEEE arithmetic inside (an intermediate may overflow): to tell a rule
    that overflows on the way from one whose value is too large."""
    import numpy as np

    results: list = []
    with np.errstate(all="ignore"):
        for part in rule.nodes:
            if part.op is ops.INPUT:
                results.append(np.float64(values[part.label]))
            elif part.op is ops.CONST:
                results.append(np.float64(part.data))
            else:
                results.append(part.op.array(np, *(results[x.index] for x in part.inputs)))
    return float(results[-1])


def _outcome(function: Callable, point: tuple) -> float | str:
    """The function's value, or the reason it gives none (an overflow is `TOO_LARGE`)."""
    try:
        value = function(*point)
    except OverflowError:
        return ops.TOO_LARGE
    except (ArithmeticError, ValueError) as exc:
        return str(exc)
    if isinstance(value, tuple):
        return value
    return float(value)


def _same(a, b, tolerance: float) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        a = ops.TOO_LARGE if isinstance(a, float) and not math.isfinite(a) else a
        b = ops.TOO_LARGE if isinstance(b, float) and not math.isfinite(b) else b
        return a == b or ops.TOO_LARGE in (a, b) and ops.GRADIENT_TOO_LARGE in (a, b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if not math.isfinite(a) or not math.isfinite(b):
        return a == b
    return math.isclose(a, b, rel_tol=tolerance, abs_tol=1e-300)


def _shown(point: tuple[float, ...]) -> str:
    return ", ".join(f"{'xy'[i]} = {v!r}" for i, v in enumerate(point))


def _disagrees(op: ops.Op, what: str, point: tuple, got, expected) -> ops.OpDefinitionError:
    return ops.OpDefinitionError(f"op {op.name!r}: its {what} disagree at {_shown(point)}: {got!r}, "
                                 f"where {expected!r} is expected")


def _python_form(op: ops.Op) -> Callable:
    """The row's `python` text as a function of its operands, run as Python runs it (the Python
    export writes it so), read from its syntax tree: nothing is compiled or evaluated.  A name
    other than the operands, `math` and `float`, or a construct the tree walk does not know, is
    refused."""
    tree = ast.parse(op.python, mode="eval").body
    nodes = list(ast.walk(tree))
    extra = {node.id for node in nodes if isinstance(node, ast.Name)} - {"x", "y", "math", "float"}
    if extra:
        raise ops.OpDefinitionError(f"op {op.name!r}: its python form {op.python!r} uses {', '.join(sorted(extra))}; "
                                    "it may use only its operands and math")
    unknown = sorted({type(node).__name__ for node in nodes if type(node) not in _FORM_NODES})
    if unknown:
        raise ops.OpDefinitionError(f"op {op.name!r}: its python form {op.python!r} uses {', '.join(unknown)}; "
                                    "it may use arithmetic, comparisons, `a if c else b` and math's functions")
    operands = "xy"[:op.arity]
    return lambda *values: _run_form(tree, {"math": math, "float": float, **dict(zip(operands, values))})


_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.Pow: operator.pow}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}
_COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
            ast.Eq: operator.eq, ast.NotEq: operator.ne}
_FORM_NODES = {ast.Constant, ast.Name, ast.Attribute, ast.Call, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp,
               ast.Load, *_BINARY, *_UNARY, *_COMPARE}


def _run_form(tree: ast.expr, names: dict) -> object:
    """The expression's value, as Python computes it (`a if c else b` computes only the branch
    taken), with an explicit stack: a post-order walk, no recursion."""
    stack: list[tuple[ast.expr, bool]] = [(tree, False)]
    values: list = []
    while stack:
        node, ready = stack.pop()
        kind = type(node)
        if kind is ast.Constant:
            values.append(node.value)
        elif kind is ast.Name:
            values.append(names[node.id])
        elif kind is ast.IfExp:
            if ready:
                stack.append((node.body if values.pop() else node.orelse, False))
            else:
                stack += [(node, True), (node.test, False)]
        elif not ready:
            stack.append((node, True))
            stack += [(child, False) for child in reversed(_operands(node))]
        else:
            count = len(_operands(node))
            operands = values[len(values) - count:]
            del values[len(values) - count:]
            values.append(_applied(node, operands))
    return values[0]


def _operands(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Compare):
        return [node.left, *node.comparators]
    if isinstance(node, ast.Call):
        return [node.func, *node.args]
    return [node.value]                         # ast.Attribute


def _applied(node: ast.expr, operands: list) -> object:
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](*operands)
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](*operands)
    if isinstance(node, ast.Compare):
        return all(_COMPARE[type(test)](a, b) for test, a, b in zip(node.ops, operands, operands[1:]))
    if isinstance(node, ast.Call):
        return operands[0](*operands[1:])
    if operands[0] is not math:
        raise ValueError(f"only math's names are read in a python form, not .{node.attr}")
    return getattr(math, node.attr)
