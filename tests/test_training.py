"""Training: `autodiff fit` and the library's `fit`, against the lecture's own loop and the optimizers' formulas."""
import io
import itertools
import json
import math
import sys

import numpy as np
import pytest

from autodiff_cli.errors import AutodiffError
from autodiff_cli.arrays import ArrayProgram
from autodiff_cli.data import Data, read_data
from autodiff_cli.training import FitRowError, FitStoppedError, Optimizer, fit
from autodiff_cli.parsing import parse
from autodiff_cli.points import points_from_text
from autodiff_cli.tables import progress_bar
from micrograd import ROWS, XS, YS, lecture_training, parameter_names


def data_of(text, name="rows.csv"):
    points = points_from_text(text)
    points.source = name
    return read_data(points)


@pytest.fixture
def files(tmp_path, monkeypatch, run):
    """A directory with net.ad (`net 3 4 4 1 --seed 1`) and the lecture's rows.csv."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.ad").write_text(run("net", 3, 4, 4, 1, "--seed", 1).stdout)
    (tmp_path / "rows.csv").write_text(ROWS)
    return tmp_path


def close(a, b, rel=1e-12):
    a, b = list(a), list(b)
    return len(a) == len(b) and all(math.isclose(x, y, rel_tol=rel, abs_tol=1e-300) for x, y in zip(a, b))


# The lecture, through the command line

def test_fit_gives_the_lectures_twenty_losses_and_parameters(run, files):
    result = run("fit", "-f", "net.ad", "--data", "rows.csv", "--reduce", "sum", "--lr", "0.05", "--steps", 20,
                 "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    losses, parameters = lecture_training(20)
    assert len(report["loss"]) == 20 and close(report["loss"], losses)
    trained = [report["parameters"][name]["value"] for name in parameter_names([3, 4, 4, 1])]
    assert close(trained, parameters)
    assert report["start_loss"] == report["loss"][0] and report["end_loss"] < report["loss"][-1]


def test_the_trained_set_line_feeds_eval_and_gives_the_end_loss(run, files):
    emitted = run("fit", "-f", "net.ad", "--data", "rows.csv", "--steps", 5, "--emit-set").stdout.split()
    report = json.loads(run("fit", "-f", "net.ad", "--data", "rows.csv", "--steps", 5, "--json").stdout)
    assert emitted[::2] == ["--set"] * 41
    total = 0.0
    for x, y in zip(XS, YS):
        row = [f"--set=x{i}={v}" for i, v in enumerate(x)] + [f"--set=y={y}"]
        total += json.loads(run("eval", "-f", "net.ad", *emitted, *row, "--json").stdout)["value"]
    assert total == pytest.approx(report["end_loss"], rel=1e-12)


# Optimizers, against NumPy written out by hand

LINE_X = np.array([0.0, 1.0, 2.0, 3.0, -1.5])
LINE_Y = np.array([1.0, 2.5, 5.5, 7.0, -2.0])
LINE_ROWS = "x,y\n" + "".join(f"{x},{y}\n" for x, y in zip(LINE_X.tolist(), LINE_Y.tolist()))


def line_reference(optimizer, steps, lr, reduce="sum", frozen=()):
    """Fit a*x + b to the rows with the squared error, the update written out as the formulas say."""
    theta = np.array([0.5, -0.5])
    moving = np.array([name not in frozen for name in "ab"])
    m, v = np.zeros(2), np.zeros(2)
    losses = []
    for t in range(1, steps + 1):
        a, b = theta
        r = a * LINE_X + b - LINE_Y
        loss, g = np.sum(r ** 2), np.array([np.sum(2 * r * LINE_X), np.sum(2 * r)])
        if reduce == "mean":
            loss, g = loss / len(LINE_X), g / len(LINE_X)
        losses.append(loss)
        g = np.where(moving, g, 0.0)
        if optimizer == "sgd":
            theta = theta - lr * g
        elif optimizer == "momentum":
            v = 0.9 * v + g
            theta = theta - lr * v
        else:
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g ** 2
            m_hat, v_hat = m / (1 - 0.9 ** t), v / (1 - 0.999 ** t)
            theta = theta - lr * m_hat / (np.sqrt(v_hat) + 1e-8)
    return losses, theta


@pytest.mark.parametrize("optimizer, lr, reduce", [("sgd", 0.01, "sum"), ("momentum", 0.005, "sum"),
                                                    ("adam", 0.1, "sum"), ("adam", 0.05, "mean"),
                                                    ("momentum", 0.05, "mean")])
def test_optimizers_match_the_formulas(optimizer, lr, reduce):
    program = parse("a = 0.5; b = -0.5\nloss = (a*x + b - y)**2")
    result = fit(program, data_of(LINE_ROWS), 60, Optimizer(optimizer, lr), reduce=reduce)
    losses, theta = line_reference(optimizer, 60, lr, reduce)
    assert close(result.losses, losses, rel=1e-10)
    assert close([result.end["a"], result.end["b"]], theta, rel=1e-10)
    assert losses[-1] < losses[0] / 10                  # it did train
    assert program.inputs["a"].data == result.end["a"]  # the program is left at the trained parameters


def test_frozen_parameters_stay_and_the_others_move_as_the_formulas_say():
    program = parse("a = 0.5; b = -0.5\nloss = (a*x + b - y)**2")
    result = fit(program, data_of(LINE_ROWS), 30, Optimizer("adam", 0.1), freeze=["b"])
    losses, theta = line_reference("adam", 30, 0.1, frozen=("b",))
    assert result.end["b"] == -0.5 and close([result.end["a"]], [theta[0]], rel=1e-10)
    assert close(result.losses, losses, rel=1e-10) and result.frozen == {"b"}


@pytest.mark.parametrize("settings, says", [({"lr": math.nan}, "the learning rate must be"),
                                            ({"momentum": 1.0}, "momentum must be at least 0 and below 1"),
                                            ({"beta2": -0.1}, "beta2 must be"), ({"eps": 0.0}, "eps must be"),
                                            ({"name": "lbfgs"}, "unknown optimizer")])
def test_optimizer_settings_are_checked(settings, says):
    with pytest.raises(AutodiffError, match=says):
        Optimizer(**settings)


# Batches

def row_losses(program_text, rows):
    program = parse(program_text)
    losses = []
    for line in rows.splitlines()[1:]:
        x, y = map(float, line.split(","))
        with program.at({"x": x, "y": y}):
            losses.append(program.run().value)
    return losses


def test_a_batch_is_that_many_distinct_rows_drawn_by_the_seed():
    text = "a = 0.5; b = -0.5\nloss = (a*x + b - y)**2"
    runs = [fit(parse(text), data_of(LINE_ROWS), 10, Optimizer(lr=0.01), batch=2, seed=seed).losses
            for seed in (3, 3, 4)]
    assert runs[0].tolist() == runs[1].tolist() and runs[0].tolist() != runs[2].tolist()
    singles = row_losses(text, LINE_ROWS)
    pairs = [a + b for a, b in itertools.combinations(singles, 2)]
    assert any(runs[0][0] == pytest.approx(pair, rel=1e-12) for pair in pairs)
    for seed in range(5):                   # four of the five rows: all but one, never one twice
        result = fit(parse(text), data_of(LINE_ROWS), 1, Optimizer(lr=0.01), batch=4, seed=seed)
        assert any(result.losses[0] == pytest.approx(sum(singles) - single, rel=1e-12) for single in singles)
        assert result.start_loss == pytest.approx(sum(singles), rel=1e-12) and result.batch == 4


@pytest.mark.parametrize("steps, batch, seed, says", [(1, 2, -1, "the seed of the batches must be at least 0"),
                                                      (-1, None, 0, "0 or more steps of at least one row, not -1"),
                                                      (3, 0, 0, "not 3 steps of 0")])
def test_impossible_requests_are_refused_by_the_library_too(steps, batch, seed, says):
    with pytest.raises(AutodiffError, match=says):
        fit(parse("a = 1\nloss = (a*x - y)**2"), data_of(LINE_ROWS), steps, batch=batch, seed=seed)


def test_a_batch_of_every_row_is_the_full_pass():
    text = "a = 0.5; b = -0.5\nloss = (a*x + b - y)**2"
    full = fit(parse(text), data_of(LINE_ROWS), 10, Optimizer(lr=0.01))
    whole = fit(parse(text), data_of(LINE_ROWS), 10, Optimizer(lr=0.01), batch=99, seed=1)
    assert full.losses.tolist() == whole.losses.tolist() and whole.batch is None


# Rows outside the domain, and training that diverges

BAD_ROWS = "x,y\n1,2\n-1,4\n\n3,6\n"        # line 3 has log(-1); line 4 is blank


def test_a_row_outside_the_domain_is_left_out_and_counted(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.csv").write_text(BAD_ROWS)
    program = "w = 0.5\nloss = (w*log(x) - y)**2"
    result = run("fit", program, "--data", "bad.csv", "--steps", 3, "--json")
    assert result.exit_code == 0
    expected = (0.5 * math.log(1) - 2) ** 2 + (0.5 * math.log(3) - 6) ** 2
    assert json.loads(result.stdout)["loss"][0] == pytest.approx(expected, rel=1e-12)
    assert json.loads(result.stdout)["left_out"] == {
        "rows": 1, "times": 4,
        "first": "bad.csv line 3: line 2, column 11: log (x = -1.0): log needs a positive number"}
    assert "1 row left out of the loss where the program leaves its domain (4 times in 4 passes over the rows); " \
           "the first: bad.csv line 3: line 2, column 11: log (x = -1.0)" in result.stderr


def test_strict_stops_at_the_first_row_outside_the_domain(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.csv").write_text(BAD_ROWS)
    result = run("fit", "w = 0.5\nloss = (w*log(x) - y)**2", "--data", "bad.csv", "--steps", 3, "--strict")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("error: bad.csv line 3: line 2, column 11: log (x = -1.0): log needs a positive "
                                    "number\nhint: without --strict such rows are left out of the loss and counted; "
                                    "step 1 started from the parameters:\n  --set w=0.5\n")


def test_rows_the_array_pass_suspects_are_run_by_the_engine_with_the_same_numbers(monkeypatch, files):
    expected = fit(parse((files / "net.ad").read_text()), data_of(ROWS), 5)

    forward = ArrayProgram.forward

    def suspicious(self, columns, n):
        data, suspect = forward(self, columns, n)
        return data, suspect | True                     # every row run again by the scalar engine
    monkeypatch.setattr(ArrayProgram, "forward", suspicious)
    rerun = fit(parse((files / "net.ad").read_text()), data_of(ROWS), 5)
    assert close(rerun.losses, expected.losses) and close(rerun.end.values(), expected.end.values())
    assert close(rerun.grad.values(), expected.grad.values(), rel=1e-9) and rerun.left_out_times == 0


@pytest.mark.parametrize("rows, bad, batch", [(70_000, 68_000, None), (100, 80, 50)])
def test_a_failing_row_is_named_by_its_line_in_any_chunk_or_batch(rows, bad, batch):
    x = np.linspace(1, 2, rows)
    x[bad] = -1.0
    data = Data("rows.csv", {"x": x}, np.arange(rows) * 2 + 3)        # a blank line after every row
    result = fit(parse("w = 1\nloss = (w*log(x))**2"), data, 4, Optimizer(lr=1e-6), batch=batch, seed=1)
    assert result.left_out_rows == 1 and result.first_left_out.startswith(f"rows.csv line {bad * 2 + 3}: ")


def test_a_row_that_overflows_stops_with_the_last_good_parameters():
    program = parse("loss = (w*x - y)**2")
    program.set({"w": 0.0})
    with pytest.raises(FitStoppedError) as info:
        fit(program, data_of("x,y\n0,1\n1,3\n2,5\n"), 500, Optimizer(lr=1.0))
    error = info.value                  # the row x = 0 never overflows: the others are not left out
    assert "the loss is not finite, training diverged: rows.csv line 4: line 1, column 8: ** (w*x - y = " \
        in error.message and error.message.endswith("the result is too large for a float")
    assert error.point is not None and math.isfinite(error.point["w"])
    assert program.inputs["w"].data == error.point["w"]         # the program is left at them
    assert f"step {error.good_step} started from them" in error.hint


def test_every_row_leaving_the_domain_stops_with_the_last_good_parameters():
    program = parse("w = 1\nloss = (sqrt(w)*x - y)**2")
    with pytest.raises(FitStoppedError) as info:
        fit(program, data_of("x,y\n1,-1\n1,-1\n"), 10, Optimizer(lr=0.5))
    assert info.value.message == ("step 2: every row leaves the program's domain; the first: rows.csv line 2: "
                                  "line 2, column 9: sqrt (w = -1.0): sqrt needs a number that is not negative")
    assert info.value.point == {"w": 1.0} and info.value.good_step == 1


def test_a_loss_that_overflows_stops_at_once(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "big.csv").write_text("x\n1e308\n1e308\n")
    result = run("fit", "w*x", "--set", "w=1", "--data", "big.csv")
    assert result.exit_code == 2 and result.stdout == ""
    assert "error: step 1: the loss is inf: training diverged" in result.stderr and "--set" not in result.stderr


def test_divergence_prints_the_last_good_parameters_as_set_lines(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "line.csv").write_text("x,y\n1,2\n2,4\n3,6\n")
    result = run("fit", "a = 0; b = 0\nloss = (a*x + b - y)**2", "--data", "line.csv", "--lr", 1, "--steps", 1000)
    assert result.exit_code == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert "training diverged" in lines[0] or "every row" in lines[0]
    assert lines[1].startswith("hint: the last parameters with a finite loss (step ")
    assert lines[2].startswith("  --set a=") and lines[2].endswith(" \\") and lines[3].startswith("  --set b=")


# Mistakes


@pytest.mark.parametrize("args, says", [
    (["(a*x - y)**2"], "the parameter a has no value to start from (the data's columns are x, y)"),
    (["(a*x - y)**2", "--set", "a=1", "--set", "x=2"], "x is a column of the data and also given by --set"),
    (["(a*x)**2", "--set", "a=1"], "rows.csv: the column y names no input of the program"),
    (["(a*x - y)**2", "--set", "a=1", "--freeze", "x"], "cannot freeze x: it is a column of rows.csv"),
    (["(a*x - y)**2", "--set", "a=1", "--freeze", "q"], "cannot freeze: the program has no input named q"),
    (["(a*x - y)**2", "--set", "a=1", "--freeze", "a"], "every parameter is frozen"),
    (["x*y"], "every input of the program is a column of rows.csv"),
    (["(a*x - y)**2", "--set", "a=1", "--momentum", "0.5"], "--momentum is for --optimizer momentum"),
    (["(a*x - y)**2", "--set", "a=1", "--optimizer", "momentum", "--momentum", "1"], "momentum must be at least 0"),
    (["(a*x - y)**2", "--set", "a=1", "--eps", "1e-6"], "--eps is for --optimizer adam"),
    (["(a*x - y)**2", "--set", "a=1", "--json", "--emit-set"], "give one"),
    (["(a*x - y)**2", "--set", "a=1", "--plot", "-", "--json"], "--plot - draws on standard output"),
    (["(a*x - y)**2", "--set", "a=1", "--plot", "loss.txt"], "cannot tell the format of loss.txt"),
    (["(a*x - y)**2", "--set", "a=1", "--lr", "-1"], "--lr must be a finite number above 0"),
    (["(a*x - y)**2", "--set", "a=1", "--batch", "1", "--seed", "-1"], "-1 is not in the range x>=0"),
])
def test_fit_mistakes_are_explained(run, tmp_path, monkeypatch, args, says):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rows.csv").write_text("x,y\n1,2\n2,4\n")
    result = run("fit", *args, "--data", "rows.csv")
    assert result.exit_code == 2 and says in result.stderr and result.stdout == ""
    assert "Traceback" not in result.stderr


def test_extra_columns_can_be_dropped(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rows.csv").write_text("x,y,note\n1,2,0\n2,4,0\n")
    assert run("fit", "(a*x - y)**2", "-s", "a=1", "--data", "rows.csv").exit_code == 2
    result = run("fit", "(a*x - y)**2", "-s", "a=1", "--data", "rows.csv", "--ignore-extra", "--emit-set",
                 "--steps", 200)
    assert result.exit_code == 0 and result.stdout.startswith("--set a=") and \
        float(result.stdout.split("=")[1]) == pytest.approx(2.0)


# What is printed

def test_the_report_has_every_steps_loss_the_parameters_and_the_predictions(run, files):
    """As the lecture prints them: the loss at each step (evenly spaced ones past --rows), the
    parameters, the loss before and after, and each row's prediction at the end."""
    out = run("fit", "-f", "net.ad", "--data", "rows.csv", "--steps", 20, "--rows", 5, "--freeze", "b2").stdout
    lines = out.splitlines()
    losses, _ = lecture_training(20)
    assert lines[0].split() == ["step", "loss"] and lines[1].split() == ["1", f"{losses[0]:.4e}"]   # one notation
    assert [line.split()[0] for line in lines[1:6]] == ["1", "6", "11", "16", "20"]
    first = lines.index(next(line for line in lines if line.startswith("parameter")))
    assert lines[first].split() == ["parameter", "start", "trained", "grad"] and lines[first + 1].startswith("W0[0][0]")
    assert "… 37 parameters not shown (--all shows every one; --json has them all)" in out
    summary = next(line for line in lines if line.startswith("loss: "))
    assert summary.startswith("loss: 6.2443 -> ") and "after 20 steps (the sum over 4 rows; sgd, lr 0.05)" in summary
    assert lines[-5].split() == ["x0", "x1", "x2", "y", "prediction", "loss"] and len(lines[-4:]) == 4
    every = run("fit", "-f", "net.ad", "--data", "rows.csv", "--steps", 2, "--all", "--freeze", "b2,W0[1][2]").stdout
    frozen = [line.split()[0] for line in every.splitlines() if line.endswith("frozen")]
    assert frozen == ["W0[1][2]", "b2[0]"]


def test_json_has_the_loss_of_every_step_and_every_parameter(run, files):
    out = run("fit", "-f", "net.ad", "--data", "rows.csv", "--steps", 3, "--optimizer", "adam", "--batch", 2,
              "--json").stdout
    report = json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))
    assert list(report) == ["output", "reduce", "rows", "batch", "steps", "optimizer", "loss", "start_loss", "end_loss",
                            "parameters", "left_out"]
    assert report["optimizer"] == {"name": "adam", "lr": 0.05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
    assert report["batch"] == 2 and len(report["loss"]) == 3 and len(report["parameters"]) == 41
    assert report["parameters"]["W0[0][0]"]["start"] == -0.7312715117751976


def test_the_loss_plot_is_a_file_or_a_text_plot(run, files):
    result = run("fit", "-f", "net.ad", "--data", "rows.csv", "--steps", 30, "--plot", "loss.svg", "--emit-set")
    assert result.exit_code == 0 and result.stdout.startswith("--set ")
    svg = (files / "loss.svg").read_text()
    assert "<svg" in svg and "log scale" in svg and "loss per step (sum over 4 rows; sgd, lr 0.05)" in svg
    text = run("fit", "-f", "net.ad", "--data", "rows.csv", "--steps", 30, "--plot", "-").stdout
    assert text.startswith("loss per step (sum over 4 rows; sgd, lr 0.05)\n") and "log10 loss" in text
    assert "(step)" in text and "parameter" in text


@pytest.mark.parametrize("module, args, message", [("matplotlib", ["--plot", "loss.svg"], "needs Matplotlib"),
                                                   ("plotille", ["--plot", "-"], "needs plotille")])
def test_a_missing_plot_library_is_exit_1_before_any_work(run, files, monkeypatch, module, args, message):
    monkeypatch.setitem(sys.modules, module, None)
    before = sorted(p.name for p in files.iterdir())
    result = run("fit", "-f", "net.ad", "--data", "rows.csv", *args)
    assert result.exit_code == 1 and message in result.stderr and result.stdout == ""
    assert sorted(p.name for p in files.iterdir()) == before


# Progress

class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_each_step_is_told_with_its_loss_and_the_bar_shows_it():
    seen = []
    result = fit(parse("a = 0.5; b = -0.5\nloss = (a*x + b - y)**2"), data_of(LINE_ROWS), 5, Optimizer(lr=0.01),
                 on_step=lambda step, loss: seen.append((step, loss)))
    assert seen == list(zip(range(1, 6), result.losses.tolist()))
    terminal = FakeTerminal()
    with progress_bar(5, terminal, "fitting", minimum=1) as bar:
        for step, loss in seen:
            bar(step, f"loss {loss:.6g}")
    assert f"fitting: loss {seen[-1][1]:.6g}" in terminal.getvalue()


def test_strict_library_error_names_the_step_and_the_parameters():
    program = parse("w = 2\nloss = w*log(x)")
    with pytest.raises(FitRowError) as info:
        fit(program, data_of("x\n1\n2\n-1\n"), 4, Optimizer(lr=0.1), strict=True)
    assert info.value.message == "rows.csv line 4: line 2, column 10: log (x = -1.0): log needs a positive number"
    assert info.value.where == "step 1" and info.value.point == {"w": 2.0}


def test_batches_are_drawn_by_the_documented_scheme():
    """splitmix64 (its published first outputs for seed 0), then Floyd's algorithm: the page draws
    the same rows from the same seed."""
    from collections import Counter

    from autodiff_cli.training import Batches

    stream = Batches(0)
    assert (stream.next(), stream.next()) == (0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4)
    batches = Batches(1)
    assert batches.draw(10, 3).tolist() == [0, 1, 7] and batches.draw(10, 3).tolist() == [3, 8, 9]
    counts = Counter(i for _ in range(2000) for i in batches.draw(10, 3).tolist())
    assert len(counts) == 10 and max(counts.values()) < 1.2 * 600 and min(counts.values()) > 0.8 * 600


def test_the_lectures_loop_without_zero_grad_is_reproduced_and_labelled_wrong(run, files):
    """6.244, 4.980, 3.135, 2.092, ... as micrograd's own loop gives them when it forgets p.grad = 0.0,
    to 1e-12, the right losses beside them; and the lecture's losses themselves do not move."""
    wrong, _ = lecture_training(20, zero_grad=False)
    right, _ = lecture_training(20)
    document = json.loads(run("fit", "-f", "net.ad", "--data", "rows.csv", "--steps", 20, "--lecture-bug", "no-zero",
                              "--json").stdout)
    assert close(document["loss"], wrong) and close(document["right_loss"], right)
    assert [round(v, 3) for v in document["loss"][:4]] == [6.244, 4.980, 3.135, 2.092]
    assert document["warning"].startswith("WRONG on purpose") and right[0] == pytest.approx(6.24427205907587, rel=1e-14)
    table = run("fit", "-f", "net.ad", "--data", "rows.csv", "--steps", 4, "--lecture-bug", "no-zero").stdout
    assert table.startswith("# WRONG on purpose") and "WRONG loss  right loss" in table


def test_headerless_data_with_named_columns_and_zero_steps(run, files):
    (files / "xs.csv").write_text("".join(",".join(map(str, [*x, y])) + "\n" for x, y in zip(XS, YS)))
    named = json.loads(run("fit", "-f", "net.ad", "--data", "xs.csv", "--columns", "x0,x1,x2,y", "--steps", 0,
                           "--json").stdout)
    headed = json.loads(run("fit", "-f", "net.ad", "--data", "rows.csv", "--steps", 0, "--json").stdout)
    assert named["loss"] == [] and named["end_loss"] == headed["end_loss"] == pytest.approx(6.24427205907587)
    assert named["parameters"]["W0[0][0]"]["grad"] == headed["parameters"]["W0[0][0]"]["grad"]
    wrong = run("fit", "-f", "net.ad", "--data", "xs.csv", "--columns", "x0,x1,y")
    assert wrong.exit_code == 2 and "4 values for the 3 columns named" in wrong.stderr
    missing = run("fit", "-f", "net.ad", "--data", "xs.csv")
    assert missing.exit_code == 2 and "is numbers, not a header" in missing.stderr and "--columns x0," in missing.stderr
