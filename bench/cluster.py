"""Dask clusters (--scheduler): a sweep to CSV and `fit` (gradient descent and --residual), run by the
real command line on one process and on a local cluster of 2 worker processes (1 thread each) on
127.0.0.1, end to end (start-up, reading, shipping the chunks, writing).  Every figure is a ratio
against the one-process run measured in the same run; the outputs are compared byte for byte.

    python bench/cluster.py            # a 10^7-point sweep, fits over 10^6 rows (a few minutes)
    python bench/cluster.py --quick    # small sizes: proves the script works
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import environment, table  # noqa: E402

AUTODIFF = [sys.executable, "-m", "autodiff_cli"]
PROGRAM = "tanh(0.7*x - 1.3*y + 0.2) * sin(x*y) + log(1 + x*x + y*y)"


def sweep_args(points: int) -> list[str]:
    side = int(round(points ** 0.5))
    return ["eval", PROGRAM, "--over", f"x=-2:2:{side}", "--over", f"y=-1:1:{side}", "--csv", "-o"]


FIT = ["fit", "(a*exp(-b*x) - y)^2", "--set", "a=1", "--set", "b=0.1", "--steps", "5", "--lr", "1e-9", "--json",
       "--data", "rows.csv", "-o"]
RESIDUAL = ["fit", "a*exp(-b*x) - y", "--set", "a=1", "--set", "b=0.1", "--residual", "--json", "--data",
            "rows.csv", "-o"]


def timed(args: list[str], cwd: str) -> float:
    started = time.perf_counter()
    done = subprocess.run([*AUTODIFF, *args], cwd=cwd, env=environment(), capture_output=True)
    elapsed = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{' '.join(args[:3])}: {done.stderr.decode()}")
    return elapsed


def write_rows(path: Path, n: int) -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 5, n)
    y = 3 * np.exp(-0.7 * x) + 0.01 * rng.standard_normal(n)
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", header="x,y", comments="", fmt="%.17g")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    options = parser.parse_args()
    points, rows = (10 ** 5, 10 ** 4) if options.quick else (10 ** 7, 10 ** 6)
    from distributed import LocalCluster

    with tempfile.TemporaryDirectory() as directory, \
            LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", processes=True,
                         dashboard_address=None) as cluster:
        write_rows(Path(directory) / "rows.csv", rows)
        cases = [(f"sweep, {points:,} points to CSV", sweep_args(points)),
                 (f"fit, 5 steps over {rows:,} rows", FIT),
                 (f"fit --residual over {rows:,} rows", RESIDUAL)]
        results = []
        for title, args in cases:
            one = timed([*args, "one.csv" if args[0] == "eval" else "one.json"], directory)
            two = timed([*args, "two.csv" if args[0] == "eval" else "two.json", "--scheduler", cluster.scheduler_address], directory)
            kind = "csv" if args[0] == "eval" else "json"
            same = (Path(directory) / f"one.{kind}").read_bytes() == (Path(directory) / f"two.{kind}").read_bytes()
            results.append([title, f"{one:.1f} s", f"{two:.1f} s", f"{two / one:.2f}", "yes" if same else "NO"])
        table("one process against a local cluster of 2 workers (1 thread each), end to end",
              ["run", "one process", "cluster", "cluster / one", "same bytes"], results)


if __name__ == "__main__":
    main()
