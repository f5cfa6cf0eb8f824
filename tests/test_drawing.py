"""`autodiff graph`: golden DOT files, both renderers, and the missing-renderer path."""
import random
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from autodiff_cli import drawing
from autodiff_cli.drawing import draw_dot
from autodiff_cli.engine import Value
from autodiff_cli.parsing import evaluate
from conftest import LECTURE, LECTURE_SET, NEURON, have_dot, require_in_ci

GOLDEN = Path(__file__).parent / "golden"
CASES = {
    "lecture": [LECTURE, *LECTURE_SET],
    "neuron": [NEURON],
    "a_plus_a": ["a = 3; b = a + a"],
    "shared": ["(a*b)*(a+b)", "--set", "a=-2", "--set", "b=3"],
}
MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}


def have_pygraphviz():
    try:
        import pygraphviz  # noqa: F401
    except ImportError:
        return False
    return True


BACKENDS = {"dot": have_dot, "pygraphviz": have_pygraphviz}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_dot(run, name):
    result = run("graph", *CASES[name])
    assert result.exit_code == 0
    assert result.stdout == (GOLDEN / f"{name}.dot").read_text()


def test_dot_is_byte_identical_run_after_run(run):
    first = run("graph", NEURON).stdout
    assert all(run("graph", NEURON).stdout == first for _ in range(3))


def test_an_input_used_twice_gets_two_edges():
    source = draw_dot(evaluate("a = 3; b = a + a")).source
    assert source.count("v0 -> op1") == 2


def test_no_grad_precision_and_rankdir(run):
    text = run("graph", LECTURE, *LECTURE_SET, "--no-grad", "--precision", "1", "--rankdir", "TB").stdout
    assert "grad" not in text and "data -8.0 }" in text and "rankdir=TB" in text


def test_record_labels_are_escaped():
    a = Value(2.0, label='x{1}|<p> "q" \\')
    source = draw_dot(a * 2).source
    assert r'x\{1\}\|\<p\> \"q\" \\' in source


def test_draw_dot_draws_a_graph_built_in_python():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    L = a * b + 10
    L.label = "L"
    L.backward()
    source = draw_dot(L).source
    assert "{ a | data 2.0000 | grad -3.0000 }" in source and "{ L | data 4.0000 | grad 1.0000 }" in source
    assert "{ 10 | data 10.0000 | grad 1.0000 }" in source


def test_api_returns_a_digraph():
    import graphviz
    assert isinstance(drawing.digraph(evaluate(LECTURE, a=2, b=-3, c=10, f=-2)), graphviz.Digraph)


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_the_notebook_picture_renders_with_the_commands_renderer(backend, monkeypatch):
    """With only pygraphviz (no dot on PATH) the inline picture still renders."""
    require_in_ci(BACKENDS[backend](), backend)
    if backend == "pygraphviz":
        monkeypatch.setenv("PATH", "")
    picture = draw_dot(evaluate(LECTURE, a=2, b=-3, c=10, f=-2), backend=backend)
    svg = picture._repr_svg_()
    texts = "".join(ET.fromstring(svg.encode()).itertext())
    assert "grad 6.0000" in texts and "a*b+c" in texts


def test_the_notebook_picture_without_a_renderer_says_what_to_install(monkeypatch):
    monkeypatch.setenv("PATH", "")
    monkeypatch.setitem(sys.modules, "pygraphviz", None)
    with pytest.raises(drawing.RenderError, match="not installed") as info:
        draw_dot(evaluate("a = 1; a"))._repr_svg_()
    assert "-o" not in info.value.hint                      # the library names no option


@pytest.mark.parametrize("backend", sorted(BACKENDS))
@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_rendering(run, tmp_path, backend, fmt):
    require_in_ci(BACKENDS[backend](), backend)
    path = tmp_path / f"out.{fmt}"
    result = run("graph", LECTURE, *LECTURE_SET, "-o", path, "--backend", backend)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    data = path.read_bytes()
    if fmt == "svg":
        texts = "".join(ET.fromstring(data).itertext())
        for cell in ["a", "data 2.0000", "grad 6.0000", "data -8.0000", "grad 1.0000", "a*b+c"]:
            assert cell in texts
    else:
        assert data.startswith(MAGIC[fmt])


def test_format_option_overrides_the_extension(run, tmp_path):
    path = tmp_path / "picture.txt"
    assert run("graph", "a = 3; a*a", "-o", path, "--format", "dot").exit_code == 0
    assert path.read_text().startswith("digraph autodiff {")


def test_missing_renderer_exits_1_and_leaves_no_file(run, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")
    monkeypatch.setitem(sys.modules, "pygraphviz", None)
    path = tmp_path / "out.svg"
    result = run("graph", LECTURE, *LECTURE_SET, "-o", path)
    assert result.exit_code == 1
    assert "pip install 'autodiff-cli[render]'" in result.stderr and "-o graph.dot" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_hint_names_the_fix_for_the_backend_asked_for(run, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")
    monkeypatch.setitem(sys.modules, "pygraphviz", None)
    dot = run("graph", LECTURE, *LECTURE_SET, "-o", tmp_path / "x.svg", "--backend", "dot").stderr
    assert "apt-get install graphviz" in dot and "pip install" not in dot
    pygraphviz = run("graph", LECTURE, *LECTURE_SET, "-o", tmp_path / "x.svg", "--backend", "pygraphviz").stderr
    assert "pip install 'autodiff-cli[render]'" in pygraphviz and "apt-get" not in pygraphviz


def test_dot_text_needs_no_renderer(run, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")
    monkeypatch.setitem(sys.modules, "pygraphviz", None)
    path = tmp_path / "out.gv"
    assert run("graph", LECTURE, *LECTURE_SET, "-o", path).exit_code == 0
    assert path.read_text() == (GOLDEN / "lecture.dot").read_text()


def test_unknown_extension_is_refused(run, tmp_path):
    result = run("graph", "a = 1; a", "-o", tmp_path / "out.jpg")
    assert result.exit_code == 2 and ".svg .png .pdf .dot .gv" in result.stderr


def test_large_graphs_warn_and_max_nodes_refuses(run, tmp_path):
    program = "x = 1\n" + " + ".join(["x"] * 30)
    result = run("graph", program, "-o", tmp_path / "out.svg", "--max-nodes", "10")
    assert result.exit_code == 2 and "30 nodes, more than the 10" in result.stderr
    assert "raise --max-nodes" in result.stderr
    assert list(tmp_path.iterdir()) == []
    assert run("graph", program, "--max-nodes", "10").exit_code == 0        # DOT text is always written


def test_slow_layout_warning(run, tmp_path, monkeypatch):
    require_in_ci(have_dot(), "dot")
    monkeypatch.setattr(drawing, "FULL_QUALITY_WORK", 5)
    monkeypatch.setattr(drawing, "WORK_PER_SECOND", 1)
    result = run("graph", "x = 1\n" + " + ".join(["x"] * 10), "-o", tmp_path / "out.svg")
    assert result.exit_code == 0 and "will take about" in result.stderr and "--max-nodes" in result.stderr


def test_binary_formats_are_refused_on_a_terminal():
    """As curl does: PNG or PDF bytes would garble a terminal (a real one, through a pseudo-terminal)."""
    import os
    import pty
    import subprocess

    primary, secondary = pty.openpty()
    done = subprocess.run([sys.executable, "-m", "autodiff_cli", "graph", LECTURE, *LECTURE_SET, "--format", "png"],
                          stdout=secondary, stderr=subprocess.PIPE, text=True, timeout=60)
    os.close(secondary)
    try:
        shown = os.read(primary, 65536)
    except OSError:             # nothing was written: Linux reports the closed terminal as EIO
        shown = b""
    os.close(primary)
    assert done.returncode == 2 and b"\x89PNG" not in shown
    assert "PNG is binary" in done.stderr and "-o graph.png" in done.stderr


# Shapes of programs for layout: generated from a seed, each family with its own difficulty for a
# layered drawing (bench/page.py measures them at up to 2,000 nodes, many seeds each).

UNARY = ("tanh", "sin", "cos", "sigmoid", "relu", "abs", "exp")


def heavy_fanout(statements: int, seed: int) -> str:
    """Each statement uses the one before and, mostly, a value far above it or an input (as
    ../shared/data/layout/used270.ad): many edges span most of the ranks."""
    rng = random.Random(seed)
    lines = [f"x{i} = {rng.uniform(-1, 1):.3f}" for i in range(1, 7)]
    for k in range(1, statements + 1):
        previous = f"t{k - 1}" if k > 1 else "x1"
        far = f"t{rng.randint(1, k - 2)}" if k > 3 and rng.random() < 0.6 else f"x{rng.randint(1, 6)}"
        lines.append(rng.choice([f"t{k} = {rng.choice(UNARY)}({previous}) + {far}*{rng.uniform(0, 1):.2f}",
                                 f"t{k} = tanh({previous}*{far} + {rng.uniform(0, 1):.2f})",
                                 f"t{k} = sigmoid({previous} - {far})"]))
    return "\n".join(lines)


def shared_weights(neurons: int, seed: int) -> str:
    """A chain of neurons sharing a few weights (as chain50.ad): long edges from the weights to
    every rank."""
    rng = random.Random(seed)
    weights = [f"w{i}" for i in range(rng.randint(1, 3))]
    lines = [f"{w} = {rng.uniform(-1, 1):.3f}" for w in weights] + ["h0 = 0.5", "h1 = 0.25"]
    for k in range(2, neurons + 2):
        lines.append(f"h{k} = tanh(h{k - 1}*{rng.choice(weights)} + h{k - 2}*{rng.choice(weights)} "
                     f"+ {rng.uniform(-0.5, 0.5):.2f})")
    return "\n".join(lines)


def deep_chain(length: int, seed: int) -> str:
    """One long chain of unary ops and constants: as many ranks as nodes, nearly."""
    rng = random.Random(seed)
    lines = ["x = 0.5"]
    previous = "x"
    for k in range(1, length + 1):
        lines.append(f"c{k} = {rng.choice(UNARY[:4])}({previous})*{rng.uniform(0.5, 1):.2f}")
        previous = f"c{k}"
    return "\n".join(lines)


def wide_sum(terms: int, seed: int) -> str:
    """Many small terms of a few inputs, all summed at the end (one + per term, in a chain)."""
    rng = random.Random(seed)
    lines = [f"x{i} = {rng.uniform(-1, 1):.3f}" for i in range(8)]
    for k in range(terms):
        a, b = rng.randrange(8), rng.randrange(8)
        lines.append(f"s{k} = {rng.choice(UNARY)}(x{a}*{rng.uniform(-1, 1):.2f} + x{b})")
    lines.append("out = " + " + ".join(f"s{k}" for k in range(terms)))
    return "\n".join(lines)


def random_dag(statements: int, seed: int) -> str:
    """Each statement combines two earlier values chosen at random (as rand240.ad)."""
    rng = random.Random(seed)
    names = [f"x{i}" for i in range(8)]
    lines = [f"{name} = {rng.uniform(-1, 1):.3f}" for name in names]
    unused = set()
    for k in range(statements):
        a, b = rng.choice(names), rng.choice(names)
        lines.append(f"t{k} = " + (f"{rng.choice(UNARY)}({a})" if rng.random() < 0.3
                                   else f"{a} {rng.choice('+-*')} {b}"))
        unused -= {a, b}
        unused.add(f"t{k}")
        names.append(f"t{k}")
    lines.append("out = " + " + ".join(f"{name}*0.001" for name in sorted(unused, key=lambda t: int(t[1:]))))
    return "\n".join(lines)


def net(width: int, seed: int) -> str:
    """The lecture's MLP, 3 inputs, two hidden layers of `width`, one row's squared loss."""
    from autodiff_cli.networks import mlp_program

    return "x0 = 2; x1 = 3; x2 = -1; y = 1\n" + mlp_program([3, width, width, 1], seed=seed)


# Each shape with its nodes per unit of size (statements, neurons, ...), roughly.
SHAPES = {"heavy fan-out": (heavy_fanout, 3.4), "shared weights": (shared_weights, 6.0),
          "deep chain": (deep_chain, 3.0), "wide sum": (wide_sum, 5.0), "random": (random_dag, 2.1),
          "net": (net, None)}


def shape(name: str, nodes: int, seed: int) -> str:
    """A program of the family `name` with about `nodes` nodes."""
    make, per_unit = SHAPES[name]
    if per_unit is None:                        # a net: nodes grow with the square of the width
        width = 1
        while 3 * (width + 1) ** 2 + 10 * (width + 1) < nodes:
            width += 1
        return make(width, seed)
    return make(max(2, int(nodes / per_unit)), seed)


# The page's layout

def boxes_overlap(a, b, gap=0.0):
    return abs(a[0] - b[0]) * 2 < a[2] + b[2] + gap and abs(a[1] - b[1]) * 2 < a[3] + b[3] + gap


@pytest.mark.parametrize("family", sorted(SHAPES))
@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_the_layered_layout_puts_every_box_apart_and_every_edge_forward(family, rankdir):
    """Over several seeds of each shape: no two boxes overlap, every edge runs from an earlier rank
    to a later one, the picture holds every box, and the same program gives the same numbers."""
    from autodiff_cli.drawing import layered_layout, page_boxes
    from autodiff_cli.parsing import parse

    for seed in range(1, 4):
        program = parse(shape(family, 300, seed)).run()
        values, ops_ = page_boxes(program, 4)
        layout = layered_layout(program, values, ops_, rankdir)
        assert layout == layered_layout(program, values, ops_, rankdir)
        boxes = layout["values"] + [box for box in layout["ops"] if box]
        along = 0 if rankdir == "LR" else 1
        ranks = {}
        for box in boxes:
            assert 0 <= box[0] - box[2] / 2 and box[0] + box[2] / 2 <= layout["width"] + 0.1
            assert 0 <= box[1] - box[3] / 2 and box[1] + box[3] / 2 <= layout["height"] + 0.1
            ranks.setdefault(box[along], []).append(box)
        for members in ranks.values():             # a rank's boxes share a line: overlaps could only be there
            members.sort(key=lambda b: b[1 - along])
            assert not any(boxes_overlap(a, b) for a, b in zip(members, members[1:]))
        for node in program.nodes:
            if node.inputs:
                op = layout["ops"][node.index]
                assert op[along] < layout["values"][node.index][along]
                assert all(layout["values"][x.index][along] < op[along] for x in node.inputs)


def test_the_page_uses_graphviz_only_below_a_work_bound_that_holds_for_dot():
    """page_work bounds dot's virtual nodes from above (dot's ranking is the shortest), so a graph
    below PAGE_GRAPHVIZ_WORK cannot make dot slow whatever its shape."""
    from autodiff_cli.drawing import PAGE_GRAPHVIZ_WORK, layout_work, page_layout, page_work
    from autodiff_cli.parsing import parse

    for family in SHAPES:
        program = parse(shape(family, 2000, 1)).run()
        assert page_work(program) <= layout_work(program)
        if page_work(program) > PAGE_GRAPHVIZ_WORK:
            assert page_layout(program)["engine"] == "layered"
    small = evaluate(LECTURE, a=2, b=-3, c=10, f=-2)
    if have_dot():
        layout = page_layout(small)
        assert layout["engine"] == "graphviz" and len(layout["edges"]) == 3 * 3
        assert all(len(path) % 2 == 0 and len(path) >= 8 for path in layout["edges"])


def test_the_page_needs_no_graphviz(monkeypatch):
    from autodiff_cli.drawing import page_layout

    monkeypatch.setenv("PATH", "")
    monkeypatch.setitem(sys.modules, "pygraphviz", None)
    layout = page_layout(evaluate(LECTURE, a=2, b=-3, c=10, f=-2))
    assert layout["engine"] == "layered" and len(layout["values"]) == 7
    with pytest.raises(drawing.RenderError):
        page_layout(evaluate(LECTURE, a=2, b=-3, c=10, f=-2), backend="dot")


def test_graph_upto_lights_the_edge_of_step_k_with_its_op(run):
    lit = [line.strip() for line in run("graph", "a = 3; b = a + a", "--upto", "2").stdout.splitlines()
           if "#c2185b" in line]
    assert lit[0].startswith("op1 ") and lit[1:] == ['v0 -> op1 [color="#c2185b" penwidth=3]']


def test_the_page_warns_when_its_layout_is_estimated_long(run, tmp_path, monkeypatch):
    monkeypatch.setattr(drawing, "LAYERED_SECONDS_PER_ITEM", 1.0)
    monkeypatch.setattr(drawing, "PAGE_GRAPHVIZ_WORK", 1)
    result = run("graph", "x = 1\n" + " + ".join(["x"] * 10), "-o", tmp_path / "p.html")
    assert result.exit_code == 0 and "will take about" in result.stderr and "--max-nodes" in result.stderr
    monkeypatch.setattr(drawing, "LAYERED_SECONDS_PER_ITEM", 40e-6)
    assert run("graph", "x = 1\n" + " + ".join(["x"] * 10), "-o", tmp_path / "q.html").stderr == ""
