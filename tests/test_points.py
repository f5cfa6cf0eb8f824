"""Where programs run many times: ranges, grids and files of points."""
import pytest

from autodiff_cli.errors import AutodiffError
from autodiff_cli.parsing import parse
from autodiff_cli.points import Grid, parse_axis, points_from_text
from autodiff_cli.sweeping import sweep


@pytest.mark.parametrize("text, message", [
    ("x", "expected NAME=START:STOP"), ("x=1", "expected NAME=START:STOP"), ("x=a:b", "START: 'a' is not a number"),
    ("x=0:1:1", "COUNT must be at least 2"), ("x=0:inf", "STOP: 'inf' is not a number"), ("2x=0:1", "expected NAME"),
    ("x=0:1e999", "too large for a float"), ("x=-1e308:1e308:3", "too wide for a float"),
    ("x=0:1:2.5", "COUNT must be a whole number"), ("x=0:1:99999999999999999999", "more than any sweep can count"),
    ("x=0:1:step=0", "STEP must be positive"), ("x=1:0:step=0.5", "STOP above START"),
])
def test_bad_ranges_say_what_is_expected(text, message):
    with pytest.raises(AutodiffError, match=message):
        parse_axis(text)


def test_a_range_without_count_has_the_default_and_both_ends():
    axis = parse_axis("x=-5:5")
    assert axis.count == 101 and axis.values()[0] == -5 and axis.values()[-1] == 5


def test_points_from_csv_and_json_lines():
    program = parse("x*y")
    program.set({"y": 2.0})
    for text in ("x\n1\n2.5\n\n-3\n", '{"x": 1}\n{"x": 2.5}\n{"x": -3}\n'):
        [chunk] = sweep(program, points_from_text(text))
        assert chunk.value.tolist() == [2.0, 5.0, -6.0]


@pytest.mark.parametrize("text, message", [
    ("z\n1\n", "the program has no input named z"),
    ("x\n1\nabc\n", "line 3: 'abc' is not a number"),
    ("x\nnan\n", "line 2: 'nan' is not a finite number"),
    ("x,y\n1\n", "line 2: 1 values for 2 columns"),
    ('{"x": 1}\n{"y": 2}\n', "line 2: the keys are y"),
    ('{"x": true}\n', "line 1: true is not a number"),
    ('{"x": 1}\nnope\n', "line 2: not JSON"),
    ("", "empty"),
])
def test_bad_points_name_the_line(text, message):
    program = parse("x*y")
    program.set({"y": 1.0})
    with pytest.raises(AutodiffError, match=message):
        list(sweep(program, points_from_text(text)))


def test_each_point_of_a_grid_as_a_dict():
    points = Grid([parse_axis("x=0:1:2"), parse_axis("y=0:2:2")])
    assert list(points.each()) == [{"x": 0, "y": 0}, {"x": 0, "y": 2}, {"x": 1, "y": 0}, {"x": 1, "y": 2}]


@pytest.mark.parametrize("block", [5, 64, 1 << 20])
def test_points_read_in_blocks_are_the_points_read_at_once(tmp_path, monkeypatch, block):
    """Rows split across blocks, blank lines and a bad row in a later block: the same columns, the
    same line numbers, and the bad row named by its line."""
    from autodiff_cli import sources
    from autodiff_cli.points import open_points

    rows = [f"{i / 7!r},{-i}" for i in range(40)]
    (tmp_path / "p.csv").write_text("\n\nx,y\n" + "\n".join(rows[:20]) + "\n\n" + "\n".join(rows[20:]) + "\n")
    monkeypatch.setattr(sources, "BLOCK_BYTES", block)
    chunks = list(open_points(str(tmp_path / "p.csv")).numbered_chunks(16))
    numbers = [n for found, _ in chunks for n in found]
    assert numbers == list(range(4, 24)) + list(range(25, 45))
    assert [v for _, c in chunks for v in c["x"].tolist()] == [i / 7 for i in range(40)]
    assert all(len(found) <= 16 for found, _ in chunks)
    (tmp_path / "bad.csv").write_text("x,y\n" + "\n".join(rows[:30]) + "\n1,oops\n")
    with pytest.raises(AutodiffError, match="line 32: 'oops' is not a number"):
        list(open_points(str(tmp_path / "bad.csv")).chunks(16))


@pytest.mark.parametrize("blank", ["", "\n"])
def test_a_cell_numpy_would_read_and_python_would_not_is_refused_either_way(blank):
    """np.loadtxt takes \\x1c-\\x1f as blanks, float() does not: the same row is refused, with its
    line, whether or not a blank line elsewhere sends the block to the careful reader."""
    with pytest.raises(AutodiffError, match=r"line 2: '2\\x1c' is not a number"):
        list(points_from_text(f"x,y\n1,2\x1c\n{blank}3,4\n").chunks(10))
