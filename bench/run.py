"""Benchmarks: start-up, throughput, memory. Every figure is a ratio against a baseline
measured in the same run, because absolute times on shared machines drift.

    pip install -e '.[bench]'        # micrograd and sympy, for the comparisons
    python bench/run.py              # sizes 10^3..10^5, a few minutes
    python bench/run.py --big        # adds 10^6 nodes (several more minutes)
    python bench/run.py --quick      # tiny sizes: proves the script works
"""
from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import shapes  # noqa: E402
from tape import Tape  # noqa: E402

from autodiff_cli import _generated_parser, tables  # noqa: E402
from autodiff_cli.parsing import parse  # noqa: E402

LECTURE = ["(a*b+c)*f", "--set", "a=2", "--set", "b=-3", "--set", "c=10", "--set", "f=-2"]


def table(title: str, columns: list[str], rows: list[list]) -> None:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(col), *(len(r[i]) for r in cells)) if cells else len(col) for i, col in enumerate(columns)]
    print(f"\n## {title}\n")
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for row in cells:
        print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))))


def environment() -> dict:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)     # measure with bytecode cached, as installed
    return env


def run_timed(command: list[str] | str, env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   shell=isinstance(command, str), check=True)
    return time.perf_counter() - start


def compiled() -> None:
    """The package's bytecode up to date: with PYTHONDONTWRITEBYTECODE set (as on some machines) an
    edited module is otherwise compiled again at every start, which is not what users run."""
    import compileall

    import autodiff_cli
    compileall.compile_dir(os.path.dirname(autodiff_cli.__file__), quiet=1)


def startup(runs: int) -> None:
    compiled()
    exe = shutil.which("autodiff", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    env = environment()
    baseline = [sys.executable, "-c", "import click"]
    dot = os.path.join(tempfile.mkdtemp(), "x.dot")
    pty = shutil.which("script")
    click_floor = "import click, sys\n@click.group()\ndef g(): 'A group.'\n@g.command()\ndef a(): 'A command.'\n" \
                  "sys.argv = ['g', '--help']; g()"
    cases = [
        ("(click's floor: a one-command group's --help)", [sys.executable, "-c", click_floor], baseline, None),
        ("autodiff --help", [exe, "--help"], baseline, 1.2),
        ("eval --json (lecture)", [exe, "eval", *LECTURE, "--json"], baseline, 1.6),
        ("eval table, piped", [exe, "eval", *LECTURE], baseline, 1.7),
        ("graph -o x.dot", [exe, "graph", *LECTURE, "-o", dot], baseline, 3.0),
    ]
    if pty:
        quoted = " ".join(f"'{a}'" for a in [exe, "eval", *LECTURE])
        cases.append(("eval Rich table, terminal (under script)", f"script -qc \"{quoted}\" /dev/null",
                      f"script -qc \"'{sys.executable}' -c 'import click'\" /dev/null", 2.8))
    rows = []
    for name, command, base, target in cases:
        run_timed(command, env)                  # warm the bytecode cache
        ours, theirs = [], []
        for _ in range(runs):                    # alternate, so drift hits both alike
            theirs.append(run_timed(base, env))
            ours.append(run_timed(command, env))
        ratio = statistics.median(ours) / statistics.median(theirs)
        rows.append([name, f"{statistics.median(ours) * 1000:.0f} ms", f"{statistics.median(theirs) * 1000:.0f} ms",
                     f"{ratio:.2f}x", "" if target is None else f"<= {target}x",
                     "" if target is None else "ok" if ratio <= target else "MISSED"])
    table("Start-up (whole process, median) against python -c 'import click'",
          ["command", "autodiff", "baseline", "ratio", "target", ""], rows)


class NullTransformer:
    """Lark's bare parse: the same generated parser, callbacks that do nothing."""

    def _nothing(self, children):
        return None

    add = sub = mul = div = pow = neg = pos = number = name = paren = call = assign = start = _nothing


def timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def best(function, *args, repeats: int = 3) -> float:
    """The best of `repeats` timings of `function(*args)`."""
    return min(timed(function, *args) for _ in range(repeats))


def bare_parse(text: str) -> None:
    _generated_parser.Lark_StandAlone(transformer=NullTransformer()).parse(text)


def measure_engine(text: str, repeats: int) -> dict:
    best: dict = {}
    for _ in range(repeats):
        gc.collect()
        gc.disable()                             # both parsers run with the collector paused
        bare = timed(bare_parse, text)
        gc.enable()
        start = time.perf_counter()
        prog = parse(text)
        t_parse = time.perf_counter() - start
        t_forward = timed(prog.forward)
        t_backward = timed(prog.backward)
        with open(os.devnull, "w") as devnull:
            t_report = timed(tables.write_json, prog, devnull)
        tape = Tape(prog)
        t_floor = timed(tape.forward) + timed(tape.backward)
        sample = {"nodes": len(prog.nodes), "bare": bare, "parse": t_parse, "forward": t_forward,
                  "backward": t_backward, "report": t_report, "floor": t_floor}
        for key, value in sample.items():
            best[key] = min(best.get(key, value), value) if key != "nodes" else value
        del prog, tape
    return best


def in_big_thread(function, *args):
    """Run with a deep recursion limit and a large C stack (micrograd's backward recurses)."""
    result: list = []
    limit = sys.getrecursionlimit()
    threading.stack_size(1 << 29)
    sys.setrecursionlimit(10 ** 7)
    thread = threading.Thread(target=lambda: result.append(function(*args)))
    thread.start()
    thread.join()
    sys.setrecursionlimit(limit)
    return result[0] if result else None


def measure_micrograd(shape: str, size: int) -> tuple[float, float] | None:
    try:
        import micrograd  # noqa: F401
    except ImportError:
        return None
    if shape not in ("chain", "wide"):          # micrograd has no tanh, log, ...: only these two shapes
        return None

    def run():
        start = time.perf_counter()
        root, _ = shapes.micrograd_graph(shape, size)
        built = time.perf_counter() - start
        return built, timed(root.backward)
    return in_big_thread(run)


def micrograd_default_limit() -> int | None:
    """The longest chain micrograd's backward handles at Python's default recursion limit."""
    try:
        import micrograd  # noqa: F401
    except ImportError:
        return None
    low, high = 1, 4096
    while low < high:
        middle = (low + high + 1) // 2
        root, _ = shapes.micrograd_graph("chain", middle * shapes.CHAIN_NODES_PER_LINK)
        try:
            root.backward()
            low = middle
        except RecursionError:
            high = middle - 1
    return low * shapes.CHAIN_NODES_PER_LINK


def throughput(sizes: list[int], repeats: int) -> list[tuple[str, int, dict]]:
    rows, compare, results = [], [], []
    for shape in shapes.SHAPES:
        for size in sizes:
            text = shapes.program(shape, size)
            m = measure_engine(text, repeats if size <= 10 ** 5 else 1)
            results.append((shape, size, m))
            n = m["nodes"]
            total = m["parse"] + m["forward"] + m["backward"] + m["report"]

            def us(seconds: float, n: int = n) -> str:
                return f"{seconds / n * 1e6:.2f}"
            rows.append([shape, n, f"{m['bare']:.3f}", f"{m['parse']:.3f}", f"{m['forward']:.3f}",
                         f"{m['backward']:.3f}", f"{m['report']:.3f}", us(total), f"{total / m['bare']:.2f}x"])
            engine = m["forward"] + m["backward"]
            micro = measure_micrograd(shape, size)
            compare.append([shape, n, us(engine), us(m["floor"]), f"{engine / m['floor']:.2f}x",
                            "n/a" if micro is None else us(sum(micro)),
                            "n/a" if micro is None else f"{sum(micro) / engine:.2f}x"])
    table("Throughput (seconds; best of runs). end-to-end / bare = (parse+forward+backward+JSON) "
          "over Lark's bare parse of the same text (target <= 1.3x)",
          ["shape", "nodes", "bare parse", "parse", "forward", "backward", "JSON", "us/node", "e2e/bare"], rows)
    table("Engine: forward+backward against the flat-list floor (target <= 3x) and micrograd "
          "(its build computes the forward pass; 'n/a' where it lacks the ops or is not installed)",
          ["shape", "nodes", "ours us/node", "floor us/node", "ours/floor", "micrograd us/node", "micrograd/ours"],
          compare)
    limit = micrograd_default_limit()
    if limit is not None:
        print(f"\nmicrograd at the default recursion limit handles chains up to about {limit} nodes; "
              "above, it needs sys.setrecursionlimit and a large thread stack (as here).")
    return results


def json_writing(size: int, repeats: int) -> None:
    """`eval --json`'s writer against orjson: dumping the same document already built (the floor),
    and building it as dicts then dumping it (what writing it with orjson would take)."""
    import io
    import json

    import orjson

    rows = []
    for shape in shapes.SHAPES:
        prog = parse(shapes.program(shape, size)).run()
        ours = min(timed(tables.write_json, prog, io.StringIO()) for _ in range(repeats))
        buffer = io.StringIO()
        tables.write_json(prog, buffer)
        document = json.loads(buffer.getvalue())
        floor = min(timed(orjson.dumps, document) for _ in range(repeats))
        built = min(timed(lambda: orjson.dumps(_as_document(prog))) for _ in range(repeats))
        rows.append([shape, len(prog.nodes), f"{ours:.3f}", f"{floor:.3f}", f"{built:.3f}",
                     f"{ours / floor:.1f}x", "ok" if ours <= 1.3 * floor else "MISSED", f"{ours / built:.2f}x"])
    table("eval --json: our writer against orjson.dumps of the same document (target <= 1.3x), and against "
          "building the document and dumping it with orjson",
          ["shape", "nodes", "ours (s)", "orjson, built (s)", "build + orjson (s)", "ours / orjson", "",
           "ours / build+orjson"], rows)


def _as_document(prog) -> dict:
    nodes = []
    for node in prog.nodes:
        line, column = prog.position(node)
        nodes.append({"id": node.index, "label": prog.label(node), "op": node.op.symbol,
                      "inputs": [x.index for x in node.inputs], "data": node.data, "grad": node.grad,
                      "line": line, "column": column})
    return {"value": prog.value, "output": prog.label(prog.output),
            "grad": {name: node.grad for name, node in prog.inputs.items()}, "nodes": nodes}


def sympy_one(shape: str, size: int) -> None:
    """Child process: SymPy differentiates the program for every input and evaluates."""
    prog = parse(shapes.program(shape, size))
    prog.run()
    start = time.perf_counter()
    expr, symbols = shapes.sympy_expression(prog)
    point = {symbols[name]: node.data for name, node in prog.inputs.items()}
    grads = [float(expr.diff(s).evalf(subs=point)) for s in symbols.values()]
    print(time.perf_counter() - start, len(grads))


def sympy_diff_one(shape: str, size: int) -> None:
    """Child process: what a user would otherwise run, SymPy's diff for every input then cse;
    prints the seconds and the size of the printed result."""
    import sympy

    prog = parse(shapes.program(shape, size))
    start = time.perf_counter()
    expr, symbols = shapes.sympy_expression(prog)
    replacements, reduced = sympy.cse([expr.diff(s) for s in symbols.values()])
    seconds = time.perf_counter() - start
    printed = "\n".join(f"{name} = {value}" for name, value in replacements) + "\n" + "\n".join(map(str, reduced))
    print(seconds, len(printed))


def diff_comparison(sizes: list[int], cap: float) -> None:
    """autodiff diff (parse, derivative program, text) against SymPy's diff + cse, in time and printed size."""
    from autodiff_cli.deriving import derivative_program

    rows = []
    for shape in shapes.SHAPES:
        for size in sizes:
            text = shapes.program(shape, size)
            start = time.perf_counter()
            printed = derivative_program(parse(text)).text()
            derivative_part = printed[printed.index("# its derivative"):]
            ours = time.perf_counter() - start
            try:
                done = subprocess.run([sys.executable, __file__, "--sympy-diff-one", shape, str(size)],
                                      capture_output=True, text=True, timeout=cap)
                if done.returncode == 0:
                    theirs, their_size = float(done.stdout.split()[0]), int(done.stdout.split()[1])
                    note = ""
                else:
                    theirs, their_size = None, None
                    note = (done.stderr.strip().splitlines() or ["crashed"])[-1][:50]
            except subprocess.TimeoutExpired:
                theirs, their_size, note = None, None, f"over the {cap:.0f} s cap"
            nodes = len(parse(text).nodes)
            rows.append([shape, nodes, f"{ours:.4f}", "-" if theirs is None else f"{theirs:.3f}",
                         "-" if theirs is None else f"{theirs / ours:.0f}x", len(printed), len(derivative_part),
                         "-" if their_size is None else their_size, note])
            if theirs is None:
                break
    table("diff: our derivative program against SymPy's diff for every input + cse (time; printed characters)",
          ["shape", "nodes", "ours (s)", "sympy (s)", "sympy/ours", "our chars", "of which derivative",
           "sympy chars", "note"], rows)


def sympy_comparison(sizes: list[int], cap: float) -> None:
    try:
        import sympy  # noqa: F401
    except ImportError:
        print("\nSymPy: not installed (pip install sympy)")
        return
    rows = []
    for shape in shapes.SHAPES:
        for size in sizes:
            start = time.perf_counter()
            prog = parse(shapes.program(shape, size))
            prog.run()
            ours = time.perf_counter() - start
            try:
                done = subprocess.run([sys.executable, __file__, "--sympy-one", shape, str(size)],
                                      capture_output=True, text=True, timeout=cap)
                theirs = float(done.stdout.split()[0]) if done.returncode == 0 else None
                note = "" if theirs is not None else (done.stderr.strip().splitlines() or ["crashed"])[-1][:50]
            except subprocess.TimeoutExpired:
                theirs, note = None, f"over the {cap:.0f} s cap"
            rows.append([shape, len(prog.nodes), f"{ours:.4f}", "-" if theirs is None else f"{theirs:.3f}",
                         "-" if theirs is None else f"{theirs / ours:.0f}x", note])
            if theirs is None:
                break
    table("SymPy: differentiate for every input and evaluate, against our parse+forward+backward",
          ["shape", "nodes", "ours (s)", "sympy (s)", "sympy/ours", "note"], rows)


PEAK_RSS = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def peak_rss_kib(command: list[str]) -> int:
    """Peak RSS of a command, measured from a small parent (a child forked from this big
    process would start out with its pages)."""
    done = subprocess.run([sys.executable, "-c", PEAK_RSS, *command], capture_output=True, text=True,
                          check=True, env=environment())
    return int(done.stdout.split()[-1])


def memory(sizes: list[int]) -> None:
    exe = shutil.which("autodiff", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    base = peak_rss_kib([exe, "eval", "1", "--json"])
    rows = []
    for shape in ("wide", "mixed", "named"):
        for size in sizes:
            with tempfile.NamedTemporaryFile("w", suffix=".ad", delete=False) as f:
                f.write(shapes.program(shape, size))
            nodes = len(parse(Path(f.name).read_text()).nodes)
            peak = peak_rss_kib([exe, "eval", "-f", f.name, "--json"])
            os.unlink(f.name)
            rows.append([shape, nodes, f"{peak / 1024:.0f} MiB", f"{(peak - base) * 1024 / nodes:.0f} B",
                         "ok" if (peak - base) * 1024 / nodes <= 400 else "MISSED"])
    table(f"Memory: peak RSS of `autodiff eval -f FILE --json`, less that of a one-node program "
          f"({base / 1024:.0f} MiB); target <= 400 B/node", ["shape", "nodes", "peak", "per node", ""], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check that the script works")
    parser.add_argument("--big", action="store_true", help="include 10^6 nodes")
    parser.add_argument("--runs", type=int, default=15, help="start-up runs per command")
    parser.add_argument("--sympy-cap", type=float, default=60.0, help="seconds SymPy may take per size")
    parser.add_argument("--sympy-one", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--sympy-diff-one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sympy_one:
        sympy_one(args.sympy_one[0], int(args.sympy_one[1]))
        return
    if args.sympy_diff_one:
        sympy_diff_one(args.sympy_diff_one[0], int(args.sympy_diff_one[1]))
        return
    print(f"python {sys.version.split()[0]} on {os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}")
    if args.quick:
        startup(2)
        throughput([300, 1000], 1)
        json_writing(1000, 1)
        sympy_comparison([10, 30], 30)
        diff_comparison([10, 30], 30)
        memory([1000])
        return
    startup(args.runs)
    throughput([10 ** 3, 10 ** 4, 10 ** 5] + ([10 ** 6] if args.big else []), 3)
    json_writing(10 ** 5, 3)
    sympy_comparison([30, 10 ** 2, 10 ** 3, 10 ** 4], args.sympy_cap)
    diff_comparison([10, 10 ** 2, 10 ** 3, 10 ** 4], args.sympy_cap)
    memory([10 ** 5] + ([10 ** 6] if args.big else []))


if __name__ == "__main__":
    main()
