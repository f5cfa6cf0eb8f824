"""The page writes numbers exactly as the command line does (web/numbers.js against Python's own
formatting): ties rounded half to even on the double's exact value, -0 kept, the same switch to
scientific notation."""
import random
import struct

from autodiff_cli.page import web_script
from autodiff_cli.numbers import format_number

TIES = [-19.03125, 0.125, 0.375, 2.5, -2.5, 0.5, 1.5, 1e-5 + 0.0, 0.00012345, 0.000099, 1.2345678901234567e-4]
SPECIAL = [0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1e16, 1e-4, 9.99995,
           0.999995, 123456789.123, 1e12, 999999999999.5, 1e15, 1e-300, 3.0, -8.0, 6.0]


def doubles(n=400):
    rng = random.Random(5)
    found = list(TIES + SPECIAL)
    for _ in range(n):
        bits = rng.getrandbits(64)
        x = struct.unpack("<d", struct.pack("<Q", bits))[0]
        if x == x and abs(x) != float("inf"):
            found.append(x)
        found.append(rng.uniform(-1000, 1000))
        found.append(rng.choice([1, -1]) * 10 ** rng.uniform(-8, 14))
        found.append(rng.randint(-10**6, 10**6) / 2 ** rng.randint(1, 12))     # exact binary ties
    return found


def test_formatting_in_javascript_is_pythons(browser):
    numbers = doubles()
    precisions = list(range(0, 18))
    page = browser.new_page()
    page.set_content(f"<script>{web_script('numbers.js')}</script>")
    got = page.evaluate("""([numbers, precisions]) => numbers.map((x) => [pythonRepr(x),
        precisions.map((p) => [formatFixed(x, p), formatExponent(x, p), formatGeneral(x, p), formatNumber(x, p)])])""",
                        [numbers, precisions])
    page.close()
    mismatches = []
    for x, (text, per_precision) in zip(numbers, got):
        if text != repr(x):
            mismatches.append(("repr", x, text, repr(x)))
        for p, (fixed, exponent, general, table) in zip(precisions, per_precision):
            expected = (f"{x:.{p}f}", f"{x:.{p}e}", f"{x:.{p}g}", format_number(x, p))
            if (fixed, exponent, general, table) != expected:
                mismatches.append((x, p, (fixed, exponent, general, table), expected))
    assert mismatches == []
