"""`autodiff step`: the lecture's nudge along the gradient."""
import io
import json

import pytest

from autodiff_cli.errors import AutodiffError
from autodiff_cli.parsing import parse
from autodiff_cli.tables import progress_bar
from autodiff_cli.stepping import gradient_steps

PROGRESS_MIN_STEPS = 1000
from conftest import LECTURE, LECTURE_SET


def lecture():
    prog = parse(LECTURE)
    prog.set(dict(a=2, b=-3, c=10, f=-2))
    return prog


def test_one_step_matches_the_lecture_by_hand():
    result = gradient_steps(lecture(), 0.01)
    assert result.end == {"a": 2 + 0.01 * 6, "b": -3 + 0.01 * -4, "c": 10 + 0.01 * -2, "f": -2 + 0.01 * 4}
    a, b, c, f = result.end.values()
    assert list(result.trajectory) == [-8.0, (a * b + c) * f]
    assert result.trajectory[1] == pytest.approx(-7.286496, abs=1e-12)


def test_minimize_walks_downhill_and_uphill_is_the_default():
    down = gradient_steps(lecture(), 0.01, steps=5, minimize=True).trajectory
    up = gradient_steps(lecture(), 0.01, steps=5).trajectory
    assert all(b < a for a, b in zip(down, down[1:]))
    assert all(b > a for a, b in zip(up, up[1:]))


def test_frozen_inputs_do_not_move():
    result = gradient_steps(lecture(), 0.01, steps=3, freeze=["a", "f"])
    assert result.end["a"] == 2.0 and result.end["f"] == -2.0 and result.end["b"] != -3.0


def test_unknown_frozen_name_lists_the_inputs():
    with pytest.raises(AutodiffError, match="cannot freeze: the program has no input named z; its inputs are: a, b, c, f"):
        gradient_steps(lecture(), 0.01, freeze=["z"])


def test_leaving_the_domain_stops_at_the_last_good_point():
    prog = parse("log(x)")
    prog.set({"x": 0.5})
    with pytest.raises(AutodiffError) as info:
        gradient_steps(prog, 0.1, steps=10, minimize=True)
    assert "step 2 left the domain" in info.value.message and "x = 0.3" in info.value.hint
    assert prog.inputs["x"].data == pytest.approx(0.3)


def test_step_command_table_json_and_emit_set(run):
    table = run("step", LECTURE, *LECTURE_SET, "--lr", "0.01")
    assert table.exit_code == 0 and "-8.0000 -> -7.2865 (+0.7135) after 1 step" in table.stdout
    data = json.loads(run("step", LECTURE, *LECTURE_SET, "--steps", "3", "--json").stdout)
    assert len(data["trajectory"]) == 4 and data["inputs"]["a"]["start"] == 2.0
    emitted = run("step", LECTURE, *LECTURE_SET, "--emit-set").stdout.split()
    assert emitted == ["--set", "a=2.06", "--set", "b=-3.04", "--set", "c=9.98", "--set", "f=-1.96"]
    again = run("eval", LECTURE, *emitted, "--json")
    assert json.loads(again.stdout)["value"] == pytest.approx(-7.286496, abs=1e-12)


def test_step_errors_exit_2(run):
    result = run("step", "log(x)", "--set", "x=0.5", "--lr", "0.1", "--steps", "10", "--minimize")
    assert result.exit_code == 2 and "left the domain" in result.stderr and "Traceback" not in result.stderr


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_a_long_walk_in_a_terminal_shows_a_progress_bar_that_sees_every_step():
    terminal = FakeTerminal()
    seen = []
    with progress_bar(PROGRESS_MIN_STEPS, terminal, "stepping") as on_step:
        result = gradient_steps(lecture(), 1e-6, PROGRESS_MIN_STEPS,
                                on_step=lambda step: (seen.append(step), on_step(step)))
    assert seen == list(range(1, PROGRESS_MIN_STEPS + 1))
    assert len(result.trajectory) == PROGRESS_MIN_STEPS + 1
    assert "stepping" in terminal.getvalue() and "100%" in terminal.getvalue()


@pytest.mark.parametrize("steps, terminal", [(PROGRESS_MIN_STEPS - 1, FakeTerminal()), (10 ** 6, None)])
def test_no_progress_bar_for_a_short_walk_or_without_a_terminal(steps, terminal):
    with progress_bar(steps, terminal, "stepping") as on_step:
        assert on_step is None
    assert terminal is None or terminal.getvalue() == ""


def test_the_report_shows_the_gradient_at_the_start_and_at_the_end(run):
    result = run("step", LECTURE, *LECTURE_SET, "--lr", "0.01", "--steps", "3", "--json")
    data = json.loads(result.stdout)
    after = run("eval", LECTURE, *[f"--set={name}={v['end']!r}" for name, v in data["inputs"].items()], "--json")
    assert {name: v["end_grad"] for name, v in data["inputs"].items()} == json.loads(after.stdout)["grad"]
    assert data["inputs"]["a"]["grad"] == 6.0
    header = run("step", LECTURE, *LECTURE_SET, "--steps", "3").stdout.splitlines()
    assert any(line.split() == ["input", "old", "grad", "at", "old", "new", "grad", "at", "new"] for line in header)


@pytest.mark.parametrize("rows, steps, shown", [(3, 10, [0, 5, 10]), (50, 1000, None)])
def test_the_trajectory_table_has_at_most_rows_rows(run, rows, steps, shown):
    out = run("step", "x*2", "-s", "x=1", "--steps", steps, "--rows", rows).stdout.splitlines()
    table = out[1:out.index(next(line for line in out if line.startswith("input")))]
    assert len(table) <= rows and table[-1].split()[0] == str(steps)
    assert shown is None or [int(line.split()[0]) for line in table] == shown


def test_the_lectures_bug_carries_the_gradients_across_steps(run):
    import json

    program = "a = 2; b = -3; c = 10; f = -2; L = (a*b + c)*f"
    wrong = json.loads(run("step", program, "--steps", 2, "--lecture-bug", "no-zero", "--json").stdout)
    right = json.loads(run("step", program, "--steps", 2, "--json").stdout)
    assert wrong["right_trajectory"] == right["trajectory"] and wrong["warning"].startswith("WRONG on purpose")
    # step 2 moves a by the sum of both gradients: 0.01 * (6 + g2) rather than 0.01 * g2
    a1 = 2 + 0.01 * 6
    assert wrong["inputs"]["a"]["end"] != right["inputs"]["a"]["end"] and wrong["trajectory"][1] == right["trajectory"][1]
    assert a1 == pytest.approx(right["inputs"]["a"]["start"] + 0.06)
