"""`autodiff net`: micrograd's MLP as a program."""
from __future__ import annotations

import click

from .options import report_format, report_options


@click.command("net")
@click.argument("sizes", nargs=-1, required=True, type=click.IntRange(1, None))
@click.option("--seed", type=click.IntRange(0, None), default=None,
              help="Seed of Python's random module for the parameters' draws (default 1337, as micrograd's demo).")
@click.option("--linear-out", is_flag=True, help="No tanh on the last layer.")
@click.option("--loss", type=click.Choice(["squared", "hinge", "none"]), default="squared", show_default=True,
              help="The last statement, the loss of one row: (out - y)**2, relu(1 - y*out) (targets -1 or 1), "
                   "or none: the output itself.")
@report_options("the program", json_help="Strict JSON: the sizes, seed, loss, number of parameters and the program.")
def command(sizes, seed, linear_out, loss, as_json, path):
    """Print micrograd's MLP as a program: `autodiff net 3 4 4 1` is the lecture's MLP(3, [4, 4, 1]).

    \b
      autodiff net 3 4 4 1 --seed 1 > net.ad
      autodiff fit -f net.ad --data rows.csv --steps 100 --lr 0.05

    SIZES are the number of inputs, then each layer's number of neurons. The
    data columns are the inputs x0, x1, ... and the target y (y0, y1, ... for
    several outputs); the weights w{layer}_{neuron}_{input} and biases
    b{layer}_{neuron} are inputs with defaults drawn as the lecture draws them:
    random.seed(SEED), then for each layer, for each neuron,
    random.uniform(-1, 1) for each weight and then the bias. At most 100,000
    parameters.
    """
    from ..networks import NET_SEED, NetReport
    from ..reports import emit

    emit(NetReport(sizes, NET_SEED if seed is None else seed, loss, linear_out), report_format(path, as_json), path)
