"""A derivative program in other forms: Python, one expression per input, LaTeX."""
import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from autodiff_cli.errors import AutodiffError
from autodiff_cli.parsing import evaluate, parse
from conftest import LECTURE, NAMES, NEURON, programs, values


def load_function(source, tmp_path, module="exported"):
    """Import the exported Python as a module, as a user would (no eval of text)."""
    import importlib.util

    path = tmp_path / f"{module}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(module, path)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded.value_and_grad


def test_the_python_export_runs_and_agrees_with_eval(run, tmp_path):
    source = run("diff", NEURON, "--to", "python").stdout
    function = load_function(source, tmp_path)
    prog = evaluate(NEURON)
    value, grads = function()
    assert value == pytest.approx(prog.value, rel=1e-15) and grads == pytest.approx(prog.grad, rel=1e-12)
    prog = evaluate(NEURON, x1=0.3, w2=-0.7)
    value, grads = function(x1=0.3, w2=-0.7)
    assert value == pytest.approx(prog.value, rel=1e-15) and grads == pytest.approx(prog.grad, rel=1e-12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much,
                                                                 HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(programs, st.fixed_dictionaries({n: values for n in NAMES}))
def test_generated_python_exports_agree_with_eval(tmp_path, program, point):
    from autodiff_cli.exporting import python_function

    text, _ = program
    prog = parse(text)
    used = {n: v for n, v in point.items() if n in prog.inputs}
    prog.set(used)
    try:
        prog.run()
    except AutodiffError:
        assume(False)
    function = load_function(python_function(prog), tmp_path,
                             f"exported_{abs(hash((text, tuple(used.items()))))}")
    value, grads = function(**used)
    assert math.isclose(value, prog.value, rel_tol=1e-12, abs_tol=1e-12)
    for name, g in grads.items():
        assert math.isclose(g, prog.grad[name], rel_tol=1e-9, abs_tol=1e-12), (text, name)


def test_python_names_that_are_keywords_get_an_underscore(tmp_path):
    from autodiff_cli.exporting import python_function

    prog = parse("lambda = 2; math = 3; lambda*math*x")
    prog.set({"x": 1.5})
    function = load_function(python_function(prog), tmp_path, "keywords")
    assert function() == (9.0, {"lambda": 4.5, "math": 3.0, "x": 6.0})


def test_expressions_inline_every_intermediate_and_refuse_to_swell(run):
    assert run("diff", LECTURE, "--expr").stdout.splitlines() == [
        "dout_da = f*b", "dout_db = f*a", "dout_dc = f", "dout_df = a*b + c"]
    swelling = "x = 0.5\n" + "\n".join(f"x{i + 1} = x{i}*x{i}" if i else "x1 = x*x" for i in range(12))
    result = run("diff", swelling, "--expr")
    assert result.exit_code == 2 and "more than 400 operations" in result.stderr
    assert run("diff", swelling).exit_code == 0


def test_latex_is_balanced_and_compiles_where_latex_is_installed(run, tmp_path):
    import shutil
    import subprocess

    text = run("diff", "relu(x)*abs(y) + sigmoid(x)/y - x**y + sqrt(exp(x))*log(y) + 1e-20*x", "--to", "latex").stdout
    assert text.startswith("\\begin{align*}") and text.count("{") == text.count("}")
    assert text.count("\\left") == text.count("\\right")
    if shutil.which("pdflatex"):
        document = tmp_path / "d.tex"
        document.write_text("\\documentclass{article}\\usepackage{amsmath}\\begin{document}\n" + text +
                            "\\end{document}\n")
        done = subprocess.run(["pdflatex", "-interaction=nonstopmode", document.name], cwd=tmp_path,
                              capture_output=True, timeout=120)
        assert done.returncode == 0, done.stdout[-2000:]
