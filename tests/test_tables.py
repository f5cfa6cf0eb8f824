"""The node table and the numbers of every table: plain and Rich, JSON, round-trips, determinism."""
import io
import json

import pytest

from autodiff_cli import tables
from autodiff_cli.parsing import evaluate
from conftest import NEURON


def json_of(prog):
    out = io.StringIO()
    tables.write_json(prog, out)
    return out.getvalue()


def test_json_schema_for_the_lecture():
    data = json.loads(json_of(evaluate("(a*b+c)*f", a=2, b=-3, c=10, f=-2)))
    assert list(data) == ["value", "output", "grad", "nodes"]
    assert data["value"] == -8.0 and data["output"] == "(a*b+c)*f"
    assert list(data["grad"].items()) == [("a", 6.0), ("b", -4.0), ("c", -2.0), ("f", 4.0)]
    first, product = data["nodes"][0], data["nodes"][4]
    assert first == {"id": 0, "label": "a", "op": "input", "inputs": [], "data": 2.0, "grad": 6.0,
                     "line": 1, "column": 2}
    assert product == {"id": 4, "label": "a*b", "op": "*", "inputs": [0, 1], "data": -6.0, "grad": -2.0,
                       "line": 1, "column": 2}


def test_json_repeats_an_input_used_twice_and_names_constants():
    data = json.loads(json_of(evaluate("a + a + 2", a=3)))
    assert data["nodes"][1]["inputs"] == [0, 0]
    assert [n["op"] for n in data["nodes"]] == ["input", "+", "const", "+"]
    assert data["nodes"][2]["label"] == "2"


def test_json_floats_round_trip_exactly():
    prog = evaluate(NEURON)
    data = json.loads(json_of(prog), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    for node, entry in zip(prog.nodes, data["nodes"]):
        assert entry["data"] == node.data and entry["grad"] == node.grad


def test_json_positions_are_one_based_lines_and_columns():
    data = json.loads(json_of(evaluate("a = 2\n  b = a * 3\nb + 1")))
    positions = {n["label"]: (n["line"], n["column"]) for n in data["nodes"]}
    assert positions["a"] == (1, 1) and positions["b"] == (2, 7) and positions["b + 1"] == (3, 1)


def test_output_is_byte_identical_run_after_run():
    text = "x = 0.3; y = -1.2\n" + "\n".join(f"n{i} = tanh(x*{i} + y) * sigmoid(y - x)" for i in range(50)) \
        + "\n" + " + ".join(f"n{i}" for i in range(50))
    first_json, first_table = json_of(evaluate(text)), table_of(evaluate(text))
    for _ in range(3):
        assert json_of(evaluate(text)) == first_json and table_of(evaluate(text)) == first_table


def table_of(prog, **options):
    out = io.StringIO()
    tables.write_table(prog, out, **options)
    return out.getvalue()


def test_plain_table_lists_every_node_in_topological_order():
    lines = table_of(evaluate("(a*b+c)*f", a=2, b=-3, c=10, f=-2)).splitlines()
    assert lines[0].split() == ["id", "label", "op", "inputs", "data", "grad"]
    assert lines[5].split() == ["4", "a*b", "*", "a,", "b", "-6.0000", "-2.0000"]
    assert lines[7].split() == ["6", "(a*b+c)*f", "*", "a*b+c,", "f", "-8.0000", "1.0000"]
    assert lines[-1] == "(a*b+c)*f = -8.0000"
    assert "\x1b[" not in "\n".join(lines)


def test_table_precision():
    assert "0.70710678" in table_of(evaluate(NEURON), precision=8)


def test_large_tables_are_capped_and_say_so():
    prog = evaluate("x = 1\n" + " + ".join(["x"] * 500))
    text = table_of(prog, limit=50, cut_hint="see them all")
    lines = text.splitlines()
    assert len(lines) == 1 + 50 + 1 + 1
    assert "450 rows not shown (see them all)" in text
    assert lines[-2].split()[0] == "499"           # the output row is kept
    assert len(table_of(prog, limit=None).splitlines()) == 1 + 500 + 1


def test_rich_table_draws_the_same_rows():
    text = table_of(evaluate("(a*b+c)*f", a=2, b=-3, c=10, f=-2), rich=True)
    cells = [[cell.strip() for cell in line.split("│")[1:-1]] for line in text.splitlines() if "│" in line]
    assert "┃ id ┃ label     ┃ op    ┃ inputs   ┃    data ┃    grad ┃" in text
    assert cells[0] == ["0", "a", "input", "", "2.0000", "6.0000"]
    assert cells[-1] == ["6", "(a*b+c)*f", "*", "a*b+c, f", "-8.0000", "1.0000"]


def test_numbers_switch_to_scientific_notation_when_huge_or_tiny():
    text = table_of(evaluate("x * 1e20 + y * 1e-9", x=1, y=1))
    assert "1.0000e+20" in text and "1.0000e-09" in text


def test_an_undefined_gradient_is_null_in_json_and_a_dash_in_tables(run):
    result = run("eval", "x**2", "--set", "x=-3", "--json")
    nodes = json.loads(result.stdout)["nodes"]
    assert [(n["label"], n["grad"]) for n in nodes] == [("x", -6.0), ("2", None), ("x**2", 1.0)]
    rows = run("eval", "x**2", "--set", "x=-3").stdout.splitlines()
    assert rows[2].split()[-2:] == ["2.0000", "-"]


@pytest.mark.parametrize("columns", [40, 60, 80, 120])
def test_numbers_are_never_cut_in_a_narrow_terminal(monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    prog = evaluate("tanh(x1*w1 + x2*w2 + b)*1.5e20", x1=2, x2=0, w1=-3, w2=1, b=6.8813735870195432)
    text = table_of(prog, rich=True)
    from autodiff_cli.numbers import format_column

    for column in ([node.data for node in prog.nodes], [node.grad for node in prog.nodes]):
        for number in format_column(column):
            assert number in text, (columns, number)


def test_a_column_keeps_one_notation(run):
    """0.0130 is not shown beside 1.1230e-02: a column that needs scientific notation has it throughout."""
    table = run("eval", "y = x*0.013; z = y*y", "--set", "x=1").stdout.splitlines()
    data = [line.split()[-2] for line in table[1:-1]]
    assert all("e" in cell for cell in data) or not any("e" in cell for cell in data), table
