"""Sweeps and fits on a Dask cluster (--scheduler): the same bytes as the run on one machine, on a real
cluster on 127.0.0.1 (distributed.LocalCluster, and once the `dask scheduler` and `dask worker` commands
as users start them); a missing scheduler, a missing Dask, a killed worker and an interrupt behave as
the docs (docs/cluster.md) say.  The clusters' tests are slow; the default run keeps the quick ones."""
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner

from autodiff_cli.cli import cli

distributed = pytest.importorskip("distributed")

AUTODIFF = [sys.executable, "-m", "autodiff_cli"]
SWEEP = ["eval", "sin(x)*y + tanh(x*y) - log(1 + x*x)", "--over", "x=-2:2:1000", "--over", "y=0.5:1.5:1000"]
FIT = ["fit", "(a*exp(-b*x) - y)^2", "--set", "a=1", "--set", "b=0.1", "--steps", "4", "--lr", "1e-7"]
RESIDUAL = ["fit", "a*exp(-b*x) - y", "--set", "a=1", "--set", "b=0.1", "--residual"]


def autodiff(*args, cwd=None, env=None, timeout=300):
    return subprocess.run([*AUTODIFF, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
                          env=env, timeout=timeout)


def refused(done, says=""):
    """Exit 2, one `error:` line first on stderr and no traceback, nothing on stdout."""
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert "Traceback" not in err and err.startswith("error: ") and err.count("error:") == 1, err
    assert says in err, err
    assert done.stdout == b""


def write_rows(path, n, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 5, n)
    y = 3 * np.exp(-0.7 * x) + 0.01 * rng.standard_normal(n)
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", header="x,y", comments="", fmt="%.17g")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def only_output(directory, name):
    """The file, and no staging file beside it."""
    assert sorted(p.name for p in directory.iterdir() if p.name.startswith(f".{name}")) == []


# Quick: no cluster needed

def test_a_scheduler_that_is_not_there_is_refused_at_once(tmp_path):
    address = f"tcp://127.0.0.1:{free_port()}"
    started = time.monotonic()
    done = autodiff(*SWEEP, "--csv", "-o", "out.csv", "--scheduler", address, cwd=tmp_path)
    assert time.monotonic() - started < 10
    refused(done, address)
    assert list(tmp_path.iterdir()) == []
    write_rows(tmp_path / "rows.csv", 10)
    refused(autodiff(*FIT, "--data", "rows.csv", "--json", "-o", "fit.json", cwd=tmp_path,
                     env={**os.environ, "DASK_SCHEDULER_ADDRESS": address}), address)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.csv"]


def test_an_address_dask_cannot_use_is_refused(run):
    result = CliRunner().invoke(cli, ["eval", "x*x", "--over", "x=0:1:3", "--scheduler", "foo://bar"])
    assert result.exit_code == 2
    assert "foo://bar is not a Dask scheduler's address" in result.output


def test_the_scheduler_is_for_sweeps_and_its_environment_setting_is_left_alone_for_one_point(monkeypatch):
    result = CliRunner().invoke(cli, ["eval", "x*x", "--set", "x=3", "--scheduler", "tcp://127.0.0.1:1"])
    assert result.exit_code == 2 and "--scheduler is for sweeps" in result.output
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://127.0.0.1:1")
    result = CliRunner().invoke(cli, ["eval", "x*x", "--set", "x=3", "--json"])
    assert result.exit_code == 0 and '"value": 9.0' in result.output


def test_without_dask_the_scheduler_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)         # `import distributed` fails
    result = CliRunner().invoke(cli, ["eval", "x*x", "--over", "x=0:1:3", "--scheduler", "tcp://127.0.0.1:1"])
    assert result.exit_code == 2
    assert "pip install 'autodiff-cli[dask]'" in result.output


def test_a_single_point_does_not_import_dask():
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "autodiff_cli", "eval", "x*x", "-s", "x=1"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    imported = [line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line]
    assert imported and not [name for name in imported if name.split(".")[0] in ("dask", "distributed")]


def test_a_cluster_of_threads_gives_the_same_numbers(tmp_path):
    """In this process (a cluster of threads, quick to start): the library's runners against one machine."""
    from autodiff_cli.cluster import Cluster
    from autodiff_cli.data import read_data
    from autodiff_cli.least_squares import fit_least_squares
    from autodiff_cli.parsing import parse
    from autodiff_cli.points import Grid, open_points, parse_axis
    from autodiff_cli.sweeping import sweep
    from autodiff_cli.training import fit

    write_rows(tmp_path / "rows.csv", 3000)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as lc, \
            Cluster(lc.scheduler_address) as connection:
        program = parse("sqrt(x)*y + log(x)")              # log(0): a failed point, its message kept
        grid = Grid([parse_axis("x=0:4:300", 101), parse_axis("y=-1:1:200", 101)], 10 ** 6)
        here = list(sweep(program, grid))
        there = list(sweep(program, grid, runner=connection.sweep_runner))
        assert [c.start for c in here] == [c.start for c in there] and len(there) > 0
        for a, b in zip(here, there):
            assert a.errors == b.errors
            for x, y in [(a.value, b.value), *zip(a.grad.values(), b.grad.values()),
                         *zip(a.inputs.values(), b.inputs.values())]:
                assert np.array_equal(x, y, equal_nan=True)
        assert any(c.errors for c in there)

        results = []
        for runner in (None, connection.fit_runner):
            program = parse("(a*exp(-b*x) - y)^2")
            program.set({"a": 1.0, "b": 0.1})
            data = read_data(open_points(str(tmp_path / "rows.csv")), 64)       # many chunks
            result = fit(program, data, 3, batch=None, run_chunks=None if runner is None else runner(program))
            results.append((result.losses.tolist(), result.end, result.grad, result.end_loss))
        assert results[0] == results[1]

        from autodiff_cli.checking import check_document, check_gradients

        reports = []
        for remote in (False, True):                # 3 inputs, one by one up to 2: the random direction too
            program = parse("w*tanh(x*y) + log(x)")
            program.set({"w": 0.5})
            axes = Grid([parse_axis("x=0:3:40", 101), parse_axis("y=-1:1:30", 101)], 10 ** 6)
            report = check_gradients(program, per_input_limit=2, seed=3, points=axes.each(),
                                     run_chunks=connection.check_runner(program) if remote else None)
            reports.append(check_document(report))
        assert reports[0] == reports[1] and reports[0]["skipped_samples"] > 0
        assert any(check["label"].startswith("random direction") for check in reports[0]["checks"])

        fits = []
        for remote in (False, True):
            program = parse("a*exp(-b*x) - y")
            program.set({"a": 1.0, "b": 0.1})
            data = read_data(open_points(str(tmp_path / "rows.csv")))
            from autodiff_cli.arrays import ArrayProgram

            compiled = ArrayProgram(program)
            passes = connection.factors_runner(program, data, compiled, None) if remote else None
            found = fit_least_squares(program, data, compiled=compiled, passes=passes)
            fits.append((found.value, found.standard_error, found.residual_sum_of_squares))
        assert fits[0] == fits[1]


# On a cluster of processes, through the real command line

@pytest.fixture(scope="module")
def local_cluster():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", processes=True,
                                       dashboard_address=None)
    try:
        client = distributed.Client(cluster.scheduler_address, set_as_default=False)
        try:
            yield cluster, client
        finally:
            client.close()
    finally:
        cluster.close()


def tasks_run(client, run) -> dict[str, int]:
    """How many tasks of each kind the scheduler ran while `run()` ran."""
    with distributed.get_task_stream(client) as stream:
        run()
    counts: dict[str, int] = {}
    for record in stream.data:
        name = distributed.utils.key_split(record["key"])
        counts[name] = counts.get(name, 0) + 1
    return counts


@pytest.mark.slow
def test_a_sweep_of_a_million_points_is_the_same_bytes_on_a_cluster(local_cluster, tmp_path):
    cluster, client = local_cluster
    here = autodiff(*SWEEP, "--csv", "-o", "here.csv", cwd=tmp_path)
    assert here.returncode == 0, here.stderr
    done = []
    counts = tasks_run(client, lambda: done.append(autodiff(*SWEEP, "--csv", "-o", "there.csv", "--scheduler",
                                                            cluster.scheduler_address, cwd=tmp_path)))
    assert done[0].returncode == 0 and done[0].stdout == b"", done[0].stderr
    assert (tmp_path / "here.csv").read_bytes() == (tmp_path / "there.csv").read_bytes()
    assert len((tmp_path / "there.csv").read_bytes().splitlines()) == 10 ** 6 + 1
    assert counts.get("sweep_task", 0) >= 10 ** 6 // 65536, counts
    # standard output, JSON Lines, and Dask's own setting for the address
    env = {**os.environ, "DASK_SCHEDULER_ADDRESS": cluster.scheduler_address}
    small = ["eval", "x*y", "--over", "x=0:1:300", "--over", "y=0:1:300", "--jsonl"]
    assert autodiff(*small, cwd=tmp_path, env=env).stdout == autodiff(*small, cwd=tmp_path).stdout


@pytest.mark.slow
def test_a_swept_check_is_the_same_bytes_on_a_cluster(local_cluster, tmp_path):
    cluster, client = local_cluster
    check = ["check", "sin(x)*y + tanh(x*y) - log(x)", "--over", "x=0:2:100", "--over", "y=-1:1:100", "--json"]
    here = autodiff(*check, cwd=tmp_path)
    done = []
    counts = tasks_run(client, lambda: done.append(autodiff(*check, "--scheduler", cluster.scheduler_address,
                                                            cwd=tmp_path)))
    assert here.returncode == done[0].returncode == 0, done[0].stderr
    assert here.stdout == done[0].stdout and b'"skipped_samples": 100,' in here.stdout
    assert counts.get("check_task", 0) >= 10 ** 4 // 256, counts


@pytest.mark.slow
def test_a_fit_over_200000_rows_is_the_same_bytes_on_a_cluster(local_cluster, tmp_path):
    cluster, client = local_cluster
    write_rows(tmp_path / "rows.csv", 200_000)
    for command, task in ((FIT, "fit_task"), (RESIDUAL, "factors_task")):
        here = autodiff(*command, "--data", "rows.csv", "--json", cwd=tmp_path)
        assert here.returncode == 0, here.stderr
        done = []
        counts = tasks_run(client, lambda: done.append(autodiff(*command, "--data", "rows.csv", "--json",
                                                                "--scheduler", cluster.scheduler_address,
                                                                cwd=tmp_path)))
        assert done[0].returncode == 0, done[0].stderr
        assert done[0].stdout == here.stdout
        assert counts.get(task, 0) >= 4, counts


@pytest.mark.slow
def test_a_strict_sweep_fails_on_a_cluster_as_on_one_machine(local_cluster, tmp_path):
    cluster, _ = local_cluster
    args = ["eval", "log(x)", "--over", "x=-1:1:200001", "--strict", "-o", "out.csv"]
    here = autodiff(*args, cwd=tmp_path)
    there = autodiff(*args, "--scheduler", cluster.scheduler_address, cwd=tmp_path)
    refused(there)
    assert there.stderr == here.stderr and list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_an_interrupt_cancels_the_tasks_and_leaves_no_file(local_cluster, tmp_path):
    cluster, client = local_cluster
    child = subprocess.Popen([*AUTODIFF, "eval", "tanh(x*y)", "--over", "x=0:1:10000", "--over", "y=0:1:10000",
                              "--csv", "-o", "big.csv", "--scheduler", cluster.scheduler_address], cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not any(p.name.startswith(".big.csv") for p in tmp_path.iterdir()):
            assert time.monotonic() < deadline and child.poll() is None
            time.sleep(0.05)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == 128 + signal.SIGINT, err
    assert b"Traceback" not in err and out == b""
    assert list(tmp_path.iterdir()) == []
    deadline = time.monotonic() + 10
    while client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)):
        assert time.monotonic() < deadline, "the cluster still holds the interrupted run's tasks"
        time.sleep(0.1)


@pytest.mark.slow
def test_a_worker_killed_mid_run_is_retried_and_the_output_is_whole(tmp_path):
    args = ["eval", "sin(x)*y + tanh(x*y)", "--over", "x=0:1:2000", "--over", "y=1:2:2000", "--csv"]
    here = autodiff(*args, "-o", "here.csv", cwd=tmp_path)
    assert here.returncode == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
        child = subprocess.Popen([*AUTODIFF, *args, "-o", "there.csv", "--scheduler", cluster.scheduler_address],
                                 cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while not any(p.name.startswith(".there.csv") for p in tmp_path.iterdir()):
                assert time.monotonic() < deadline and child.poll() is None
                time.sleep(0.02)
            victim = next(iter(client.run(os.getpid).values()))
            os.kill(victim, signal.SIGKILL)
            assert child.poll() is None, "the run ended before a worker could be killed"
            out, err = child.communicate(timeout=120)
        finally:
            child.kill()
            child.wait()
    assert child.returncode == 0, err
    assert (tmp_path / "here.csv").read_bytes() == (tmp_path / "there.csv").read_bytes()
    only_output(tmp_path, "there.csv")


@pytest.mark.slow
def test_the_dask_commands_as_users_start_them(tmp_path):
    """`dask scheduler` and `dask worker` in their own processes, then a sweep and a fit through them."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [os.path.join(os.path.dirname(sys.executable), "dask")]        # the command pip installs with Dask
    started = []
    try:
        started.append(subprocess.Popen([*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                         "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        cwd=tmp_path))
        for _ in range(2):
            started.append(subprocess.Popen([*dask, "worker", address, "--nthreads", "1", "--no-dashboard",
                                             "--host", "127.0.0.1"], stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL, cwd=tmp_path))
        deadline = time.monotonic() + 60
        while True:
            try:
                with distributed.Client(address, timeout=2, set_as_default=False) as client:
                    client.wait_for_workers(2, timeout=60)
                    break
            except OSError:
                assert time.monotonic() < deadline, "the scheduler did not start"
                time.sleep(0.5)
        args = ["eval", "x*y + sin(y)", "--over", "x=0:1:1000", "--over", "y=0:1:1000", "--csv"]
        assert autodiff(*args, "-o", "here.csv", cwd=tmp_path).returncode == 0
        done = autodiff(*args, "-o", "there.csv", "--scheduler", address, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "here.csv").read_bytes() == (tmp_path / "there.csv").read_bytes()
        write_rows(tmp_path / "rows.csv", 20_000)
        here = autodiff(*RESIDUAL, "--data", "rows.csv", "--json", cwd=tmp_path)
        there = autodiff(*RESIDUAL, "--data", "rows.csv", "--json", "--scheduler", address, cwd=tmp_path)
        assert there.returncode == 0, there.stderr
        assert here.stdout == there.stdout
    finally:
        for process in reversed(started):
            process.terminate()
        for process in reversed(started):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
