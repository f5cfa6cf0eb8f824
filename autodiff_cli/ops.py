"""The op table: every operation the language knows, every form of it, defined once.

One row per op, built with keywords.  What a new row needs, and nothing else:

- `name`, `arity` (1 or 2), `meaning` (words for the docs) and `lesson` (what the op does to
  the gradient, in words: explain teaches it);
- `forward(*xs)`: the value as a float, raising `ValueError(message)` where the op refuses its
  operands, and `refuse`: the same domain as data, `{message: condition}` over X and Y
  (`{"log needs a positive number": X <= 0}`), so that every other surface is generated from it;
- `rule`: the local derivative per input as text in the language, over the operands `x`, `y` and
  the output `o` (`"1 - o**2"`).  This text is the derivative on every surface: explain shows
  it, diff prints it, sweeps, the page and the Python export compute it.  A rule must keep every
  intermediate finite wherever its value is (write `x/hypot(x, y)/hypot(x, y)`, not
  `x/(x**2 + y**2)`): every surface refuses a non-finite intermediate, and registration checks
  the rule at the edge points;
- `undefined`: per input, `{reason: condition}` over X, Y and the output O, where the value
  exists but that derivative does not (sqrt at 0); there the rule is not computed;
- `python`, `javascript`, `latex`: the forward rule as text, with `x` and `y` for the operands
  (a form other than the language's own must be one call or be in parentheses), and `sympy`:
  the tests' independent reference;
- `piece` (where the derivative is a convention, not a limit): a function `(m, *xs)` naming the
  smooth piece the operands are in (m is `math` or NumPy); a kink is where it changes, and
  `kinks` says where in words.

Optional, for speed or exactness: `derivative(*xs, o)`, the rule written by hand in Python
(a float per input, NaN where `undefined` holds), checked against the rule at registration; and
`array(np, *xs)`, the forward rule over NumPy arrays (else `forward` point by point).  An
operator (`x % y`) also needs its `template`, `binds` and `operands` (its precedence), and a
line in the grammar with the op's name as the rule's alias.

`rules.register(op)` checks all of this, naming the op and what is wrong, and adds the row to
`Value`, every command and every surface.  The built-in rows below pass the same checks in the
tests (tests/test_ops.py).
"""
from __future__ import annotations

import math
import re
from typing import Any, Callable, Iterator

from .errors import AutodiffError

UNDEFINED = math.nan

# Binding strengths of written forms, tightest first (the grammar's precedence, as Python's).
ATOM, POWER, UNARY, PRODUCT, SUM, COMPARE = 6, 5, 4, 3, 2, 1
DELIMITED = 0               # an operand the form itself delimits (a call's argument, \frac's parts)


class OpDefinitionError(AutodiffError):
    """A row of the op table that cannot be used: a form is missing or malformed, a rule is not
    in the language or disagrees with its hand-written form, or its name is taken."""


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

    def holds(self, *xs: float, o: float | None = None) -> bool:
        """The condition at the operands `xs` (x, then y) and the output `o`, evaluated by walking it."""
        return bool(_evaluate(self, {**dict(zip("xy", xs)), "o": o}, None))

    def could_hold(self, known: dict[str, float]) -> bool:
        """Whether the condition can hold for some values of the variables `known` leaves open (a
        comparison or `integer` of an unknown may go either way): False only where it cannot."""
        def combine(c: Condition, args: list):
            if c.kind == "var":
                return known.get(c.parts[0])        # None: not known
            if c.kind == "num":
                return c.parts[0]
            if c.kind == "integer":
                return None if args[0] is None else float(args[0]).is_integer()
            if c.kind.startswith("cmp:"):
                return None if None in args else _COMPARE[c.kind[4:]](*args)
            if c.kind == "not":
                return None if args[0] is None else not args[0]
            if c.kind == "and":
                return False if False in args else None if None in args else True
            return True if True in args else None if None in args else False
        return _fold_condition(self, combine) is not False

    def mask(self, np, *xs, o=None):
        """Where the condition holds, elementwise over NumPy arrays (operands, and the output)."""
        return _evaluate(self, {**dict(zip("xy", xs)), "o": o}, np)


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
                 "lesson", "meaning", "method", "reflected", "piece", "kinks", "undefined", "partial",
                 "rule_programs", "handwritten", "gate")

    def __init__(self, *, name: str, symbol: str | None = None, arity: int, forward: Callable | None = None,
                 derivative: Callable | None = None, rule: tuple[str, ...] = (),
                 refuse: dict[str, Condition] | None = None, array: Callable | None = None,
                 python: str = "", javascript: str = "", latex: str = "", template: str = "", written: str = "",
                 sympy: str = "", binds: int | None = None, operands: tuple[int, ...] | None = None,
                 latex_binds: int | None = None, latex_operands: tuple[int, ...] | None = None,
                 identity: tuple[float | None, float | None] = (None, None), absorbing: float | None = None,
                 negated_by: tuple[float | None, float | None] = (None, None), odd: bool = False,
                 involution: bool = False, sums: bool = False, lesson: str = "", meaning: str = "",
                 method: str | None = None, reflected: str | None = None, piece: Callable | None = None,
                 kinks: str = "", undefined: tuple[dict[str, Condition], ...] = (), gate: Condition | None = None):
        self.name = name
        self.symbol = symbol or name        # what reports show: `+`, `tanh`
        self.arity = arity
        self.forward = forward
        self.derivative = derivative        # None: generated from the rule when registered
        self.handwritten = derivative is not None
        self.rule = tuple(rule)
        self.refuse = dict(refuse or {})   # message -> condition, in the order they are checked
        self.array = array if array is not None or forward is None else _pointwise(forward)
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
        self.piece = piece                  # (m, *xs) -> which smooth piece; None for a smooth op
        self.kinks = kinks                  # where the pieces meet, in words
        # per input: where its local derivative does not exist while the value does, and why
        self.undefined = tuple(dict(u) for u in undefined) or tuple({} for _ in range(arity))
        self.partial = tuple(bool(u) for u in self.undefined)
        self.rule_programs: tuple = ()      # the rules parsed, when registered (rules.register)
        # where the second operand is used at all (a condition on the first): elsewhere it is not
        # computed for this op, so its domain and its overflows do not matter (`where` is built of two)
        self.gate = gate

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

    def why_undefined(self, k: int, xs: tuple[float, ...], o: float) -> str | None:
        """Why the derivative with respect to input k does not exist at these operands and output
        (None where it does)."""
        return next((message for message, condition in self.undefined[k].items() if condition.holds(*xs, o=o)),
                    None)

    def refuses(self, np, *xs):
        """Where (elementwise over NumPy arrays) `forward` would refuse the operands; None if nowhere."""
        mask = None
        for condition in self.refuse.values():
            where = condition.mask(np, *xs)
            mask = where if mask is None else mask | where
        return mask

    def crosses(self, before: tuple[float, ...], after: tuple[float, ...]) -> bool:
        """Whether moving the operands from `before` to `after` touches a kink: onto, off or across."""
        if self.piece is None or before == after:
            return False
        return self.piece(math, *before) != self.piece(math, *after) or self.on_kink(*before) or self.on_kink(*after)

    def on_kink(self, *xs: float) -> bool:
        """Whether the operands sit on a kink: every nudge, however small, changes the piece."""
        if self.piece is None:
            return False
        here = self.piece(math, *xs)
        return any(self.piece(math, *(math.nextafter(x, direction) if i == k else v for i, v in enumerate(xs)))
                   != here for k, x in enumerate(xs) for direction in (-math.inf, math.inf))


class PythonOp(Op):
    """An op made in Python the lecture's way, `Value(t, (x,), 'sigmoid')` with an `out._backward`
    closure: the engine runs its closure; the op table knows nothing of it, so what needs its rules
    (explain, diff, sweeps, the page) refuses it, naming it."""

    __slots__ = ()

    def __init__(self, symbol: str, arity: int):
        super().__init__(name=symbol, symbol=symbol, arity=arity)

    def unknown(self) -> AutodiffError:
        """The error of a command that needs this op's rule."""
        return AutodiffError(f"{self.symbol} was made in Python with its own _backward: explain, diff, sweeps and "
                             "the page need its derivative as a rule",
                             hint="add it to the op table with autodiff_cli.register (see ops.py's guide)")


_RULE_NAME = re.compile(r"\b[xyo]\b")
_PLACEHOLDER = re.compile(r"\b[xy]\b")


def _default_template(name: str, symbol: str, arity: int) -> str:
    return f"{name}({', '.join('xy'[:arity])})"


def _pointwise(forward: Callable) -> Callable:
    """An array form for a row that has none: `forward` at each point, NaN where it refuses (the
    sweep runs those points again by the scalar engine, which gives the refusal)."""
    def array(np, *xs):
        def one(*values):
            try:
                return forward(*values)
            except (ArithmeticError, ValueError):
                return math.nan
        return np.asarray(np.frompyfunc(one, len(xs), 1)(*xs), dtype=float)
    return array


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


def _tanh_array(np, x):
    """tanh as the C library computes it (from expm1: 1 - 2/(expm1(2|x|) + 2), or for |x| < 1
    -t/(t + 2) with t = expm1(-2|x|)), so a sweep gives eval's numbers bit for bit: NumPy's own
    vectorised tanh differs in the last place for about a quarter of its arguments."""
    a = np.abs(x)
    large = np.expm1(2.0 * a)
    small = np.expm1(-2.0 * a)
    z = np.where(a >= 1.0, 1.0 - 2.0 / (large + 2.0), -small / (small + 2.0))
    return np.copysign(np.where(a >= 22.0, 1.0, z), x)


def _sigmoid_array(np, x):
    e = np.exp(-np.abs(x))          # exp(-x) for x >= 0, exp(x) below: the same numbers as `_sigmoid`
    return np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sign(x: float) -> float:
    return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)


def _step(x: float) -> float:
    return 1.0 if x > 0.0 else 0.0




def _refusing(message: str, refused: Callable[..., bool], value: Callable[..., float]) -> Callable[..., float]:
    """A forward rule that refuses where `refused` holds, with `message`, and is `value` elsewhere."""
    def forward(*xs: float) -> float:
        if refused(*xs):
            raise ValueError(message)
        return value(*xs)
    return forward


def _logaddexp(x: float, y: float) -> float:
    """log(exp(x) + exp(y)): the larger plus a correction below log(2), so nothing overflows."""
    return (y if y > x else x) + math.log1p(math.exp(-math.fabs(x - y)))


def _softplus(x: float) -> float:
    """log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|))."""
    return (x if x > 0.0 else 0.0) + math.log1p(math.exp(-abs(x)))


def _whole(rounded: float, x: float) -> float:
    """floor or ceil as a float, 0 keeping x's sign (as NumPy and JavaScript give it: ceil(-0.5) is -0.0)."""
    return math.copysign(0.0, x) if rounded == 0.0 else float(rounded)


def _signed_piece(m, x: float) -> int:
    """-1, 0 or 1: the pieces of relu, abs, sign and step meet at 0."""
    return (x > 0) * 1 - (x < 0) * 1


def _order_piece(m, x: float, y: float) -> int:
    """-1, 0 or 1: the pieces of max, min and the comparisons meet where x = y."""
    return (x > y) * 1 - (x < y) * 1


def _integer_piece(m, x: float) -> float:
    """The pieces of floor and ceil: each open interval between integers, and each integer."""
    whole = m.floor(x)
    return whole * 2 + (whole != x) * 1


LN2, LN10 = math.log(2.0), math.log(10.0)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
GAUSSIAN_ZERO = 28.0    # exp(-x²) is 0.0 in floats from |x| = 27.3 on: the rules stop squaring there


def _gaussian(x: float) -> float:
    """exp(-x²), with no intermediate overflow: as erf's rule writes it."""
    return math.exp(-math.pow(min(abs(x), GAUSSIAN_ZERO), 2.0))


def _inverse_square(h: float) -> float:
    """1/h², as 1/h/h: no intermediate overflow (h is a hypot)."""
    return 1.0 / h / h


def _atan2_derivative(x: float, y: float) -> tuple[float, float]:
    """d atan2(x, y) (x the ordinate, y the abscissa) with respect to each: y/(x² + y²) and
    -x/(x² + y²), scaled by m = max(|x|, |y|) so that nothing overflows on the way."""
    m = max(abs(x), abs(y))
    if m == 0.0:
        return UNDEFINED, UNDEFINED
    u, v = x / m, y / m
    s = math.pow(u, 2.0) + math.pow(v, 2.0)
    return v / s / m, -u / s / m


def _d_silu(x: float) -> float:
    s = _sigmoid(x)
    return s * (1.0 + x * (1.0 - s))


def _tie(a: bool, tie: bool) -> float:
    """1 where a holds, 1/2 at a tie, else 0: PyTorch's gradient of max and min."""
    return 1.0 if a else 0.5 if tie else 0.0


def _silu(x: float) -> float:
    """x·sigmoid(x), without overflow: x/(1 + exp(-x)) for x >= 0, x·exp(x)/(1 + exp(x)) below."""
    return x / (1.0 + math.exp(-x)) if x >= 0.0 else x * math.exp(x) / (1.0 + math.exp(x))


def _silu_array(np, x):
    e = np.exp(-np.abs(x))          # exp(-x) for x >= 0, exp(x) below: the same numbers as `_silu`
    return np.where(x >= 0.0, x / (1.0 + e), x * e / (1.0 + e))


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


ASIN_DOMAIN = "asin needs a number from -1 to 1"
ACOS_DOMAIN = "acos needs a number from -1 to 1"
ASIN_EDGE = "asin has an infinite derivative at -1 and 1"
ACOS_EDGE = "acos has an infinite derivative at -1 and 1"
ACOSH_DOMAIN = "acosh needs a number of at least 1"
ACOSH_EDGE = "acosh has an infinite derivative at 1"
ATANH_DOMAIN = "atanh needs a number between -1 and 1 (it is infinite at -1 and 1)"
LOG2_NEEDS_POSITIVE = "log2 needs a positive number"
LOG10_NEEDS_POSITIVE = "log10 needs a positive number"
LOG1P_DOMAIN = "log1p needs a number above -1"
CBRT_AT_ZERO = "cbrt has an infinite derivative at 0"
ATAN2_AT_ORIGIN = "atan2 has no derivative at (0, 0)"
HYPOT_AT_ORIGIN = "hypot has no derivative at (0, 0)"


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
          array=_tanh_array, python="math.tanh(x)", javascript="Math.tanh(x)",
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
          piece=_signed_piece, kinks="0", lesson="relu passes the gradient where x > 0 and blocks it elsewhere",
          meaning="max(x, 0)",
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
         latex=r"\left|x\right|", sympy="Abs(x)", piece=_signed_piece, kinks="0", lesson="abs gives the sign of x (0 at 0)",
         meaning="absolute value", method="__abs__")
SIGN = Op(name="sign", arity=1, forward=_sign, derivative=lambda x, o: 0.0, rule=("0",),
          array=lambda np, x: np.sign(x) + 0.0,        # + 0.0: sign(-0.0) is 0.0, as `_sign` gives
          python="(1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0)", javascript="(x > 0 ? 1 : x < 0 ? -1 : 0)",
          latex=r"\operatorname{sign}\left(x\right)", piece=_signed_piece, kinks="0 (a jump)", lesson="sign is flat: it passes no gradient",
          meaning="1 for x > 0, -1 for x < 0, 0 at 0", method="sign")
STEP = Op(name="step", arity=1, forward=_step, derivative=lambda x, o: 0.0, rule=("0",),
          array=lambda np, x: np.where(x > 0.0, 1.0, 0.0), python="(1.0 if x > 0.0 else 0.0)",
          javascript="(x > 0 ? 1 : 0)", latex=r"\operatorname{step}\left(x\right)",
          sympy="(sign(x) + Abs(sign(x)))/2", piece=_signed_piece, kinks="0 (a jump)", lesson="step is flat: it passes no gradient",
          meaning="1 for x > 0, else 0 (relu's derivative)", method="step")


# Comparisons: flat (no gradient), 1 where they hold and 0 elsewhere; written without chaining
# (`a < b < c` is a syntax error, not Python's a < b and b < c).


def _comparison(name: str, symbol: str, holds: Callable[[float, float], bool], latex: str, meaning: str,
                numpy: Callable) -> Op:
    return Op(name=name, symbol=symbol, arity=2, template=f"x {symbol} y", binds=COMPARE, operands=(SUM, SUM),
              forward=lambda x, y: 1.0 if holds(x, y) else 0.0, derivative=lambda x, y, o: (0.0, 0.0),
              rule=("0", "0"), array=lambda np, x, y: numpy(np, x, y) + 0.0,
              python=f"(1.0 if x {symbol} y else 0.0)", javascript=f"(x {'===' if symbol == '==' else '!==' if symbol == '!=' else symbol} y ? 1 : 0)",
              latex=f"x {latex} y", latex_operands=(SUM, SUM),
              sympy=f"Piecewise((1, {'Eq(x, y)' if symbol == '==' else 'Ne(x, y)' if symbol == '!=' else f'x {symbol} y'}), (0, True))",
              piece=_order_piece, kinks="x = y (a jump)", lesson=f"{symbol} is flat: it passes no gradient",
              meaning=meaning)


LT = _comparison("lt", "<", lambda x, y: x < y, "<", "1 where x < y, else 0", lambda np, x, y: np.less(x, y))
LE = _comparison("le", "<=", lambda x, y: x <= y, r"\le", "1 where x ≤ y, else 0", lambda np, x, y: np.less_equal(x, y))
GT = _comparison("gt", ">", lambda x, y: x > y, ">", "1 where x > y, else 0", lambda np, x, y: np.greater(x, y))
GE = _comparison("ge", ">=", lambda x, y: x >= y, r"\ge", "1 where x ≥ y, else 0",
                 lambda np, x, y: np.greater_equal(x, y))
EQ = _comparison("eq", "==", lambda x, y: x == y, "=", "1 where x = y, else 0", lambda np, x, y: np.equal(x, y))
NE = _comparison("ne", "!=", lambda x, y: x != y, r"\ne", "1 where x ≠ y, else 0",
                 lambda np, x, y: np.not_equal(x, y))

# The math library: Python's math module, and the activations people bring.

HYPOT = Op(name="hypot", arity=2, forward=math.hypot, derivative=lambda x, y, o: (x / o, y / o) if o != 0.0 else (UNDEFINED, UNDEFINED),
           rule=("x/o", "y/o"),
           python="math.hypot(x, y)", javascript="Math.hypot(x, y)", latex=r"\sqrt{x^{2} + y^{2}}",
           sympy="sqrt(x**2 + y**2)", undefined=({HYPOT_AT_ORIGIN: (X == 0) & (Y == 0)},) * 2,
           lesson="hypot gives x/o and y/o", meaning="sqrt(x² + y²), without overflow", method="hypot")
MAX = Op(name="max", arity=2, forward=lambda x, y: y if y > x else x,
         derivative=lambda x, y, o: (_tie(x > y, x == y), _tie(y > x, x == y)),
         rule=("(x > y) + (x == y)/2", "(y > x) + (x == y)/2"), array=lambda np, x, y: np.where(y > x, y, x),
         python="(y if y > x else x)", javascript="(y > x ? y : x)", latex=r"\max\left(x, y\right)", sympy="Max(x, y)",
         piece=_order_piece, kinks="x = y (each gets half the gradient there, as in PyTorch)",
         lesson="max passes the gradient to the larger input (half to each at a tie)", meaning="the larger of x and y",
         method="maximum")
MIN = Op(name="min", arity=2, forward=lambda x, y: y if y < x else x,
         derivative=lambda x, y, o: (_tie(x < y, x == y), _tie(y < x, x == y)),
         rule=("(x < y) + (x == y)/2", "(y < x) + (x == y)/2"), array=lambda np, x, y: np.where(y < x, y, x),
         python="(y if y < x else x)", javascript="(y < x ? y : x)", latex=r"\min\left(x, y\right)", sympy="Min(x, y)",
         piece=_order_piece, kinks="x = y (each gets half the gradient there, as in PyTorch)",
         lesson="min passes the gradient to the smaller input (half to each at a tie)", meaning="the smaller of x and y",
         method="minimum")
TAN = Op(name="tan", arity=1, forward=math.tan, derivative=lambda x, o: 1.0 + o * o,
           rule=("1 + o**2",), array=lambda np, x: np.tan(x),
         python="math.tan(x)", javascript="Math.tan(x)", latex=r"\tan\left(x\right)", lesson="tan gives 1 + o²",
         meaning="tangent", method="tan")
ASIN = Op(name="asin", arity=1, forward=_refusing(ASIN_DOMAIN, lambda x: not -1.0 <= x <= 1.0, math.asin),
          refuse={ASIN_DOMAIN: (X < -1) | (X > 1)}, derivative=lambda x, o: UNDEFINED if abs(x) == 1.0 else 1.0 / math.sqrt((1.0 - x) * (1.0 + x)),
           rule=("1/sqrt((1 - x)*(1 + x))",),
          undefined=({ASIN_EDGE: (X == -1) | (X == 1)},), array=lambda np, x: np.arcsin(x), python="math.asin(x)",
          javascript="Math.asin(x)", latex=r"\arcsin\left(x\right)", lesson="asin gives 1/sqrt(1 - x²)",
          meaning="arc sine", method="asin")
ACOS = Op(name="acos", arity=1, forward=_refusing(ACOS_DOMAIN, lambda x: not -1.0 <= x <= 1.0, math.acos),
          refuse={ACOS_DOMAIN: (X < -1) | (X > 1)}, derivative=lambda x, o: UNDEFINED if abs(x) == 1.0 else -1.0 / math.sqrt((1.0 - x) * (1.0 + x)),
           rule=("-1/sqrt((1 - x)*(1 + x))",),
          undefined=({ACOS_EDGE: (X == -1) | (X == 1)},), array=lambda np, x: np.arccos(x), python="math.acos(x)",
          javascript="Math.acos(x)", latex=r"\arccos\left(x\right)", lesson="acos gives -1/sqrt(1 - x²)",
          meaning="arc cosine", method="acos")
ATAN = Op(name="atan", arity=1, forward=math.atan, derivative=lambda x, o: _inverse_square(math.hypot(1.0, x)),
           rule=("1/hypot(1, x)/hypot(1, x)",),
          array=lambda np, x: np.arctan(x), python="math.atan(x)", javascript="Math.atan(x)",
          latex=r"\arctan\left(x\right)", lesson="atan gives 1/(1 + x²)", meaning="arc tangent", method="atan")
_M = "max(abs(x), abs(y))"      # atan2's rule scales by the larger operand: no intermediate overflows
_X_M, _Y_M = f"x/{_M}", f"y/{_M}"
ATAN2 = Op(name="atan2", arity=2, forward=math.atan2,
           derivative=lambda x, y, o: _atan2_derivative(x, y),
           rule=(f"({_Y_M})/(({_X_M})**2 + ({_Y_M})**2)/{_M}", f"-({_X_M})/(({_X_M})**2 + ({_Y_M})**2)/{_M}"),
           written="atan2(y, x)",
           undefined=({ATAN2_AT_ORIGIN: (X == 0) & (Y == 0)},) * 2, array=lambda np, x, y: np.arctan2(x, y),
           python="math.atan2(x, y)", javascript="Math.atan2(x, y)",
           latex=r"\operatorname{atan2}\left(x, y\right)", sympy="atan2(x, y)",
           lesson="atan2(y, x) gives x/(x² + y²) to y and -y/(x² + y²) to x (scaled by the larger, so nothing overflows)",
           meaning="the angle of the point (x, y), in (-π, π]: atan2(y, x), y first", method="atan2")
SINH = Op(name="sinh", arity=1, forward=math.sinh, derivative=lambda x, o: math.hypot(1.0, o),
           rule=("hypot(1, o)",), array=lambda np, x: np.sinh(x),
          python="math.sinh(x)", javascript="Math.sinh(x)", latex=r"\sinh\left(x\right)",
          lesson="sinh gives cosh(x), sqrt(1 + o²)", meaning="hyperbolic sine", method="sinh")
COSH = Op(name="cosh", arity=1, forward=math.cosh, derivative=lambda x, o: math.sinh(x),
           rule=("sinh(x)",), array=lambda np, x: np.cosh(x),
          python="math.cosh(x)", javascript="Math.cosh(x)", latex=r"\cosh\left(x\right)", lesson="cosh gives sinh(x)",
          meaning="hyperbolic cosine", method="cosh")
ASINH = Op(name="asinh", arity=1, forward=math.asinh, derivative=lambda x, o: 1.0 / math.hypot(1.0, x),
           rule=("1/hypot(1, x)",), array=lambda np, x: np.arcsinh(x),
           python="math.asinh(x)", javascript="Math.asinh(x)", latex=r"\operatorname{arsinh}\left(x\right)",
           lesson="asinh gives 1/sqrt(1 + x²)", meaning="inverse hyperbolic sine", method="asinh")
ACOSH = Op(name="acosh", arity=1, forward=_refusing(ACOSH_DOMAIN, lambda x: not x >= 1.0, math.acosh),
           refuse={ACOSH_DOMAIN: X < 1}, derivative=lambda x, o: UNDEFINED if x == 1.0 else 1.0 / (math.sqrt(x - 1.0) * math.sqrt(x + 1.0)),
           rule=("1/(sqrt(x - 1)*sqrt(x + 1))",),
           undefined=({ACOSH_EDGE: X == 1},), array=lambda np, x: np.arccosh(x), python="math.acosh(x)",
           javascript="Math.acosh(x)", latex=r"\operatorname{arcosh}\left(x\right)",
           lesson="acosh gives 1/sqrt(x² - 1)", meaning="inverse hyperbolic cosine", method="acosh")
ATANH = Op(name="atanh", arity=1, forward=_refusing(ATANH_DOMAIN, lambda x: not -1.0 < x < 1.0, math.atanh),
           refuse={ATANH_DOMAIN: (X <= -1) | (X >= 1)}, derivative=lambda x, o: 1.0 / ((1.0 - x) * (1.0 + x)),
           rule=("1/((1 - x)*(1 + x))",),
           array=lambda np, x: np.arctanh(x), python="math.atanh(x)", javascript="Math.atanh(x)",
           latex=r"\operatorname{artanh}\left(x\right)", lesson="atanh gives 1/(1 - x²)",
           meaning="inverse hyperbolic tangent", method="atanh")
EXP2 = Op(name="exp2", arity=1, forward=lambda x: math.pow(2.0, x), derivative=lambda x, o: o * LN2,
           rule=("o*log(2)",),
          array=lambda np, x: np.power(2.0, x), python="math.pow(2.0, x)", javascript="Math.pow(2, x)",
          latex="2^{x}", latex_binds=POWER, sympy="2**x", lesson="exp2 gives o·log(2)", meaning="2 to the x",
          method="exp2")
LOG2 = Op(name="log2", arity=1, forward=_refusing(LOG2_NEEDS_POSITIVE, lambda x: not x > 0.0, math.log2),
          refuse={LOG2_NEEDS_POSITIVE: X <= 0}, derivative=lambda x, o: 1.0 / x / LN2,
           rule=("1/x/log(2)",), array=lambda np, x: np.log2(x),
          python="math.log2(x)", javascript="Math.log2(x)", latex=r"\log_{2}\left(x\right)", sympy="log(x, 2)",
          lesson="log2 gives 1/(x·log(2))", meaning="logarithm to base 2", method="log2")
LOG10 = Op(name="log10", arity=1, forward=_refusing(LOG10_NEEDS_POSITIVE, lambda x: not x > 0.0, math.log10),
           refuse={LOG10_NEEDS_POSITIVE: X <= 0}, derivative=lambda x, o: 1.0 / x / LN10,
           rule=("1/x/log(10)",), array=lambda np, x: np.log10(x),
           python="math.log10(x)", javascript="Math.log10(x)", latex=r"\log_{10}\left(x\right)", sympy="log(x, 10)",
           lesson="log10 gives 1/(x·log(10))", meaning="logarithm to base 10", method="log10")
LOG1P = Op(name="log1p", arity=1, forward=_refusing(LOG1P_DOMAIN, lambda x: not x > -1.0, math.log1p),
           refuse={LOG1P_DOMAIN: X <= -1}, derivative=lambda x, o: 1.0 / (1.0 + x),
           rule=("1/(1 + x)",), array=lambda np, x: np.log1p(x),
           python="math.log1p(x)", javascript="Math.log1p(x)", latex=r"\ln\left(1 + x\right)", sympy="log(1 + x)",
           lesson="log1p gives 1/(1 + x)", meaning="log(1 + x), exact near 0", method="log1p")
EXPM1 = Op(name="expm1", arity=1, forward=math.expm1, derivative=lambda x, o: math.exp(x),
           rule=("exp(x)",), array=lambda np, x: np.expm1(x),
           python="math.expm1(x)", javascript="Math.expm1(x)", latex=r"\left(e^{x} - 1\right)", latex_binds=ATOM,
           sympy="exp(x) - 1", lesson="expm1 gives exp(x)", meaning="exp(x) - 1, exact near 0", method="expm1")
CBRT = Op(name="cbrt", arity=1, forward=math.cbrt, derivative=lambda x, o: UNDEFINED if x == 0.0 else 1.0 / (3.0 * (o * o)),
           rule=("1/(3*o**2)",), undefined=({CBRT_AT_ZERO: X == 0},),
          array=lambda np, x: np.cbrt(x), python="math.cbrt(x)", javascript="Math.cbrt(x)", latex=r"\sqrt[3]{x}",
          sympy="sign(x)*Abs(x)**Rational(1, 3)", lesson="cbrt gives 1/(3·o²)", meaning="cube root",
          method="cbrt")
ERF = Op(name="erf", arity=1, forward=math.erf, derivative=lambda x, o: TWO_OVER_SQRT_PI * _gaussian(x),
           rule=("2/sqrt(pi)*exp(-min(abs(x), 28)**2)",),
         python="math.erf(x)", javascript="erf(x)", latex=r"\operatorname{erf}\left(x\right)",
         lesson="erf gives 2/sqrt(π)·exp(-x²)", meaning="the error function", method="erf")
ERFC = Op(name="erfc", arity=1, forward=math.erfc, derivative=lambda x, o: -TWO_OVER_SQRT_PI * _gaussian(x),
           rule=("-2/sqrt(pi)*exp(-min(abs(x), 28)**2)",),
          python="math.erfc(x)", javascript="erfc(x)", latex=r"\operatorname{erfc}\left(x\right)",
          lesson="erfc gives -2/sqrt(π)·exp(-x²)", meaning="1 - erf(x), exact for large x", method="erfc")
SOFTPLUS = Op(name="softplus", arity=1, forward=_softplus, derivative=lambda x, o: _sigmoid(x),
           rule=("sigmoid(x)",),
              array=lambda np, x: np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))),
              python="((x if x > 0.0 else 0.0) + math.log1p(math.exp(-math.fabs(x))))",
              javascript="((x > 0 ? x : 0) + Math.log1p(Math.exp(-Math.abs(x))))",
              latex=r"\operatorname{softplus}\left(x\right)", sympy="log(1 + exp(x))", lesson="softplus gives sigmoid(x)",
              meaning="log(1 + exp(x)), without overflow", method="softplus")
LOGADDEXP = Op(name="logaddexp", arity=2, forward=lambda x, y: _logaddexp(x, y),
               derivative=lambda x, y, o: (math.exp(x/2 - o/2)**2, math.exp(y/2 - o/2)**2),
               rule=("exp(x/2 - o/2)**2", "exp(y/2 - o/2)**2"), array=lambda np, x, y: np.logaddexp(x, y),
               python="((y if y > x else x) + math.log1p(math.exp(-math.fabs(x - y))))",
               javascript="(Math.max(x, y) + Math.log1p(Math.exp(-Math.abs(x - y))))",
               latex=r"\log\left(e^{x} + e^{y}\right)", sympy="log(exp(x) + exp(y))",
               lesson="logaddexp gives exp(x - o) and exp(y - o), the two softmax weights (halved inside, so x - o cannot overflow)",
               meaning="log(exp(x) + exp(y)), without overflow", method="logaddexp")
SILU = Op(name="silu", arity=1, forward=_silu, derivative=lambda x, o: _d_silu(x),
           rule=("sigmoid(x)*(1 + x*(1 - sigmoid(x)))",), array=_silu_array,
          python="(x / (1.0 + math.exp(-x)) if x >= 0.0 else x * math.exp(x) / (1.0 + math.exp(x)))",
          javascript="(x >= 0 ? x / (1 + Math.exp(-x)) : x * Math.exp(x) / (1 + Math.exp(x)))",
          latex=r"\operatorname{silu}\left(x\right)", sympy="x/(1 + exp(-x))",
          lesson="silu gives sigmoid(x)·(1 + x·(1 - sigmoid(x)))", meaning="x·sigmoid(x) (swish)", method="silu")
FLOOR = Op(name="floor", arity=1, forward=lambda x: _whole(math.floor(x), x), derivative=lambda x, o: 0.0,
           rule=("0",), array=lambda np, x: np.floor(x),
           python="(math.copysign(0.0, x) if math.floor(x) == 0 else float(math.floor(x)))",
           javascript="Math.floor(x)", latex=r"\lfloor x \rfloor", sympy="floor(x)", piece=_integer_piece,
           kinks="the integers (a jump)", lesson="floor is flat: it passes no gradient",
           meaning="the largest integer not above x", method="__floor__")
CEIL = Op(name="ceil", arity=1, forward=lambda x: _whole(math.ceil(x), x), derivative=lambda x, o: 0.0,
          rule=("0",), array=lambda np, x: np.ceil(x),
          python="(math.copysign(0.0, x) if math.ceil(x) == 0 else float(math.ceil(x)))",
          javascript="Math.ceil(x)", latex=r"\lceil x \rceil", sympy="ceiling(x)", piece=_integer_piece,
          kinks="the integers (a jump)", lesson="ceil is flat: it passes no gradient",
          meaning="the smallest integer not below x", method="__ceil__")

WHEN = Op(name="when", arity=2, forward=lambda x, y: y if x != 0.0 else 0.0,
          derivative=lambda x, y, o: (0.0, 1.0 if x != 0.0 else 0.0), rule=("0", "x != 0"),
          array=lambda np, x, y: np.where(x != 0.0, y, 0.0), python="(y if x != 0.0 else 0.0)",
          javascript="(x !== 0 ? y : 0)", latex=r"\left[x\right] y", sympy="Piecewise((y, Ne(x, 0)), (0, True))",
          piece=lambda m, x, y: x != 0.0, kinks="x = 0 (a jump in y's share; x itself gets no gradient)",
          gate=X != 0, lesson="when passes the gradient to y where x holds (is not 0), and none to x",
          meaning="y where x holds (is not 0), else 0: where(x, y, z) is when(x, y) + unless(x, z), and y "
                  "is not computed where x does not hold")
UNLESS = Op(name="unless", arity=2, forward=lambda x, y: y if x == 0.0 else 0.0,
            derivative=lambda x, y, o: (0.0, 1.0 if x == 0.0 else 0.0), rule=("0", "x == 0"),
            array=lambda np, x, y: np.where(x == 0.0, y, 0.0), python="(y if x == 0.0 else 0.0)",
            javascript="(x === 0 ? y : 0)", latex=r"\left[\lnot x\right] y",
            sympy="Piecewise((y, Eq(x, 0)), (0, True))", piece=lambda m, x, y: x == 0.0,
            kinks="x = 0 (a jump in y's share; x itself gets no gradient)", gate=X == 0,
            lesson="unless passes the gradient to y where x does not hold (is 0), and none to x",
            meaning="y where x does not hold (is 0), else 0; y is not computed where x holds")

OPERATORS: dict[str, Op] = {}       # by the grammar's rule alias
FUNCTIONS: dict[str, Op] = {}       # by the function's name in the language
_LISTENERS: list[Callable[[Op, bool], None]] = []


SCRATCH = "scratch_"        # the prefix of throwaway ops in tests; no real op's name starts with it


def add(op: Op, *, operator: bool = False) -> None:
    """The row in the table, after the checks that need nothing but the row itself (`validate`).
    `rules.register` is the public way in: it checks the rules too, and compiles what the row
    leaves out; the built-in rows below pass the same checks in the tests."""
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

    if op.arity not in (1, 2):
        raise OpDefinitionError(f"op {op.name!r}: an op takes 1 or 2 operands, not {op.arity}")
    if not callable(op.forward):
        raise missing("forward")
    for form in ("derivative", "array", "piece"):
        if getattr(op, form) is not None and not callable(getattr(op, form)):
            raise OpDefinitionError(f"op {op.name!r}: its {form} form must be a function")
    for form in ("python", "javascript", "latex", "sympy", "lesson", "meaning"):
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
    """The binary operators' symbols (+ - * / ** < ...), as syntax errors list them."""
    return [op.symbol for op in OPERATORS.values() if op.arity == 2]


for _op in (ADD, SUB, MUL, DIV, POW, NEG, LT, LE, GT, GE, EQ, NE):
    add(_op, operator=True)
for _op in (TANH, EXP, LOG, SQRT, RELU, SIGMOID, SIN, COS, ABS, SIGN, STEP, XLOGY, HYPOT, MAX, MIN, TAN, ASIN, ACOS,
            ATAN, ATAN2, SINH, COSH, ASINH, ACOSH, ATANH, EXP2, LOG2, LOG10, LOG1P, EXPM1, CBRT, ERF, ERFC, SOFTPLUS,
            LOGADDEXP, SILU, FLOOR, CEIL, WHEN, UNLESS):
    add(_op)
