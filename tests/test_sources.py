"""Reading programs and points: byte-order marks, encodings, NUL bytes, bounds."""
import pytest

from autodiff_cli import sources
from autodiff_cli.errors import AutodiffError


def lines(path: str):
    """Each line at `path`, numbered: the blocks' lines, one at a time."""
    for number, text in sources.blocks(path):
        yield from sources.numbered_lines(number, text)


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
        for number, line in lines(str(tmp_path / "p.csv")):
            found.append((number, line))
    assert found == [(1, "x\n"), (2, "1\n")]


@pytest.mark.parametrize("block", [1, 2, 3, 7, 64, 1 << 20])
def test_blocks_hold_whole_lines_whatever_the_reads(tmp_path, monkeypatch, block):
    """However the bytes arrive (a byte at a time from a pipe, or all at once), the blocks hold
    whole lines, numbered, the byte-order mark dropped, and a last line without a newline kept."""
    content = "\ufeffx,y\n1,2\r\n\n«é»,4\n5,6".encode()
    (tmp_path / "p.csv").write_bytes(content)
    monkeypatch.setattr(sources, "BLOCK_BYTES", block)
    found = list(sources.blocks(str(tmp_path / "p.csv")))
    assert "".join(text for _, text in found) == "x,y\n1,2\r\n\n«é»,4\n5,6"
    for number, text in found:
        assert number == 1 + sum(t.count("\n") for n, t in found if n < number)
        assert text.endswith("\n") or (number, text) == found[-1]
    assert list(lines(str(tmp_path / "p.csv"))) == [
        (1, "x,y\n"), (2, "1,2\r\n"), (3, "\n"), (4, "«é»,4\n"), (5, "5,6")]


def test_bad_bytes_in_a_later_block_name_their_line(tmp_path, monkeypatch):
    (tmp_path / "p.csv").write_bytes(b"x\n" + b"1\n" * 50 + b"\xff\n")
    monkeypatch.setattr(sources, "BLOCK_BYTES", 8)
    with pytest.raises(AutodiffError, match="line 52: bytes that are not UTF-8"):
        list(sources.blocks(str(tmp_path / "p.csv")))


def test_a_line_without_end_is_refused_at_the_bound(tmp_path, monkeypatch):
    (tmp_path / "p.csv").write_bytes(b"x\n1\n" + b"2" * 100)
    monkeypatch.setattr(sources, "MAX_LINE_BYTES", 50)
    monkeypatch.setattr(sources, "BLOCK_BYTES", 16)
    found = []
    with pytest.raises(AutodiffError, match="line 3: longer than"):
        for number, line in lines(str(tmp_path / "p.csv")):
            found.append((number, line))
    assert found == [(1, "x\n"), (2, "1\n")]


def test_a_byte_order_mark_is_dropped_at_the_start_only_however_the_bytes_arrive(monkeypatch, tmp_path):
    """The mark begins the input or it is text, whether the reads are of one byte or a megabyte."""
    (tmp_path / "late.csv").write_bytes(b"\n\xef\xbb\xbfx\n")
    (tmp_path / "first.csv").write_bytes(b"\xef\xbb\xbfx\n")
    for block in (1, 2, 1 << 20):
        monkeypatch.setattr(sources, "BLOCK_BYTES", block)
        assert "".join(t for _, t in sources.blocks(str(tmp_path / "late.csv"))) == "\n\ufeffx\n"
        assert "".join(t for _, t in sources.blocks(str(tmp_path / "first.csv"))) == "x\n"
