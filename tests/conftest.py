import os
import shutil

import pytest
from click.testing import CliRunner

from autodiff_cli.cli import cli

LECTURE = "(a*b+c)*f"
LECTURE_SET = ["--set", "a=2", "--set", "b=-3", "--set", "c=10", "--set", "f=-2"]
NEURON = "x1 = 2; x2 = 0; w1 = -3; w2 = 1; b = 6.8813735870195432\nn = x1*w1 + x2*w2 + b\no = tanh(n)"


@pytest.fixture
def run():
    """Invoke the CLI in-process; returns click's Result (exit_code, stdout, stderr)."""
    def invoke(*args, input=None):
        return CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)
    return invoke


def require_in_ci(available: bool, what: str) -> None:
    """Skip a test whose tool is missing locally, but fail it in CI, where everything is installed."""
    if not available:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{what} is missing in CI")
        pytest.skip(f"{what} is not installed")


def have_dot() -> bool:
    return shutil.which("dot") is not None
