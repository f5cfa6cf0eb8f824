"""The output layer in-process: escaping for terminals, strict JSON, and the file rules (the
contract tests drive the same through the real CLI)."""
import io
import os
import stat

import pytest

from autodiff_cli.engine import Value
from autodiff_cli.output import (StandardOutput, WriteError, check_writable, escape_controls, json_bytes,
                                 open_output)
from autodiff_cli.program import Program
from autodiff_cli.tables import write_table


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


class Closed(Exception):
    pass


def test_control_characters_are_escaped_but_lines_and_tabs_stay():
    assert escape_controls("a\x1b]0;t\x07b\n\tc\x9b") == "a\\x1b]0;t\\x07b\n\tc\\x9b"


def test_invisible_characters_are_shown_so_names_that_differ_by_one_are_told_apart():
    assert escape_controls("\ufeffx \u202eevil \u200bé") == "\\ufeffx \\u202eevil \\u200bé"


def test_a_table_for_a_terminal_escapes_what_the_program_controls():
    a = Value(2.0, label="a\x1b[2J")
    terminal = FakeTerminal()
    write_table(Program.from_value(a * 3), StandardOutput(terminal, Closed))
    assert "\x1b" not in terminal.getvalue() and "a\\x1b[2J" in terminal.getvalue()
    piped = io.StringIO()
    write_table(Program.from_value(a * 3), StandardOutput(piped, Closed))
    assert "a\x1b[2J" in piped.getvalue()          # piped, the bytes are what they are


def test_json_is_strict_and_the_same_every_time():
    document = {"b": 1.5, "a": [1e16, -0.0, None], "ü": "x"}
    assert json_bytes(document) == json_bytes(document)
    assert json_bytes(document, indent=False) == '{"b":1.5,"a":[1e+16,-0.0,null],"ü":"x"}\n'.encode()
    with pytest.raises(ValueError, match="not finite|refusing"):
        json_bytes({"x": float("nan")})


def test_a_replaced_file_appears_only_when_complete(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with open_output(str(path)) as stream:
            stream.write(b"half")
            raise RuntimeError("stopped midway")
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["out.txt"]
    with open_output(str(path)) as stream:
        stream.write(b"new")
    assert path.read_text() == "new" and os.listdir(tmp_path) == ["out.txt"]


def test_writable_checks_come_before_the_work(tmp_path):
    with pytest.raises(WriteError, match="is a directory"):
        check_writable(str(tmp_path))
    with pytest.raises(WriteError, match="no such directory"):
        check_writable(str(tmp_path / "nope" / "x.csv"))
    check_writable(None)
    check_writable("-")


def test_a_new_file_has_the_umask_mode(tmp_path):
    old = os.umask(0o027)
    try:
        with open_output(str(tmp_path / "x")) as stream:
            stream.write(b"1")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "x").stat().st_mode) == 0o640
