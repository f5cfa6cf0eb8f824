"""The op table: every operation the language knows, every form of it, defined once.

One row per op, built with keywords, holds everything any surface needs:

- `forward(*xs)`: the value (a float), raising `ValueError` with the refusal's
  message where the op refuses its operands (below); `derivative(*xs, o)`:
  the local derivative per input (a float for a unary op, a tuple for a
  binary one), `UNDEFINED` (NaN) where it does not exist while the value
  does: exactly where `undefined` says, per input, with the reason (a
  constant's gradient is then undefined; an input's, an error).  These two are written by hand, side by
  side, for the engine's speed;
- `rule`: the same local derivatives as text in the language, in terms of the
  inputs `x`, `y` and the output `o`.  This text is the derivative on every
  other surface: `explain` shows it, `diff` prints it, and the sweeps' array
  passes, the Python export and the live page's JavaScript are generated from
  it.  A test checks `derivative` against `rule` for every op, at its domain
  edges too;
- `refuse`: the domain, as `{message: condition}` over the symbols `X` and `Y`
  (`X <= 0`), checked in order.  The conditions are data: the page's
  JavaScript, the Python export and the sweeps' masks are generated from them,
  with the same messages; a test checks `forward` against them for every op;
- `array(np, *xs)`, `python`, `javascript`, `latex`: the forward rule over
  NumPy arrays (NumPy passed in, so only sweeps import it) and as text in
  Python, JavaScript and LaTeX, with `x` and `y` standing for the operands.
  A text form that is not the language's own template must delimit itself
  (a call, or in parentheses);
- `binds` and `operands`: how tightly the op's written form binds, and what
  each operand needs (`expressions` prints with only the parentheses they
  require); `latex_binds`/`latex_operands` where LaTeX differs (`\\frac`);
- algebra that never changes a value, used when derivative programs are
  simplified: `identity` (x*1 is x), `absorbing` (x*0 is 0), `negated_by`
  (x*-1 is -x), `odd` (the sign of an operand goes outside), `involution`
  (-(-x) is x), `sums` (terms gather into one sum);
- `kink` (where the derivative is a convention, not a limit), `lesson` (what
  the op does to the gradient, in words), `meaning`, `written`, `sympy` (the
  tests' independent reference), `method`/`reflected` (the `Value` API).

Adding an op: one row here and `register(op)` (for an operator also its place
in the grammar's precedence, with the op's name as the rule's alias).
`register` refuses a row with a missing form, naming the op and the form, and
a name that is taken.  tests/test_ops.py registers a throwaway function and a
binary operator and runs them through every surface.
"""
from __future__ import annotations

import math
import re
from typing import Any, Callable, Iterator

UNDEFINED = math.nan

# Binding strengths of written forms, tightest first (the grammar's precedence, as Python's).
ATOM, POWER, UNARY, PRODUCT, SUM = 5, 4, 3, 2, 1
DELIMITED = 0               # an operand the form itself delimits (a call's argument, \frac's parts)


class OpDefinitionError(Exception):
    """A row of the op table that cannot be used: a form is missing or malformed, or its name is taken."""


# Conditions of a domain: symbolic, so that every surface can be generated from them.

class Condition:
    """A condition on an op's operands, built with X, Y, comparisons, & | ~ and `integer()`."""

    __slots__ = ("kind", "parts")

    def __init__(self, kind: str, *parts):
        self.kind = kind            # "var", "num", "cmp:<=", "and", "or", "not", "integer"
        self.parts = parts

    def _compare(self, symbol: str, other) -> Condition:
        return Condition("cmp:" + symbol, self, _term(other))

    def __lt__(self, other): return self._compare("<", other)
    def __le__(self, other): return self._compare("<=", other)
    def __gt__(self, other): return self._compare(">", other)
    def __ge__(self, other): return self._compare(">=", other)
    def __eq__(self, other): return self._compare("==", other)      # type: ignore[override]
    def __ne__(self, other): return self._compare("!=", other)      # type: ignore[override]
    def __and__(self, other): return Condition("and", self, other)
    def __or__(self, other): return Condition("or", self, other)
    def __invert__(self): return Condition("not", self)
    __hash__ = None             # type: ignore[assignment]

    def variables(self) -> set[str]:
        return {c.parts[0] for c in self.walk() if c.kind == "var"}

    def walk(self) -> Iterator[Condition]:
        stack = [self]
        while stack:
            c = stack.pop()
            yield c
            stack.extend(p for p in c.parts if isinstance(p, Condition))

    def render(self, target: str) -> str:
        """The condition as text in `target`: "python", "javascript" or "numpy" (operands
        x and y; NumPy as `np`)."""
        return render_condition(self, target)

    def holds(self, *values: float) -> bool:
        """The condition at the operands (and, last, the output), evaluated by walking it."""
        return bool(_evaluate(self, dict(zip("xyo" if len(values) > 1 else "xo", values)), None))

    def mask(self, np, x, y=0.0):
        """Where the condition holds, elementwise over NumPy arrays."""
        return _evaluate(self, {"x": x, "y": y}, np)


def _term(value) -> Condition:
    return value if isinstance(value, Condition) else Condition("num", float(value))


def integer(c: Condition) -> Condition:
    """The operand is a whole number."""
    return Condition("integer", c)


X, Y, O = Condition("var", "x"), Condition("var", "y"), Condition("var", "o")   # the operands, the output

_CONDITION_FORMS = {
    "python": {"and": "({} and {})", "or": "({} or {})", "not": "(not {})", "integer": "{}.is_integer()"},
    "javascript": {"and": "({} && {})", "or": "({} || {})", "not": "(!{})", "integer": "Number.isInteger({})"},
    "numpy": {"and": "({} & {})", "or": "({} | {})", "not": "(~{})", "integer": "(np.floor({0}) == {0})"},
}


def _fold_condition(condition: Condition, combine: Callable[[Condition, list], Any]) -> Any:
    """`combine(part, its sub-conditions' results)` over the condition in post-order, no recursion."""
    done: dict[int, Any] = {}
    stack = [(condition, False)]
    while stack:
        c, expanded = stack.pop()
        kids = [p for p in c.parts if isinstance(p, Condition)]
        if kids and not expanded:
            stack.append((c, True))
            stack.extend((k, False) for k in kids)
            continue
        done[id(c)] = combine(c, [done[id(k)] for k in kids])
    return done[id(condition)]


def render_condition(condition: Condition, target: str) -> str:
    forms = _CONDITION_FORMS[target]

    def combine(c: Condition, args: list) -> str:
        if c.kind == "var":
            return c.parts[0]
        if c.kind == "num":
            return repr(c.parts[0]) if target == "python" else _js_number(c.parts[0])
        if c.kind.startswith("cmp:"):
            symbol = c.kind[4:]
            if target == "javascript" and symbol in ("==", "!="):
                symbol += "="
            return f"({args[0]} {symbol} {args[1]})"
        return forms[c.kind].format(*args)

    return _fold_condition(condition, combine)


def _js_number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _evaluate(condition: Condition, values: dict, np):
    def combine(c: Condition, args: list):
        kind = c.kind
        if kind == "var":
            return values[c.parts[0]]
        if kind == "num":
            return c.parts[0]
        if kind.startswith("cmp:"):
            return _COMPARE[kind[4:]](*args)
        if kind == "and":
            return args[0] & args[1] if np is not None else (args[0] and args[1])
        if kind == "or":
            return args[0] | args[1] if np is not None else (args[0] or args[1])
        if kind == "not":
            return ~args[0] if np is not None else not args[0]
        return np.floor(args[0]) == args[0] if np is not None else float(args[0]).is_integer()

    return _fold_condition(condition, combine)


_COMPARE = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}


class Op:
    """One operation: how to compute it, how to differentiate it, how to write it, what it is called."""

    __slots__ = ("name", "symbol", "arity", "forward", "derivative", "rule", "refuse", "array", "python",
                 "javascript", "latex", "template", "written", "sympy", "binds", "operands", "latex_binds",
                 "latex_operands", "identity", "absorbing", "negated_by", "odd", "involution", "sums",
                 "lesson", "meaning", "method", "reflected", "kink", "undefined", "partial")

    def __init__(self, *, name: str, symbol: str | None = None, arity: int, forward: Callable | None = None,
                 derivative: Callable | None = None, rule: tuple[str, ...] = (),
                 refuse: dict[str, Condition] | None = None, array: Callable | None = None,
                 python: str = "", javascript: str = "", latex: str = "", template: str = "", written: str = "",
                 sympy: str = "", binds: int | None = None, operands: tuple[int, ...] | None = None,
                 latex_binds: int | None = None, latex_operands: tuple[int, ...] | None = None,
                 identity: tuple[float | None, float | None] = (None, None), absorbing: float | None = None,
                 negated_by: tuple[float | None, float | None] = (None, None), odd: bool = False,
                 involution: bool = False, sums: bool = False, lesson: str = "", meaning: str = "",
                 method: str | None = None, reflected: str | None = None, kink: float | None = None,
                 undefined: tuple[dict[str, Condition], ...] = ()):
        self.name = name
        self.symbol = symbol or name        # what reports show: `+`, `tanh`
        self.arity = arity
        self.forward = forward
        self.derivative = derivative
        self.rule = tuple(rule)
        self.refuse = dict(refuse or {})   # message -> condition, in the order they are checked
        self.array = array
        self.template = template or _default_template(name, self.symbol, arity)    # the language's form
        self.python = python or ("" if self.is_function else self.template)     # a call is not Python
        self.javascript = javascript
        self.latex = latex
        self.written = written or self.template     # an example in the language (README, tests)
        self.sympy = sympy or self.template         # the tests' reference
        function = not template and arity >= 1 and binds is None
        self.binds = ATOM if function else binds
        self.operands = (DELIMITED,) * arity if function else operands
        self.latex_binds = self.binds if latex_binds is None else latex_binds
        self.latex_operands = self.operands if latex_operands is None else latex_operands
        self.identity = identity
        self.absorbing = absorbing
        self.negated_by = negated_by
        self.odd = odd
        self.involution = involution
        self.sums = sums
        self.lesson = lesson
        self.meaning = meaning
        self.method = method
        self.reflected = reflected
        self.kink = kink
        # per input: where its local derivative does not exist while the value does, and why
        self.undefined = tuple(dict(u) for u in undefined) or ({},) * arity
        self.partial = tuple(bool(u) for u in self.undefined)

    def __repr__(self) -> str:
        return f"Op({self.name!r})"

    @property
    def is_function(self) -> bool:
        """Written `name(x)` or `name(x, y)` in the language."""
        return self.template.startswith(self.name + "(")

    def applied_to(self, names: dict[str, str], form: str = "template") -> str:
        """The op in the language (or in its `python`, `javascript` or `latex` form), with x and y
        replaced by `names`: `t1 + t2`, `tanh(n)`."""
        return _RULE_NAME.sub(lambda m: names[m.group()], getattr(self, form))

    def refusal(self, *xs: float) -> str | None:
        """The message of the first refusal that holds at the operands, else None (for tests and
        generated code: the engine calls `forward`, which raises it)."""
        for message, condition in self.refuse.items():
            if condition.holds(*xs):
                return message
        return None

    def why_undefined(self, k: int, *xs_and_o: float) -> str:
        """Why the derivative with respect to input k does not exist at these operands and output."""
        return next((message for message, condition in self.undefined[k].items() if condition.holds(*xs_and_o)),
                    NO_DERIVATIVE)

    def refuses(self, np, *xs):
        """Where (elementwise over NumPy arrays) `forward` would refuse the operands; None if nowhere."""
        mask = None
        for condition in self.refuse.values():
            where = condition.mask(np, *xs)
            mask = where if mask is None else mask | where
        return mask


_RULE_NAME = re.compile(r"\b[xyo]\b")
_PLACEHOLDER = re.compile(r"\b[xy]\b")


def _default_template(name: str, symbol: str, arity: int) -> str:
    """`x + y` and `x - y` spaced, `x*y`, `x/y` and `x**y` tight (as the lecture writes them), `f(x)`."""
    return f"{name}({', '.join('xy'[:arity])})"


# The forward and derivative rules that need more than an expression.

def _div(x: float, y: float) -> float:
    if y == 0.0:
        raise ValueError(DIVISION_BY_ZERO)
    return x / y


def _pow(x: float, y: float) -> float:
    if x < 0.0 and not y.is_integer():
        raise ValueError(NEGATIVE_BASE_NEEDS_INTEGER)
    if x == 0.0 and y < 0.0:
        raise ValueError(ZERO_TO_NEGATIVE_POWER)
    return math.pow(x, y)


def _d_pow(x: float, y: float, out: float) -> tuple[float, float]:
    """d/dx is y*x**(y-1): 0 for y = 0, undefined at base 0 for 0 < y < 1 (infinite); d/dy is
    xlogy(o, x): o*log(x) for x > 0, 0 where o is 0 (at base 0, as JAX and PyTorch give it),
    undefined otherwise (a negative base, or 0**0)."""
    if y == 0.0:
        dx = 0.0
    elif x == 0.0 and y < 1.0:
        dx = UNDEFINED
    else:
        try:
            dx = y * math.pow(x, y - 1.0)
        except OverflowError:       # as a rule computes it: a number too large, which the engine reports
            dx = math.inf
    if out == 0.0:
        return dx, 0.0
    return dx, out * math.log(x) if x > 0.0 else UNDEFINED


def _xlogy(x: float, y: float) -> float:
    if x == 0.0:
        return 0.0
    if y <= 0.0:
        raise ValueError(LOG_NEEDS_POSITIVE)
    return x * math.log(y)


def _d_xlogy(x: float, y: float, out: float) -> tuple[float, float]:
    return math.log(y) if y > 0.0 else UNDEFINED, x / y if y != 0.0 else UNDEFINED


def _log(x: float) -> float:
    if x <= 0.0:
        raise ValueError(LOG_NEEDS_POSITIVE)
    return math.log(x)


def _sqrt(x: float) -> float:
    if x < 0.0:
        raise ValueError(SQRT_NEEDS_NON_NEGATIVE)
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


DIVISION_BY_ZERO = "division by zero"
NEGATIVE_BASE_NEEDS_INTEGER = "a negative base needs an integer exponent"
ZERO_TO_NEGATIVE_POWER = "0 to a negative power is infinite"
NEGATIVE_BASE_VARYING_EXPONENT = "a negative base has no real derivative with respect to its exponent"
ZERO_TO_POWER_BELOW_ONE = "0 to a power below 1 has an infinite derivative"
LOG_NEEDS_POSITIVE = "log needs a positive number"
SQRT_NEEDS_NON_NEGATIVE = "sqrt needs a number that is not negative"
SQRT_AT_ZERO = "sqrt has an infinite derivative at 0"
TOO_LARGE = "the result is too large for a float"               # any op, any surface
GRADIENT_TOO_LARGE = "the gradient is too large for a float"
NO_DERIVATIVE = "its derivative does not exist here"       # an op whose `undefined` does not say why


INPUT = Op(name="input", arity=0, template="input")
CONST = Op(name="const", arity=0, template="const")

ADD = Op(name="add", symbol="+", arity=2, template="x + y", binds=SUM, operands=(SUM, PRODUCT),
         forward=lambda x, y: x + y, derivative=lambda x, y, o: (1.0, 1.0), rule=("1", "1"),
         array=lambda np, x, y: x + y, javascript="x + y", latex="x + y", identity=(0.0, 0.0), sums=True,
         lesson="+ routes the gradient unchanged to both inputs", meaning="sum", method="__add__",
         reflected="__radd__")
SUB = Op(name="sub", symbol="-", arity=2, template="x - y", binds=SUM, operands=(SUM, PRODUCT),
         forward=lambda x, y: x - y, derivative=lambda x, y, o: (1.0, -1.0), rule=("1", "-1"),
         array=lambda np, x, y: x - y, javascript="x - y", latex="x - y", identity=(None, 0.0),
         negated_by=(0.0, None),
         lesson="- routes the gradient to the left and its negative to the right", meaning="difference",
         method="__sub__", reflected="__rsub__")
MUL = Op(name="mul", symbol="*", arity=2, template="x*y", binds=PRODUCT, operands=(PRODUCT, UNARY),
         forward=lambda x, y: x * y, derivative=lambda x, y, o: (y, x), rule=("y", "x"),
         array=lambda np, x, y: x * y, javascript="x*y", latex=r"x \, y", identity=(1.0, 1.0),
         absorbing=0.0, negated_by=(-1.0, -1.0), odd=True,
         lesson="* swaps in the other factor", meaning="product", method="__mul__", reflected="__rmul__")
DIV = Op(name="div", symbol="/", arity=2, template="x/y", binds=PRODUCT, operands=(PRODUCT, UNARY),
         forward=_div, derivative=lambda x, y, o: (1.0 / y, -o / y), rule=("1/y", "-o/y"),
         refuse={DIVISION_BY_ZERO: Y == 0}, array=lambda np, x, y: x / y, javascript="x/y",
         latex=r"\frac{x}{y}", latex_binds=ATOM, latex_operands=(DELIMITED, DELIMITED),
         identity=(None, 1.0), odd=True,
         lesson="/ gives 1/y to the numerator and -o/y to the denominator", meaning="quotient",
         method="__truediv__", reflected="__rtruediv__")
XLOGY = Op(name="xlogy", arity=2, forward=_xlogy, derivative=_d_xlogy, rule=("log(y)", "x/y"),
           refuse={LOG_NEEDS_POSITIVE: (X != 0) & (Y <= 0)},
           array=lambda np, x, y: np.where(x == 0.0, 0.0, x * np.log(np.where(x == 0.0, 1.0, y))),
           python="(0.0 if x == 0.0 else x * math.log(y))", javascript="(x === 0 ? 0 : x * Math.log(y))",
           latex=r"x \log\left(y\right)", latex_binds=PRODUCT, latex_operands=(PRODUCT, DELIMITED),
           sympy="x*log(y)", undefined=({LOG_NEEDS_POSITIVE: Y <= 0}, {DIVISION_BY_ZERO: Y == 0}),
           lesson="xlogy(x, y) is x·log(y), and 0 where x is 0: it gives log(y) to x and x/y to y",
           meaning="x·log(y), 0 where x = 0 (the exponent's derivative of a power)", method="xlogy")
# Where a power's value exists but a derivative does not: infinite at base 0 for 0 < y < 1; towards
# the exponent, a negative base (or 0**0) has none.
POW_UNDEFINED = ({ZERO_TO_POWER_BELOW_ONE: (X == 0) & (Y > 0) & (Y < 1)},
                 {NEGATIVE_BASE_VARYING_EXPONENT: (X < 0) & (O != 0), ZERO_TO_POWER_BELOW_ONE: (X == 0) & (O != 0)})
POW = Op(name="pow", symbol="**", arity=2, template="x**y", binds=POWER, operands=(ATOM, POWER),
         forward=_pow, derivative=_d_pow, rule=("y*x**(y - step(abs(y)))", "xlogy(o, x)"),
         refuse={NEGATIVE_BASE_NEEDS_INTEGER: (X < 0) & ~integer(Y), ZERO_TO_NEGATIVE_POWER: (X == 0) & (Y < 0)},
         array=lambda np, x, y: np.power(x, y), python="math.pow(x, y)", javascript="Math.pow(x, y)",
         latex="{x}^{y}", latex_operands=(ATOM, DELIMITED), identity=(None, 1.0), undefined=POW_UNDEFINED,
         written="x**3", lesson="** gives y*x**(y-1) to the base and o*log(x) to the exponent",
         meaning="power (also written ^)",
         method="__pow__", reflected="__rpow__")
NEG = Op(name="neg", symbol="neg", arity=1, template="-x", binds=UNARY, operands=(POWER,),
         forward=lambda x: -x, derivative=lambda x, o: -1.0, rule=("-1",), array=lambda np, x: -x,
         javascript="-x", latex="-x", involution=True,
         lesson="neg flips the sign of the gradient", meaning="negation", method="__neg__")
TANH = Op(name="tanh", arity=1, forward=math.tanh, derivative=lambda x, o: 1.0 - o * o, rule=("1 - o**2",),
          array=lambda np, x: np.tanh(x), python="math.tanh(x)", javascript="Math.tanh(x)",
          latex=r"\tanh\left(x\right)", lesson="tanh gives 1 - o²", meaning="hyperbolic tangent", method="tanh")
EXP = Op(name="exp", arity=1, forward=math.exp, derivative=lambda x, o: o, rule=("o",),
         array=lambda np, x: np.exp(x), python="math.exp(x)", javascript="Math.exp(x)", latex="e^{x}",
         latex_binds=POWER, lesson="exp gives its own output", meaning="e to the x", method="exp")
LOG = Op(name="log", arity=1, forward=_log, derivative=lambda x, o: 1.0 / x, rule=("1/x",),
         refuse={LOG_NEEDS_POSITIVE: X <= 0}, array=lambda np, x: np.log(x), python="math.log(x)",
         javascript="Math.log(x)", latex=r"\ln\left(x\right)", lesson="log gives 1/x",
         meaning="natural logarithm", method="log")
SQRT = Op(name="sqrt", arity=1, forward=_sqrt, derivative=lambda x, o: 0.5 / o if o > 0.0 else UNDEFINED,
          rule=("1/(2*o)",), refuse={SQRT_NEEDS_NON_NEGATIVE: X < 0}, undefined=({SQRT_AT_ZERO: X == 0},), array=lambda np, x: np.sqrt(x), python="math.sqrt(x)",
          javascript="Math.sqrt(x)", latex=r"\sqrt{x}", lesson="sqrt gives 1/(2·o)", meaning="square root",
          method="sqrt")
RELU = Op(name="relu", arity=1, forward=lambda x: x if x > 0.0 else 0.0, derivative=lambda x, o: _step(x),
          rule=("step(x)",), array=lambda np, x: np.where(x > 0.0, x, 0.0), python="(x if x > 0.0 else 0.0)",
          javascript="(x > 0 ? x : 0)", latex=r"\operatorname{relu}\left(x\right)", sympy="(x + Abs(x))/2",
          kink=0.0, lesson="relu passes the gradient where x > 0 and blocks it elsewhere", meaning="max(x, 0)",
          method="relu")
SIGMOID = Op(name="sigmoid", arity=1, forward=_sigmoid, derivative=lambda x, o: o * (1.0 - o),
             rule=("o*(1 - o)",), array=_sigmoid_array,
             python="(1.0 / (1.0 + math.exp(-x)) if x >= 0.0 else math.exp(x) / (1.0 + math.exp(x)))",
             javascript="(x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)))",
             latex=r"\sigma\left(x\right)", sympy="1/(1 + exp(-x))", lesson="sigmoid gives o·(1 - o)",
             meaning="1/(1 + exp(-x))", method="sigmoid")
SIN = Op(name="sin", arity=1, forward=math.sin, derivative=lambda x, o: math.cos(x), rule=("cos(x)",),
         array=lambda np, x: np.sin(x), python="math.sin(x)", javascript="Math.sin(x)",
         latex=r"\sin\left(x\right)", lesson="sin gives cos(x)", meaning="sine", method="sin")
COS = Op(name="cos", arity=1, forward=math.cos, derivative=lambda x, o: -math.sin(x), rule=("-sin(x)",),
         array=lambda np, x: np.cos(x), python="math.cos(x)", javascript="Math.cos(x)",
         latex=r"\cos\left(x\right)", lesson="cos gives -sin(x)", meaning="cosine", method="cos")
ABS = Op(name="abs", arity=1, forward=abs, derivative=lambda x, o: _sign(x), rule=("sign(x)",),
         array=lambda np, x: np.abs(x), python="math.fabs(x)", javascript="Math.abs(x)",
         latex=r"\left|x\right|", sympy="Abs(x)", kink=0.0, lesson="abs gives the sign of x (0 at 0)",
         meaning="absolute value", method="__abs__")
SIGN = Op(name="sign", arity=1, forward=_sign, derivative=lambda x, o: 0.0, rule=("0",),
          array=lambda np, x: np.sign(x) + 0.0,        # + 0.0: sign(-0.0) is 0.0, as `_sign` gives
          python="(1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0)", javascript="(x > 0 ? 1 : x < 0 ? -1 : 0)",
          latex=r"\operatorname{sign}\left(x\right)", kink=0.0, lesson="sign is flat: it passes no gradient",
          meaning="1 for x > 0, -1 for x < 0, 0 at 0", method="sign")
STEP = Op(name="step", arity=1, forward=_step, derivative=lambda x, o: 0.0, rule=("0",),
          array=lambda np, x: np.where(x > 0.0, 1.0, 0.0), python="(1.0 if x > 0.0 else 0.0)",
          javascript="(x > 0 ? 1 : 0)", latex=r"\operatorname{step}\left(x\right)",
          sympy="(sign(x) + Abs(sign(x)))/2", kink=0.0, lesson="step is flat: it passes no gradient",
          meaning="1 for x > 0, else 0 (relu's derivative)", method="step")

OPERATORS: dict[str, Op] = {}       # by the grammar's rule alias
FUNCTIONS: dict[str, Op] = {}       # by the function's name in the language
_LISTENERS: list[Callable[[Op, bool], None]] = []


def register(op: Op, *, operator: bool = False) -> None:
    """Add a function (or, with `operator`, a grammar rule's op) to the language, and so to `Value`,
    every command and every surface.  A new operator also needs its place in the grammar's
    precedence, with the op's name as the rule's alias.  Refuses a row with a missing or malformed
    form, or a name that is taken, with an `OpDefinitionError` naming the op and the form."""
    validate(op)
    if op.name in OPERATORS or op.name in FUNCTIONS or op.name in ("input", "const"):
        raise OpDefinitionError(f"op {op.name!r}: the name is taken")
    if operator and op.is_function:
        raise OpDefinitionError(f"op {op.name!r}: an operator needs its `template` (as `x % y`)")
    (OPERATORS if operator else FUNCTIONS)[op.name] = op
    for listener in _LISTENERS:
        listener(op, True)


def validate(op: Op) -> None:
    """Every form a surface needs is there and usable; raises `OpDefinitionError` otherwise."""
    def missing(form: str) -> OpDefinitionError:
        return OpDefinitionError(f"op {op.name!r}: no {form} form")

    for form in ("forward", "derivative", "array"):
        if not callable(getattr(op, form)):
            raise missing(form)
    for form in ("python", "javascript", "latex", "lesson", "meaning"):
        if not getattr(op, form):
            raise missing(form)
    if len(op.rule) != op.arity or not all(op.rule):
        raise OpDefinitionError(f"op {op.name!r}: the rule needs one derivative text per input ({op.arity})")
    if op.binds is None or op.operands is None or len(op.operands) != op.arity:
        raise OpDefinitionError(f"op {op.name!r}: no precedence (binds=, operands=) for its template")
    variables = set("xy"[:op.arity])
    for form in ("template", "python", "javascript", "latex"):
        text = getattr(op, form)
        if set(_PLACEHOLDER.findall(text)) != variables:
            raise OpDefinitionError(f"op {op.name!r}: its {form} form {text!r} must use each of "
                                    f"{', '.join(sorted(variables))} (the operands)")
    for form in ("python", "javascript"):
        text = getattr(op, form)
        if text != op.template and not _delimits_itself(text):
            raise OpDefinitionError(f"op {op.name!r}: its {form} form {text!r} must be a call or be in "
                                    "parentheses (it differs from the language's template)")
    for message, condition in op.refuse.items():
        if not isinstance(condition, Condition) or not condition.variables() <= variables:
            raise OpDefinitionError(f"op {op.name!r}: the refusal {message!r} needs a condition on "
                                    f"{', '.join(sorted(variables))} built with X, Y")
    if len(op.undefined) != op.arity or not all(isinstance(c, Condition) and c.variables() <= variables | {"o"}
                                                for u in op.undefined for c in u.values()):
        raise OpDefinitionError(f"op {op.name!r}: `undefined` needs, per input, conditions on "
                                f"{', '.join(sorted(variables | {'o'}))} built with X, Y, O")


_CALL = re.compile(r"[\w.]+\(")


def _delimits_itself(text: str) -> bool:
    """`math.log(x)` or `(x if ... else ...)`: one call or one parenthesised group, end to end."""
    start = _CALL.match(text)
    opening = start.end() - 1 if start else (0 if text.startswith("(") else -1)
    if opening < 0 or not text.endswith(")"):
        return False
    depth = 0
    for i, char in enumerate(text[opening:], opening):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return i == len(text) - 1
    return False


def on_register(listener: Callable[[Op, bool], None]) -> None:
    """Call `listener(op, True)` for every op registered from now on (the engine adds `Value`
    methods), and `listener(op, False)` for every op a `restore` takes out."""
    _LISTENERS.append(listener)


def snapshot() -> tuple[dict[str, Op], dict[str, Op]]:
    """The registry as it is now, for `restore` (tests that register ops put it back)."""
    return dict(OPERATORS), dict(FUNCTIONS)


def restore(saved: tuple[dict[str, Op], dict[str, Op]]) -> None:
    """The registry as `snapshot` saw it: ops registered since are taken out (with their `Value` methods)."""
    for table, before in zip((OPERATORS, FUNCTIONS), saved):
        added = [op for name, op in table.items() if before.get(name) is not op]
        table.clear()
        table.update(before)
        for op in added:
            for listener in _LISTENERS:
                listener(op, False)


def all_ops() -> list[Op]:
    """Every computing op, operators first, in the table's order."""
    return [*OPERATORS.values(), *FUNCTIONS.values()]


def operator_symbols() -> list[str]:
    """The binary operators' symbols, as syntax errors list them."""
    return [op.symbol for op in OPERATORS.values() if op.arity == 2]


for _op in (ADD, SUB, MUL, DIV, POW, NEG):
    register(_op, operator=True)
for _op in (TANH, EXP, LOG, SQRT, RELU, SIGMOID, SIN, COS, ABS, SIGN, STEP, XLOGY):
    register(_op)
