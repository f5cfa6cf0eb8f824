"""Throwaway ops for the tests that add ops: each named with the reserved prefix (ops.SCRATCH), each
row only what ops.py's guide says a new row needs."""
import math

from autodiff_cli import ops
from autodiff_cli.ops import PRODUCT, UNARY, Y


def scratch_cube(**changes):
    """A unary function: x³, its derivative compiled from its rule."""
    row = dict(name="scratch_cube", arity=1, forward=lambda x: math.pow(x, 3.0), rule=("3*x**2",),
               array=lambda np, x: np.power(x, 3.0), python="math.pow(x, 3.0)", javascript="Math.pow(x, 3)",
               latex=r"\operatorname{cube}\left(x\right)", sympy="x**3", lesson="scratch_cube gives 3x²",
               meaning="x³", method="scratch_cube")
    row.update(changes)
    return ops.Op(**row)


def scratch_mean(**changes):
    """A binary function: the mean of two numbers."""
    row = dict(name="scratch_mean", arity=2, forward=lambda x, y: (x + y) / 2.0, rule=("1/2", "1/2"),
               array=lambda np, x, y: (x + y) / 2.0, python="((x + y) / 2.0)", javascript="((x + y) / 2)",
               latex=r"\frac{x + y}{2}", sympy="(x + y)/2", lesson="scratch_mean gives 1/2 to each",
               meaning="the mean of x and y", method="scratch_mean")
    row.update(changes)
    return ops.Op(**row)


def _fmod(x, y):
    if y == 0.0:
        raise ValueError("% needs a divisor that is not 0")
    return math.fmod(x, y)


def scratch_mod(**changes):
    """A binary operator: C's fmod as `%`, at the precedence of `*` and `/` (the grammar needs a line)."""
    row = dict(name="scratch_mod", symbol="%", arity=2, template="x % y", binds=PRODUCT, operands=(PRODUCT, UNARY),
               forward=_fmod, rule=("1", "-(x - o)/y"), refuse={"% needs a divisor that is not 0": Y == 0},
               array=lambda np, x, y: np.fmod(x, y), python="math.fmod(x, y)", javascript="x % y",
               latex=r"x \bmod y", sympy="Mod(x, y)", lesson="% gives 1 to x and -(x - o)/y to y",
               meaning="remainder (C's fmod)", piece=lambda m, x, y: m.trunc(x / y),
               kinks="where x/y is a whole number (a jump)")
    row.update(changes)
    return ops.Op(**row)


GRAMMAR_LINE = ('| product "/" unary  -> div', '| product "/" unary  -> div\n        | product "%" unary  -> scratch_mod')
