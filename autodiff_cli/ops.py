"""The op table: every operation the language knows, defined once.

Each `Op` carries its forward rule, its local derivative (as a number and as
an expression in the language), the symbol that reports show, the words
`explain` uses, where its derivative is a convention (a kink), and the names
it has in Python.  The grammar's rule aliases (`add`, `mul`, `neg`, ...) and
function names are keys of this table: the parser builds nodes from it, the
`Value` operators and methods come from it, and so do the words in syntax
errors, `explain`, `check` and the README's op table.  Adding an op touches
only here (and, for a new operator symbol, its place in the grammar's
precedence).

Conventions (documented in the README):
- `forward(*xs)` returns a float or raises `ValueError`/`ArithmeticError` with
  a short reason when the value *or its derivative* leaves the real numbers
  (so `sqrt(0)` is refused: its derivative is infinite).
- `derivative(*xs, out)` returns the local derivative with respect to each
  input: a float for a unary op, a tuple for a binary one (as the engine's
  loops want them; `engine.local_derivatives` gives a tuple for either).  `UNDEFINED` (a NaN) marks one that does not exist at
  this point while the value does (the exponent of a negative base); the
  engine reports such a gradient as undefined, never as a number.
- `rule` is the same derivative as text in the language, in terms of `x`,
  `y` (the inputs) and `o` (the output).
- Kinks: relu'(0) = 0 and abs'(0) = 0, as PyTorch does.
- `javascript` is the forward rule in JavaScript, for the live page (its
  derivatives there are the `rule` texts, rendered in JavaScript).
- Arrays (sweeps run one pass over NumPy arrays): `array(np, *xs)` and
  `array_derivative(np, *xs, o)` are the same rules elementwise, with NumPy
  passed in so that only sweeps import it; an op whose scalar rules are plain
  arithmetic needs neither.  `refuses(np, *xs)` is a mask of the points where
  `forward` would raise; `forward` itself then says why.
"""
from __future__ import annotations

import math
import re
from typing import Callable

UNDEFINED = math.nan


class Op:
    """One operation: how to compute it, how to differentiate it, and what it is called."""

    __slots__ = ("name", "symbol", "arity", "forward", "derivative", "rule", "lesson", "meaning",
                 "method", "reflected", "kink", "constant_right", "template", "written", "sympy", "python", "latex",
                 "partial", "array", "array_derivative", "refuses", "javascript")

    def __init__(self, name: str, symbol: str, arity: int, forward: Callable | None = None,
                 derivative: Callable | None = None, rule: tuple[str, ...] = (), lesson: str = "",
                 meaning: str = "", method: str | None = None, reflected: str | None = None,
                 kink: float | None = None, constant_right: Op | None = None, template: str = "",
                 written: str = "", sympy: str = "", python: str = "", latex: str = "", partial: bool = False,
                 array: Callable | None = None, array_derivative: Callable | None = None,
                 refuses: Callable | None = None, javascript: str = ""):
        self.name = name                # the grammar's alias, or the function's name in the language
        self.symbol = symbol            # what reports show
        self.arity = arity
        self.forward = forward
        self.derivative = derivative
        self.rule = rule                # local derivative per input, in the language, in terms of x, y, o
        self.lesson = lesson            # what the op does to the gradient, in words
        self.meaning = meaning          # what the value is, for the README's table
        self.method = method            # the Value method: "__add__", or the function's name
        self.reflected = reflected      # "__radd__": the Value method with the operands swapped
        self.kink = kink                # where the derivative is a convention, not a limit
        self.constant_right = constant_right    # the variant used when the right operand is constant
        self.template = template or _default_template(name, symbol, arity)     # in the language
        self.written = written or self.template     # an example in the language, for the README and tests
        self.sympy = sympy or self.template         # the same in SymPy's syntax: the tests' reference
        self.python = python or (f"math.{name}(x)" if arity == 1 and not template else self.template)
        self.latex = latex or rf"\operatorname{{{name}}}\left(x\right)"
        self.partial = partial          # a derivative may be UNDEFINED where the value exists
        self.array = array or (lambda np, *xs: forward(*xs))        # elementwise over NumPy arrays
        self.array_derivative = array_derivative or (lambda np, *xs: derivative(*xs))
        self.refuses = refuses          # (np, *xs) -> where `forward` raises; None: nowhere
        self.javascript = javascript or (f"Math.{name}(x)" if arity == 1 and not template else self.template)

    def __repr__(self) -> str:
        return f"Op({self.name!r})"

    def rule_with(self, i: int, names: dict[str, str]) -> str:
        """The local derivative with respect to input i, with x, y and o replaced by `names`."""
        return _RULE_NAME.sub(lambda m: names[m.group()], self.rule[i])

    def applied_to(self, names: dict[str, str], form: str = "template") -> str:
        """The op in the language (or in its `python` or `latex` form), with x and y replaced by
        `names`: `t1 + t2`, `tanh(n)`."""
        return _RULE_NAME.sub(lambda m: names[m.group()], getattr(self, form))


_RULE_NAME = re.compile(r"\b[xyo]\b")


def _default_template(name: str, symbol: str, arity: int) -> str:
    """`x + y` and `x - y` spaced, `x*y`, `x/y` and `x**y` tight (as the lecture writes them), `f(x)`."""
    if arity == 2:
        return f"x {symbol} y" if symbol in ("+", "-") else f"x{symbol}y"
    return f"{name}(x)"


def _div(x: float, y: float) -> float:
    if y == 0.0:
        raise ZeroDivisionError("division by zero")
    return x / y


def _pow_constant_exponent(x: float, y: float) -> float:
    if x < 0.0 and not y.is_integer():
        raise ValueError("a negative base needs an integer exponent")
    if x == 0.0 and y < 1.0 and y != 0.0:
        raise ValueError("0 to a power below 1 has an infinite derivative")
    return math.pow(x, y)


def _pow(x: float, y: float) -> float:
    if x < 0.0:
        raise ValueError("a negative base has no real derivative with respect to its exponent")
    if x == 0.0 and y < 1.0:
        raise ValueError("0 to a power below 1 has an infinite derivative")
    return math.pow(x, y)


def _d_pow(x: float, y: float, out: float) -> tuple[float, float]:
    """d/dx is y*x**(y-1); d/dy is o*log(x), which exists for x > 0 (and is 0 at x = 0 for y > 0)."""
    dx = 0.0 if y == 0.0 else y * math.pow(x, y - 1.0)
    if x > 0.0:
        return dx, out * math.log(x)
    return dx, (0.0 if x == 0.0 and y > 0.0 else UNDEFINED)


def _d_pow_array(np, x, y, o):
    """`_d_pow` elementwise: NaN where d/dy does not exist."""
    dx = np.where(y == 0.0, 0.0, y * np.power(x, y - 1.0))
    dy = np.where(x > 0.0, o * np.log(np.where(x > 0.0, x, 1.0)), np.where((x == 0.0) & (y > 0.0), 0.0, UNDEFINED))
    return dx, dy


def _log(x: float) -> float:
    if x <= 0.0:
        raise ValueError("log needs a positive number")
    return math.log(x)


def _sqrt(x: float) -> float:
    if x <= 0.0:
        raise ValueError("sqrt needs a positive number (at 0 its derivative is infinite)")
    return math.sqrt(x)


def _sigmoid(x: float) -> float:
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _sigmoid_array(np, x):
    e = np.exp(-np.abs(x))          # exp(-x) for x >= 0, exp(x) below: the same numbers as `_sigmoid`
    return np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sign(x: float) -> float:
    return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)


def _step(x: float) -> float:
    return 1.0 if x > 0.0 else 0.0


INPUT = Op("input", "input", 0)
CONST = Op("const", "const", 0)

ADD = Op("add", "+", 2, lambda x, y: x + y, lambda x, y, o: (1.0, 1.0), ("1", "1"),
         "+ routes the gradient unchanged to both inputs", "sum", "__add__", "__radd__", latex="x + y")
SUB = Op("sub", "-", 2, lambda x, y: x - y, lambda x, y, o: (1.0, -1.0), ("1", "-1"),
         "- routes the gradient to the left and its negative to the right", "difference", "__sub__", "__rsub__",
         latex="x - y")
MUL = Op("mul", "*", 2, lambda x, y: x * y, lambda x, y, o: (y, x), ("y", "x"),
         "* swaps in the other factor", "product", "__mul__", "__rmul__", latex=r"x \, y")
DIV = Op("div", "/", 2, _div, lambda x, y, o: (1.0 / y, -o / y), ("1/y", "-o/y"),
         "/ gives 1/y to the numerator and -o/y to the denominator", "quotient", "__truediv__", "__rtruediv__",
         latex=r"\frac{x}{y}", array=lambda np, x, y: x / y, refuses=lambda np, x, y: y == 0.0)
POW_CONSTANT_EXPONENT = Op(
    "pow_constant_exponent", "**", 2, _pow_constant_exponent, _d_pow, ("y*x**(y - 1)", "o*log(x)"),
    "** gives y*x**(y-1) to the base and o*log(x) to the exponent", "power with a constant exponent",
    written="x**3", sympy="x**y", python="math.pow(x, y)", latex="{x}^{y}", partial=True,
    javascript="Math.pow(x, y)",
    array=lambda np, x, y: np.power(x, y), array_derivative=_d_pow_array,
    refuses=lambda np, x, y: ((x < 0.0) & (y != np.floor(y))) | ((x == 0.0) & (y < 1.0) & (y != 0.0)))
POW = Op("pow", "**", 2, _pow, _d_pow, ("y*x**(y - 1)", "o*log(x)"),
         "** gives y*x**(y-1) to the base and o*log(x) to the exponent", "power (also written ^)",
         "__pow__", "__rpow__", constant_right=POW_CONSTANT_EXPONENT, python="math.pow(x, y)", latex="{x}^{y}",
         partial=True, javascript="Math.pow(x, y)", array=lambda np, x, y: np.power(x, y),
         array_derivative=_d_pow_array,
         refuses=lambda np, x, y: (x < 0.0) | ((x == 0.0) & (y < 1.0)))
NEG = Op("neg", "neg", 1, lambda x: -x, lambda x, o: -1.0, ("-1",),
         "neg flips the sign of the gradient", "negation", "__neg__", template="-x", latex="-x")
TANH = Op("tanh", "tanh", 1, math.tanh, lambda x, o: 1.0 - o * o, ("1 - o**2",),
          "tanh gives 1 - o²", "hyperbolic tangent", "tanh",
          latex=r"\tanh\left(x\right)", array=lambda np, x: np.tanh(x))
EXP = Op("exp", "exp", 1, math.exp, lambda x, o: o, ("o",), "exp gives its own output", "e to the x", "exp",
         latex="e^{x}", array=lambda np, x: np.exp(x))
LOG = Op("log", "log", 1, _log, lambda x, o: 1.0 / x, ("1/x",), "log gives 1/x", "natural logarithm", "log",
         latex=r"\ln\left(x\right)",
         array=lambda np, x: np.log(x), refuses=lambda np, x: x <= 0.0)
SQRT = Op("sqrt", "sqrt", 1, _sqrt, lambda x, o: 0.5 / o, ("1/(2*o)",),
          "sqrt gives 1/(2·o)", "square root", "sqrt", latex=r"\sqrt{x}",
          array=lambda np, x: np.sqrt(x), refuses=lambda np, x: x <= 0.0)
RELU = Op("relu", "relu", 1, lambda x: x if x > 0.0 else 0.0, lambda x, o: _step(x), ("step(x)",),
          "relu passes the gradient where x > 0 and blocks it elsewhere", "max(x, 0)", "relu", kink=0.0,
          sympy="Max(x, 0)", python="(x if x > 0.0 else 0.0)", javascript="(x > 0 ? x : 0)",
          array=lambda np, x: np.where(x > 0.0, x, 0.0), array_derivative=lambda np, x, o: np.where(x > 0.0, 1.0, 0.0))
SIGMOID = Op("sigmoid", "sigmoid", 1, _sigmoid, lambda x, o: o * (1.0 - o), ("o*(1 - o)",),
             "sigmoid gives o·(1 - o)", "1/(1 + exp(-x))", "sigmoid",
             sympy="1/(1 + exp(-x))", latex=r"\sigma\left(x\right)",
             python="(1.0 / (1.0 + math.exp(-x)) if x >= 0.0 else math.exp(x) / (1.0 + math.exp(x)))",
             javascript="(x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)))", array=_sigmoid_array)
SIN = Op("sin", "sin", 1, math.sin, lambda x, o: math.cos(x), ("cos(x)",), "sin gives cos(x)", "sine", "sin",
         latex=r"\sin\left(x\right)", array=lambda np, x: np.sin(x), array_derivative=lambda np, x, o: np.cos(x))
COS = Op("cos", "cos", 1, math.cos, lambda x, o: -math.sin(x), ("-sin(x)",), "cos gives -sin(x)", "cosine",
         "cos", latex=r"\cos\left(x\right)", array=lambda np, x: np.cos(x),
         array_derivative=lambda np, x, o: -np.sin(x))
ABS = Op("abs", "abs", 1, abs, lambda x, o: _sign(x), ("sign(x)",),
         "abs gives the sign of x (0 at 0)", "absolute value", "__abs__", kink=0.0,
         sympy="Abs(x)", python="abs(x)", latex=r"\left|x\right|",
         array_derivative=lambda np, x, o: np.sign(x) + 0.0)
SIGN = Op("sign", "sign", 1, _sign, lambda x, o: 0.0, ("0",),
          "sign is flat: it passes no gradient", "1 for x > 0, -1 for x < 0, 0 at 0", "sign", kink=0.0,
          python="(1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0)", javascript="(x > 0 ? 1 : x < 0 ? -1 : 0)",
          array=lambda np, x: np.sign(x) + 0.0)       # + 0.0: sign(-0.0) is 0.0, as `_sign` gives
STEP = Op("step", "step", 1, _step, lambda x, o: 0.0, ("0",),
          "step is flat: it passes no gradient", "1 for x > 0, else 0 (relu's derivative)", "step", kink=0.0,
          sympy="Piecewise((1, x > 0), (0, True))", python="(1.0 if x > 0.0 else 0.0)", javascript="(x > 0 ? 1 : 0)",
          array=lambda np, x: np.where(x > 0.0, 1.0, 0.0))

OPERATORS = {op.name: op for op in (ADD, SUB, MUL, DIV, POW, NEG)}     # by the grammar's alias
FUNCTIONS = {op.name: op for op in (TANH, EXP, LOG, SQRT, RELU, SIGMOID, SIN, COS, ABS, SIGN, STEP)}


_LISTENERS: list[Callable[[Op], None]] = []


def register(op: Op, *, operator: bool = False) -> None:
    """Add a function (or, with `operator`, a grammar rule's op) to the language, and so to
    `Value`, `explain`, `check` and every report.  A new operator also needs its place in the
    grammar's precedence, with the op's name as the rule's alias."""
    (OPERATORS if operator else FUNCTIONS)[op.name] = op
    for listener in _LISTENERS:
        listener(op)


def on_register(listener: Callable[[Op], None]) -> None:
    """Call `listener(op)` for every op registered from now on (the engine adds `Value` methods)."""
    _LISTENERS.append(listener)


def all_ops() -> list[Op]:
    """Every computing op, operators first, in the table's order."""
    extra = [op.constant_right for op in OPERATORS.values() if op.constant_right is not None]
    return [*OPERATORS.values(), *extra, *FUNCTIONS.values()]


def operator_symbols() -> list[str]:
    """The binary operators' symbols, as syntax errors list them."""
    return [op.symbol for op in OPERATORS.values() if op.arity == 2]
