"""Generated programs over the whole op registry against SymPy, and garbage input that must never crash."""
import math

from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from autodiff_cli.cli import cli
from autodiff_cli.errors import AutodiffError
from autodiff_cli.parsing import evaluate
from conftest import NAMES, agrees, programs, reference, values


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much,
                                                                  HealthCheck.too_slow])
@given(programs, st.fixed_dictionaries({n: values for n in NAMES}))
def test_generated_programs_match_sympy(program, point):
    text, expr = program
    used = {n: v for n, v in point.items() if n in text}
    try:
        prog = evaluate(text, **used)
    except AutodiffError:
        assume(False)
    found = reference(expr, used)
    assume(found is not None)
    value, grads = found
    assume(all(math.isfinite(abs(v)) for v in [value, *grads.values()]) and abs(value) < 1e12)
    assert agrees(prog.value, value), (text, used, prog.value, value)
    for name, grad in grads.items():
        assert agrees(prog.grad[name], grad), (text, used, name, prog.grad[name], grad)


program_text = st.text(alphabet="abxy0123456789.+-*/^()=;#\n \t\r$eE_tanhlogsqrt,α", max_size=60)


@settings(max_examples=300, deadline=None)
@given(program_text, st.lists(st.text(alphabet="abxy=0123456789.-+e ,", max_size=8), max_size=3))
def test_garbage_never_shows_a_traceback(text, sets):
    args = ["eval", "--json", "--", text]
    for s in sets:
        args[1:1] = ["--set", s]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code == 2:
        assert result.stderr.strip() and "Traceback" not in result.stderr
