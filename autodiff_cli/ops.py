"""The op table: every operation the language knows, defined once.

Each `Op` carries its forward rule, its local derivative, the symbol that
reports show, and the words `explain` uses.  The engine, the parser, the
checker and every report read this table; adding an op touches only here.

Conventions (documented in the README):
- `forward(*xs)` returns a float or raises `ValueError`/`ArithmeticError` with
  a short reason when the value *or its derivative* leaves the real numbers
  (so `sqrt(0)` is refused: its derivative is infinite).
- `derivative(*xs, out)` returns the local derivative with respect to each
  input, as a float for unary ops and a tuple for binary ones.
- Kinks: relu'(0) = 0 and abs'(0) = 0, as PyTorch does.
"""
from __future__ import annotations

import math
from typing import Callable


class Op:
    """One operation: how to compute it and how to differentiate it."""

    __slots__ = ("name", "symbol", "arity", "forward", "derivative", "rule", "lesson")

    def __init__(self, name: str, symbol: str, arity: int, forward: Callable | None,
                 derivative: Callable | None, rule: tuple[str, ...] = (), lesson: str = ""):
        self.name = name
        self.symbol = symbol
        self.arity = arity
        self.forward = forward
        self.derivative = derivative
        self.rule = rule        # local derivative per input, in terms of x, y, o
        self.lesson = lesson    # what the op does to the gradient, in words

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


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


def _d_pow_constant_exponent(x: float, y: float, out: float) -> tuple[float, float]:
    return (0.0 if y == 0.0 else y * math.pow(x, y - 1.0)), 0.0


def _d_pow(x: float, y: float, out: float) -> tuple[float, float]:
    return _d_pow_constant_exponent(x, y, out)[0], (out * math.log(x) if x > 0.0 else 0.0)


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


def _sign(x: float) -> float:
    return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)


INPUT = Op("input", "input", 0, None, None)
CONST = Op("const", "const", 0, None, None)

ADD = Op("add", "+", 2, lambda x, y: x + y, lambda x, y, o: (1.0, 1.0),
         ("1", "1"), "+ routes the gradient unchanged to both inputs")
SUB = Op("sub", "-", 2, lambda x, y: x - y, lambda x, y, o: (1.0, -1.0),
         ("1", "-1"), "- routes the gradient to the left and its negative to the right")
MUL = Op("mul", "*", 2, lambda x, y: x * y, lambda x, y, o: (y, x),
         ("{y}", "{x}"), "* swaps in the other factor")
DIV = Op("div", "/", 2, _div, lambda x, y, o: (1.0 / y, -o / y),
         ("1/{y}", "-{o}/{y}"), "/ gives 1/y to the numerator and -o/y to the denominator")
POW = Op("pow", "**", 2, _pow, _d_pow,
         ("{y}*{x}**({y}-1)", "{o}*log({x})"), "** gives y*x**(y-1) to the base and o*log(x) to the exponent")
POW_CONSTANT_EXPONENT = Op(
    "pow_constant_exponent", "**", 2, _pow_constant_exponent, _d_pow_constant_exponent,
    ("{y}*{x}**({y}-1)", "0"), "** gives y*x**(y-1) to the base; a constant exponent gets no gradient")
NEG = Op("neg", "neg", 1, lambda x: -x, lambda x, o: -1.0,
         ("-1",), "neg flips the sign of the gradient")
TANH = Op("tanh", "tanh", 1, math.tanh, lambda x, o: 1.0 - o * o,
          ("1 - {o}**2",), "tanh gives 1 - o²")
EXP = Op("exp", "exp", 1, math.exp, lambda x, o: o,
         ("{o}",), "exp gives its own output")
LOG = Op("log", "log", 1, _log, lambda x, o: 1.0 / x,
         ("1/{x}",), "log gives 1/x")
SQRT = Op("sqrt", "sqrt", 1, _sqrt, lambda x, o: 0.5 / o,
          ("1/(2*{o})",), "sqrt gives 1/(2·o)")
RELU = Op("relu", "relu", 1, lambda x: x if x > 0.0 else 0.0, lambda x, o: 1.0 if x > 0.0 else 0.0,
          ("1 if {x} > 0 else 0",), "relu passes the gradient where x > 0 and blocks it elsewhere")
SIGMOID = Op("sigmoid", "sigmoid", 1, _sigmoid, lambda x, o: o * (1.0 - o),
             ("{o}*(1 - {o})",), "sigmoid gives o·(1 - o)")
SIN = Op("sin", "sin", 1, math.sin, lambda x, o: math.cos(x),
         ("cos({x})",), "sin gives cos(x)")
COS = Op("cos", "cos", 1, math.cos, lambda x, o: -math.sin(x),
         ("-sin({x})",), "cos gives -sin(x)")
ABS = Op("abs", "abs", 1, abs, lambda x, o: _sign(x),
         ("sign({x})",), "abs gives the sign of x (0 at 0)")

BINARY = {"+": ADD, "-": SUB, "*": MUL, "/": DIV}
FUNCTIONS = {op.name: op for op in (TANH, EXP, LOG, SQRT, RELU, SIGMOID, SIN, COS, ABS)}
ALL = (ADD, SUB, MUL, DIV, POW, POW_CONSTANT_EXPONENT, NEG, *FUNCTIONS.values())
KINKS = {RELU: 0.0, ABS: 0.0}  # op -> the point where its derivative is a convention
