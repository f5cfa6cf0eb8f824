"""The one report path: every command's result written by `emit`, to standard output or a file,
in any of its formats, whole or not at all."""
import json

import pytest

from autodiff_cli.errors import AutodiffError
from autodiff_cli.reports import Report, Style, emit


class Numbers(Report):
    """A report that fails half way through when asked to."""

    formats = ("text", "json")

    def __init__(self, fail=False):
        self.fail = fail

    def document(self):
        return {"value": 1.5}

    def write_text(self, out, style):
        out.write("value 1.5\n")
        if self.fail:
            raise AutodiffError("failed while writing")


def test_a_report_goes_to_a_file_in_the_format_asked(tmp_path):
    emit(Numbers(), "json", str(tmp_path / "r.json"))
    emit(Numbers(), "text", str(tmp_path / "r.txt"))
    assert json.loads((tmp_path / "r.json").read_text()) == {"value": 1.5}
    assert (tmp_path / "r.txt").read_text() == "value 1.5\n"


def test_a_report_that_fails_leaves_no_file_and_the_old_one_stays(tmp_path):
    target = tmp_path / "r.txt"
    target.write_text("before\n")
    with pytest.raises(AutodiffError):
        emit(Numbers(fail=True), "text", str(target))
    assert target.read_text() == "before\n" and [p.name for p in tmp_path.iterdir()] == ["r.txt"]


def test_a_spooled_report_reaches_standard_output_only_when_complete(capsysbinary):
    with pytest.raises(AutodiffError):
        emit(Numbers(fail=True), "text", None, spool=True)
    assert capsysbinary.readouterr().out == b""
    emit(Numbers(), "text", None, spool=True)
    assert capsysbinary.readouterr().out == b"value 1.5\n"


def test_a_format_the_report_has_not_is_refused():
    with pytest.raises(AutodiffError, match="written as text or json, not csv"):
        emit(Numbers(), "csv", None)


def test_the_style_is_plain_off_a_terminal(tmp_path):
    with open(tmp_path / "f", "w") as stream:
        assert Style.of(stream) == Style()


@pytest.mark.parametrize("command", [
    ["eval", "x*y", "-s", "x=2", "-s", "y=3"], ["check", "x*y", "-s", "x=2", "-s", "y=3"],
    ["explain", "x*y", "-s", "x=2", "-s", "y=3"], ["step", "x*y", "-s", "x=2", "-s", "y=3"],
    ["diff", "x*y", "-s", "x=2", "-s", "y=3"], ["net", "2", "1"], ["graph", "x*y", "-s", "x=2", "-s", "y=3"],
    ["plot", "x*y", "-s", "y=3", "--over", "x=0:1:5"],
])
def test_every_command_writes_the_same_document_with_json_and_o(run, tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    printed = run(*command, "--json")
    written = run(*command, "--json", "-o", "out.json")
    assert printed.exit_code == written.exit_code == 0, printed.stderr + written.stderr
    assert written.stdout == "" and json.loads((tmp_path / "out.json").read_text()) == json.loads(printed.stdout)


def test_fit_writes_the_same_document_with_json_and_o(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "line.csv").write_text("x,y\n1,2\n2,4\n")
    args = ["fit", "a = 1; loss = (a*x - y)**2", "--data", "line.csv", "--steps", "3", "--lr", "0.01", "--json"]
    printed, written = run(*args), run(*args, "-o", "out.json")
    assert json.loads((tmp_path / "out.json").read_text()) == json.loads(printed.stdout) and written.stdout == ""


def test_a_text_report_goes_to_a_file_with_o(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("diff", "x*x", "-o", "g.py", "--to", "python")
    assert result.exit_code == 0 and result.stdout == "" and "def value_and_grad" in (tmp_path / "g.py").read_text()
    assert run("diff", "x*x", "-o", "d.ad").exit_code == 0 and "dout_dx" in (tmp_path / "d.ad").read_text()
