"""Rows read once and passed over chunk by chunk, in memory or staged on disk."""
import numpy as np
import pytest

from autodiff_cli.data import read_data
from autodiff_cli.errors import AutodiffError
from autodiff_cli.points import points_from_text
from test_training import data_of


def test_data_keeps_each_rows_line():
    data = data_of('{"x": 1, "y": 2}\n\n{"x": 3, "y": 4}\n')
    assert data.lines.tolist() == [1, 3] and data.columns["y"].tolist() == [2.0, 4.0] and len(data) == 2
    with pytest.raises(AutodiffError, match="no rows to train on"):
        data_of("x,y\n")


def test_data_past_the_memory_budget_is_staged_and_read_back_chunk_by_chunk():
    text = "x,y\n" + "".join(f"{i},{i * i}\n\n" for i in range(1000))
    held = read_data(points_from_text(text), 64)
    staged = read_data(points_from_text(text), 64, memory=1000)
    assert staged.staged and not held.staged and len(staged) == len(held) == 1000
    for (a, la, ca), (b, lb, cb) in zip(held.chunks(64), staged.chunks(64), strict=True):
        assert a == b and la.tolist() == lb.tolist() and all(ca[n].tolist() == cb[n].tolist() for n in "xy")
    rows = np.array([3, 64, 65, 500, 999])
    (taken_rows, lines, columns), = staged.take(rows, 64)
    assert taken_rows.tolist() == rows.tolist() and lines.tolist() == [8, 130, 132, 1002, 2000]
    assert columns["y"].tolist() == [float(r * r) for r in rows]


@pytest.mark.parametrize("fit", [["(a*exp(-b*x) - y)^2", "--steps", "5", "--lr", "1e-7"], ["a*exp(-b*x) - y", "--residual"]])
def test_a_fit_over_data_staged_on_disk_is_the_in_memory_fit_bit_for_bit(tmp_path, fit):
    """1.6 MB of rows against a 1 MiB --memory: staged in chunks on disk and read back each pass, the
    same parameters, losses and standard errors to the last bit (the same JSON bytes)."""
    import subprocess
    import sys

    rng = np.random.default_rng(1)
    x = rng.uniform(0, 5, 100_000)
    rows = np.column_stack([x, 3 * np.exp(-0.7 * x) + 0.01 * rng.standard_normal(x.size)])
    np.savetxt(tmp_path / "rows.csv", rows, delimiter=",", header="x,y", comments="", fmt="%.17g")
    command = [sys.executable, "-m", "autodiff_cli", "fit", *fit, "-s", "a=1", "-s", "b=0.1", "--data", "rows.csv",
               "--json"]
    held = subprocess.run(command, cwd=tmp_path, capture_output=True, timeout=120)
    staged = subprocess.run([*command, "--memory", "1048576"], cwd=tmp_path, capture_output=True, timeout=120)
    assert held.returncode == staged.returncode == 0, staged.stderr
    assert held.stdout == staged.stdout and b'"a"' in held.stdout
