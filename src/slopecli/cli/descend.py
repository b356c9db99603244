"""``slopecli descend``: full-batch gradient descent, its history and its loss curve."""

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from slopecli.cli import network as n
from slopecli.cli import options as o
from slopecli.cli.app import app

if TYPE_CHECKING:
    from slopecli.dataset import DataOptions

MAX_STEPS = 1_000_000
"""A run keeps every step for its report: a typo such as 10**20 would fill the memory, not run."""


@app.command()
@o.data_flags()
def descend(
    *,
    data: "DataOptions",
    learning_rate: o.LearningRate = 0.01,
    steps: Annotated[
        int,
        typer.Option(
            "--steps",
            min=0,
            max=MAX_STEPS,
            metavar="N",
            help="Updates to make at most.",
        ),
    ] = 100,
    tol: Annotated[
        float | None,
        typer.Option(
            "--tol", metavar="TOL", parser=o.number, help="Stop once the gradient norm falls below TOL."
        ),
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            metavar="FILE.svg",
            parser=o.output_file,
            help="Save the loss curve as an SVG image.",
            rich_help_panel=o.OUTPUT,
        ),
    ] = None,
    save_weights: Annotated[
        Path | None,
        typer.Option(
            "--save-weights",
            metavar="FILE",
            parser=o.output_file,
            help="Save the final weights as JSON, for --weights-file.",
            rich_help_panel=o.OUTPUT,
        ),
    ] = None,
    fmt: o.Format = None,
    json_flag: o.Json = False,
    precision: o.Precision = 6,
    quiet: o.Quiet = False,
    network: n.NetworkFile = None,
    save_network: n.SaveNetwork = None,
) -> None:
    """Run gradient descent: each step one pass over the data, w ← w − learning_rate·gradient.

    Stops after --steps updates, or when the gradient norm falls below --tol; a run whose MSE
    keeps growing is stopped as diverging.

    With --network FILE, every weight and bias of the network descends the loss
    mean((preds − target)²); --save-network writes the final network.

    Example: slopecli descend samples/points.csv --weights 0,0,0 --lr 0.001 --steps 50

    Example: slopecli descend --network samples/network.json -x 3,5 -y 1 --lr 0.0001 --save-network out.json
    """
    import json

    from slopecli.cli.inputs import dataset
    from slopecli.cli.learning import positive, refuse_inputs, writable, write_atomically
    from slopecli.cli.output import choose_format, held_stdout
    from slopecli.descent import descend as run_descent
    from slopecli.errors import UsageError

    output = choose_format(fmt, json_flag)
    lr = positive(learning_rate, "--learning-rate")
    if tol is not None:
        positive(tol, "--tol")
    n.refuse_without_network(network, save_network=save_network)
    if network is not None:
        if save_weights is not None:
            raise UsageError(
                "--save-weights saves a linear model's weights: with --network use --save-network"
            )
        with _step_progress(steps) as progress:
            n.descend_network(
                data,
                network,
                output,
                learning_rate=lr,
                steps=steps,
                tol=tol,
                plot=plot,
                save_network=save_network,
                precision=precision,
                progress=progress,
            )
        return
    if plot is not None and plot.suffix.lower() != ".svg":
        msg = f"--plot: {plot}: the loss curve is written as SVG; name the file *.svg"
        raise UsageError(msg)
    # Saving over the --weights-file is allowed: it has been read, and runs chain that way.
    file = Path(data.file) if data.file is not None else None
    weights_file = Path(data.weights_file) if data.weights_file is not None else None
    if (
        save_weights is not None
        and plot is not None
        and os.path.realpath(save_weights) == os.path.realpath(plot)
    ):
        msg = f"--save-weights and --plot: both name {plot}; give each its own file"
        raise UsageError(msg)
    refuse_inputs("--save-weights", save_weights, file)
    refuse_inputs("--plot", plot, file, weights_file)
    # A path that cannot be written fails now, not after every step has been taken.
    writable("--save-weights", save_weights)
    writable("--plot", plot)
    streaming = output is o.OutputFormat.jsonl
    with dataset(data) as source, held_stdout(streaming) as out, _step_progress(steps) as progress:
        w = source.weights
        writer = None
        if output is not o.OutputFormat.table:
            from slopecli.render.machine import DescentWriter

            writer = DescentWriter(out, output.value)
            writer.begin(source.features, w.tolist(), lr, steps, tol)

        def on_step(record):  # type: ignore[no-untyped-def]
            if record.step:  # step 0 is the starting point, not a step taken
                progress.advance()
            if writer is not None:
                writer.step(record)

        run = run_descent(source.passes(), w, lr, steps, tol, on_step=on_step, source=source.name)
        progress.close()
        if writer is not None:
            writer.end(run)
        else:
            from slopecli.render.descent_tables import draw_descent
            from slopecli.render.tables import stdout_console

            draw_descent(stdout_console(), run, source.features, precision)
            if not quiet and data.file is None and len(data.inputs) == 1:  # one point, typed as flags
                from slopecli.render.tables import suggest_next

                suggest_next("descend", data, learning_rate=lr)
        if save_weights is not None:
            saved = {"weights": run.final.weights.tolist(), "features": list(source.features)}
            text = json.dumps(saved, allow_nan=False) + "\n"
            write_atomically(save_weights, text, "--save-weights")
        if plot is not None:
            from slopecli.render.plot import loss_curve_svg

            write_atomically(plot, loss_curve_svg([h.mse for h in run.history]), "--plot")


def _step_progress(steps: int):  # type: ignore[no-untyped-def]
    from slopecli.render.progress import StepProgress

    return StepProgress(steps)
