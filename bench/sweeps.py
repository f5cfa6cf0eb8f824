"""Sweeps: the lecture's neuron at many points, value and all five gradients.

Every figure is a ratio against a baseline measured in the same run:

- compute: against a hand-written NumPy forward and backward pass of the same
  neuron (the floor); also the engine called point by point in one process
  (timed on a slice, scaled) and SymPy's `lambdify` of its derivatives;
- text: our CSV and JSON Lines writers against orjson serialising the same
  numbers as one array (and Python's repr on a slice, scaled);
- reading: `--points` from a CSV file against `np.loadtxt` of the same file;
- memory: peak RSS of `autodiff eval --over ... --csv` at 10^7 points.

    python bench/sweeps.py            # 10^6 points, 10^7 for memory (about two minutes)
    python bench/sweeps.py --quick    # small sizes: proves the script works
"""
from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import best, peak_rss_kib, table  # noqa: E402

from autodiff_cli import sweep_output  # noqa: E402
from autodiff_cli.parsing import parse  # noqa: E402
from autodiff_cli.points import Points  # noqa: E402
from autodiff_cli.sweeping import sweep  # noqa: E402

NEURON = "n = x1*w1 + x2*w2 + b\no = tanh(n)"
NAMES = ["x1", "x2", "w1", "w2", "b"]


class ArrayPoints(Points):
    """Points already in memory, as columns."""

    def __init__(self, columns: dict):
        self.columns = columns
        self.names = list(columns)
        self.count = len(next(iter(columns.values())))

    def chunks(self, size: int):
        for start in range(0, self.count, size):
            yield {name: column[start:start + size] for name, column in self.columns.items()}


def random_points(n: int) -> dict:
    rng = np.random.default_rng(0)
    return {name: rng.uniform(-2, 2, n) for name in NAMES}


def hand_numpy(c: dict) -> list:
    """The floor: the neuron's forward and backward pass written out in NumPy."""
    n = c["x1"] * c["w1"] + c["x2"] * c["w2"] + c["b"]
    o = np.tanh(n)
    dn = 1.0 - o * o
    return [o, dn * c["w1"], dn * c["w2"], dn * c["x1"], dn * c["x2"], dn]


def ours(program, columns: dict) -> list:
    return list(sweep(program, ArrayPoints(columns)))


def per_point(program, columns: dict, count: int) -> None:
    for i in range(count):
        program.set({name: float(column[i]) for name, column in columns.items()})
        program.run()


def sympy_lambdified():
    import sympy

    symbols = sympy.symbols(NAMES)
    x1, x2, w1, w2, b = symbols
    o = sympy.tanh(x1 * w1 + x2 * w2 + b)
    return sympy.lambdify(symbols, [o, *(sympy.diff(o, s) for s in symbols)], "numpy")


def compute(n: int) -> list:
    columns = random_points(n)
    program = parse(NEURON)
    floor = best(hand_numpy, columns)
    mine = best(ours, program, columns)
    slice_n = min(n, 20_000)
    loop = best(per_point, program, columns, slice_n, repeats=1) * n / slice_n
    lambdified = sympy_lambdified()
    sym = best(lambda: lambdified(*(columns[name] for name in NAMES)))
    rows = [["hand-written NumPy (floor)", f"{floor:.3f} s", "1.0x", ""],
            ["autodiff sweep", f"{mine:.3f} s", f"{mine / floor:.1f}x", "ok" if mine <= 2 * floor else "MISSED"],
            ["engine point by point", f"{loop:.1f} s", f"{loop / floor:.0f}x",
             f"sweep {loop / mine:.0f}x faster " + ("ok" if loop >= 50 * mine else "MISSED")],
            ["SymPy lambdify", f"{sym:.3f} s", f"{sym / floor:.1f}x", ""]]
    table(f"Compute: the neuron at {n:,} points, value and 5 gradients; target <= 2x the floor, "
          ">= 50x faster than point by point", ["", "time", "vs floor", ""], rows)
    return ours(program, columns)


def text(chunks: list, program) -> None:
    n = sum(len(c) for c in chunks)
    matrix = np.concatenate([sweep_output._matrix(c) for c in chunks])
    baseline = best(lambda: orjson.dumps(matrix, option=orjson.OPT_SERIALIZE_NUMPY))
    csv_time = best(lambda: sweep_output.write_csv(program, chunks, io.BytesIO()))
    jsonl_time = best(lambda: sweep_output.write_jsonl(program, chunks, io.BytesIO()))
    rows_slice = matrix[:min(n, 100_000)].tolist()
    repr_time = best(lambda: "\n".join(",".join(map(repr, row)) for row in rows_slice), repeats=1) * n / len(rows_slice)
    rows = [["orjson, the array as JSON (baseline)", f"{baseline:.2f} s", "1.0x", ""],
            ["CSV (ours)", f"{csv_time:.2f} s", f"{csv_time / baseline:.1f}x",
             "ok" if csv_time <= 2 * baseline else "MISSED"],
            ["JSON Lines (ours)", f"{jsonl_time:.2f} s", f"{jsonl_time / baseline:.1f}x",
             "ok" if jsonl_time <= 2 * baseline else "MISSED"],
            ["repr and join (for reference)", f"{repr_time:.1f} s", f"{repr_time / baseline:.1f}x", ""]]
    table(f"Text: {n:,} rows of {matrix.shape[1]} floats, exact shortest text; target <= 2x orjson",
          ["", "time", "vs orjson", ""], rows)


def reading(n: int) -> None:
    """`--points FILE` read into columns against a NumPy script's `np.loadtxt` of the same CSV."""
    import tempfile

    from autodiff_cli.points import MAX_CHUNK, open_points

    columns = random_points(n)
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "points.csv")
        with open(path, "w") as f:
            f.write(",".join(NAMES) + "\n")
            f.write("\n".join(",".join(map(repr, row)) for row in np.column_stack(list(columns.values())).tolist()))
            f.write("\n")
        floor = best(lambda: np.loadtxt(path, delimiter=",", skiprows=1))
        mine = best(lambda: list(open_points(path).chunks(MAX_CHUNK)))
    rows = [["np.loadtxt (baseline)", f"{floor:.2f} s", "1.0x", ""],
            ["--points (ours: bounded, line numbers kept)", f"{mine:.2f} s", f"{mine / floor:.2f}x",
             "ok" if mine <= 1.2 * floor else "MISSED"]]
    table(f"Reading points: a CSV of {n:,} rows of {len(NAMES)} numbers; target <= 1.2x np.loadtxt",
          ["", "time", "vs loadtxt", ""], rows)


def memory(n: int) -> None:
    exe = shutil.which("autodiff", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    base = peak_rss_kib([exe, "eval", "x1 = 2; x2 = 0; w2 = 1; b = 6.88\n" + NEURON, "--set", "w1=1"])
    start = time.perf_counter()
    peak = peak_rss_kib([exe, "eval", "x1 = 2; x2 = 0; w2 = 1; b = 6.88\n" + NEURON, "--over", f"w1=-3:3:{n}",
                         "--csv"])
    elapsed = time.perf_counter() - start
    table(f"Memory: `autodiff eval NEURON --over w1=-3:3:{n} --csv > /dev/null`; target < 500 MB",
          ["", "peak RSS", "time", ""],
          [["one point", f"{base / 1024:.0f} MiB", "", ""],
           [f"{n:,} points", f"{peak / 1024:.0f} MiB", f"{elapsed:.1f} s", "ok" if peak / 1024 < 500 else "MISSED"]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, to check that the script works")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, numpy {np.__version__} on {os.cpu_count()} cores; "
          f"{time.strftime('%Y-%m-%d')}")
    n = 10_000 if args.quick else 10 ** 6
    chunks = compute(n)
    text(chunks, parse(NEURON))
    reading(n)
    memory(10 ** 5 if args.quick else 10 ** 7)


if __name__ == "__main__":
    main()
