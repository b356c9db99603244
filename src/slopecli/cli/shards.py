"""``compute --engine dask``: one dataset cut into shards, its combined gradient and MSE."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from slopecli.cli.options import OutputFormat
from slopecli.cli.output import held_stdout, make_sink
from slopecli.errors import InputError, UsageError

if TYPE_CHECKING:
    from slopecli.dataset import DataOptions


def compute_on_dask(
    data: DataOptions, output: OutputFormat, scheduler: str | None, precision: int, timeout: float
) -> None:
    """The summary of ``compute`` over every shard FILE names (a path, a glob or a directory)."""
    from slopecli import batch as b
    from slopecli import distributed
    from slopecli.dataset import plan, with_first_order

    if data.file is None or data.inputs or data.targets:
        msg = (
            "--engine dask reads files: give FILE (a path, a glob or a directory of shards),"
            " not --input/--target"
        )
        raise UsageError(msg)
    if data.file == "-":
        msg = "--engine dask reads files that its workers can open, not stdin; use the local engine"
        raise UsageError(msg)
    if output is OutputFormat.csv:
        msg = "--engine dask computes the combined sums only; for per-row CSV use: slopecli batch --out DIR"
        raise UsageError(msg)
    distributed.require_dask()
    entries = b.expand_paths([data.file])
    paths = [entry for entry in entries if isinstance(entry, Path)]
    run = with_first_order(plan(data), paths)
    tasks = [b.Task(p, run) for p in paths]
    with distributed.connection(scheduler, b.default_jobs(), timeout) as client:
        results = b.in_place(entries, distributed.run(tasks, client))
    combiner = b.Combiner()
    for result in results:
        if result.error is not None:
            # One bad shard makes the dataset's sums wrong: the whole computation fails.
            raise InputError(result.error)
        combiner.add(result)
    if combiner.total is None or combiner.features is None:
        msg = f"{data.file}: no rows"
        raise InputError(msg)
    with held_stdout() as out:
        sink = make_sink(output, out, summary=True, precision=precision, show_rows=0, title=data.file)
        sink.begin(combiner.features, run.weights)
        sink.end(combiner.total)
