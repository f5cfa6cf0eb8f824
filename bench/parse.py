"""Parsing: text to graph against CPython's own `compile()` of the same text, step by step.

Every figure is a ratio against a baseline measured in the same run (best of several runs, the
garbage collector paused for all, as the parser pauses it):

- compile():    CPython's parser and compiler on the same text (valid Python: the programs use
                `**`, names and calls only), the issue's baseline;
- Lark:         Lark's generated standalone parser, lexer and LALR loop, callbacks that do nothing;
- lexer:        our scanner alone (one regular expression built from the grammar's terminals);
- LALR loop:    the fast loop over Lark's tables with callbacks that do nothing;
- parse:        `parsing.parse`: the fast loop building the graph, and its topological order.

Columns are µs per token (tokens as the grammar counts them) and the ratio parse / compile()
(target <= 2.5x).  The shapes: a random `+ * tanh` tree of 10^5 nodes over 100 inputs, the
four shapes of bench/run.py (`chain` nests 20,000 calls deep, past what compile() accepts), and
10^5 vector statements (a user function, elementwise ops, dot and @ over vectors of 3).

    python bench/parse.py            # 10^5 nodes, a minute
    python bench/parse.py --quick    # tiny sizes: proves the script works
"""
from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import shapes  # noqa: E402
from run import NullTransformer, table  # noqa: E402

from autodiff_cli import _generated_parser, parsing  # noqa: E402
from autodiff_cli.lalr import FastParser  # noqa: E402

TARGET = 2.5


def tree(nodes: int, inputs: int = 100, seed: int = 0) -> str:
    """A random tree of `+`, `*` and `tanh` over `inputs` inputs: leaves joined two at a time, in
    random order, until one expression is left (depth about 2 log2 n: within compile()'s limits)."""
    rng = random.Random(seed)
    lines = [f"x{i} = {rng.uniform(-1, 1)!r}" for i in range(inputs)]
    parts = [f"x{rng.randrange(inputs)}" for _ in range(max(2, nodes * 5 // 6))]     # 1.2 nodes a join
    while len(parts) > 1:
        a, b = parts.pop(rng.randrange(len(parts))), parts.pop(rng.randrange(len(parts)))
        kind = rng.random()
        parts.append(f"tanh({a} + {b})" if kind < 0.2 else f"({a} + {b})" if kind < 0.6 else f"{a}*{b}")
    return "\n".join(lines + [parts[0]]) + "\n"


def vector_statements(statements: int, length: int = 3, seed: int = 0) -> str:
    """`statements` vector statements (issue 29): elementwise ops, a user function, dot and @ over
    vectors of `length`, each statement expanding to a few scalar nodes per element."""
    rng = random.Random(seed)
    numbers = lambda: ", ".join(repr(rng.uniform(-1, 1)) for _ in range(length))      # noqa: E731
    lines = ["f(a, b) = tanh(a*b + 0.5)", f"u = [{numbers()}]", f"v0 = [{numbers()}]",
             "W = [" + ", ".join(f"[{numbers()}]" for _ in range(length)) + "]"]
    for i in range(1, statements):
        kind = rng.random()
        previous = f"v{i - 1}"
        lines.append(f"v{i} = " + (f"f({previous}, u)" if kind < 0.3 else f"W @ {previous}" if kind < 0.4 else
                                  f"{previous}*u + dot({previous}, u)" if kind < 0.7 else f"tanh({previous}) - u"))
    lines.append(f"sum(v{statements - 1})")
    return "\n".join(lines) + "\n"


class _Nothing:
    """Callbacks that build nothing, for the fast loop alone."""

    def __getattr__(self, name):
        return _nothing


def _nothing(children):
    return None


def best_of(runs: int, function, *args) -> float | None:
    """The best time of `runs` calls, or None when the call refuses the text (compile() on deep nesting)."""
    times = []
    for _ in range(runs):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            function(*args)
            times.append(time.perf_counter() - start)
        except (SyntaxError, RecursionError, MemoryError):
            return None
        finally:
            gc.enable()
    return min(times)


def measure(name: str, text: str, runs: int) -> list:
    fast = FastParser(parsing._parser(None)[0])
    tokens = sum(1 for _ in fast.scanner.finditer(parsing.join_lines_in_parentheses(text)))
    lark = _generated_parser.Lark_StandAlone(transformer=NullTransformer())
    times = {
        "compile()": best_of(runs, compile, text, "<program>", "exec"),
        "Lark": best_of(runs, lark.parse, text),
        "lexer": best_of(runs, lambda: sum(1 for _ in fast.scanner.finditer(text))),
        "LALR loop": best_of(runs, fast.parse, text, _Nothing(), parsing._Inlined),
        "parse": best_of(runs, parsing.parse, text),
    }
    nodes = len(parsing.parse(text).nodes)
    us = [f"{t / tokens * 1e6:.2f}" if t is not None else "refused" for t in times.values()]
    base = times["compile()"]
    ratio = times["parse"] / base if base else None
    verdict = "" if ratio is None else "ok" if ratio <= TARGET else "MISSED"
    return [name, nodes, tokens, *us, "n/a" if ratio is None else f"{ratio:.2f}x", verdict,
            f"{times['Lark'] / times['parse']:.2f}x"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check that the script works")
    args = parser.parse_args()
    size, runs = (1000, 2) if args.quick else (10 ** 5, 5)
    print(f"python {sys.version.split()[0]}; {time.strftime('%Y-%m-%d')}")
    rows = [measure("tree", tree(size), runs)]
    rows += [measure(shape, shapes.program(shape, size), runs) for shape in shapes.SHAPES]
    rows.append(measure("vectors", vector_statements(size), runs))
    table(f"Parsing, µs per token (best of {runs}); parse / compile() (target <= {TARGET}x); "
          "Lark / parse: how much faster than Lark's own loop",
          ["shape", "nodes", "tokens", "compile()", "Lark", "lexer", "LALR loop", "parse",
           "parse / compile()", "", "Lark / parse"], rows)
    per_node = [float(r[7]) * r[2] / r[1] for r in (rows[0], rows[-1])]
    print(f"vector statements: {float(rows[-1][7]):.2f} µs per token against the scalar tree's "
          f"{float(rows[0][7]):.2f} ({float(rows[-1][7]) / float(rows[0][7]):.2f}x); per node of the graph "
          f"{per_node[1]:.2f} µs against {per_node[0]:.2f} ({per_node[1] / per_node[0]:.2f}x): a vector's token "
          "makes a node per element")


if __name__ == "__main__":
    main()
