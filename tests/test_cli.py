"""The command line: CliRunner in-process, plus the installed `autodiff` entry point for real."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from autodiff_cli.cli.options import parse_assignments
from autodiff_cli.errors import AutodiffError
from conftest import LECTURE, LECTURE_SET


def test_eval_table(run):
    result = run("eval", LECTURE, *LECTURE_SET)
    assert result.exit_code == 0
    assert "(a*b+c)*f = -8.0000" in result.stdout
    assert "\x1b[" not in result.stdout


def test_eval_json(run):
    result = run("eval", LECTURE, *LECTURE_SET, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["grad"] == {"a": 6.0, "b": -4.0, "c": -2.0, "f": 4.0}


def test_eval_reads_a_file_and_standard_input(run, tmp_path):
    path = tmp_path / "lecture.ad"
    path.write_text("a = 2; b = -3; c = 10; f = -2\ne = a*b\nd = e + c\nL = d * f\n")
    assert json.loads(run("eval", "-f", path, "--json").stdout)["value"] == -8.0
    result = run("eval", "-f", "-", "--json", "--set", "a=3", input=path.read_text())
    assert json.loads(result.stdout)["value"] == (3 * -3 + 10) * -2


@pytest.mark.parametrize("args, words", [
    (["eval", "2x"], "did you mean 2*x?"),
    (["eval", "a*b", "--set", "a=abc"], "'abc' is not a number"),
    (["eval", "a*b", "--set", "a"], "expected NAME=VALUE"),
    (["eval", "a*b", "--set", "a=1"], "add --set b=1 with your values"),
    (["eval", "a", "--set", "a=1", "--set", "z=2"], "its inputs are: a"),
    (["eval", "log(x)", "--set", "x=0"], "log (x = 0.0)"),
    (["eval"], "no program given"),
    (["eval", "x", "-f", "missing.ad"], "not both"),
    (["eval", "-f", "/nonexistent/file.ad"], "cannot read the program"),
])
def test_bad_input_exits_2_with_one_message_and_no_traceback(run, args, words):
    result = run(*args)
    assert result.exit_code == 2
    assert words in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_unknown_option_is_a_usage_error(run):
    result = run("eval", "x", "--jsn")
    assert result.exit_code == 2 and "No such option" in result.stderr


def test_version_and_help(run):
    assert run("--version").stdout.startswith("autodiff, version")
    help_text = run("eval", "--help").stdout
    assert "--set" in help_text and "--json" in help_text and "PROGRAM" in help_text


def autodiff_executable():
    found = shutil.which("autodiff", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    if found is None:
        pytest.fail("the autodiff entry point is not installed: pip install -e .")
    return found


def test_installed_entry_point_runs_the_lecture_example():
    result = subprocess.run([autodiff_executable(), "eval", LECTURE, *LECTURE_SET, "--json"],
                            capture_output=True, text=True, check=True)
    assert json.loads(result.stdout)["value"] == -8.0


def test_python_dash_m_works():
    result = subprocess.run([sys.executable, "-m", "autodiff_cli", "eval", "a + a", "--set", "a=3", "--json"],
                            capture_output=True, text=True, check=True)
    assert json.loads(result.stdout)["grad"] == {"a": 2.0}


def test_errors_from_the_real_process_have_exit_code_2_and_no_traceback():
    result = subprocess.run([autodiff_executable(), "eval", "(a*b+c"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "'(' is never closed" in result.stderr and "Traceback" not in result.stderr


def test_piping_into_head_does_not_crash():
    program = "x = 1\n" + " + ".join(["x"] * 20000)
    command = f'"{autodiff_executable()}" eval "$(cat)" --json | head -n 3'
    result = subprocess.run(["sh", "-c", command], input=program, capture_output=True, text=True)
    assert result.stdout.splitlines()[0] == "{"
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


@pytest.mark.parametrize("pairs, words", [
    (["a=abc"], "'abc' is not a number"), (["a"], "expected NAME=VALUE"), (["=3"], "expected NAME=VALUE"),
    (["a=1", "a=2"], "given twice"), (["a=nan"], "not a number"), (["a=inf"], "not a number"),
    (["a=1e999"], "too large"),
])
def test_bad_set_values(pairs, words):
    with pytest.raises(AutodiffError, match=words):
        parse_assignments(pairs)


def test_set_values_accept_signed_decimals():
    assert parse_assignments(["a=-3", "b= +2.5e1", "c=.5"]) == {"a": -3.0, "b": 25.0, "c": 0.5}


def test_set_values_accept_expressions_of_numbers():
    assert parse_assignments(["x=2/3", "y=-2**-1"]) == {"x": 2 / 3, "y": -0.5}
    with pytest.raises(AutodiffError, match="division by zero"):
        parse_assignments(["x=1/0"])


@pytest.mark.parametrize("args", [
    ["eval", "-x**2", "--set", "x=3"], ["eval", "--", "-x**2", "--set", "x=3"],
    ["eval", "--set", "x=3", "--", "-x**2"], ["eval", "-sx=3", "-x**2"], ["eval", "--json", "-x**2", "-s", "x=3"],
])
def test_a_program_that_starts_with_a_minus_works_wherever_it_stands(run, args):
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    assert "-9.0" in result.stdout


def test_a_program_starting_like_a_short_option_is_still_a_program(run):
    result = run("eval", "-sin(x)", "-s", "x=0")
    assert result.exit_code == 0 and "-sin(x) = -0.0000" in result.stdout


def test_an_unknown_option_is_reported_as_one_with_clicks_suggestion(run):
    result = run("eval", "--lecture-bgu", "overwrite", "a + a", "--set", "a=1")
    assert result.exit_code == 2 and result.stdout == ""
    assert "No such option '--lecture-bgu'" in result.stderr and "--lecture-bug" in result.stderr
    assert "starts your program" not in result.stderr
    short = run("eval", "x*x", "-q", "--set", "x=1")
    assert short.exit_code == 2 and "No such option '-q'" in short.stderr and "extra argument" not in short.stderr


def test_output_shaped_like_a_file_gets_a_hint_naming_o(run):
    result = run("eval", "x*x", "--over", "x=0:1:3", "--output", "out.csv")
    assert result.exit_code == 2 and "No such option '--output'" in result.stderr
    assert "-o FILE" in result.stderr and "--output-node NAME" in result.stderr
    named = run("eval", "y = x*x; z = y + 1", "--output-node", "y", "--set", "x=3", "--json")
    assert json.loads(named.stdout)["value"] == 9.0


def test_a_repeated_file_option_is_an_error(run, tmp_path):
    (tmp_path / "a.ad").write_text("x")
    result = run("eval", "-f", tmp_path / "a.ad", "-f", tmp_path / "a.ad", "-s", "x=1")
    assert result.exit_code == 2 and "-f is given 2 times" in result.stderr


def test_every_missing_input_at_once_with_a_ready_set_line(run):
    result = run("eval", LECTURE)
    assert result.exit_code == 2
    assert "the inputs a, b, c, f have no value" in result.stderr
    assert "--set a=1 --set b=1 --set c=1 --set f=1" in result.stderr


def test_shell_completion_as_the_readme_documents_it():
    exe = shutil.which("autodiff", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    done = subprocess.run([exe], env={**os.environ, "_AUTODIFF_COMPLETE": "bash_source"},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "_autodiff_completion" in done.stdout
    words = subprocess.run([exe], env={**os.environ, "_AUTODIFF_COMPLETE": "bash_complete",
                                       "COMP_WORDS": "autodiff ev", "COMP_CWORD": "1"},
                           capture_output=True, text=True, timeout=60).stdout
    assert "plain,eval" in words.split()
