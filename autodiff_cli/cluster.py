"""Sweeps and fits on a Dask cluster: the chunks a run on one machine visits become Dask tasks.

The design, which docs/cluster.md explains to users:

- The program travels once, as text (with its output and its inputs' values), scattered to every
  worker; each worker thread parses it once and keeps it (`_program`).  Every worker needs the
  same autodiff-cli installed: the tasks are this module's functions, named, not pickled whole.
- The data is shipped from the client: the client reads the points or rows chunk by chunk, as
  on one machine, and each chunk travels with its task.  Nothing needs to be readable by the
  workers, so it always works; the cost is the data on the network, once per pass.
- A task computes what the one-machine run computes for that chunk, with the same functions
  (`sweeping.run_chunk`, `checking.check_chunk`, `training.chunk_sums`,
  `least_squares.chunk_factors`); the results
  come back in chunk order and are combined in that order, as on one machine, so the numbers and
  the output are the same bytes.  At most a window of tasks is in flight (bounded memory).
- Failures: a scheduler that is not there is refused after CONNECT_SECONDS; a worker lost
  mid-run is Dask's to retry (its tasks run again elsewhere: each chunk's data is in its task);
  an interrupt or an error cancels the tasks still out (`Cluster.__exit__`).

Dask is imported here only, and this module only when a scheduler is given.
"""
from __future__ import annotations

import threading
import warnings
from collections import deque
from dataclasses import replace
from typing import Callable, Iterable, Iterator, Mapping

from .arrays import ArrayProgram
from .checking import CheckSettings, check_chunk
from .data import Data
from .errors import AutodiffError, clip
from .least_squares import Factors, chunk_factors
from .program import Program
from .sweeping import Chunk, chunk_of, run_chunk
from .training import ChunkSums, chunk_sums

CONNECT_SECONDS = 5                         # a scheduler that does not answer by then is not there
CLOSE_SECONDS = 5
INSTALL_HINT = "pip install 'autodiff-cli[dask]'"


class Cluster:
    """A connection to a Dask scheduler, as a context manager: leaving it (however: done, an error,
    an interrupt) cancels every task still out and closes the connection."""

    def __init__(self, address: str):
        try:
            import distributed
        except ImportError:
            raise AutodiffError("running on a Dask cluster needs Dask (dask[distributed]), which is not installed",
                                hint=INSTALL_HINT) from None
        self.address = address
        _reachable(address)
        try:
            self.client = distributed.Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            _discard(exc, distributed.Client)
            raise AutodiffError(f"no Dask scheduler answers at {clip(address)} (waited {CONNECT_SECONDS} s)") from None
        except Exception as exc:
            _discard(exc, distributed.Client)
            raise AutodiffError(f"what answers at {clip(address)} is not a Dask scheduler ({type(exc).__name__})") \
                from None
        self.pending: set = set()
        self._sent: dict[int, object] = {}

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        client, self.client = getattr(self, "client", None), None
        if client is None:
            return
        try:
            if self.pending:
                client.cancel(list(self.pending), force=True)
        except Exception:                       # the scheduler may be gone: closing must not fail
            pass
        finally:
            self.pending.clear()
            self._sent.clear()
            try:
                client.close(timeout=CLOSE_SECONDS)
            except Exception:
                pass

    def window(self) -> int:
        """Tasks in flight at once: enough to keep every worker thread busy, few enough to bound the
        client's memory."""
        threads = sum(self.client.nthreads().values())
        return max(4, 2 * threads)

    def send(self, program: Program):
        """The program, as text, to the cluster (once per program): a task that holds it, which the
        other tasks take as their first argument (their workers fetch it from a peer once)."""
        key = id(program)
        if key not in self._sent:
            payload = (_version(), program.text, program.output_name,
                       tuple((name, value) for name, value in program.point().items() if value is not None),
                       len(program.nodes), program.output.index)
            self._sent[key] = self._submit(program_task, payload)
        return self._sent[key]

    def _submit(self, task: Callable, *arguments):
        """A task, its arguments in its spec: a worker lost with its result, the scheduler runs it again."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Sending large graph")     # a chunk, a program: as meant
            future = self.client.submit(task, *arguments, pure=False)
        self.pending.add(future)
        return future

    def ordered(self, task: Callable, program: Program, items: Iterable[tuple]) -> Iterator[tuple]:
        """(key, task(program, *arguments)) for each (key, arguments) of `items`, in their order, run
        on the cluster with at most `window()` tasks out at once."""
        payload = self.send(program)
        window = self.window()
        out: deque = deque()
        try:
            for key, arguments in items:
                future = self._submit(task, payload, *arguments)
                out.append((key, future))
                if len(out) >= window:
                    yield self._result(*out.popleft())
            while out:
                yield self._result(*out.popleft())
        finally:
            if out:
                futures = [future for _, future in out]
                self.pending.difference_update(futures)
                try:
                    self.client.cancel(futures, force=True)
                except Exception:
                    pass

    def _result(self, key, future) -> tuple:
        try:
            return key, future.result()
        except AutodiffError:
            raise                               # the run's own error, as one machine would give it
        except Exception as exc:
            raise AutodiffError(f"the Dask cluster at {clip(self.address)} failed a task: "
                                f"{type(exc).__name__}: {clip(str(exc))}") from None
        finally:
            self.pending.discard(future)

    # What the commands run

    def sweep_runner(self, program: Program, compiled: ArrayProgram, pieces: Iterable[tuple[int, Mapping]],
                     strict: bool) -> Iterator[Chunk]:
        """`sweeping.sweep`'s runner: each chunk of points a task, the chunks back in order.  With
        `strict`, a chunk where a point failed is run again here, which raises that point's error
        exactly as one machine does."""
        for (start, columns), (value, grad, errors) in self.ordered(
                sweep_task, program, (((start, columns), (columns,)) for start, columns in pieces)):
            if errors and strict:
                run_chunk(program, columns, start, True, compiled)
            yield chunk_of(program, columns, start, value, grad, errors)

    def check_runner(self, program: Program) -> Callable:
        """`checking.check_gradients`'s `run_chunks`: each chunk of a sweep's points a task; a check's
        node comes back as its number and is this graph's node again."""
        def run(pieces: Iterable[tuple[int, list]], settings) -> Iterator[tuple]:
            items = ((None, (start, chunk, settings)) for start, chunk in pieces)
            for _, (checks, skipped, checked) in self.ordered(check_task, program, items):
                yield ([replace(c, node=None if c.node is None else program.nodes[c.node]) for c in checks],
                       skipped, checked)
        return run

    def fit_runner(self, program: Program) -> Callable:
        """`training.fit`'s `run_chunks`: each chunk of rows a task at the pass's parameters."""
        def run(chunks: Iterable[tuple], point: dict) -> Iterator[tuple]:
            items = (((where, lines), (point, columns, len(lines))) for where, lines, columns in chunks)
            for (where, lines), sums in self.ordered(fit_task, program, items):
                yield where, lines, sums
        return run

    def factors_runner(self, program: Program, data: Data, compiled: ArrayProgram,
                       sigma: str | float | None) -> Callable[[list[str]], Factors]:
        """`least_squares.fit_least_squares`'s `passes`: each chunk's QR factors a task, combined in
        chunk order as `least_squares.factors` combines them."""
        def every(params: list[str]) -> Factors:
            point = {name: program.inputs[name].data for name in params}
            items = ((None, (point, params, sigma, data.source, lines, columns))
                     for _, lines, columns in data.chunks(compiled.chunk))
            total = None
            for _, found in self.ordered(factors_task, program, items):
                total = found if total is None else total.combine(found)
            return total
        return every


def _reachable(address: str) -> None:
    """Refuse at once an address Dask cannot use, or a TCP port where nothing listens (Dask itself
    would retry until its timeout)."""
    import socket

    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import get_backend

    try:
        scheme, location = parse_address(address)
        get_backend(scheme)
        if scheme != "tcp":
            return
        host, port = parse_host_port(location)
    except (ValueError, TypeError) as exc:
        raise AutodiffError(f"{clip(address)} is not a Dask scheduler's address: {exc}",
                            hint="a scheduler's address looks like tcp://10.0.0.5:8786") from None
    try:
        socket.create_connection((host, port), timeout=CONNECT_SECONDS).close()
    except OSError as exc:
        reason = exc.strerror or ("no answer within " f"{CONNECT_SECONDS} s" if isinstance(exc, TimeoutError)
                                  else str(exc))
        raise AutodiffError(f"no Dask scheduler at {clip(address)}: {reason}") from None


def _discard(exc: BaseException, kind: type) -> None:
    """Close quietly the client that failed to connect: left to the garbage collector, Dask's
    client would spend seconds trying to close and print a traceback."""
    trace = exc.__traceback__
    while trace is not None:
        client = trace.tb_frame.f_locals.get("self")
        if isinstance(client, kind):
            try:
                client.close(timeout=1)
            except Exception:
                pass
            client._Client__loop = None         # nothing left for its __del__ to close
            return
        trace = trace.tb_next


def _version() -> str:
    from . import __version__

    return __version__


# On the workers

_held = threading.local()           # each worker thread's parsed program: tasks on one thread share it


def _program(payload: tuple) -> tuple[Program, ArrayProgram]:
    """The program of `payload`, parsed on this thread once."""
    held = getattr(_held, "program", None)
    if held is not None and (held[0] is payload or held[0] == payload):
        return held[1], held[2]
    from .parsing import parse

    version, text, output_name, values, nodes, output = payload
    if version != _version():
        raise AutodiffError(f"a Dask worker runs autodiff-cli {_version()}, the client {version}: install the "
                            "same version on every worker")
    program = parse(text, output=output_name)
    program.set(dict(values))
    if len(program.nodes) != nodes or program.output.index != output:
        raise AutodiffError("a Dask worker parsed the program into another graph: install the same version of "
                            "autodiff-cli on every worker")
    compiled = ArrayProgram(program)
    _held.program = (payload, program, compiled)
    return program, compiled


def _at(program: Program, point: Mapping[str, float]) -> None:
    for name, value in point.items():
        program.inputs[name].data = value


def program_task(payload: tuple) -> tuple:
    """The program's text and settings, held by a worker for the tasks that need them."""
    return payload


def sweep_task(payload: tuple, columns: Mapping[str, object]) -> tuple:
    """One chunk of a sweep: the value, the gradients and the failed points' messages."""
    program, compiled = _program(payload)
    chunk = run_chunk(program, columns, 0, False, compiled)
    return chunk.value, chunk.grad, chunk.errors


def check_task(payload: tuple, start: int, points: list, settings: CheckSettings) -> tuple:
    """One chunk of a swept check: `checking.check_chunk`'s result, each check's node as its number
    (a node would carry its whole graph)."""
    program, _ = _program(payload)
    checks, skipped, checked = check_chunk(program, start, points, settings)
    return [replace(c, node=None if c.node is None else c.node.index) for c in checks], skipped, checked


def fit_task(payload: tuple, point: Mapping[str, float], columns: Mapping[str, object], n: int) -> ChunkSums:
    """One chunk of a training pass at the parameters `point` (every parameter, in order)."""
    program, compiled = _program(payload)
    _at(program, point)
    return chunk_sums(compiled, columns, n, list(point))


def factors_task(payload: tuple, point: Mapping[str, float], params: list[str], sigma, source: str, lines,
                 columns: Mapping[str, object]) -> Factors:
    """One chunk's QR factors for least squares at the parameters `point`."""
    program, compiled = _program(payload)
    _at(program, point)
    return chunk_factors(compiled, columns, lines, params, sigma, source)
