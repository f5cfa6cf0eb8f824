"""Reading programs and points: byte-order marks, encodings, NUL bytes, bounds."""
import pytest

from autodiff_cli import sources
from autodiff_cli.errors import AutodiffError


def test_a_bom_is_dropped_and_utf8_read(tmp_path):
    (tmp_path / "p.ad").write_bytes(b"\xef\xbb\xbfx*\xc2\xb2")
    assert sources.read_text(str(tmp_path / "p.ad")) == "x*²"


@pytest.mark.parametrize("content, says", [(b"x\n\xff", "line 2: bytes that are not UTF-8"),
                                           (b"x\n\n\0", "line 3: a NUL byte")])
def test_bad_bytes_name_their_line(tmp_path, content, says):
    (tmp_path / "p.ad").write_bytes(content)
    with pytest.raises(AutodiffError, match=says):
        sources.read_text(str(tmp_path / "p.ad"))


def test_a_missing_file_is_one_message(tmp_path):
    with pytest.raises(AutodiffError, match="cannot read the program from .*missing.ad: No such file"):
        sources.read_text(str(tmp_path / "missing.ad"))


def test_lines_are_numbered_and_bounded(tmp_path, monkeypatch):
    (tmp_path / "p.csv").write_bytes(b"\xef\xbb\xbfx\n1\n" + b"2" * 100 + b"\n")
    monkeypatch.setattr(sources, "MAX_LINE_BYTES", 50)
    found = []
    with pytest.raises(AutodiffError, match="line 3: longer than"):
        for number, line in sources.lines(str(tmp_path / "p.csv")):
            found.append((number, line))
    assert found == [(1, "x\n"), (2, "1\n")]
