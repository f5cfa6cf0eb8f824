"""Peers: where autodiff stands against the tools people would pick instead.

PyTorch, JAX, autograd and SymPy, each where it is installed (skipped otherwise; this script is
not run in CI).  Each peer computes the same program: our parsed graph is walked once and every
node becomes the peer's operation, taken from the op table's SymPy form by `sympy.lambdify`
(so `relu` costs PyTorch three operations; the shapes here use `+`, `*` and `tanh`, which map to
one each).  Every figure is a ratio against a baseline measured in the same run.

- start-up: the whole process, median of runs, for the lecture's gradient;
- gradient at one point, in one process: ours from the program's text (parse, forward, backward)
  against each peer's forward and backward over the same graph (building it is its forward);
- Hessian of a program with many inputs: ours (`hessian`: the derivative program, one forward
  pass, one backward pass per row) against PyTorch's `hessian(vectorize=True)`, JAX's `hessian`
  (compile included) and autograd's `hessian`.

    pip install torch==2.13.0 autograd sympy    # and jax, where it installs
    python bench/peers.py
    python bench/peers.py --quick               # tiny sizes: proves the script works
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from parse import tree  # noqa: E402
from run import best, compiled, table  # noqa: E402

from autodiff_cli import ops  # noqa: E402
from autodiff_cli.deriving import hessian  # noqa: E402
from autodiff_cli.parsing import parse  # noqa: E402

PEERS = ("torch", "jax", "autograd", "sympy")
LECTURE = "(a*b+c)*f"
POINT = {"a": 2.0, "b": -3.0, "c": 10.0, "f": -2.0}


def installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


# --- each op as a peer's function, from the op table's SymPy form ---------------------------------

def peer_ops(module: object) -> dict:
    """Op -> a function of the peer's values (`module` is what `lambdify` calls)."""
    import sympy

    x, y = sympy.symbols("x y", real=True)
    functions = {}
    for op in ops.all_ops():
        expression = sympy.sympify(op.sympy, locals={"x": x, "y": y})
        functions[op] = sympy.lambdify([x, y][:op.arity], expression, modules=module)
    return functions


def graph_function(program, functions: dict, constant=float):
    """f(values of the inputs, in order) -> the output, over the program's graph (no recursion)."""
    nodes = program.nodes
    slots = {node.index: k for k, node in enumerate(program.inputs.values())}

    def f(inputs):
        values = [None] * len(nodes)
        for node in nodes:
            i = node.index
            if i in slots:
                values[i] = inputs[slots[i]]
            elif node.op is ops.CONST:
                values[i] = constant(node.data)
            else:
                values[i] = functions[node.op](*(values[x.index] for x in node.inputs))
        return values[program.output.index]
    return f


# --- start-up -------------------------------------------------------------------------------------

PEER_STARTUP = {
    "torch": "import torch\nv = {n: torch.tensor(x, dtype=torch.float64, requires_grad=True) for n, x in P.items()}\n"
             "((v['a']*v['b']+v['c'])*v['f']).backward()\nprint(v['a'].grad.item())",
    "jax": "import jax\nprint(jax.grad(lambda a, b, c, f: (a*b+c)*f)(2.0, -3.0, 10.0, -2.0))",
    "autograd": "import autograd\nprint(autograd.grad(lambda a, b, c, f: (a*b+c)*f)(2.0, -3.0, 10.0, -2.0))",
    "sympy": "import sympy\na, b, c, f = sympy.symbols('a b c f')\n"
             "print(sympy.diff((a*b+c)*f, a).subs(P_SYMBOLS))",
}


def startup(runs: int) -> None:
    compiled()
    exe = shutil.which("autodiff", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    ours_command = [exe, "eval", LECTURE, *[f"--set={n}={v}" for n, v in POINT.items()]]
    ours = median_run(ours_command, runs)
    rows = [["autodiff eval (the lecture's gradient)", f"{ours * 1000:.0f} ms", "1.0x"]]
    for peer in PEERS:
        if not installed(peer):
            rows.append([peer, "not installed", ""])
            continue
        code = PEER_STARTUP[peer].replace("P_SYMBOLS", "{a: 2, b: -3, c: 10, f: -2}").replace("P", repr(POINT))
        seconds = median_run([sys.executable, "-c", code], runs)
        rows.append([f"python: import {peer}, the same gradient", f"{seconds * 1000:.0f} ms", f"{seconds / ours:.1f}x"])
    table(f"Start-up: the whole process, median of {runs}", ["", "time", "vs autodiff"], rows)


def median_run(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# --- gradient at one point ------------------------------------------------------------------------

def torch_gradient(program, functions):
    import torch

    f = graph_function(program, functions, constant=float)
    values = [torch.tensor(node.data, dtype=torch.float64, requires_grad=True) for node in program.inputs.values()]

    def run():
        for v in values:
            v.grad = None
        f(values).backward()
    return run


def autograd_gradient(program, functions):
    import autograd
    import autograd.numpy as anp

    f = graph_function(program, functions)
    point = anp.array([node.data for node in program.inputs.values()])
    gradient = autograd.grad(f)
    return lambda: gradient(point)


def jax_gradient(program, functions):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    f = graph_function(program, functions)
    point = jnp.array([node.data for node in program.inputs.values()])
    gradient = jax.grad(f)                  # eager: compiling a graph this size is the slow part
    return lambda: gradient(point)


GRADIENT_PEERS = {"torch": torch_gradient, "autograd": autograd_gradient, "jax": jax_gradient}
GRADIENT_MOST_NODES = {"jax": 20_000}      # eager JAX takes about 0.2 ms a node: 20 s at 10^5


def peer_module(peer: str):
    if peer == "torch":
        return "torch"
    if peer == "autograd":
        import autograd.numpy
        return autograd.numpy
    import jax.numpy
    return jax.numpy


def gradients(sizes: list[int]) -> None:
    rows = []
    for size in sizes:
        text = tree(size, inputs=100)
        program = parse(text)

        def ours(text=text):
            parse(text).run()
        mine = best(ours)
        row = [f"{len(program.nodes):,}", f"{mine * 1000:.1f} ms"]
        program.run()
        for peer, make in GRADIENT_PEERS.items():
            if not installed(peer):
                row.append("not installed")
                continue
            if len(program.nodes) > GRADIENT_MOST_NODES.get(peer, len(program.nodes)):
                row.append("(not run)")
                continue
            theirs = best(make(program, peer_ops(peer_module(peer))), repeats=2)
            row.append(f"{theirs * 1000:.1f} ms ({theirs / mine:.1f}x)")
        rows.append(row)
    table("Gradient at one point of a `+ * tanh` tree over 100 inputs: ours from text (parse, forward, "
          "backward) against each peer's forward and backward over the same graph (their time / ours)",
          ["nodes", "autodiff", *GRADIENT_PEERS], rows)


# --- Hessian --------------------------------------------------------------------------------------

def torch_hessian(program):
    import torch
    from torch.autograd.functional import hessian as torch_h

    f = graph_function(program, peer_ops("torch"))
    point = torch.tensor([node.data for node in program.inputs.values()], dtype=torch.float64)
    return lambda: torch_h(lambda v: f(v.unbind()), point, vectorize=True)


def autograd_hessian(program):
    import autograd
    import autograd.numpy as anp

    f = graph_function(program, peer_ops(anp))
    point = anp.array([node.data for node in program.inputs.values()])
    return lambda: autograd.hessian(f)(point)


def jax_hessian(program):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    f = graph_function(program, peer_ops(jnp))
    point = jnp.array([node.data for node in program.inputs.values()])
    return lambda: jax.jit(jax.hessian(f))(point).block_until_ready()


HESSIAN_PEERS = {"torch": torch_hessian, "jax": jax_hessian, "autograd": autograd_hessian}


def hessians(cases: list[tuple[int, int]], cap: float) -> None:
    rows = []
    for inputs, size in cases:
        text = tree(size, inputs=inputs)
        program = parse(text)
        mine = best(lambda: hessian(parse(text)), repeats=2)
        row = [inputs, f"{len(program.nodes):,}", f"{mine:.2f} s"]
        for peer in HESSIAN_PEERS:
            if not installed(peer):
                row.append("not installed")
                continue
            try:                            # in a child: a peer that takes too long is stopped
                done = subprocess.run([sys.executable, __file__, "--hessian-one", peer, str(inputs), str(size)],
                                      capture_output=True, text=True, timeout=cap)
                if done.returncode:
                    raise SystemExit(f"{peer}: {done.stderr.strip()[-500:]}")
                theirs = float(done.stdout)
                row.append(f"{theirs:.2f} s ({theirs / mine:.1f}x)")
            except subprocess.TimeoutExpired:
                row.append(f"over {cap:.0f} s (>{cap / mine:.0f}x)")
        rows.append(row)
    table("Hessian of a `+ * tanh` tree: ours from text against each peer over the same graph "
          "(their time / ours; every peer's matrix checked against ours to 1e-9; JAX's includes its compile)",
          ["inputs", "nodes", "autodiff", *HESSIAN_PEERS], rows)


def hessian_one(peer: str, inputs: int, size: int) -> None:
    """Child process: one peer's Hessian, timed and checked against ours; prints the seconds."""
    program = parse(tree(size, inputs=inputs))
    run = HESSIAN_PEERS[peer](program)
    start = time.perf_counter()
    theirs = run()
    seconds = time.perf_counter() - start
    agree(hessian(program), theirs, list(program.inputs))
    print(seconds)


def agree(ours: dict, theirs, names: list[str]) -> None:
    import numpy as np

    matrix = np.array([[ours[a][b] for b in names] for a in names])
    theirs = np.asarray(theirs, dtype=float)
    if not np.allclose(matrix, theirs, rtol=1e-9, atol=1e-9):
        raise SystemExit(f"a peer's Hessian differs from ours by {np.abs(matrix - theirs).max():g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check that the script works")
    parser.add_argument("--cap", type=float, default=120.0, help="seconds a peer may take for a Hessian")
    parser.add_argument("--hessian-one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hessian_one:
        peer, inputs, size = args.hessian_one
        hessian_one(peer, int(inputs), int(size))
        return
    print(f"python {sys.version.split()[0]} on {os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}; "
          + ", ".join(f"{p} {version(p)}" for p in PEERS))
    if args.quick:
        startup(1)
        gradients([300])
        hessians([(5, 60)], args.cap)
        return
    startup(7)
    gradients([10 ** 3, 10 ** 4, 10 ** 5])
    hessians([(20, 400), (200, 4000)], args.cap)


def version(peer: str) -> str:
    if not installed(peer):
        return "not installed"
    from importlib.metadata import version as installed_version
    return installed_version("jax" if peer == "jax" else peer)


if __name__ == "__main__":
    main()
