"""The docs site: `mkdocs build --strict` succeeds, and every example marked as tested runs as shown.

An example is tested when it is in a ```console block of a page under docs/ (or of the README):
each `$ COMMAND` line (continued on the next lines while it ends with a backslash) is run by bash
in a scratch directory, one directory per page and the page's commands in its order, so an
example may use the files that the page's earlier examples made, as a reader's shell would.
The lines after a command, up to the next `$ ` or the end of the block, are what it prints: its
standard output, then its standard error.  Nothing is normalised but trailing spaces; the
commands run with COLUMNS=120, NO_COLOR=1 and their output going to a pipe, as a script gets it.  A command
whose shown output has an `error:` line (click's `Error:` too) must fail; any other must succeed.

Other blocks (```sh, ```text, ...) are not run: examples whose output depends on the machine
(times, pictures) or on a library's version.
"""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import require_in_ci

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```console\n(.*?)^```$", re.M | re.S)


def examples(page: Path) -> list[tuple[str, str]]:
    """(command, expected output) for every `$ ` line of the page's console blocks, in order."""
    found = []
    for block in BLOCK.findall(page.read_text(encoding="utf-8")):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            if not lines[i].startswith("$ "):
                raise AssertionError(f"{page.name}: a console block's line is neither a command nor "
                                     f"its output: {lines[i]!r}")
            command = [lines[i][2:]]
            while command[-1].endswith("\\"):
                i += 1
                command.append(lines[i])
            i += 1
            output = []
            while i < len(lines) and not lines[i].startswith("$ "):
                output.append(lines[i])
                i += 1
            found.append(("\n".join(command), "\n".join(output)))
    return found


TESTED = {page.relative_to(ROOT).as_posix(): examples(page) for page in PAGES}


def test_the_docs_have_tested_examples_across_pages():
    pages = [name for name, found in TESTED.items() if found]
    assert sum(len(found) for found in TESTED.values()) >= 10 and len(pages) >= 4, pages


@pytest.mark.parametrize("page", [name for name, found in TESTED.items() if found])
def test_the_examples_print_what_the_page_shows(page, tmp_path):
    bin_dir = os.path.dirname(sys.executable)
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1", "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
    for command, expected in TESTED[page]:
        done = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL)
        shown = "\n".join(line.rstrip() for line in (done.stdout + done.stderr).splitlines())
        assert shown == "\n".join(line.rstrip() for line in expected.splitlines()), (page, command)
        fails = any(line.lower().startswith("error:") for line in expected.splitlines())
        assert (done.returncode != 0) == fails, (page, command, done.returncode, done.stderr)


@pytest.mark.slow
def test_the_site_builds_strict(tmp_path):
    """No broken link, anchor or nav entry: what CI's `mkdocs build --strict` checks."""
    require_in_ci(importlib.util.find_spec("mkdocs") is not None and importlib.util.find_spec("material") is not None,
                  "MkDocs with the Material theme (pip install -e '.[docs]')")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "site" / "index.html").is_file()


def test_the_readmes_first_screen_has_the_two_commands():
    """A newcomer's two commands, install and run the lecture's example, and run the tests, stay on the
    README's first screen, followed by the example's output (a tested ```console block)."""
    first_screen = "\n".join((ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:30])
    commands = first_screen.split("```sh\n", 1)[1].split("```", 1)[0]
    assert "pip install . && autodiff eval " in commands
    assert "pip install -e '.[test,render]' && python -m pytest -q" in commands
    assert TESTED["README.md"] and TESTED["README.md"][0][0].startswith("autodiff eval ")


def test_every_page_is_in_the_nav_and_every_nav_entry_is_a_page():
    """The same check as the strict build's, without MkDocs: the nav of mkdocs.yml lists docs/*.md."""
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8").split("\nnav:\n", 1)[1]
    listed = re.findall(r"^\s+- (?:[^\n]*?: )?\"?([\w-]+\.md)\"?$", config, re.M)
    assert sorted(listed) == sorted(p.name for p in (ROOT / "docs").glob("*.md")), listed
