"""``compute --engine dask``: one dataset cut into shards, its combined gradient and MSE."""

from __future__ import annotations

from pathlib import Path

from slopecli.cli.inputs import csv_options, read_weights
from slopecli.cli.options import OutputFormat
from slopecli.cli.output import held_stdout, make_sink
from slopecli.errors import InputError


def compute_on_dask(
    file: Path | None,
    weights: str | None,
    weights_file: Path | None,
    header: bool,
    target_column: str | None,
    features: str | None,
    delimiter: str | None,
    output: OutputFormat,
    scheduler: str | None,
    precision: int,
    bias: bool = False,
) -> None:
    """The summary of ``compute`` over every shard FILE names (a path, a glob or a directory)."""
    from slopecli import batch as b
    from slopecli import distributed

    if file is None:
        msg = "--engine dask reads files: give FILE (a path, a glob or a directory of shards)"
        raise InputError(msg)
    if output is OutputFormat.csv:
        msg = "--engine dask computes the combined sums only; for per-row CSV use: slopecli batch --out DIR"
        raise InputError(msg)
    distributed.require_dask()
    w = read_weights(weights, weights_file)
    options = csv_options(header, target_column, features, delimiter)
    paths = b.expand_paths([str(file)])
    tasks = [b.Task(p, w, options, bias=bias) for p in paths]
    with distributed.connection(scheduler, b.default_jobs()) as client:
        results = distributed.run(tasks, client)
    combiner = b.Combiner()
    for result in results:
        combiner.add(result)
        if result.error is not None:
            # One bad shard makes the dataset's sums wrong: the whole computation fails.
            raise InputError(result.error)
    if combiner.total is None or combiner.features is None:
        msg = f"{file}: no rows"
        raise InputError(msg)
    with held_stdout() as out:
        sink = make_sink(output, out, summary=True, precision=precision, show_rows=0, title=str(file))
        sink.begin(combiner.features, w)
        sink.end(combiner.total)
