"""``slopecli step``: one gradient-descent update, before and after."""

from typing import TYPE_CHECKING

from slopecli.cli import network as n
from slopecli.cli import options as o
from slopecli.cli.app import app

if TYPE_CHECKING:
    from slopecli.dataset import DataOptions


@app.command()
@o.data_flags()
def step(
    *,
    data: "DataOptions",
    learning_rate: o.LearningRate = 0.01,
    fmt: o.Format = None,
    json_flag: o.Json = False,
    summary: o.Summary = False,
    precision: o.Precision = 6,
    show_rows: o.ShowRows = None,
    all_rows: o.AllRows = False,
    quiet: o.Quiet = False,
    network: n.NetworkFile = None,
    save_network: n.SaveNetwork = None,
    draw: n.Draw = None,
) -> None:
    """One update: weights_updated = weights − learning_rate·gradient, with the MSE before and after.

    --format csv writes the rows, a blank line, then feature,weights,gradient,weights_updated per
    feature.

    With --network FILE, every weight and bias of the network takes the step; --save-network
    writes the updated network for the next run's --network.

    Example: slopecli step --weights 0,2,1 --input 1,2,3 --target 0 --lr 0.01

    Example: slopecli step --network samples/network.json -x 3,5 -y 1 --lr 0.0001 --save-network next.json
    """
    from slopecli.cli.inputs import dataset
    from slopecli.cli.learning import positive
    from slopecli.cli.output import choose_format, held_stdout
    from slopecli.descent import step as one_step

    output = choose_format(fmt, json_flag)
    if output is o.OutputFormat.csv and summary:
        from slopecli.errors import UsageError

        raise UsageError("--summary has no per-row CSV to write: use --format json or jsonl")
    lr = positive(learning_rate, "--learning-rate")
    n.refuse_without_network(network, save_network=save_network, draw=draw)
    if network is not None:
        n.step_network(
            data,
            network,
            output,
            learning_rate=lr,
            summary=summary,
            precision=precision,
            save_network=save_network,
            draw=draw,
        )
        return
    with dataset(data) as source, held_stdout() as out:
        w = source.weights
        if output is o.OutputFormat.table:
            from slopecli.render.descent_tables import StepTables
            from slopecli.render.tables import stdout_console

            tables = StepTables(stdout_console(), precision, o.listed_rows(show_rows, all_rows), source.title)
            tables.end(one_step(source.passes(), w, lr, None if summary else tables.rows, source.name))
            if not quiet and tables.single_point:
                from slopecli.render.tables import suggest_next

                suggest_next("step", data, learning_rate=lr)
            return
        from slopecli.render.machine import StepWriter

        writer = StepWriter(out, output.value, with_rows=not summary)
        writer.begin(source.features, w.tolist(), lr)
        writer.end(one_step(source.passes(), w, lr, None if summary else writer.rows, source.name))
