"""The lecture's MLP written as a program: `autodiff net 3 4 4 1` is micrograd's `MLP(3, [4, 4, 1])`.

One statement per layer, `h0 = tanh(W0 @ x + b0)`, its weights (a matrix, a row per neuron) and
biases (a vector) declared as inputs with the lecture's random draws as their values, the data
columns (x0, x1, ... and the target y) as inputs without a value, and a per-row loss last.
"""
from __future__ import annotations

import random
from typing import Sequence, TextIO

from .errors import AutodiffError, clip
from .reports import Report, Style

MAX_PARAMETERS = 100_000    # a net's weights and biases: past this, the program alone is megabytes
NET_SEED = 1337             # micrograd's demo notebook seeds its generators with 1337
LOSSES = ("squared", "hinge", "none")


def parameter_count(sizes: Sequence[int]) -> int:
    """Weights and biases of an MLP of these sizes: (inputs + 1) per neuron."""
    return sum((nin + 1) * nout for nin, nout in zip(sizes, sizes[1:]))


def mlp_program(sizes: Sequence[int], seed: int = NET_SEED, loss: str = "squared", linear_out: bool = False) -> str:
    """micrograd's `MLP(sizes[0], sizes[1:])` as a program.

    The parameters are drawn as the lecture draws them: `random.seed(seed)`, then for each layer,
    for each neuron, `random.uniform(-1, 1)` for each weight and then the bias; they are named
    `W{layer}[{neuron}][{input}]` and `b{layer}[{neuron}]` and written as the shortest text that
    reads back to the same float.  A layer is `tanh(W @ x + b)`: each neuron's weighted sum in the
    lecture's order, its bias added last (micrograd adds it first: the same number to within a unit
    in the last place); the last layer has no tanh with `linear_out`.  The last statement is the
    loss of one row: `(out - y)**2` ("squared"), micrograd's demo's `relu(1 - y*out)` ("hinge"),
    summed over the outputs when there are several (targets y0, y1, ...), or the output itself
    ("none", for one output).
    """
    sizes = list(sizes)
    if len(sizes) < 2 or any(n < 1 for n in sizes):
        raise AutodiffError("a net needs its number of inputs and the size of each layer, at least one layer "
                            "and each size at least 1, e.g. 3 4 4 1")
    shape = clip("-".join(map(str, sizes)))
    count = parameter_count(sizes)
    if count > MAX_PARAMETERS:
        raise AutodiffError(f"a {shape} net has {count:,} parameters, more than the ceiling of {MAX_PARAMETERS:,}")
    if loss not in LOSSES:
        raise AutodiffError(f"unknown loss {clip(loss)!r}: the losses are {', '.join(LOSSES)}")
    outputs = sizes[-1]
    if loss == "none" and outputs > 1:
        raise AutodiffError(f"a program has one output, and this net has {outputs}: choose a loss that adds "
                            "them up (squared or hinge), or a last layer of one neuron")
    columns = [f"x{i}" for i in range(sizes[0])]
    targets = ["y"] if outputs == 1 else [f"y{k}" for k in range(outputs)]
    activation = "tanh neurons" + (", the last layer linear" if linear_out else "")
    lines = [f"# micrograd's MLP({sizes[0]}, [{', '.join(map(str, sizes[1:]))}]): {activation}; "
             f"{count:,} parameters",
             f"# drawn as the lecture draws them: random.seed({seed}), then for each layer, for each neuron,",
             "# random.uniform(-1, 1) for each weight (a row of W) and then the bias (an element of b)",
             f"# the data, given per row: {_listed(columns)}"
             + ("" if loss == "none" else f"; the target {_listed(targets)}"),
             f"x = [{', '.join(columns)}]"]
    rng = random.Random(seed)
    layers = len(sizes) - 1
    vector = "x"
    for layer, (nin, nout) in enumerate(zip(sizes, sizes[1:])):
        last = layer == layers - 1
        drawn = [[rng.uniform(-1, 1) for _ in range(nin + 1)] for _ in range(nout)]
        kind = "linear" if last and linear_out else "tanh"
        lines.append(f"# layer {layer}: {nout} {kind} neuron{'s' if nout > 1 else ''} of {vector}"
                     + (" (the output)" if last else ""))
        head = f"W{layer} = ["
        rows = ",\n".join((" " * len(head) if k else head) + "[" + ", ".join(map(repr, row[:-1])) + "]"
                          for k, row in enumerate(drawn))
        lines += [rows + "]", f"b{layer} = [{', '.join(repr(row[-1]) for row in drawn)}]"]
        affine = f"W{layer} @ {vector} + b{layer}"
        value = f"({affine})" if kind == "linear" else f"tanh({affine})"
        if last:
            lines.append(f"out = {value}[0]" if outputs == 1 else f"out = {value}")
        else:
            lines.append(f"h{layer} = {value}")
            vector = f"h{layer}"
    target = "y" if outputs == 1 else f"[{', '.join(targets)}]"
    total = (lambda term: term) if outputs == 1 else (lambda term: f"sum({term})")
    if loss == "squared":
        lines.append(f"# the loss of one row: the squared error against {_listed(targets)}")
        lines.append("loss = " + total(f"(out - {target})**2"))
    elif loss == "hinge":
        lines.append(f"# the loss of one row: the hinge loss against {_listed(targets)} (each -1 or 1)")
        lines.append("loss = " + total(f"relu(1 - {target}*out)"))
    return "\n".join(lines) + "\n"


def _listed(names: list[str]) -> str:
    return ", ".join(names) if len(names) <= 4 else f"{names[0]} to {names[-1]}"


class NetReport(Report):
    """net's report: the program (`text`), or JSON with the program and how it was made."""

    def __init__(self, sizes: Sequence[int], seed: int = NET_SEED, loss: str = "squared", linear_out: bool = False):
        self.settings = {"sizes": list(sizes), "seed": seed, "loss": loss, "linear_out": linear_out}
        self.text = mlp_program(sizes, seed=seed, loss=loss, linear_out=linear_out)

    def write_text(self, out: TextIO, style: Style) -> None:
        out.write(self.text)

    def document(self) -> dict:
        return {**self.settings, "parameters": parameter_count(self.settings["sizes"]), "program": self.text}
