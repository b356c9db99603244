"""``--engine dask``: the same sums, computed where the data lives, on a Dask cluster.

Each file is read with ``dask.dataframe`` (CSV or Parquet) in partitions; each partition goes
through the core's own reducer (:meth:`Sums.of` via :func:`evaluate`) on a worker, and the
partition sums are added — the one formula the local engine uses too. With ``--out``, each
file's per-row results are written by a worker with the local engine's :func:`batch.process`,
atomically as always.

A file that fails on a worker is diagnosed by slopecli's own loader, also on a worker, so the
message is the same one line (file, line, column) the local engine gives. Paths must be readable
by the client (for the header) and by the workers: a shared filesystem, as Dask itself assumes.

Dask is an optional extra; nothing imports this module unless ``--engine dask`` is asked for.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from slopecli.batch import FileResult, Task, process
from slopecli.core import Sums, Vector
from slopecli.errors import InputError, SlopeError
from slopecli.evaluate import evaluate
from slopecli.loaders import BIAS, Chunk, CsvOptions, Layout, delimiter_for, open_table, with_bias
from slopecli.parquet import is_parquet
from slopecli.text import count

INSTALL = 'the dask engine needs the optional extra: pip install "slopecli[dask]"'
SCHEDULER_VARIABLE = "DASK_SCHEDULER_ADDRESS"
IN_PROCESS = ("synchronous", "threads", "processes")
"""``--scheduler`` values that run in this process, without a cluster."""
BLOCK_BYTES = 64 << 20


def require_dask() -> None:
    """Fail with the install command when the extra is missing."""
    try:
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise InputError(INSTALL) from None


@contextmanager
def connection(scheduler: str | None, workers: int) -> Iterator[Any]:
    """A Dask client: to ``scheduler`` (or ``$DASK_SCHEDULER_ADDRESS``), else to a local cluster
    started for this run on 127.0.0.1 with random ports and closed afterwards. ``synchronous``,
    ``threads`` and ``processes`` use Dask's single-machine schedulers and yield None.
    """
    address = scheduler or os.environ.get(SCHEDULER_VARIABLE)
    if address in IN_PROCESS:
        import dask

        with dask.config.set(scheduler=address):
            yield None
        return
    from distributed import Client, LocalCluster

    if address:
        if "://" not in address or not address.rsplit(":", 1)[-1].isdigit():
            msg = (
                f"--scheduler: {address!r} is not a scheduler address: give tcp://HOST:PORT, or"
                f" one of {', '.join(IN_PROCESS)}"
            )
            raise InputError(msg)
        try:
            client = Client(address, timeout="10s")
        except (OSError, ValueError) as exc:
            msg = f"--scheduler: cannot reach the Dask scheduler at {address}: {exc}"
            raise InputError(msg) from None
        with client:
            yield client
        return
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        scheduler_port=0,
        dashboard_address="127.0.0.1:0",
        # A failing shard is reported once, as one line; the workers' tracebacks would bury it.
        silence_logs=logging.CRITICAL,
    )
    with cluster, Client(cluster) as client:
        yield client


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
    unreadable: list[tuple[int, BaseException]] = []
    for i, task in enumerate(tasks):
        result = FileResult(task.path)
        results.append(result)
        try:
            result.size = task.path.stat().st_size
            if task.out is not None:
                pending.append((i, dask.delayed(process)(task)))
                continue
            layout, result.features = _layout(task)
            pending.append((i, _file_sums(task, layout)))
        except SlopeError as exc:
            result.error = str(exc)
        except OSError as exc:
            result.error = f"{task.path}: {exc.strerror or exc}"
        except ValueError as exc:  # dask.dataframe parses a sample of the file here, on the client
            unreadable.append((i, exc))
    for i, failure in unreadable:
        results[i] = _diagnosed(tasks[i], failure, client)
    positions = [i for i, _ in pending]
    for i, value in zip(positions, _gather([work for _, work in pending], client), strict=True):
        if isinstance(value, FileResult):
            results[i] = value
        elif isinstance(value, Sums):
            results[i].sums = value
        else:
            results[i] = _diagnosed(tasks[i], value, client)
    return results


def _layout(task: Task) -> tuple[Layout, tuple[str, ...]]:
    with task.path.open("rb") as fp, open_table(fp, str(task.path), task.options) as table:
        features = (*table.features, BIAS) if task.bias else table.features
        if len(task.weights) != len(features):
            weights, columns = count(len(task.weights), "weight"), count(len(features), "feature")
            msg = f"{task.path}: {weights}, but the file has {columns}"
            raise InputError(msg)
        return table.layout, features


def _file_sums(task: Task, layout: Layout) -> Any:
    """A delayed Sums for the whole file: one reducer call per partition, added pairwise."""
    import dask
    import dask.dataframe as dd

    internal = [f"c{i}" for i in range(len(layout.names))]
    used = [*layout.feature_positions, layout.target_position]
    if is_parquet(str(task.path)):
        frame = dd.read_parquet(str(task.path), columns=[layout.names[i] for i in used])
        frame.columns = [internal[i] for i in used]
    else:
        frame = dd.read_csv(
            str(task.path),
            sep=delimiter_for(str(task.path), task.options.delimiter),
            header=None,
            names=internal,
            skiprows=layout.header_lines,
            usecols=[internal[i] for i in used],
            dtype=dict.fromkeys((internal[i] for i in used), "float64"),
            blocksize=BLOCK_BYTES,
            sample=min(BLOCK_BYTES, 256_000),
            skip_blank_lines=True,
        )
    features = [internal[i] for i in layout.feature_positions]
    target = internal[layout.target_position]
    parts = [
        dask.delayed(_partition_sums)(part, features, target, task.weights, str(task.path), task.bias)
        for part in frame.to_delayed()
    ]
    while len(parts) > 1:
        parts = [dask.delayed(_add)(*parts[i : i + 2]) for i in range(0, len(parts), 2)]
    return parts[0]


def _partition_sums(
    frame: Any, features: list[str], target: str, weights: Vector, name: str, bias: bool
) -> Sums:
    """One partition through the core's reducer. Runs on a worker."""
    import numpy as np

    X = frame[features].to_numpy(dtype=np.float64)
    y = frame[target].to_numpy(dtype=np.float64)
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        # Empty fields read as NaN here; the local loader will say which line and column.
        msg = f"{name}: a value is empty, NaN or infinite"
        raise ValueError(msg)
    chunks = [Chunk(X, y, 0)]
    return evaluate(with_bias(chunks) if bias else chunks, weights, None, name)


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
            except (ValueError, TypeError, OSError, SlopeError) as exc:
                values.append(exc)
        return values
    futures = client.compute(delayed)
    values = []
    for future in futures:
        error = future.exception()
        values.append(error if error is not None else future.result())
    return values


def _diagnosed(task: Task, failure: BaseException, client: Any) -> FileResult:
    """The local engine's one-line reason for a file Dask could not read, found on a worker."""
    if isinstance(failure, SlopeError):
        return FileResult(task.path, error=str(failure))
    plain = replace(task, out=None, options=replace(task.options, block_bytes=CsvOptions().block_bytes))
    found = process(plain) if client is None else client.submit(process, plain, pure=False).result()
    if found.error is None:
        found = FileResult(task.path, error=f"{task.path}: Dask could not read it: {failure}")
    found.size = _size(task.path)
    return found


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
