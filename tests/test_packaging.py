"""The parser is generated from the grammar at build time: never tracked, always current."""
import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autodiff_cli import _generated_parser

ROOT = Path(__file__).resolve().parent.parent
GRAMMAR = ROOT / "grammar" / "autodiff.lark"


def grammar_digest() -> str:
    return hashlib.sha256(GRAMMAR.read_bytes()).hexdigest()


def test_the_installed_parser_is_generated_from_the_current_grammar():
    assert _generated_parser.GRAMMAR_SHA256 == grammar_digest(), \
        "grammar/autodiff.lark changed: reinstall (pip install -e .) or run python scripts/generate_parser.py"


def test_the_generated_parser_is_not_tracked_in_git():
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(["git", "ls-files", "autodiff_cli"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    assert "autodiff_cli/ops.py" in tracked
    assert "autodiff_cli/_generated_parser.py" not in tracked


def test_the_generated_parser_parses_like_the_grammar():
    lark = pytest.importorskip("lark")
    fresh = lark.Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr")
    generated = _generated_parser.Lark_StandAlone()
    for text in ["(a*b+c)*f", "a = 2; b = -3\n\nL = tanh(a*b) ** -x ^ 2 / 3 - +4 # c\n", ";;x;", "- -x"]:
        assert generated.parse(text).pretty() == fresh.parse(text).pretty()
    for text in ["2x", "a +", "(a", "a $ b"]:
        with pytest.raises(lark.UnexpectedInput):
            fresh.parse(text)
        with pytest.raises(_generated_parser.UnexpectedInput):
            generated.parse(text)


@pytest.mark.slow
def test_the_wheel_carries_the_generated_parser_and_both_licences(tmp_path):
    pytest.importorskip("hatchling")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("autodiff_cli-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        parser = z.read("autodiff_cli/_generated_parser.py").decode()
        metadata = z.read(next(n for n in names if n.endswith("dist-info/METADATA"))).decode()
    assert f"GRAMMAR_SHA256 = {grammar_digest()!r}" in parser
    assert "autodiff_cli/grammar/autodiff.lark" in names
    assert "License-Expression: MIT AND MPL-2.0" in metadata
    assert any(n.endswith("licenses/LICENSE") for n in names)
    assert any(n.endswith("licenses/LICENSES/MPL-2.0.txt") for n in names)
