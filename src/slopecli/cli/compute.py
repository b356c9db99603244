"""``slopecli compute``: preds, error and slope per row, and the gradient and MSE."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from slopecli.cli import options as o
from slopecli.cli.app import app


@app.command()
def compute(
    file: Annotated[
        Path | None,
        typer.Argument(
            metavar="FILE",
            help="A CSV/TSV file with a header row, or - for stdin. Omit it to use --input/--target.",
            show_default=False,
        ),
    ] = None,
    weights: o.Weights = None,
    weights_file: o.WeightsFile = None,
    inputs: o.Inputs = None,
    targets: o.Targets = None,
    header: o.Header = True,
    target_column: o.TargetColumn = None,
    features: o.Features = None,
    delimiter: o.Delimiter = None,
    fmt: o.Format = o.OutputFormat.table,
    json_flag: o.Json = False,
    summary: o.Summary = False,
    precision: o.Precision = 6,
    show_rows: o.ShowRows = 10,
    all_rows: o.AllRows = False,
) -> None:
    """Compute preds, error and slope for each row, then the gradient and MSE, step by step.

    preds = Σ w·x · error = preds − target · slope = 2·x·error

    gradient = mean of the row slopes = (2/n)·Xᵀ(Xw − y) · mse = mean(error²)

    Example: slopecli compute --weights 0,2,1 --input 1,2,3 --target 0
    """
    from slopecli.cli.inputs import check_counts, csv_options, open_rows, read_weights
    from slopecli.cli.output import choose_format, held_stdout, make_sink
    from slopecli.evaluate import evaluate

    output = choose_format(fmt, json_flag)
    w = read_weights(weights, weights_file)
    options = csv_options(file or Path(), header, target_column, features, delimiter)
    with open_rows(file, inputs, targets, options) as source:
        check_counts(w, source, "--weights-file" if weights_file else "--weights")
        with held_stdout() as out:
            sink = make_sink(
                output,
                out,
                summary=summary,
                precision=precision,
                show_rows=None if all_rows else show_rows,
                title="flags" if file is None else source.name,
            )
            sink.begin(source.features, w)
            sums = evaluate(source.chunks(), w, None if summary else sink.rows, source.name)
            sink.end(sums)
