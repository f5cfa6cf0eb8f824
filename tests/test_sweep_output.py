"""A sweep's rows: CSV, JSON Lines and .npz read back to the same floats; the command's formats and errors."""
import csv
import io
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from autodiff_cli import sweep_output
from autodiff_cli.parsing import parse
from autodiff_cli.points import Grid, parse_axis
from autodiff_cli.sweeping import sweep

TEXT = "y = log(x) * w; y / (x - 2)"


def chunks(text=TEXT, over="x=-1:3:41", **values):
    program = parse(text)
    program.set(values or {"w": 0.1})
    return program, list(sweep(program, Grid([parse_axis(over)])))


def expected_rows(chunk_list):
    for chunk in chunk_list:
        for i in range(len(chunk)):
            yield chunk, i


def test_csv_reads_back_with_the_standard_library_to_the_same_floats():
    program, computed = chunks()
    out = io.BytesIO()
    failed = sweep_output.write_csv(program, computed, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue().decode())))
    assert list(rows[0]) == ["x", "w", "value", "grad.x", "grad.w", "error"]
    assert failed == sum(len(c.errors) for c in computed) == 12
    for row, (chunk, i) in zip(rows, expected_rows(computed), strict=True):
        assert float(row["x"]) == chunk.inputs["x"][i]
        if i in chunk.errors:
            assert row["error"] == chunk.errors[i] and row["value"] == row["grad.x"] == ""
        else:
            assert row["error"] == ""
            assert float(row["value"]) == chunk.value[i]
            assert float(row["grad.x"]) == chunk.grad["x"][i] and float(row["grad.w"]) == chunk.grad["w"][i]
    assert b"nan" not in out.getvalue().lower() and b"inf" not in out.getvalue().lower()


def test_json_lines_read_back_to_the_same_floats_with_keys_in_input_order():
    program, computed = chunks()
    out = io.BytesIO()
    sweep_output.write_jsonl(program, computed, out)
    lines = out.getvalue().decode().splitlines()
    for line, (chunk, i) in zip(lines, expected_rows(computed), strict=True):
        row = json.loads(line)
        assert list(row["inputs"]) == ["x", "w"] and row["inputs"]["x"] == chunk.inputs["x"][i]
        if i in chunk.errors:
            assert row["error"] == chunk.errors[i] and row["value"] is None and row["grad"] == {"x": None, "w": None}
        else:
            assert "error" not in row
            assert row["value"] == chunk.value[i] and row["grad"]["x"] == chunk.grad["x"][i]


def test_npz_holds_every_column_and_the_failures(tmp_path):
    program, computed = chunks()
    path = tmp_path / "sweep.npz"
    sweep_output.write_npz(program, computed, str(path))
    arrays = np.load(path)
    assert sorted(arrays.files) == sorted(["x", "w", "value", "grad.x", "grad.w", "failed", "error_index",
                                           "error_message"])
    x = np.concatenate([c.inputs["x"] for c in computed])
    assert arrays["x"].tolist() == x.tolist()
    failed = [c.start + i for c in computed for i in sorted(c.errors)]
    assert arrays["error_index"].tolist() == failed == np.flatnonzero(arrays["failed"]).tolist()
    assert arrays["error_message"][0].startswith("line 1, column 5: log")
    ok = ~arrays["failed"]
    assert np.array_equal(arrays["value"][ok], np.concatenate([c.value for c in computed])[ok])


def test_a_gradient_that_does_not_exist_is_an_empty_cell_and_null():
    program = parse("x**n")
    program.set({"n": 2.0})
    computed = list(sweep(program, Grid([parse_axis("x=1:2:2")])))
    computed[0].grad["n"] = np.array([math.nan, 2.0])     # as the engine reports one that does not exist
    out = io.BytesIO()
    sweep_output.write_csv(program, computed, out)
    assert out.getvalue().decode().splitlines()[1] == "1.0,2.0,1.0,2.0,,"
    out = io.BytesIO()
    sweep_output.write_jsonl(program, computed, out)
    assert json.loads(out.getvalue().splitlines()[0])["grad"] == {"x": 2.0, "n": None}


def test_column_names_never_collide_with_inputs():
    columns = sweep_output.Columns(parse("value * error"))
    assert columns.all == ["value", "error", "value_1", "grad.value", "grad.error", "error_1"]


def test_eval_over_writes_csv_when_piped_and_counts_failures_on_stderr(run):
    result = run("eval", "log(x)", "--over", "x=-1:1:3")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["x,value,grad.x,error",
                                          '-1.0,,,"line 1, column 1: log (x = -1.0): log needs a positive number"',
                                          '0.0,,,"line 1, column 1: log (x = 0.0): log needs a positive number"',
                                          "1.0,0.0,1.0,"]
    assert "2 points failed" in result.stderr


def test_eval_over_json_is_json_lines(run):
    result = run("eval", "3*x**2 - 4*x + 5", "--over", "x=-1:1:3", "--json")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows == [{"inputs": {"x": -1.0}, "value": 12.0, "grad": {"x": -10.0}},
                    {"inputs": {"x": 0.0}, "value": 5.0, "grad": {"x": -4.0}},
                    {"inputs": {"x": 1.0}, "value": 4.0, "grad": {"x": 2.0}}]
    assert run("eval", "3*x**2 - 4*x + 5", "--over", "x=-1:1:3", "--jsonl").stdout == result.stdout


def test_eval_points_from_standard_input(run):
    result = run("eval", "x*y", "--set", "y=3", "--points", "-", input="x\n1\n2\n")
    assert result.stdout.splitlines()[1:] == ["1.0,3.0,3.0,3.0,1.0,", "2.0,3.0,6.0,3.0,2.0,"]


def test_eval_out_follows_the_extension_and_leaves_no_partial_file(run, tmp_path):
    for name in ("s.csv", "s.jsonl", "s.npz"):
        assert run("eval", "x**2", "--over", "x=0:1:5", "-o", tmp_path / name).exit_code == 0
    assert (tmp_path / "s.csv").read_text().startswith("x,value")
    assert json.loads((tmp_path / "s.jsonl").read_text().splitlines()[-1])["value"] == 1.0
    assert np.load(tmp_path / "s.npz")["value"].tolist() == [0, 0.0625, 0.25, 0.5625, 1]
    result = run("eval", "log(x)", "--over", "x=1:-1:3", "--strict", "-o", tmp_path / "t.csv")
    assert result.exit_code == 2 and "log needs a positive number" in result.stderr
    assert sorted(os.listdir(tmp_path)) == ["s.csv", "s.jsonl", "s.npz"]


@pytest.mark.parametrize("args, message", [
    (["--over", "x=0:1", "--set", "x=1"], "x is swept and also given by --set"),
    (["--over", "x=0:1", "--points", "-"], "either --over or --points"),
    (["--csv"], "for sweeps"),
    (["--over", "x=0:1", "--format-less", ""], "No such option"),
    (["--over", "x=0:1", "-o", "out.txt"], "cannot tell the format"),
    (["--over", "y=0:1"], "no input named y"),
    (["--over", "x=0:1", "--hessian"], "--hessian and --over do not go together: they are for one point"),
])
def test_eval_sweep_mistakes_are_explained(run, args, message):
    result = run("eval", "x**2", *args)
    assert result.exit_code == 2 and message in result.stderr


def test_the_table_shows_the_first_rows_and_how_many_are_left(tmp_path):
    program, computed = chunks(over="x=2.5:3:100")
    out = io.StringIO()
    sweep_output.write_sweep_table(program, computed, out, limit=5, cut_hint="--all shows every point")
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["x", "w", "value", "grad.x", "grad.w"]
    assert len(lines) == 7 and lines[-1] == "… 95 more points (--all shows every point)"


def test_installed_command_sweeps_into_head_without_a_traceback():
    command = [sys.executable, "-m", "autodiff_cli", "eval", "x**2", "--over", "x=0:1:1000000"]
    process = subprocess.run(f"{' '.join(command)} | head -2", shell=True, capture_output=True, text=True)
    assert process.stdout.splitlines() == ["x,value,grad.x,error", "0.0,0.0,0.0,"]
    assert "Traceback" not in process.stderr
