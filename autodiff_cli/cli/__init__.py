"""The `autodiff` command: thin click commands over the library, one module per command.

Commands load lazily (click's lazy-group recipe): `autodiff eval ...` imports the eval module and
nothing of the others, and `autodiff --help` lists them from the table below without importing
any.  The process's contract (exit codes, signals, streams) is `process`; the options, their
rules and the reading of programs and points are `options`.
"""
from __future__ import annotations

import importlib

import click

from .. import __version__
from ..errors import AutodiffError
from .process import ClosedPipe, fail, run

__all__ = ["cli", "main"]

# name -> (module, its one-line help as `autodiff --help` lists it; a test checks it is the command's own)
COMMANDS = {
    "eval": ("evaluate", "Run the forward and backward pass and show every node's value and gradient."),
    "graph": ("graph", "Draw the graph as the lecture's draw_dot does, or write the live page."),
    "check": ("check", "Compare backprop's gradients with finite differences; exit 1 if any differ."),
    "explain": ("explain", "Write out the backward pass by hand, one chain-rule step per edge."),
    "step": ("step", "Nudge every input along its gradient, then run the forward pass again."),
    "diff": ("diff", "Print the derivative as a program in the language, Python or LaTeX."),
    "plot": ("plot", "Plot the output and its derivatives along an input (or a contour map of two)."),
    "net": ("net", "Print micrograd's MLP as a program: `autodiff net 3 4 4 1`."),
    "fit": ("fit", "Train a program's parameters on rows of data: gradient descent or least squares."),
}


class AutodiffGroup(click.Group):
    """Loads a command's module when it runs; turns `AutodiffError` into one message on stderr and
    its exit code, with the hints of the command that met it."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module = importlib.import_module(f".{COMMANDS[name][0]}", __name__)
        return module.command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands and their one-line help from the table: `--help` imports none of them."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, short) in COMMANDS.items()])

    def invoke(self, ctx: click.Context):
        from ..output import WriteError, is_broken_pipe

        try:
            return super().invoke(ctx)
        except AutodiffError as exc:
            fail(exc, _hints_of(ctx))
        except OSError as exc:          # the library turns every other OSError into an AutodiffError
            if is_broken_pipe(exc):
                raise ClosedPipe() from None
            fail(WriteError(f"cannot write to standard output: {exc.strerror or exc}"))


def _hints_of(ctx: click.Context):
    """The hints of the command being run, then those every command shares."""
    from .options import common_hints

    name = ctx.invoked_subcommand
    command = cli.get_command(ctx, name) if name in COMMANDS else None

    def hints(exc: AutodiffError) -> None:
        common_hints(exc)
        own = getattr(command, "hints", None)
        if own is not None:
            own(exc)
    return hints


@click.group(cls=AutodiffGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="autodiff")
def cli() -> None:
    """See every node's value and gradient of an expression, micrograd-style.

    \b
      autodiff eval "(a*b+c)*f" --set a=2 --set b=-3 --set c=10 --set f=-2
      autodiff eval "tanh(x1*w1 + x2*w2 + b)" -s x1=2 -s x2=0 -s w1=-3 -s w2=1 -s b=6.88 --json | jq .grad

    Every command takes --json and -o FILE; `autodiff COMMAND --help` lists its options.
    """


def main() -> None:
    """The console script `autodiff`."""
    run(cli)
