"""The lecture's own notebook cells run unchanged on our `Value` (issue 22).

The seed notebooks are text dumps in `shared/lecture` beside the repository
(skipped when that folder is absent).  Each readable one is run twice, cell by
cell in document order: once as written, on the notebook's own `Value` class
(and its `trace`/`draw_dot`), and once with `from autodiff_cli import Value,
draw_dot` in place of those definitions.  Every other statement runs unchanged
in both.  After each cell the two runs must agree on

- the numbers the cell printed (floats read with a regex; our repr shows the
  label and gradient too, so `print` shows any Value as the lecture's repr
  does, `Value(data=...)`, in both runs);
- what the notebook displays for the cell's last expression: a Value's data
  and grad, `_op`, the set `_prev`, a list `topo` (as a multiset: it is built
  by walking sets, so its order is arbitrary), and the data and grad of every
  node `draw_dot` draws (to its 4 decimals);
- the data and grad of every Value the namespace names.

What the dumps lack, and the documented differences, are handled in the open,
each an exact list in EXPECTED:

- 001 is a web page's text with no cells and no indentation: not run.
- 002 lost its indentation (every level is one space): its statements that no
  longer parse are, token for token, the lecture's own code in 000, and run
  from there.
- 003 imports its Value from a `value.py` the dump does not include: the
  reference is the lecture's own class and draw_dot from 000.
- Our `backward()` resets the gradients first; the lecture's adds onto them.
  Where a cell calls the lecture's `backward()` on a graph that already holds
  gradients (hand-set, or from `_backward()` calls before it), the reference's
  graph is zeroed first, so both sides mean "the gradients of this graph".
  `_backward()` is left alone: it accumulates on both sides, and must agree.
- Numbers printed by a notebook's class itself (004's `backward` prints every
  node's gradient) have no counterpart in ours; they are set aside, and the
  gradients they show are compared through the namespace.

No cell imports torch, and none renders a picture (the lecture's draw_dot
builds DOT text; ours is rendered only when a notebook displays it), so every
cell runs.  Executing the lecture's code with `exec` is the test's business;
the package has no `exec` or `eval`.
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import io
import json
import math
import re
import sys
import tokenize
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import autodiff_cli
from autodiff_cli import engine

LECTURE = Path(__file__).resolve().parents[1].parent / "shared" / "lecture"

pytestmark = pytest.mark.skipif(not LECTURE.is_dir(), reason=f"the seed notebooks are not here ({LECTURE})")

LECTURES_OWN = "000_e3a637c4a4f75451.txt"   # the lecture's code as Karpathy writes it, indentation intact

UNREADABLE = {
    "001_55db5aa24ea3462b.txt": "a web page's text: no cell boundaries, indentation stripped "
                                "(`def f(x):` is followed by `return` at column 0), outputs and prose "
                                "mixed into the code, and its own Value class never shown",
}

# Per readable notebook: its code cells (all of them run, in order), and the exact lists of what the
# test had to do; cell numbers count the code cells from 0.
EXPECTED = {
    "000_e3a637c4a4f75451.txt": dict(
        cells=30, restored=[], stand_in=False, accumulating=[], class_output=[]),
    "002_4e585953046acca5.txt": dict(
        cells=37, stand_in=False,
        # the dump lost indentation (one space for every level); these statements are token for token
        # the lecture's own code in 000 (comments, layout and spaces inside strings aside), run from there
        restored=[(9, "class Value"), (13, "def trace"), (13, "def draw_dot"), (31, "def build_topo"),
                  (32, "def build_topo")],
        # o.backward() after the hand-set grads and _backward() calls above it
        accumulating=[(33, "output")], class_output=[]),
    "003_b88a03bc2d5341da.txt": dict(
        cells=27, restored=[], accumulating=[], class_output=[],
        # `from value import Value, draw_dot`: a module the dump does not include, so the reference is
        # the lecture's own class and draw_dot (000); its cells use only +, *, tanh and backward
        stand_in=True),
    "004_ceec940d00b97b90.txt": dict(
        cells=27, restored=[], stand_in=False,
        # f.backward() after f._backward(), e._backward(), d._backward() by hand
        accumulating=[(13, "f")],
        # this notebook's backward prints every node's gradient before and after
        class_output=[13, 18, 23, 26]),
}


# Reading the dumps.

MARKER = re.compile(r"^In \[[^\]]*\]:[ \t]*$", re.M)


def code_cells(text: str) -> list[str] | None:
    """The code cells of a dump, IPython magics (`%matplotlib inline`) removed; None if it has none."""
    start = re.search(r"^\{$", text, re.M)
    if start and '"cells"' in text:                     # an .ipynb's JSON, after a header
        return [_without_magics("".join(c["source"])) for c in json.loads(text[start.start():])["cells"]
                if c["cell_type"] == "code"]
    if MARKER.search(text):                             # "In [N]:" blocks, outputs and prose after the code
        return [_code_prefix(_without_magics(block)) for block in MARKER.split(text)[1:]]
    return None


def _without_magics(code: str) -> str:
    return "\n".join(line for line in code.splitlines() if not line.startswith("%"))


def _code_prefix(block: str) -> str:
    """The code at the start of an "In [N]:" block: its longest run of paragraphs that parses, less
    trailing ones that are outputs (a literal such as 'tanh') or markdown headings (comments)."""
    paragraphs = re.split(r"\n[ \t]*\n", block.strip("\n"))
    taken: list[str] = []
    for k in range(len(paragraphs), 0, -1):             # a `def` line alone does not parse: the longest prefix
        try:
            ast.parse("\n\n".join(paragraphs[:k]))
        except SyntaxError:
            continue
        taken = paragraphs[:k]
        break
    while taken and _is_output(taken[-1]):
        taken.pop()
    return "\n\n".join(taken)


def _is_output(paragraph: str) -> bool:
    """An output the dump left after the code (`'tanh'`, `0.0013`), or a markdown heading (to
    Python, a comment)."""
    try:
        for statement in ast.parse(paragraph).body:
            if not isinstance(statement, ast.Expr):
                return False
            ast.literal_eval(statement.value)
    except (SyntaxError, ValueError):
        return False
    return True


def statements(cell: str, library: dict[tuple[str, ...], str]) -> tuple[list[str], list[str]]:
    """The cell's top-level statements as source texts, and what was restored: a statement the
    dump broke (its indentation lost) is replaced by the same tokens from `library`."""
    try:
        tree = ast.parse(cell)
    except SyntaxError:
        pass
    else:
        return [ast.get_source_segment(cell, s) for s in tree.body], []
    chunks = re.split(r"\n(?=\S)", cell)      # a statement starts at column 0; its lines follow indented
    out, restored = [], []
    for chunk in chunks:
        try:
            if not ast.parse(chunk).body:           # a comment
                continue
        except SyntaxError:
            same = library.get(shape(chunk))
            if same is None:
                raise
            restored.append(chunk.splitlines()[0].split("(")[0].rstrip(":"))
            chunk = same
        out.append(chunk)
    return out, restored


def shape(source: str) -> tuple[str, ...]:
    """A statement's tokens without comments, layout or the spaces inside its strings."""
    kept = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                          tokenize.ENDMARKER):
            continue
        text = token.string
        if token.type == tokenize.STRING or tokenize.tok_name[token.type].startswith("FSTRING"):
            text = re.sub(r"\s", "", text).replace('"', "'")
        kept.append(text)
    return tuple(kept)


def defines(source: str) -> str | None:
    """What a statement is in the swap: 'Value', 'draw_dot' or 'trace' for the notebook's own
    definitions, 'import' for `from value import ...` (its own module), else None."""
    statement = ast.parse(source).body[0]
    if isinstance(statement, ast.ClassDef) and statement.name == "Value":
        return "Value"
    if isinstance(statement, ast.FunctionDef) and statement.name in ("draw_dot", "trace"):
        return statement.name
    if isinstance(statement, ast.ImportFrom) and statement.module == "value":
        return "import"
    return None


def notebook(name: str) -> list[str] | None:
    return code_cells((LECTURE / name).read_text(encoding="utf-8"))


def library() -> dict[tuple[str, ...], str]:
    """Every top-level statement of the lecture's own notebook, by its tokens."""
    found = {}
    for cell in notebook(LECTURES_OWN):
        for source in statements(cell, {})[0]:
            found[shape(source)] = source
    return found


def stand_in() -> list[str]:
    """The lecture's own definitions (000), for a notebook that imports its Value from a file the
    dump does not include."""
    own = [s for cell in notebook(LECTURES_OWN) for s in statements(cell, {})[0]]
    return [s for s in own if defines(s) or s.startswith("from graphviz import")]


# Running the cells.

NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|nan|inf")
DRAWN = re.compile(r"data ([-+.\w]+) \| grad ([-+.\w]+)")     # a record of draw_dot's picture
DEFINITIONS = "<lecture definitions>"


def is_value(x) -> bool:
    return not isinstance(x, type) and all(hasattr(x, name) for name in ("data", "grad", "_prev", "_op"))


def lecture_print(*args, **kwargs) -> None:
    """`print`, showing a Value as the lecture's repr does (ours adds the label and gradient)."""
    builtins.print(*(f"Value(data={a.data})" if is_value(a) else a for a in args), **kwargs)


class Output(io.StringIO):
    """Standard output, split by who printed it: a cell (or a function a cell defined), or the
    notebook's own class (set aside)."""

    def __init__(self):
        super().__init__()
        self.by_class = io.StringIO()

    def write(self, text: str) -> int:
        frame = sys._getframe(1)
        while frame is not None and not frame.f_code.co_filename.startswith("<lecture"):
            frame = frame.f_back
        if frame is not None and frame.f_code.co_filename == DEFINITIONS:
            return self.by_class.write(text)
        return super().write(text)


def project(x):
    """What a notebook shows for a cell's last expression, as numbers and op names to compare."""
    if is_value(x):
        return ("Value", x.data, x.grad)
    if isinstance(x, str):
        return ("text", x)
    if isinstance(x, (int, float)):
        return ("number", x)
    if isinstance(x, (set, frozenset, list, tuple)):
        items = [project(item) for item in x]
        if isinstance(x, (set, frozenset)) or all(is_value(item) for item in x):
            items.sort(key=_rounded)        # a set, or a list built by walking sets (topo): no order
        return ("items", items)
    source = getattr(x, "source", None)     # the lecture's graphviz.Digraph, our Picture
    if isinstance(source, str) and source.startswith("digraph"):
        return ("picture", sorted((float(d), float(g)) for d, g in DRAWN.findall(source)))
    if hasattr(x, "tolist"):
        return ("array", x.tolist())
    return ("object", type(x).__name__)


def _rounded(projection):
    return [float(f"{v:.9g}") if isinstance(v, float) else v for v in projection if not isinstance(v, list)]


def same(a, b, abs_tol: float = 0.0) -> bool:
    """Equal, numbers within a relative 1e-12 (floating-point noise: our tanh is math.tanh, the
    lecture's is made of exp)."""
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        if a and a[0] == "picture" and b and b[0] == "picture":
            abs_tol = 0.5e-4 + 1e-12        # drawn with 4 decimals
        return len(a) == len(b) and all(same(x, y, abs_tol) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=abs_tol)
    return a == b


def reachable(root) -> list:
    seen, stack, found = set(), [root], []
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            found.append(node)
            stack.extend(node._prev)
    return found


@dataclass
class Run:
    namespace: dict = field(default_factory=lambda: {"__name__": "__lecture__", "print": lecture_print})
    cell: int = -1
    printed: list[list[float]] = field(default_factory=list)
    shown: list = field(default_factory=list)
    values: list[dict] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)
    class_output: list[int] = field(default_factory=list)
    accumulating: list[tuple[int, str]] = field(default_factory=list)


def run(cells: list[list[str]], ours: bool, stand_in_definitions: list[str]) -> Run:
    """The cells in order in one namespace: with the notebook's own definitions, or (`ours`) with
    `from autodiff_cli import ...` in their place."""
    import matplotlib
    matplotlib.use("Agg")
    result = Run()
    ns = result.namespace
    for k, cell in enumerate(cells):
        result.cell = k
        out = Output()
        shown = None
        with contextlib.redirect_stdout(out), warnings.catch_warnings():
            warnings.simplefilter("ignore")             # Matplotlib's "cannot show" under Agg
            try:
                for i, source in enumerate(cell):
                    filename = f"<lecture cell {k}>"
                    kind = defines(source)
                    if kind and ours:
                        names = {"Value": "Value", "draw_dot": "draw_dot", "import": "Value, draw_dot"}
                        if kind in names:                   # the lecture's trace is draw_dot's helper: gone
                            exec(compile(f"from autodiff_cli import {names[kind]}", filename, "exec"), ns)
                    elif kind:
                        for definition in (stand_in_definitions if kind == "import" else [source]):
                            exec(compile(definition, DEFINITIONS, "exec"), ns)
                        if kind in ("Value", "import"):
                            _instrument(ns["Value"], result)
                    else:
                        tree = ast.parse(source)
                        if i == len(cell) - 1 and isinstance(tree.body[0], ast.Expr):
                            shown = eval(compile(ast.Expression(tree.body[0].value), filename, "eval"), ns)
                        else:
                            exec(compile(tree, filename, "exec"), ns)
            except Exception as exc:                    # recorded, and the test expects none
                result.errors[k] = f"{type(exc).__name__}: {exc}"
        result.printed.append([float(x) for x in NUMBER.findall(out.getvalue())])
        result.shown.append(project(shown))
        result.values.append({name: (x.data, x.grad) for name, x in ns.items() if is_value(x)})
        if out.by_class.getvalue():
            result.class_output.append(k)
    import matplotlib.pyplot as plt
    plt.close("all")
    return result


def _instrument(cls, result: Run) -> None:
    """The lecture's `backward` adds onto the gradients a graph holds; ours resets them first.
    Where the lecture's would add onto some, note the cell and zero the graph before it runs."""
    lectures = cls.backward

    def backward(self):
        nodes = reachable(self)
        if any(node.grad != 0 for node in nodes if node is not self):  # its own it sets to 1 anyway
            result.accumulating.append((result.cell, self.label))
            for node in nodes:
                node.grad = 0.0
        return lectures(self)

    cls.backward = backward


# The tests.

def test_the_seed_folder_holds_the_five_notebooks():
    assert sorted(p.name for p in LECTURE.iterdir()) == sorted([*UNREADABLE, *EXPECTED])


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_a_dump_without_cells_is_named_with_its_reason(name):
    assert notebook(name) is None


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_notebooks_cells_show_the_same_numbers_on_our_value(name):
    expected = EXPECTED[name]
    texts = notebook(name)
    assert len(texts) == expected["cells"]
    known = library()
    cells, restored = [], []
    for k, text in enumerate(texts):
        sources, fixed = statements(text, known)
        cells.append(sources)
        restored += [(k, what) for what in fixed]
    assert restored == expected["restored"]
    stand_in_definitions = stand_in() if expected["stand_in"] else []
    assert any(defines(s) == "import" for cell in cells for s in cell) == expected["stand_in"]

    lecture = run(cells, ours=False, stand_in_definitions=stand_in_definitions)
    ours = run(cells, ours=True, stand_in_definitions=stand_in_definitions)

    assert lecture.errors == {} and ours.errors == {}  # no cell needs torch or a rendered picture
    assert ours.namespace["Value"] is engine.Value and lecture.namespace["Value"] is not engine.Value
    if "draw_dot" in lecture.namespace:
        assert ours.namespace["draw_dot"] is autodiff_cli.draw_dot
    assert lecture.accumulating == expected["accumulating"]
    assert lecture.class_output == expected["class_output"] and ours.class_output == []
    loops = {name.id for cell in cells for source in cell for statement in ast.parse(source).body
             if isinstance(statement, ast.For) for name in ast.walk(statement.target) if isinstance(name, ast.Name)}
    for k, text in enumerate(texts):
        where = f"{name} cell {k}: {text.strip().splitlines()[0] if text.strip() else '(empty)'}"
        assert same(ours.printed[k], lecture.printed[k]), where
        assert same(ours.shown[k], lecture.shown[k]), where
        assert ours.values[k].keys() == lecture.values[k].keys(), where
        for variable, numbers in lecture.values[k].items():
            if variable not in loops:       # `for node in reversed(topo)` ends at whichever leaf a set put last
                assert same(ours.values[k][variable], numbers), f"{where}: {variable}"
