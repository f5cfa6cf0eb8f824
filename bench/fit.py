"""Training: the lecture's MLP (`autodiff net 3 4 4 1`) on 10^5 rows, one step at a time.

Every figure is a ratio against a baseline measured in the same run:

- per step: `fit`'s vectorised pass over every row (the sweeps' array rules, chunk by chunk)
  against the same MLP written by hand as NumPy matrix products over every row at once (the
  floor), and against the scalar engine run row by row, one process, as a per-row training loop
  would (timed on a slice of the rows for a few steps, scaled to every row: each row costs the
  same);
- training: 1,000 steps over the 10^5 rows, end to end, as `autodiff fit` runs them.

    python bench/fit.py            # 10^5 rows (about two minutes)
    python bench/fit.py --quick    # small sizes: proves the script works
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

for _threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")    # fit is single-threaded; a threaded BLAS on a busy 2-core VM
                                            # swung the floor's matrix products 10x from run to run
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import table  # noqa: E402

from autodiff_cli.data import Data  # noqa: E402
from autodiff_cli.networks import mlp_program  # noqa: E402
from autodiff_cli.training import Optimizer, fit  # noqa: E402
from autodiff_cli.parsing import parse  # noqa: E402

SIZES = [3, 4, 4, 1]
LR = 1e-5           # small enough for the loss summed over 10^5 rows not to overshoot


def random_rows(n: int) -> Data:
    """n rows of three inputs in [-2, 2] and a target of -1 or 1 (the sign of x0·x1)."""
    rng = np.random.default_rng(0)
    columns = {f"x{i}": rng.uniform(-2, 2, n) for i in range(SIZES[0])}
    columns["y"] = np.where(columns["x0"] * columns["x1"] > 0, 1.0, -1.0)
    return Data("random rows", columns, np.arange(2, n + 2))


def net():
    return parse(mlp_program(SIZES, seed=1))


def vectorised(program, data: Data, steps: int):
    """`fit` itself: `steps` steps, and the final pass over every row."""
    return fit(program, data, steps, Optimizer(lr=LR))


def per_row(program, data: Data, rows: int, steps: int) -> list[float]:
    """The scalar engine, one row at a time: each step runs every row forward and backward, adds
    up the loss and the parameters' gradients, then updates.  The losses of the steps."""
    params = [node for name, node in program.inputs.items() if name not in data.columns]
    columns = {name: column[:rows].tolist() for name, column in data.columns.items()}
    points = [dict(zip(columns, values)) for values in zip(*columns.values())]
    losses = []
    for _ in range(steps):
        loss = 0.0
        grad = [0.0] * len(params)
        for point in points:
            with program.at(point):
                program.run()
                loss += program.value
                for j, node in enumerate(params):
                    grad[j] += node.grad
        for node, g in zip(params, grad):
            node.data -= LR * g
        losses.append(loss)
    return losses


def hand_numpy(program, data: Data, steps: int) -> list[float]:
    """The floor: the same MLP and loss written by hand with NumPy matrices, its backward pass
    derived by hand; each step over every row at once."""
    x = np.stack([data.columns[f"x{i}"] for i in range(SIZES[0])], axis=1)
    y = data.columns["y"]
    weights, biases = [], []
    for layer, (nin, nout) in enumerate(zip(SIZES, SIZES[1:])):
        weights.append(np.array([[program.inputs[f"W{layer}[{j}][{i}]"].data for i in range(nin)]
                                 for j in range(nout)]))
        biases.append(np.array([program.inputs[f"b{layer}[{j}]"].data for j in range(nout)]))
    losses = []
    for _ in range(steps):
        activations = [x]
        for w, b in zip(weights, biases):
            activations.append(np.tanh(activations[-1] @ w.T + b))
        out = activations[-1][:, 0]
        losses.append(float(np.sum((out - y) ** 2)))
        upstream = (2 * (out - y))[:, None]
        for layer in range(len(weights) - 1, -1, -1):
            local = upstream * (1 - activations[layer + 1] ** 2)
            grad_w, grad_b = local.T @ activations[layer], local.sum(axis=0)
            upstream = local @ weights[layer]
            weights[layer] = weights[layer] - LR * grad_w
            biases[layer] = biases[layer] - LR * grad_b
    return losses


def best(function, *args, repeats: int = 3) -> float:
    """The best time of `function(a fresh net, *args)`, the net parsed outside the timing."""
    times = []
    for _ in range(repeats):
        program = net()
        start = time.perf_counter()
        function(program, *args)
        times.append(time.perf_counter() - start)
    return min(times)


def per_step(n: int, steps: int, slice_rows: int, slice_steps: int) -> None:
    data = random_rows(n)
    ours = best(vectorised, data, steps) / (steps + 1)          # fit's final pass counts as a step
    floor = best(hand_numpy, data, steps) / steps
    loop = best(per_row, data, slice_rows, slice_steps, repeats=1) / slice_steps * n / slice_rows
    ratio = loop / ours
    rows = [["hand-written NumPy matrices (floor)", f"{floor * 1000:.1f} ms", "1.0x", ""],
            ["autodiff fit (vectorised)", f"{ours * 1000:.1f} ms", f"{ours / floor:.1f}x", ""],
            ["scalar engine, row by row", f"{loop:.2f} s", f"{loop / floor:.0f}x",
             f"fit {ratio:.0f}x faster " + ("ok" if ratio >= 50 else "MISSED")]]
    table(f"Compute: one step of MLP{tuple(SIZES)} over {n:,} rows (loss and 41 gradients, then the update); "
          f"target: fit >= 50x faster than row by row (timed on {slice_rows:,} rows x {slice_steps} steps, scaled)",
          ["", "per step", "vs floor", ""], rows)


def training(n: int, steps: int) -> None:
    data = random_rows(n)
    program = net()
    start = time.perf_counter()
    result = vectorised(program, data, steps)
    elapsed = time.perf_counter() - start
    table(f"Training: {steps:,} steps over {n:,} rows; target: minutes at most", ["", "time", "loss", ""],
          [["start", "", f"{result.start_loss:.6g}", ""],
           [f"after {steps:,} steps", f"{elapsed:.1f} s", f"{result.end_loss:.6g}",
            "ok" if elapsed < 300 else "MISSED"]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, to check that the script works")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, numpy {np.__version__} on {os.cpu_count()} cores; "
          f"{time.strftime('%Y-%m-%d')}")
    if args.quick:
        per_step(2_000, 3, 200, 1)
        training(2_000, 10)
    else:
        per_step(100_000, 20, 2_000, 2)
        training(100_000, 1_000)


if __name__ == "__main__":
    main()
