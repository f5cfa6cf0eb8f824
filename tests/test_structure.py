"""The package's layers point one way, lazy imports inside functions included, with no import
circle; the README's module map (and the longer one in docs/development.md) lists the same layers; the
commands are thin; one function writes reports to files and streams."""
import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "autodiff_cli"
LAYERS = [
    {"numbers", "errors"},
    {"ops", "output", "sources", "lalr", "reports"},
    {"engine", "expressions"},
    {"program", "vectors"},
    {"parsing", "rules", "tables", "drawing", "naming", "points", "data", "arrays"},
    {"checking", "explaining", "stepping", "deriving", "exporting", "sweeping", "sweep_output", "plotting",
     "lecture_bugs", "networks", "training", "least_squares", "predicting", "cluster"},
    {"page"},
    {"cli"},
    {"__main__"},
]
LAYER = {module: i for i, modules in enumerate(LAYERS) for module in modules}
COMMAND_LINES = 250         # a command module is thin: options, then calls into the library


def modules() -> dict[str, Path]:
    """Module name -> file; the cli package's modules are `cli.NAME` (its __init__ is `cli`)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[0].startswith("_generated") or parts == ("__init__",):
            continue
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports() -> dict[str, set[str]]:
    """Module -> the package's modules it imports anywhere in its text (relative imports)."""
    graph = {}
    known = modules()
    for name, path in known.items():
        package = name.split(".")[:-1] if path.name != "__init__.py" else name.split(".")
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package[:len(package) - (node.level - 1)]
                targets = [node.module] if node.module else [alias.name for alias in node.names]
                for target in targets:
                    dotted = ".".join([*base, *target.split(".")])
                    while dotted and dotted not in known:
                        dotted = dotted.rpartition(".")[0]
                    if dotted and dotted != name:
                        found.add(dotted)
        graph[name] = found
    return graph


def layer(module: str) -> int:
    """A module's layer: the cli package's modules are all in the cli layer."""
    return LAYER[module.split(".")[0]]


def test_every_module_has_a_layer():
    assert {module.split(".")[0] for module in imports()} == set(LAYER)


def test_imports_point_down_or_sideways_never_up():
    up = [(m, target) for m, targets in imports().items() for target in targets if layer(target) > layer(m)]
    assert up == []


def test_the_cli_package_imports_the_library_and_never_the_other_way():
    graph = imports()
    assert any(target == "reports" for target in graph["cli.evaluate"])
    assert not [m for m, targets in graph.items()
                if m.split(".")[0] not in ("cli", "__main__") and any(t.startswith("cli") for t in targets)]


def test_command_modules_are_thin():
    long = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()
            if name.startswith("cli.") and name not in ("cli.options", "cli.process")}
    assert long and max(long.values()) <= COMMAND_LINES, long


def test_one_function_writes_reports_to_files_and_streams():
    """Only `reports.emit` opens an output (a file or standard output); nothing else writes to stdout."""
    writers = {}
    for name, path in modules().items():
        text = path.read_text(encoding="utf-8")
        calls = re.findall(r"\b(open_output|standard_output|sys\.stdout\.write)\(", text)
        if calls and name != "output":
            writers[name] = sorted(set(calls))
    assert writers == {"reports": ["open_output", "standard_output"]}


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
    for name, path in modules().items():
        if name.split(".")[0] in ("cli", "__main__"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                if re.search(r"(?<![\w-])--[a-z]", node.value):
                    offenders.append((name, node.value[:60]))
    assert offenders == [("stepping", "--set ")]    # not a message: the `--set` line step and fit can print


def test_every_name_the_package_exports_resolves():
    import autodiff_cli

    assert all(getattr(autodiff_cli, name) is not None for name in autodiff_cli.__all__)


def test_the_python_api_pages_examples_run():
    import subprocess
    import sys

    page = (PACKAGE.parent / "docs" / "python-api.md").read_text(encoding="utf-8")
    examples = [block.split("```")[0] for block in page.split("```python\n")[1:]]
    assert len(examples) == 2                       # the API, and the lecture's own names
    for example in examples:
        done = subprocess.run([sys.executable, "-c", example], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr


def map_layers(text: str, heading: str) -> list[set[str]]:
    """The numbered layers of the module map under `heading`: the `names` before each item's first colon."""
    assert heading in text, heading
    section = text.split(heading, 1)[1].split("\n## ")[0]
    items = re.split(r"^\d+\. ", section, flags=re.M)[1:]
    return [set(re.findall(r"`(\w+)`", item.split(":")[0])) for item in items]


def test_the_readmes_module_map_is_the_layers():
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    assert map_layers(readme, "\n## Module map\n") == LAYERS


def test_the_development_pages_module_map_is_the_layers():
    page = (PACKAGE.parent / "docs" / "development.md").read_text(encoding="utf-8")
    assert map_layers(page, "\n## Modules, in layers\n") == LAYERS


def test_every_module_has_a_test_file():
    """A test file named after each module (the cli package's commands are tested through the command
    line across the suite, its options in test_cli.py)."""
    tests = PACKAGE.parent / "tests"
    missing = [name for name in modules() if not name.startswith(("cli", "__main__"))
               and not (tests / f"test_{name}.py").exists()]
    assert missing == []


REFERENCE = re.compile(r"\b((?:bench|tests|docs|autodiff_cli|scripts|grammar|\.ci)/[\w./-]*\w)(?![\w{])")
INSTALLED = {"autodiff_cli/grammar/autodiff.lark"}       # where the wheel puts the grammar


def test_the_repository_refers_to_no_file_that_does_not_exist():
    root = PACKAGE.parent
    texts = [*root.glob("*.md"), *root.glob("docs/**/*.md"), *PACKAGE.rglob("*.py"), *root.glob("bench/*.py"),
             *root.glob("tests/*.py"), *PACKAGE.glob("web/*")]
    missing = set()
    for path in texts:
        if path.name.startswith("_generated"):
            continue
        for reference in REFERENCE.findall(path.read_text(encoding="utf-8")):
            if reference not in INSTALLED and not (root / reference).exists():
                missing.add((path.relative_to(root).as_posix(), reference))
    assert sorted(missing) == []
