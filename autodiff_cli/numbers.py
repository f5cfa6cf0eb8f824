"""Numbers as the tool shows them: in tables and pictures (`format_number`), in JSON
(`json_number`), and in chain-rule lines (`significant`).  The page's `web/numbers.js` formats
with the same rules, digit for digit; `tests/test_numbers.py` holds the two together.

This module is the lowest floor: it imports nothing of the package, and every report, picture
and page that shows a number takes it from here.
"""
from __future__ import annotations

import math

UNDEFINED = "-"         # how a table shows a number that does not exist (a gradient through x**y at x < 0)


def format_number(x: float | None, precision: int = 4) -> str:
    """`precision` decimals, unless that would drop significant digits (0.00012345 would show
    0.0001: it shows 1.2345e-04) or the number is huge (from 1e12): then scientific notation.
    A dash for a number that does not exist (None)."""
    if x is None or not math.isfinite(x):         # never NaN or inf on a screen: a number that does not exist
        return UNDEFINED
    size = abs(x)
    if size >= 1e12:
        return f"{x:.{precision}e}"
    fixed = f"{x:.{precision}f}"
    if x == 0.0 or size >= 0.1 or float(fixed) == float(f"{x:.{precision}g}"):
        return fixed
    return f"{x:.{precision}e}"


def needs_exponent(x: float | None, precision: int = 4) -> bool:
    """Whether `format_number` writes x in scientific notation."""
    return x is not None and format_number(x, precision).find("e") >= 0


def format_column(values: list[float | None], precision: int = 4) -> list[str]:
    """A column's numbers in one notation: fixed decimals for all, unless one of them needs
    scientific notation, then scientific notation for every one (0.0130 is not shown beside
    1.1230e-02)."""
    if any(needs_exponent(x, precision) for x in values):
        return [UNDEFINED if x is None else f"{x:.{precision}e}" for x in values]
    return [format_number(x, precision) for x in values]


TOO_LARGE = "(too large for a float)"


def significant(x: float | None, digits: int = 6, undefined: str = "undefined") -> str:
    """`digits` significant digits (Python's `g`), as explain writes its chain-rule lines; a number
    too large for a float says so (never inf or nan)."""
    if x is None:
        return undefined
    return f"{x:.{digits}g}" if math.isfinite(x) else TOO_LARGE


def json_number(x: float | None) -> str:
    """A finite float as JSON that reads back to the same float (repr is shortest round-trip);
    None is null; NaN and infinity are refused, never written."""
    if x is None:
        return "null"
    if not math.isfinite(x):
        raise ValueError(f"refusing to write {x!r} as JSON")
    return float.__repr__(x)
