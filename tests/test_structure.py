"""The package's layers point one way, lazy imports inside functions included, with no import
circle; the README's module map lists the same layers."""
import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "autodiff_cli"
LAYERS = [
    {"numbers", "errors"},
    {"ops", "output", "sources", "lalr"},
    {"engine", "expressions"},
    {"program"},
    {"parsing", "rules", "tables", "drawing", "naming", "points", "data", "arrays"},
    {"checking", "explaining", "stepping", "deriving", "exporting", "sweeping", "sweep_output", "plotting",
     "lecture_bugs", "networks", "training"},
    {"page"},
    {"cli"},
    {"__main__"},
]
LAYER = {module: i for i, modules in enumerate(LAYERS) for module in modules}


def imports() -> dict[str, set[str]]:
    """Module -> the package's modules it imports anywhere in its text (relative imports)."""
    graph = {}
    for path in sorted(PACKAGE.glob("*.py")):
        name = path.stem
        if name.startswith("_generated") or name == "__init__":
            continue
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    found.add(node.module.split(".")[0])
                else:
                    found.update(alias.name for alias in node.names)
        graph[name] = found
    modules = set(graph)
    return {name: found & modules for name, found in graph.items()}


def test_every_module_has_a_layer():
    assert set(imports()) == set(LAYER)


def test_imports_point_down_or_sideways_never_up():
    up = [(m, target) for m, targets in imports().items() for target in targets if LAYER[target] > LAYER[m]]
    assert up == []


def test_no_import_circle():
    graph = imports()
    state = {}                                  # module -> "open" while on the path, "done" after
    for root in sorted(graph):
        stack = [(root, iter(sorted(graph[root])))]
        state.setdefault(root, "open")
        while stack:
            module, targets = stack[-1]
            target = next(targets, None)
            if target is None:
                state[module] = "done"
                stack.pop()
            elif state.get(target) == "open":
                path = [m for m, _ in stack]
                raise AssertionError("import circle: " + " -> ".join(path[path.index(target):] + [target]))
            elif target not in state:
                state[target] = "open"
                stack.append((target, iter(sorted(graph[target]))))


def test_library_messages_name_no_option():
    """Only the command line knows its options: no '--flag' in the library's strings."""
    offenders = []
    for path in sorted(PACKAGE.glob("*.py")):
        if path.stem in ("cli", "__main__", "__init__") or path.stem.startswith("_generated"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                if re.search(r"(?<![\w-])--[a-z]", node.value):
                    offenders.append((path.stem, node.value[:60]))
    assert offenders == []


def test_every_name_the_package_exports_resolves():
    import autodiff_cli

    assert all(getattr(autodiff_cli, name) is not None for name in autodiff_cli.__all__)


def test_the_readmes_python_example_runs():
    import subprocess
    import sys

    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python API")[1].split("\n## ")[0]
    examples = [block.split("```")[0] for block in section.split("```python\n")[1:]]
    assert len(examples) == 2                       # the API, and the lecture's own names
    for example in examples:
        done = subprocess.run([sys.executable, "-c", example], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr


def test_the_readmes_module_map_is_the_layers():
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("- Modules, in layers:")[1].split("- Adding an op:")[0]
    items = re.split(r"^  \d+\. ", section, flags=re.M)[1:]
    listed = [set(re.findall(r"`(\w+)`", item.split(":")[0])) for item in items]
    assert listed == LAYERS
