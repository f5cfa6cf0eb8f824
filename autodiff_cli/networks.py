"""The lecture's MLP written as a program: `autodiff net 3 4 4 1` is micrograd's `MLP(3, [4, 4, 1])`.

One statement per neuron, its weights and bias declared as inputs with the lecture's random draws
as their defaults, the data columns (x0, x1, ... and the target y) as inputs without a value,
and a per-row loss last.
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
    `w{layer}_{neuron}_{input}` and `b{layer}_{neuron}` and written as the shortest text that
    reads back to the same float.  A neuron is `tanh(b + w0*x0 + w1*x1 + ...)`, summed in the
    lecture's order; the last layer has no tanh with `linear_out`.  The last statement is the
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
    inputs = [f"x{i}" for i in range(sizes[0])]
    outs = ["out"] if outputs == 1 else [f"out{k}" for k in range(outputs)]
    targets = ["y"] if outputs == 1 else [f"y{k}" for k in range(outputs)]
    activation = "tanh neurons" + (", the last layer linear" if linear_out else "")
    lines = [f"# micrograd's MLP({sizes[0]}, [{', '.join(map(str, sizes[1:]))}]): {activation}; "
             f"{count:,} parameters",
             f"# drawn as the lecture draws them: random.seed({seed}), then for each layer, for each neuron,",
             "# random.uniform(-1, 1) for each weight and then the bias",
             f"# the data, given per row: {_listed(inputs)}"
             + ("" if loss == "none" else f"; the target {_listed(targets)}")]
    rng = random.Random(seed)
    layers = len(sizes) - 1
    for layer, (nin, nout) in enumerate(zip(sizes, sizes[1:])):
        last = layer == layers - 1
        linear = last and linear_out
        names = outs if last else [f"h{layer}_{neuron}" for neuron in range(nout)]
        kind = "linear" if linear else "tanh"
        lines.append(f"# layer {layer}: {nout} {kind} neuron{'s' if nout > 1 else ''} of {_listed(inputs)}"
                     + (" (the output)" if last else ""))
        for neuron in range(nout):
            weights = [f"w{layer}_{neuron}_{i}" for i in range(nin)]
            bias = f"b{layer}_{neuron}"
            values = [rng.uniform(-1, 1) for _ in range(nin)] + [rng.uniform(-1, 1)]
            lines.append("; ".join(f"{name} = {value!r}" for name, value in zip([*weights, bias], values)))
            total = " + ".join([bias, *(f"{w}*{x}" for w, x in zip(weights, inputs))])
            lines.append(f"{names[neuron]} = {total}" if linear else f"{names[neuron]} = tanh({total})")
        inputs = names
    if loss == "squared":
        lines.append(f"# the loss of one row: the squared error against {_listed(targets)}")
        lines.append("loss = " + " + ".join(f"({o} - {t})**2" for o, t in zip(outs, targets)))
    elif loss == "hinge":
        lines.append(f"# the loss of one row: the hinge loss against {_listed(targets)} (each -1 or 1)")
        lines.append("loss = " + " + ".join(f"relu(1 - {t}*{o})" for o, t in zip(outs, targets)))
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
