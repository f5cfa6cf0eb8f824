"""The live page at scale: how long `graph -o page.html` takes (Graphviz's layout is nearly all of
it) and how fast the page answers a slider, measured in Chromium from the input event to the
painted frame (two requestAnimationFrame callbacks later).

    python bench/page.py            # the four graphs of issue 21, and 300/1,000-node sliders
    python bench/page.py --quick    # tiny sizes: proves the script works
"""
from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import mlp_program  # noqa: E402


def random_program(statements: int, seed: int) -> str:
    """A random program with fan-out: each statement combines two earlier values (inputs are used
    all over, so many edges span many ranks), and the output sums them all."""
    rng = random.Random(seed)
    lines = [f"x{i} = {rng.uniform(-1, 1)!r}" for i in range(8)]
    names = [f"x{i}" for i in range(8)]
    for k in range(statements):
        a, b = rng.choice(names), rng.choice(names)
        expression = (f"{rng.choice(['tanh', 'sin', 'exp', 'sigmoid', 'relu'])}({a})" if rng.random() < 0.3
                      else f"{a} {rng.choice('+-*')} {b}")
        lines.append(f"t{k} = {expression}")
        names.append(f"t{k}")
    lines.append("out = " + " + ".join(f"t{k}*0.001" for k in range(statements)))
    return "\n".join(lines)


def shared_weight_chain(neurons: int) -> str:
    """A chain of tanh neurons sharing one weight: the weight feeds every rank."""
    return "w = 0.5\ns0 = (0.1)\n" + "\n".join(f"s{i} = tanh(s{i - 1}*w + w)" for i in range(1, neurons + 1))


def graphs(quick: bool) -> list[tuple[str, str]]:
    if quick:
        return [("MLP 3-2-1 on two rows", mlp_program((3, 2, 1), rows=([1, 2, 3], [3, 2, 1]), targets=(1, -1))),
                ("chain of 5 neurons", shared_weight_chain(5))]
    return [("MLP 3-4-4-1 on four rows (the lecture's next step)", mlp_program()),
            ("random program, ~300 nodes", random_program(105, 3)),
            ("random program, ~1,000 nodes", random_program(330, 4)),
            ("chain of 50 neurons sharing one weight", shared_weight_chain(50))]


def table(title: str, columns: list[str], rows: list[list]) -> None:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(col), *(len(r[i]) for r in cells)) for i, col in enumerate(columns)]
    print(f"\n## {title}\n")
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for row in cells:
        print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))))


def write_pages(quick: bool, directory: Path) -> list[tuple[str, Path, int]]:
    from autodiff_cli.drawing import layout_work
    from autodiff_cli.parsing import parse

    rows, pages = [], []
    for name, text in graphs(quick):
        source = directory / f"{len(pages)}.ad"
        source.write_text(text)
        program = parse(text)
        page = directory / f"{len(pages)}.html"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "autodiff_cli", "graph", "-f", str(source), "-o", str(page)],
                       check=True, capture_output=True, timeout=900)
        seconds = time.perf_counter() - start
        rows.append([name, len(program.nodes), layout_work(program), f"{seconds:.2f}"])
        pages.append((name, page, len(program.nodes)))
    table("graph -o page.html", ["graph", "nodes", "layout work", "seconds"], rows)
    return pages


SLIDE = """() => new Promise((done) => {
    const slider = document.querySelector('[data-input]');
    const times = [];
    let i = 0;
    const next = () => {
        if (i === 12) { done(times); return; }
        const started = performance.now();
        slider.value = String(Number(slider.min) + (Number(slider.max) - Number(slider.min)) * (i % 6 + 1) / 8);
        slider.dispatchEvent(new Event('input', {bubbles: true}));
        requestAnimationFrame(() => requestAnimationFrame(() => { times.push(performance.now() - started); i++;
                                                               setTimeout(next, 30); }));
    };
    next();
})"""


def slider_times(pages: list[tuple[str, Path, int]]) -> None:
    from playwright.sync_api import sync_playwright

    browser_path = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        for name, page_path, size in pages:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(page_path.as_uri())
            fitted = page.evaluate(SLIDE)[2:]           # the first ones warm the JIT up
            compute = page.evaluate("() => window.autodiffLastUpdateMs")
            page.focus("#viewport")
            while page.evaluate("() => document.querySelector('#viewport svg').viewBox.baseVal.width > "
                                "document.getElementById('viewport').clientWidth"):
                page.keyboard.press("+")                # zoomed in until the text is at its own size
            zoomed = page.evaluate(SLIDE)[2:]
            rows.append([name, size, f"{statistics.median(fitted):.1f}", f"{max(fitted):.1f}",
                         f"{statistics.median(zoomed):.1f}", f"{max(zoomed):.1f}", f"{compute:.2f}"])
            page.close()
        browser.close()
    table("a slider, input event to painted frame (ms, Chromium headless)",
          ["graph", "nodes", "fitted: median", "worst", "zoomed in: median", "worst", "engine and numbers"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        pages = write_pages(args.quick, Path(directory))
        slider_times(pages)


if __name__ == "__main__":
    main()
