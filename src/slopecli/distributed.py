"""``--engine dask``: the same sums, computed where the data lives, on a Dask cluster.

Every file is read by slopecli's own readers, on the workers: it is cut into pieces (byte ranges
of a CSV file at line starts, runs of row groups of a Parquet file), each piece is one task that
opens the file with :func:`slopecli.dataset.open_path` and folds its rows into the core's
reducer, and the pieces' sums are added. A file therefore reads exactly as it does locally: the
same dialect, the same rejections, the same features by name. With ``--out``, each file's
per-row results are written by a worker with the local engine's :func:`batch.process`.

A file whose piece fails is read once more, whole, on a worker by :func:`batch.process`, as the
local engine does: that names the file, line and column, or gives the sums when a piece boundary
was to blame. Paths must be readable by the client (for
the header) and by the workers: a shared filesystem, as Dask itself assumes.

Dask is an optional extra; nothing imports this module unless ``--engine dask`` is asked for.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import struct
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from slopecli import waits
from slopecli.batch import FileResult, Task, process
from slopecli.core import Sums
from slopecli.dataset import Plan, open_path, opening_error
from slopecli.errors import DataError, InputError, SlopeError, UsageError
from slopecli.evaluation import checked, evaluate
from slopecli.lifetime import kill_descendants
from slopecli.readers.table import Piece

INSTALL = 'the dask engine needs the optional extra: pip install "slopecli[dask]"'
SCHEDULER_VARIABLE = "DASK_SCHEDULER_ADDRESS"
IN_PROCESS = ("synchronous", "threads", "processes")
"""``--scheduler`` values that run in this process, without a cluster."""
TIMEOUT = 10.0
"""Seconds to wait for the scheduler: to connect, for its first reply, for any later message."""
PIECE_BYTES = 64 << 20
"""About how much of a file one task reads."""


def require_dask() -> None:
    """Fail with the install command when the extra is missing."""
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise InputError(INSTALL) from None


@contextmanager
def connection(scheduler: str | None, workers: int, timeout: float = TIMEOUT) -> Iterator[Any]:
    """A Dask client: to ``scheduler`` (or ``$DASK_SCHEDULER_ADDRESS``), else to a local cluster
    started for this run on 127.0.0.1 with random ports and closed afterwards. ``synchronous``,
    ``threads`` and ``processes`` use Dask's single-machine schedulers and yield None.

    The waits for the connection and the scheduler's first replies are bounded by ``timeout``
    seconds; a connection that dies later is noticed by Dask's own TCP keepalive.

    Raises:
        UsageError: the address is not one slopecli can use, or ``timeout`` is not positive.
        InputError: nothing answers there as a Dask scheduler does, within ``timeout``.
    """
    if not (math.isfinite(timeout) and timeout > 0):
        msg = f"--timeout: expected a positive number of seconds, got {timeout:g}"
        raise UsageError(msg)
    if scheduler is not None and not scheduler.strip():  # an unset shell variable, most likely
        msg = (
            "--scheduler: expected tcp://HOST:PORT, or synchronous, threads or processes; got an empty value"
        )
        raise UsageError(msg)
    address = scheduler or os.environ.get(SCHEDULER_VARIABLE)
    if address in IN_PROCESS:
        import dask

        with dask.config.set(scheduler=address):
            yield None
        return
    import dask
    from distributed import Client, LocalCluster

    wait = f"{timeout:g}s"
    limits = {"distributed.comm.timeouts.connect": wait}
    if address:
        host, port = _tcp_address(address)
        _probe(address, host, port, timeout)
        try:
            with dask.config.set(limits):
                client = Client(address, timeout=wait)
        except (OSError, ValueError, TimeoutError) as exc:
            msg = f"--scheduler: cannot reach the Dask scheduler at {address}: {exc}"
            raise InputError(msg) from None
        with dask.config.set(limits), client:
            yield client
        return
    # The cluster's event loop runs in a thread of ours and logs through the logging module: a
    # worker killed by Ctrl-C while the cluster starts is logged by asyncio ("Task exception was
    # never retrieved", with a traceback) at any moment, even before the interrupt reaches us.
    # Our stderr carries one line per outcome, so the loop is silenced while the cluster lives.
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    cluster = None
    try:
        with _workers_write_nowhere():
            cluster = _made_on_a_thread(
                lambda: LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    scheduler_port=0,
                    dashboard_address="127.0.0.1:0",
                    # A failing shard is reported once, as one line; the workers' tracebacks would bury it.
                    silence_logs=logging.CRITICAL,
                )
            )
        client = _made_on_a_thread(lambda: Client(cluster))
    except waits.ENDING:
        _abandon()
        raise
    except BaseException:
        if cluster is not None:  # made, but no client could join it: its workers are ended
            with cluster:
                pass
        logging.disable(previous)
        raise
    try:
        yield client
    except waits.ENDING:
        _abandon()
        raise
    except BaseException:
        _close(client, cluster)
        logging.disable(previous)
        raise
    _close(client, cluster)
    logging.disable(previous)


T = TypeVar("T")


def _made_on_a_thread(make: Callable[[], T]) -> T:
    """``make()``, called on another thread while this one waits in steps (:mod:`slopecli.waits`).

    Dask makes a cluster or a client, as it waits for a result, with the calling thread blocked
    in lock waits of up to 10 s that only a signal taken by that very thread interrupts: Ctrl-C
    went unnoticed for seconds (15 runs in 100 while the cluster started, under load).
    """
    made: list[T] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            made.append(make())
        except BaseException as exc:  # handed to the waiting thread, which raises it
            failed.append(exc)

    worker = threading.Thread(target=run, name="slopecli: dask start", daemon=True)
    worker.start()
    waits.joined(worker)
    if failed:
        raise failed[0]
    return made[0]


def _abandon() -> None:
    """End an interrupted run's own cluster now: closed gracefully it takes one to five seconds.

    Its event loop goes on in another thread until the process exits, logging each worker it
    finds dead ("Nanny failed to start", with a traceback): its logs stay off for good. It also
    goes on starting workers: one started after the kill below would live on for the second or
    two its imports take, holding our stdout and stderr open (a ``$(slopecli ...)`` waits for
    it), so every Python child started from now on is pointed at a file that cannot be run.
    Like the kill of every descendant, that is for a process about to exit: the command line's.
    """
    import multiprocessing

    logging.disable(logging.CRITICAL)
    multiprocessing.set_executable(os.devnull)
    kill_descendants()


def _close(client: Any, cluster: Any) -> None:
    with client, cluster:
        pass


@contextmanager
def _workers_write_nowhere() -> Iterator[None]:
    """Start the local cluster's processes with their stderr on /dev/null (they inherit fd 2).

    Ctrl-C goes to the terminal's whole process group, workers included, at any moment of their
    start: each would print a traceback (dozens of lines in all), and multiprocessing's resource
    tracker would warn of their semaphores, while the run that owns them reports the interrupt in
    one line. Their results and failures come back through Dask, not through stderr.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    nowhere = os.open(os.devnull, os.O_WRONLY)
    os.dup2(nowhere, 2)
    os.close(nowhere)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _tcp_address(address: str) -> tuple[str, int]:
    """``tcp://HOST:PORT`` split, or a usage error that says what is accepted."""
    scheme, _, rest = address.partition("://")
    host, _, port = rest.rpartition(":")
    if scheme != "tcp" or not host or not port.isdigit():
        why = (
            f"{scheme}:// needs security settings slopecli does not pass"
            if rest and scheme in ("tls", "ucx", "ws", "wss")
            else "it is not a scheduler address"
        )
        msg = f"--scheduler: {address!r}: {why}; give tcp://HOST:PORT, or one of {', '.join(IN_PROCESS)}"
        raise UsageError(msg)
    return host.strip("[]"), int(port)


def _probe(address: str, host: str, port: int, timeout: float) -> None:
    """Fail early, in ``timeout``, unless a Dask scheduler answers at ``host:port``.

    A scheduler greets every new connection at once with a framed handshake: 8 bytes of total
    length, 8 bytes of frame count, then the frames' lengths. A server that stays silent (an
    HTTP port waits for a request) would hang the client; one that sends other bytes would have
    Dask read them as a length and try to allocate exabytes.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            head = b""
            while len(head) < 16:
                more = sock.recv(16 - len(head))
                if not more:
                    break
                head += more
    except TimeoutError:
        msg = (
            f"--scheduler: {address} accepted the connection but sent no Dask handshake within"
            f" {timeout:g} s: is it a Dask scheduler? (--timeout changes the wait)"
        )
        raise InputError(msg) from None
    except OSError as exc:
        msg = f"--scheduler: cannot reach the Dask scheduler at {address}: {exc.strerror or exc}"
        raise InputError(msg) from None
    size, frames = struct.unpack("<QQ", head) if len(head) == 16 else (0, 0)
    if not (0 < frames <= 64 and 8 * frames < size < 1 << 20):
        msg = f"--scheduler: {address} answered, but not as a Dask scheduler does; give a scheduler's address"
        raise InputError(msg)


def run(tasks: list[Task], client: Any) -> list[FileResult]:
    """Every task's result, in input order, computed on the cluster (or in process if None)."""
    # Dask's own deprecation notices (of pandas APIs it calls) are not the user's business.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        return _run(tasks, client)


def _run(tasks: list[Task], client: Any) -> list[FileResult]:
    import dask

    results: list[FileResult] = []
    pending: list[tuple[int, Any]] = []
    split: set[int] = set()
    for i, task in enumerate(tasks):
        result = FileResult(task.path)
        results.append(result)
        try:
            result.size = task.path.stat().st_size
            if not task.path.is_file():
                # A pipe or FIFO can be read once; every piece, and the header, reopen the file.
                msg = (
                    f"{task.path}: not a regular file; the Dask engine's workers reopen each file,"
                    " which a pipe cannot be: use the local engine"
                )
                raise DataError(msg)
            if task.out is not None:
                pending.append((i, dask.delayed(process)(task)))
                continue
            with open_path(task.plan, task.path) as table:
                result.features = table.features
                count = -(-result.size // PIECE_BYTES)
                pieces: list[Piece | None] = [*table.pieces(count, processes=True)] or [None]
        except SlopeError as exc:
            result.error = str(exc)
            continue
        except OSError as exc:
            result.error = opening_error(task.path, exc)
            continue
        if pieces != [None]:
            split.add(i)
        sums = [dask.delayed(_piece_sums)(task.plan, task.path, piece) for piece in pieces]
        while len(sums) > 1:
            sums = [dask.delayed(_add)(*sums[k : k + 2]) for k in range(0, len(sums), 2)]
        pending.append((i, sums[0]))
    positions = [i for i, _ in pending]
    for i, value in zip(positions, _gather([work for _, work in pending], client), strict=True):
        if isinstance(value, FileResult):
            results[i] = value
        elif isinstance(value, Sums):
            try:
                results[i].sums = checked(value, str(tasks[i].path))
            except SlopeError as exc:
                results[i].error = str(exc)
        elif isinstance(value, SlopeError) and i not in split:
            results[i].error = str(value)
        else:
            results[i] = _diagnosed(tasks[i], client)
    return results


def _piece_sums(run: Plan, path: Path, piece: Piece | None) -> Sums:
    """The sums of one piece of a file (or of all of it), read by slopecli's reader. Runs on a worker."""
    with open_path(run, path) as table:
        chunks = table.chunks() if piece is None else table.read_piece(piece)
        return evaluate(chunks, run.weights, None, str(path))


def _add(*sums: Sums) -> Sums:
    total = sums[0]
    for more in sums[1:]:
        total = total + more
    return total


def _gather(delayed: list[Any], client: Any) -> list[Any]:
    """Each computed value, or the exception its computation raised."""
    import dask

    if client is None:
        values = []
        for item in delayed:
            try:
                values.append(dask.compute(item)[0])
            except (SlopeError, OSError) as exc:
                values.append(exc)
        return values
    futures = waits.all_done(client.compute(delayed))
    values = []
    for future in futures:
        error = future.exception()
        values.append(error if error is not None else future.result())
    return values


def _diagnosed(task: Task, client: Any) -> FileResult:
    """A file one of whose pieces failed, read again in one pass on a worker, as the local engine
    does: its one-line reason (file, line, column), or its sums when only the cut was to blame (a
    quoted line break that a piece boundary fell inside)."""
    if client is None:
        found = process(task)
    else:
        found = waits.all_done([client.submit(process, task, pure=False)])[0].result()
    found.size = _size(task.path)
    return found


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
