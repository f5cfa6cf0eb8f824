"""The contract every command keeps, tried through the real CLI in a subprocess, with real
signals, in temporary directories (devices and FIFOs made there with mknod and mkfifo, never the
machine's own /dev files): exit 0 ok, 1 a failed check, 2 bad input or a failed write; one
message on stderr and never a traceback; nothing on stdout when failing; no stray, partial or
clobbered file; files written as Unix tools write them; work refused early past a ceiling."""
import math
import os
import resource
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autodiff_cli.cli import cli
from conftest import LECTURE, LECTURE_SET, have_dot, require_in_ci

AUTODIFF = [sys.executable, "-m", "autodiff_cli"]
ROOT = os.geteuid() == 0


def autodiff(*args, input=None, cwd=None, stdout=subprocess.PIPE, preexec=None, timeout=120):
    # A child under a file-size limit writes no bytecode: Python would leave the package's .pyc
    # files cut short at the limit (in a fresh clone, where they do not exist yet), and every later
    # import of that module would fail ("marshal data too short").
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"} if preexec is not None else None
    return subprocess.run([*AUTODIFF, *map(str, args)], input=input, stdout=stdout, stderr=subprocess.PIPE,
                          cwd=cwd, preexec_fn=preexec, timeout=timeout, env=env)


def refused(done, code=2, says=""):
    """Exit `code`, one message on stderr (no traceback), nothing on stdout."""
    err = done.stderr.decode()
    assert done.returncode == code, err
    assert "Traceback" not in err and err.strip(), err
    assert err.lower().count("error:") == 1, err
    assert done.stdout in (b"", None), done.stdout[:200]
    assert says in err, err
    return err


def listing(directory):
    return sorted(p.name for p in Path(directory).iterdir())


SWEEP = ["x*y", "--over", "x=0:1:5", "--set", "y=2"]


# Files: written as Unix tools write them

@pytest.mark.parametrize("target, says", [(".", "is a directory"), ("missing/out.csv", "no such directory")])
def test_a_file_that_cannot_be_written_is_refused_before_the_work(tmp_path, target, says):
    before = listing(tmp_path)
    refused(autodiff("eval", *SWEEP, "-o", target, cwd=tmp_path), says=says)
    assert listing(tmp_path) == before


@pytest.mark.parametrize("command", [["eval", *SWEEP, "-o", "out.csv"], ["graph", LECTURE, *LECTURE_SET, "-o", "out.svg"],
                                     ["eval", *SWEEP, "-o", "out.npz"]])
def test_a_write_that_fails_midway_leaves_the_old_file_and_nothing_else(tmp_path, command):
    """A file size limit (EFBIG, as a full disk fails a write) stops the write: exit 2 with the
    reason, the previous file intact, no temporary file."""
    if command[0] == "graph":
        require_in_ci(have_dot(), "Graphviz's dot")
    old = tmp_path / command[-1]
    old.write_bytes(b"the previous file\n")

    def limited():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20, 20))

    err = refused(autodiff(*command, cwd=tmp_path, preexec=limited), says="File too large")
    assert command[-1] in err
    assert old.read_bytes() == b"the previous file\n"
    assert listing(tmp_path) == [command[-1]]


@pytest.mark.skipif(not ROOT, reason="making a character device needs root")
def test_a_device_is_written_to_not_replaced(tmp_path):
    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    for command in (["eval", *SWEEP, "-o", "null"], ["eval", *SWEEP, "-o", "null", "--jsonl"]):
        done = autodiff(*command, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert stat.S_ISCHR(null.stat().st_mode)
    assert listing(tmp_path) == ["null"]


@pytest.mark.skipif(not ROOT, reason="making a character device needs root")
def test_a_full_device_is_a_failed_write_for_files_and_for_standard_output(tmp_path):
    full = tmp_path / "full"
    os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    refused(autodiff("eval", *SWEEP, "-o", "full", cwd=tmp_path), says="No space left on device")
    with open(full, "wb") as device:
        err = refused(autodiff("eval", LECTURE, *LECTURE_SET, stdout=device), says="standard output")
    assert "No space left on device" in err and stat.S_ISCHR(full.stat().st_mode)


def test_a_fifo_is_streamed_to(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(open(fifo, "rb").read()))
    reader.start()
    done = autodiff("eval", *SWEEP, "-o", "fifo", cwd=tmp_path)
    reader.join(30)
    assert done.returncode == 0 and received[0].startswith(b"x,y,value")
    assert stat.S_ISFIFO(fifo.stat().st_mode) and listing(tmp_path) == ["fifo"]


def test_a_link_is_followed_and_the_file_it_names_keeps_its_mode(tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("old\n")
    real.chmod(0o640)
    (tmp_path / "link.csv").symlink_to("real.csv")
    assert autodiff("eval", *SWEEP, "-o", "link.csv", cwd=tmp_path).returncode == 0
    assert (tmp_path / "link.csv").is_symlink() and real.read_text().startswith("x,y,value")
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert listing(tmp_path) == ["link.csv", "real.csv"]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
@pytest.mark.parametrize("name", ["out.csv", "out.npz", "out.dot", "out.html"])
def test_a_new_file_gets_0666_less_the_umask(tmp_path, umask, mode, name):
    if name == "out.html":
        require_in_ci(have_dot(), "Graphviz's dot")
    command = ["graph", LECTURE, *LECTURE_SET] if name.endswith(("dot", "html")) else ["eval", *SWEEP]
    done = autodiff(*command, "-o", name, cwd=tmp_path, preexec=lambda: os.umask(umask))
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode


def test_dash_is_standard_output(tmp_path):
    done = autodiff("eval", *SWEEP, "-o", "-", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith(b"x,y,value") and listing(tmp_path) == []
    done = autodiff("graph", LECTURE, *LECTURE_SET, "-o", "-", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith(b"digraph") and listing(tmp_path) == []


# Signals: clean up, exit 128 + the signal

def wait_for(condition, seconds=30):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
@pytest.mark.parametrize("name", ["out.csv", "out.npz"])
def test_a_signal_during_a_long_write_leaves_the_old_file_and_no_temporary(tmp_path, signum, name):
    old = tmp_path / name
    old.write_bytes(b"previous")
    child = subprocess.Popen([*AUTODIFF, "eval", "tanh(x*y)", "--over", "x=0:1:100000000", "--set", "y=2",
                              "-o", name], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert wait_for(lambda: len(listing(tmp_path)) > 1), "the write never started"
    time.sleep(0.3)
    child.send_signal(signum)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 128 + signum, err
    assert b"Traceback" not in err
    assert listing(tmp_path) == [name] and old.read_bytes() == b"previous"


def children_of(pid):
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid):
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_graphviz_dies_with_us(tmp_path, signum):
    require_in_ci(have_dot(), "Graphviz's dot")
    program = "\n".join(f"s{i} = tanh(s{i - 1}*w + x{i % 7})" for i in range(1, 4000)).replace("s0", "(0.5)")
    (tmp_path / "big.ad").write_text(program)
    child = subprocess.Popen([*AUTODIFF, "graph", "-f", "big.ad", "--set", "w=0.5",
                              *[a for i in range(7) for a in ("--set", f"x{i}=0.1")], "-o", "big.svg"],
                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert wait_for(lambda: children_of(child.pid), 60), "dot never started"
    dots = children_of(child.pid)
    child.send_signal(signum)
    child.communicate(timeout=60)
    assert child.returncode == 128 + signum
    assert wait_for(lambda: not any(alive(pid) for pid in dots), 10), "dot outlived autodiff"
    assert listing(tmp_path) == ["big.ad"]


# Standard streams

def closed_pipe():
    reading, writing = os.pipe()
    os.close(reading)
    return writing


@pytest.mark.parametrize("command", [
    ["eval", LECTURE, *LECTURE_SET], ["eval", *SWEEP], ["diff", LECTURE], ["graph", LECTURE, *LECTURE_SET],
    ["explain", LECTURE, *LECTURE_SET], ["check", LECTURE, *LECTURE_SET], ["step", LECTURE, *LECTURE_SET],
    ["eval", LECTURE, *LECTURE_SET, "--json"], ["--help"],
])
def test_every_command_exits_141_on_a_closed_pipe(command):
    writing = closed_pipe()
    done = autodiff(*command, stdout=writing)
    os.close(writing)
    assert done.returncode == 141 and done.stderr == b"", done.stderr


@pytest.mark.parametrize("unbuffered", [False, True])
@pytest.mark.parametrize("command", [["net", 300, 300], ["eval", "x*x", "--over", "x=0:1:300000"]])
def test_a_reader_that_closes_mid_write_is_a_closed_pipe(command, unbuffered):
    """`| head -c 10`: the reader goes while a write of megabytes is under way; the kernel takes
    part of it, and the rest must not be dropped as if written (exit 141, nothing on stderr), with
    Python's output buffered or not (PYTHONUNBUFFERED: one write call for the whole text)."""
    env = {**os.environ, **({"PYTHONUNBUFFERED": "1"} if unbuffered else {})}
    child = subprocess.Popen([*AUTODIFF, *map(str, command)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    taken = 0
    while taken < 200_000:                      # the child is now in the middle of a write
        taken += len(os.read(child.stdout.fileno(), 65536))
    child.stdout.close()
    assert child.wait(timeout=120) == 141 and child.stderr.read() == b""


def test_closed_standard_streams_are_one_clear_message():
    refused(autodiff("eval", LECTURE, *LECTURE_SET, stdout=None, preexec=lambda: os.close(1)),
            says="standard output is closed")
    refused(autodiff("eval", "-f", "-", preexec=lambda: os.close(0)), says="standard input")


def test_a_sweep_that_fails_before_its_first_row_writes_nothing():
    refused(autodiff("eval", "x + log(y)", "--over", "x=0:1:3", "--set", "y=-1", "--strict"),
            says="log needs a positive number")


# Bounded work: refused early, with the ceiling and how to raise it

@pytest.mark.parametrize("args, says", [
    (["eval", "x", "--over", "x=0:1:99999999999999999999"], "more than any sweep can count"),
    (["eval", "x*y", "--over", "x=0:1:100000", "--over", "y=0:1:100000"], "--max-points"),
    (["eval", "x", "--over", "x=-1e308:1e308:3"], "too wide for a float"),
    (["eval", " + ".join(f"x{i}" for i in range(1001)), "--hessian",
      *[a for i in range(1001) for a in ("-s", f"x{i}=1")]], "--max-inputs"),
    (["step", "x", "-s", "x=1", "--steps", "100000000"], "100000000 is not in the range 1<=x<=10000000"),
    (["check", "x", "-s", "x=1", "--samples", "1000000"], "1000000 is not in the range 0<=x<=100000"),
    (["check", "x", "-s", "x=1", "--rtol", "nan", "--json"], "--rtol must be a finite number"),
    (["check", "x", "-s", "x=1", "--atol", "inf", "--json"], "--atol must be a finite number"),
    (["check", "x", "-s", "x=1", "--h", "inf", "--json"], "--h must be a finite number"),
    (["step", "x", "-s", "x=1", "--lr", "nan"], "--lr must be a finite number"),
    (["fit", "w*x", "--data", "rows.csv", "--steps", "100000000"], "100000000 is not in the range 0<=x<=10000000"),
    (["fit", "w*x", "--data", "rows.csv", "--lr", "inf"], "--lr must be a finite number"),
    (["fit", "w*x", "--data", "rows.csv", "--batch", "0"], "0 is not in the range x>=1"),
    (["net", "1000", "1000", "1000"], "more than the ceiling of 100,000"),
])
def test_unbounded_or_impossible_requests_are_refused_at_once(args, says):
    start = time.monotonic()
    refused(autodiff(*args), says=says)
    assert time.monotonic() - start < 60          # a guard against a blow-up, not a timing test


# Training: a fit that stops writes nothing

@pytest.mark.parametrize("program, args, says", [
    ("(w*x - y)**2", ["--set", "w=0", "--lr", "1", "--steps", "1000"], "the last parameters with a finite loss"),
    ("(w*log(x) - y)**2", ["--set", "w=0", "--strict"], "rows.csv line 3: line 1, column 4: log (x = -1.0)"),
])
def test_a_fit_that_stops_writes_nothing(tmp_path, program, args, says):
    (tmp_path / "rows.csv").write_text("x,y\n1,2\n-1,4\n3,6\n" if "log" in program else "x,y\n1,2\n2,4\n3,6\n")
    err = refused(autodiff("fit", program, "--data", "rows.csv", *args, "--plot", "loss.svg", "--json", cwd=tmp_path),
                  says=says)
    assert "--set w=" in err and listing(tmp_path) == ["rows.csv"]


def test_fit_reads_its_rows_from_standard_input_and_writes_its_plot_whole(tmp_path):
    rows = b"x,y\n1,2\n2,4\n3,6\n"
    done = autodiff("fit", "(w*x - y)**2", "--set", "w=0", "--data", "-", "--steps", "200", "--lr", "0.01",
                    "--emit-set", "--plot", "loss.png", input=rows, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().startswith("--set w=1.99999") and listing(tmp_path) == ["loss.png"]
    assert (tmp_path / "loss.png").read_bytes().startswith(b"\x89PNG")
    refused(autodiff("fit", "-f", "-", "--data", "-", input=b"(w*x - y)**2"), says="not both")


@pytest.mark.slow
def test_a_signal_during_training_exits_128_plus_it_and_writes_no_plot(tmp_path):
    (tmp_path / "rows.csv").write_text("x,y\n" + "".join(f"{i / 1000},{i / 500}\n" for i in range(20_000)))
    child = subprocess.Popen([*AUTODIFF, "fit", "(w*x - y)**2", "--set", "w=0", "--data", "rows.csv", "--steps",
                              "10000000", "--lr", "1e-9", "--plot", "loss.svg"], cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    time.sleep(2)
    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 128 + signal.SIGTERM, err
    assert b"Traceback" not in err and out == b"" and listing(tmp_path) == ["rows.csv"]


def test_one_axis_streams_in_bounded_memory():
    """10^9 points: the first rows come at once, and memory does not grow with the count."""
    child = subprocess.Popen([*AUTODIFF, "eval", "x*2", "--over", "x=0:1:1000000000"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    first = child.stdout.readline() + child.stdout.readline()
    rss = int(next(line for line in Path(f"/proc/{child.pid}/status").read_text().splitlines()
                   if line.startswith("VmRSS")).split()[1])
    child.kill()
    child.communicate()
    assert first.startswith(b"x,value,grad.x,error\n0.0,") and rss < 200 * 1024


def test_a_constant_domain_error_fails_every_point_as_eval_says():
    done = autodiff("eval", "x + log(0)", "--over", "x=0:1:3")
    assert done.returncode == 0 and b"Traceback" not in done.stderr
    rows = done.stdout.decode().splitlines()
    assert len(rows) == 4 and all("log needs a positive number" in row for row in rows[1:])
    assert b"3 points failed" in done.stderr


def test_a_step_that_underflows_is_not_a_traceback():
    done = autodiff("check", "sqrt(x)", "--set", "x=5e-324")
    assert done.returncode in (0, 1, 2) and b"Traceback" not in done.stderr


# What a message echoes: bounded, and harmless on a terminal

def test_a_huge_name_is_not_echoed_whole(tmp_path):
    (tmp_path / "huge.ad").write_text("y" * 10_000_000)
    done = autodiff("eval", "-f", "huge.ad", cwd=tmp_path)
    refused(done, says="no value")
    assert len(done.stderr) < 5000
    done = autodiff("eval", "x", "--set", "q" * 100_000 + "=1")
    refused(done, says="no input named")
    assert len(done.stderr) < 5000


@pytest.mark.parametrize("args", [["eval", "x\x1b]0;pwned\x07 +"], ["eval", "x", "--set", "\x1b[2Jx=1"],
                                  ["eval", "x", "--over", "\x1b[31mx=0:1"]])
def test_control_characters_are_escaped_in_messages(args):
    err = refused(autodiff(*args))
    assert "\x1b" not in err and "\x07" not in err and "\\x1b" in err


# Inputs read safely

def test_byte_order_marks_are_dropped(tmp_path):
    (tmp_path / "prog.ad").write_bytes(b"\xef\xbb\xbfx*y")
    (tmp_path / "points.csv").write_bytes(b"\xef\xbb\xbfx,y\n1,2\n")
    done = autodiff("eval", "-f", "prog.ad", "--points", "points.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().splitlines()[1] == "1.0,2.0,2.0,2.0,1.0,"


@pytest.mark.parametrize("content, says", [
    (b"x\n1\n\xff\xfe\n", "line 3: bytes that are not UTF-8"),
    (b"x\n1\n" + b"2" * 200_000 + b"\n", ""),
    (b'{"x": 1}\n{"x": ' + b"9" * 5000 + b"}\n", "line 2"),
    (b'{"x": 1e999}\n', "not a finite number"),
    (b"x,x\n1,2\n", "the column x is named twice"),
    (b'{"x": 1, "x": 2}\n', "the key x is given twice"),
    (b"x,z,w\n1,2,3\n", "the columns z, w name no input of the program"),
    (b"x\n1\n2,3\n", "line 3: 2 values for 1 columns"),
    (b"x\n1\n\0\n", "line 3: a NUL byte"),
])
def test_bad_points_are_one_message_with_the_line(tmp_path, content, says):
    (tmp_path / "p.csv").write_bytes(content)
    done = autodiff("eval", "x*2", "--points", "p.csv", cwd=tmp_path)
    if says:
        refused(done, says=says)
    else:
        assert done.returncode in (0, 2) and b"Traceback" not in done.stderr


@pytest.mark.skipif(not ROOT, reason="making a character device needs root")
def test_endless_points_are_refused_in_bounded_memory(tmp_path):
    os.mknod(tmp_path / "zero", 0o666 | stat.S_IFCHR, os.makedev(1, 5))
    refused(autodiff("eval", "x", "--points", "zero", cwd=tmp_path), says="longer than 16 MB")


def test_extra_columns_are_refused_or_dropped_and_the_tools_own_rows_read_back(tmp_path):
    jsonl = autodiff("eval", "x*y", "--over", "x=0:1:3", "--set", "y=2", "--jsonl").stdout
    (tmp_path / "rows.jsonl").write_bytes(jsonl)
    again = autodiff("eval", "x*y", "--points", "rows.jsonl", "--jsonl", cwd=tmp_path)   # its inputs are the points
    assert again.returncode == 0 and again.stdout == jsonl
    csv = autodiff("eval", "x*y", "--over", "x=0:1:3", "--set", "y=2").stdout
    (tmp_path / "rows.csv").write_bytes(csv)
    err = refused(autodiff("eval", "x*y", "--points", "rows.csv", cwd=tmp_path), says="value, grad.x, grad.y, error")
    assert "--ignore-extra" in err
    again = autodiff("eval", "x*y", "--points", "rows.csv", "--ignore-extra", cwd=tmp_path)
    assert again.returncode == 0 and again.stdout == csv


def test_an_npz_keeps_inputs_named_like_its_own_arrays(tmp_path):
    done = autodiff("eval", "failed + error_index*value", "--over", "failed=0:1:3", "--set", "error_index=2",
                    "--set", "value=3", "-o", "out.npz", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with np.load(tmp_path / "out.npz") as archive:
        assert {"failed", "error_index", "value", "value_1", "failed_1", "error_index_1",
                "error_message"} <= set(archive.files)
        assert archive["failed"].tolist() == [0.0, 0.5, 1.0] and archive["value_1"].tolist() == [6.0, 6.5, 7.0]


def test_the_program_and_the_points_cannot_both_come_from_standard_input():
    refused(autodiff("eval", "-f", "-", "--points", "-", input=b"x*y\n"), says="not both")


# Fuzzing what people type for sweeps: exit 0 or 2, never a traceback

def in_process(args, input=None):
    result = CliRunner().invoke(cli, args, input=input)
    assert result.exit_code in (0, 2), (args, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code == 2:
        assert result.stderr.strip() and "Traceback" not in result.stderr


spec_text = st.text(alphabet="xy=:-+.0123456789e*/()pistep, ", max_size=24)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(spec_text, min_size=1, max_size=2))
def test_fuzzed_over_specs_never_show_a_traceback(specs):
    args = ["eval", "x*y", "--set", "y=2", "--max-points", "10000"]
    for spec in specs:
        args += ["--over", spec]
    in_process(args)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=200),
                 st.text(alphabet='xy,\n\r"{}:[]0123456789.e-+ \ufeff\x00', max_size=120).map(str.encode)))
def test_fuzzed_points_never_show_a_traceback(content):
    in_process(["eval", "x*y", "--set", "y=2", "--points", "-"], input=content)
    in_process(["check", "x*y", "--set", "y=2", "--points", "-"], input=content)
    in_process(["fit", "w*x*y", "--set", "w=1", "--data", "-", "--steps", "2"], input=content)


# Full and short writes, with buffered standard output as users have it

BIG = {                                     # commands whose result is megabytes
    "net": ["net", "300", "300"],
    "diff": ["diff", "-f", "big.ad"], "diff --to python": ["diff", "-f", "big.ad", "--to", "python"],
    "diff --json": ["diff", "-f", "big.ad", "--json"], "eval --json": ["eval", "-f", "big.ad", "--json"],
    "graph dot": ["graph", "-f", "big.ad"], "explain": ["explain", "-f", "big.ad", "--all"],
    "eval sweep": ["eval", "x*y", "--over", "x=0:1:100000", "--set", "y=2"],
}


@pytest.fixture
def big(tmp_path):
    (tmp_path / "big.ad").write_text("x = 0.5\n" + "\n".join(f"t{i} = tanh(x*{i} + 1)" for i in range(3000))
                                     + "\nout = " + " + ".join(f"t{i}" for i in range(3000)) + "\n")
    return tmp_path


def limited_to(size):
    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    return limit


@pytest.mark.parametrize("name", BIG)
def test_a_short_write_to_standard_output_is_a_failed_command(big, name):
    """Standard output redirected to a file that can take only 64 KB (a file-size limit, as a
    nearly full disk does): exit 2 with one message, never 0 after writing part of the result."""
    assert "PYTHONUNBUFFERED" not in os.environ         # buffered, as in a user's shell
    with open(big / "out", "wb") as target:
        done = autodiff(*BIG[name], cwd=big, stdout=target, preexec=limited_to(65536))
    err = done.stderr.decode()
    assert done.returncode == 2 and "Traceback" not in err and "Exception ignored" not in err, err
    assert err.count("error:") == 1 and "standard output" in err and "File too large" in err, err


@pytest.mark.skipif(not ROOT, reason="making a character device needs root")
@pytest.mark.parametrize("name", BIG)
def test_a_full_standard_output_is_one_message_for_every_command(big, name):
    full = big / "full"
    os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    with open(full, "wb") as device:
        done = autodiff(*BIG[name], cwd=big, stdout=device)
    err = done.stderr.decode()
    assert done.returncode == 2 and "Traceback" not in err and "Exception ignored" not in err, err
    assert err.count("error:") == 1 and "No space left on device" in err, err


@pytest.mark.skipif(not ROOT, reason="mounting a small tmpfs needs root")
def test_a_nearly_full_disk_fails_the_command(big):
    disk = big / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True).returncode:
        require_in_ci(False, "a tmpfs mount")
    try:
        with open(disk / "out", "wb") as target:
            done = autodiff("net", "300", "300", stdout=target)
        err = done.stderr.decode()
        assert done.returncode == 2 and err.count("error:") == 1 and "No space left on device" in err, err
        refused(autodiff("net", "300", "300", "-o", disk / "net.ad"), says="No space left on device")
        assert listing(disk) == ["out"]
    finally:
        subprocess.run(["umount", str(disk)], check=True)


@pytest.mark.parametrize("name", ["net", "diff", "eval --json", "eval sweep"])
def test_a_reader_that_stops_early_is_a_closed_pipe(big, name):
    """`autodiff net 300 300 | head -c 10`: exit 141, not 0, whatever was written before."""
    reader = subprocess.Popen(["head", "-c", "10"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    done = autodiff(*BIG[name], cwd=big, stdout=reader.stdin)
    reader.stdin.close()
    reader.wait()
    assert done.returncode == 141 and done.stderr == b"", done.stderr


# The walls of a first day (issue 33), each through the real command line

@pytest.mark.parametrize("program, values", [("b", ["--set", "b=1"]), ("t = b; t", ["--set", "b=1"]), ("2*3", []),
                                             ("relu(-(2)*v)", ["--set", "v=0.5"]), ("x = 3.7; cos(1)", [])])
def test_every_order_2_python_export_runs(tmp_path, program, values):
    done = autodiff("diff", "--order", "2", "--to", "python", program, *values, "-o", "h.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    namespace = {}
    exec((tmp_path / "h.py").read_text(), namespace)           # the export is ours, not user text
    value, grads, hessian = namespace["value_and_grad"]()
    assert set(grads) == set(hessian)


def test_a_name_with_the_exports_own_prefix_is_exported(tmp_path):
    done = autodiff("diff", "_autodiff_x*2", "--set", "_autodiff_x=2", "--to", "python", timeout=20)
    namespace = {}
    exec(done.stdout.decode(), namespace)
    assert done.returncode == 0 and namespace["value_and_grad"]() == (4.0, {"_autodiff_x": 2.0})


def test_a_derivative_program_declares_no_input_of_its_own():
    derivative = autodiff("diff", "relu(-(2)*v)").stdout
    done = autodiff("eval", "-f", "-", "--set", "v=1", "--json", input=derivative)
    import json

    assert done.returncode == 0 and set(json.loads(done.stdout)["grad"]) == {"v"}


def test_only_a_number_declares_an_input():
    import json

    named = json.loads(autodiff("eval", "y = pi; y*x", "--set", "x=1", "--json").stdout)
    assert set(named["grad"]) == {"x"} and named["value"] == pytest.approx(math.pi)
    negated = json.loads(autodiff("eval", "y = -pi; y*x", "--set", "x=1", "--json").stdout)
    assert set(negated["grad"]) == {"x"}


def test_links_and_directories_given_to_o_say_what_is_wrong(tmp_path):
    (tmp_path / "loop").symlink_to("loop")
    refused(autodiff("eval", *SWEEP, "-o", "loop", cwd=tmp_path), says="Too many levels of symbolic links")
    assert (tmp_path / "loop").is_symlink()
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere" / "x.csv")
    refused(autodiff("eval", *SWEEP, "-o", "dangling", cwd=tmp_path), says=f"no such directory {tmp_path / 'nowhere'}")
    refused(autodiff("eval", *SWEEP, "-o", "sub/", cwd=tmp_path), says="cannot write sub/: it is a directory")


def test_a_strict_sweep_that_fails_writes_nothing_to_standard_output():
    refused(autodiff("eval", "log(x)", "--over", "x=1:-1:200001", "--strict"), says="log needs a positive number")


@pytest.mark.parametrize("args, says", [
    (["diff", "--order", "2", "-f", "wide.ad"], "--max-statements"),
    (["check", "-f", "wide.ad", "--samples", "100000"], "--max-work"),
    (["step", "-f", "wide.ad", "--steps", "1000000"], "--max-work"),
    (["eval", "-f", "wide.ad", "--hessian", "--max-inputs", "10"], "--max-inputs 300"),
])
def test_every_runaway_is_refused_at_once_with_the_option_that_raises_it(tmp_path, args, says):
    (tmp_path / "wide.ad").write_text("\n".join(f"w{i} = {i / 1000}" for i in range(300)) + "\nout = " +
                                      " + ".join(f"tanh(w{i}*w{(i + 1) % 300})" for i in range(300)))
    started = time.monotonic()
    err = refused(autodiff(*args, cwd=tmp_path), says=says)
    assert time.monotonic() - started < 10 and "--wrt" not in err or args[0] == "diff"


def test_a_program_past_the_size_ceiling_is_refused_with_the_setting_that_raises_it(tmp_path):
    (tmp_path / "big.ad").write_text("x = 1\n" + "x\n" * 600)
    done = subprocess.run([*AUTODIFF, "eval", "-f", "big.ad"], capture_output=True, cwd=tmp_path,
                          env={**os.environ, "AUTODIFF_MAX_PROGRAM_BYTES": "1000"})
    err = refused(done, says="larger than 0 MB")
    assert "AUTODIFF_MAX_PROGRAM_BYTES=" in err


@pytest.mark.parametrize("content, says, hint", [
    (b"x,y\n", "no points to run at", ""),
    (b"x\n2;3\n", "'2;3' is not a number", "separated by ';'"),
    (b"x,y\n" + b"1,1." + b"0" * (15 << 20) + b"\n", "", ""),
])
def test_points_files_say_what_is_wrong_in_their_own_words(tmp_path, content, says, hint):
    (tmp_path / "p.csv").write_bytes(content)
    done = autodiff("eval", "x*y", "--points", "p.csv", "--set", "y=1" if b"y" not in content else "z=1",
                    cwd=tmp_path) if b"y" not in content.split(b"\n")[0] else \
        autodiff("eval", "x*y", "--points", "p.csv", cwd=tmp_path)
    if not says:                                        # a 15 MB field is within the 16 MB ceiling of a line
        assert done.returncode == 0 and b"field larger" not in done.stderr, done.stderr
        return
    assert hint in refused(done, says=says)


def test_the_first_days_messages_point_the_right_way():
    assert "--lecture-bug" in refused(autodiff("eval", "x", "--over", "x=0:1", "--lecture-bug", "overwrite"))
    assert "--hessian" not in refused(autodiff("eval", "x", "--over", "x=0:1", "--lecture-bug", "overwrite"))
    refused(autodiff("net", "3", "1", "--seed", "-1"), says="-1 is not in the range")
    err = refused(autodiff("explain"), says="no program given")
    assert "autodiff explain" in err and "autodiff eval" not in err


def test_an_error_that_replaces_a_signals_exception_still_exits_as_the_signal(tmp_path):
    """SIGINT's exception, raised inside a lock's wait (a Dask client waits so), can come out as
    "RuntimeError: release unlocked lock": the signal decides the exit (130), with no traceback."""
    script = tmp_path / "broken.py"
    script.write_text("import click, signal\n"
                      "from autodiff_cli.cli import process\n"
                      "@click.group()\ndef cli():\n    pass\n"
                      "@cli.command()\ndef wait():\n"
                      "    try:\n        process._on_signal(signal.SIGINT, None)\n"
                      "    finally:\n        raise RuntimeError('release unlocked lock')\n"
                      "process.run(cli)\n")
    done = subprocess.run([sys.executable, str(script), "wait"], capture_output=True, timeout=60)
    assert done.returncode == 128 + signal.SIGINT and done.stderr == b"" and done.stdout == b"", done.stderr
