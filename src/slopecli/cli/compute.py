"""``slopecli compute``: preds, error and slope per row, and the gradient and MSE."""

import contextlib
import os
import sys
from typing import TYPE_CHECKING

from slopecli.cli import network as n
from slopecli.cli import options as o
from slopecli.cli.app import app

if TYPE_CHECKING:
    from slopecli.dataset import DataOptions
    from slopecli.render.progress import RowProgress


@app.command()
@o.data_flags()
def compute(
    *,
    data: "DataOptions",
    fmt: o.Format = None,
    json_flag: o.Json = False,
    summary: o.Summary = False,
    precision: o.Precision = 6,
    show_rows: o.ShowRows = None,
    all_rows: o.AllRows = False,
    row: o.Row = None,
    quiet: o.Quiet = False,
    engine: o.EngineOption = o.Engine.local,
    scheduler: o.Scheduler = None,
    timeout: o.Timeout = 10.0,
    network: n.NetworkFile = None,
    draw: n.Draw = None,
) -> None:
    """Compute preds, error and slope for each row, then the gradient and MSE, step by step.

    preds = Σ w·x · error = preds − target · slope = 2·x·error

    gradient = mean of the row slopes = (2/n)·Xᵀ(Xw − y) · mse = mean(error²)

    With --engine dask, FILE may be a glob or a directory of shards: their combined gradient and
    MSE are computed on a Dask cluster (per-row results: use batch --out).

    With --network FILE, the model is a network: each layer's z = W·a_prev + b and a = f(z), the
    loss mean((preds − target)²) and every weight's gradient by backpropagation.

    Example: slopecli compute --weights 0,2,1 --input 1,2,3 --target 0

    Example: slopecli compute --network samples/course-network.json --input 2,3 --target 7 --draw net.svg
    """
    from slopecli.cli.inputs import dataset
    from slopecli.cli.output import choose_format, held_stdout, make_sink
    from slopecli.evaluation import CORES, evaluate_table

    output = choose_format(fmt, json_flag)
    n.refuse_without_network(network, draw=draw)
    if network is not None and engine is o.Engine.local and scheduler is None:
        n.compute_network(data, network, output, summary=summary, precision=precision, row=row, draw=draw)
        return
    if network is not None:
        from slopecli.errors import UsageError

        raise UsageError("--network needs the local engine (no --engine dask, no --scheduler)")
    if engine is o.Engine.dask:
        from slopecli.cli.shards import compute_on_dask

        per_row_table = {
            "--row": row is not None,
            "--all-rows": all_rows,
            "--show-rows": show_rows is not None,
        }
        for flag, given in per_row_table.items():
            if given:
                from slopecli.errors import UsageError

                raise UsageError(f"{flag} needs the local engine: --engine dask computes the sums only")

        compute_on_dask(data, output, scheduler, precision, timeout)
        return
    if scheduler is not None:
        from slopecli.errors import UsageError

        raise UsageError("--scheduler needs --engine dask")
    # JSON Lines promise a line per row as it is computed: a reader following a stream sees them.
    with (
        dataset(data) as source,
        held_stdout(stream=output is o.OutputFormat.jsonl) as out,
        _progress(data.file) as progress,
    ):
        # A file's pieces are read on every core and its chunks encoded on every core; a stream's
        # chunks are read and encoded in turn, each as it arrives.
        threads = CORES if data.file not in (None, "-") else 1
        sink = make_sink(
            output,
            out,
            summary=summary,
            precision=precision,
            show_rows=o.listed_rows(show_rows, all_rows),
            title=source.title,
            row=row,
            threads=threads,
        )
        sink.begin(source.features, source.weights)
        on_chunk = progress.advance if progress is not None else None
        if summary:
            sums = evaluate_table(source.table, source.weights, on_chunk=on_chunk)
        else:
            from slopecli.per_row import evaluate_rows
            from slopecli.render.machine import CsvWriter

            # CSV lines need no row number: the threads that read a large file's pieces encode them.
            encoder = sink if isinstance(sink, CsvWriter) else None
            sums = evaluate_rows(source.table, source.weights, sink.rows, threads, on_chunk, encoder)
        if progress is not None:
            progress.close()  # cleared before the result is drawn on the same terminal
        sink.end(sums)
    if not quiet and getattr(sink, "single_point", False):
        from slopecli.render.tables import suggest_next

        suggest_next("compute", data)


PROGRESS_BYTES = 64 << 20
"""Files at least this large show progress (on a terminal): smaller ones are done in a blink."""


def _progress(file: str | None) -> "contextlib.AbstractContextManager[RowProgress | None]":
    """A progress display for one large file when stderr is a terminal; else nothing (and no Rich)."""
    if file in (None, "-") or not sys.stderr.isatty():
        return contextlib.nullcontext()
    try:
        size = os.stat(file).st_size
        with open(file, "rb") as fp:
            head = fp.read(1 << 20)
    except OSError:
        return contextlib.nullcontext()  # the reader says why, with its own message
    if size < PROGRESS_BYTES:
        return contextlib.nullcontext()
    from slopecli.render.progress import RowProgress

    # Rows estimated from the lines of the first MiB (a CSV file; Parquet's come without a bar).
    lines = head.count(b"\n")
    total = size * lines // len(head) if lines and not head.startswith(b"PAR1") else None
    return RowProgress(total)
