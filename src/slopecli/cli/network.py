"""``--network FILE`` on ``compute``, ``step``, ``descend`` and ``check``: its flags and each
command's run, parse → one library call → render, as for the linear model."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from slopecli.cli.options import DATA, OUTPUT, OutputFormat, input_file, output_file

if TYPE_CHECKING:
    from collections.abc import Callable

    from slopecli.dataset import DataOptions
    from slopecli.network.core import NetSums
    from slopecli.network.data import NetworkData
    from slopecli.network.model import Network
    from slopecli.network.train import NetRows

    OnRows = Callable[[NetRows], None]

NetworkFile = Annotated[
    Path | None,
    typer.Option(
        "--network",
        metavar="FILE",
        parser=input_file,
        help='A network instead of --weights: JSON {"layers": [{"weights": [[2, 4], [4, -5]], "bias": [0, 0],'
        ' "activation": "relu"}, …]} or the course\'s {"node_0": [2, 4], …, "output": [2, 7]}.'
        " Several outputs: -y 0.01,0.99, or --target-column t1,t2 in a file."
        " Example: --network samples/network.json",
        rich_help_panel=DATA,
    ),
]
SaveNetwork = Annotated[
    Path | None,
    typer.Option(
        "--save-network",
        metavar="FILE",
        parser=output_file,
        help="With --network: save the updated network as JSON, for --network, with the names of"
        " its input columns (a later run reads them by name). Example: --save-network next.json",
        rich_help_panel=OUTPUT,
    ),
]
Draw = Annotated[
    Path | None,
    typer.Option(
        "--draw",
        metavar="FILE.svg",
        parser=output_file,
        help="With --network: draw the network (node values, edge weights and gradients) as SVG."
        " Example: --draw net.svg",
        rich_help_panel=OUTPUT,
    ),
]


def refuse_without_network(network: Path | None, **flags: Path | None) -> None:
    """``--save-network`` and ``--draw`` need ``--network``."""
    from slopecli.errors import UsageError

    for flag, value in flags.items():
        if value is not None and network is None:
            msg = f"--{flag.replace('_', '-')} needs --network FILE"
            raise UsageError(msg)


@contextmanager
def _dataset(data: DataOptions, network: Path) -> Iterator[NetworkData]:
    """The network and its rows; the data's warnings go to stderr once the run has succeeded,
    as for the linear model (:func:`slopecli.cli.inputs.dataset`)."""
    import numpy as np

    from slopecli.cli.app import report
    from slopecli.dataset import Dataset
    from slopecli.network.data import open_network_dataset

    with open_network_dataset(data, str(network)) as source:
        yield source
    for warning in Dataset(np.zeros(0), source.table).warnings:
        report(f"slopecli: warning: {warning}")


def _outputs(data: DataOptions, network: Path, **paths: Path | None) -> None:
    """Output files that cannot be written, or would overwrite an input, fail before any pass."""
    import os

    from slopecli.cli.learning import refuse_inputs, writable
    from slopecli.errors import UsageError

    given = {flag: path for flag, path in paths.items() if path is not None}
    seen: dict[str, str] = {}
    for flag, path in given.items():
        name = "--" + flag.replace("_", "-")
        real = os.path.realpath(path)  # Path.resolve raises on a symlink loop
        if real in seen:
            msg = f"{seen[real]} and {name}: both name {path}; give each its own file"
            raise UsageError(msg)
        seen[real] = name
        inputs = [Path(data.file)] if data.file is not None else []
        if flag != "save_network":  # saving over the --network file chains runs, as --save-weights does
            inputs.append(network)
        try:
            refuse_inputs(name, path, *inputs)
            writable(name, path)
        except OSError as exc:  # a name too long, a symlink loop: the path cannot be written
            msg = f"{name}: {path}: cannot write it: {exc.strerror or exc}"
            raise UsageError(msg) from None
        if flag in ("draw", "plot") and path.suffix.lower() != ".svg":
            msg = f"{name}: {path}: the picture is written as SVG; name the file *.svg"
            raise UsageError(msg)


def _save(
    path: Path | None, network: Network, features: tuple[str, ...], flag: str = "--save-network"
) -> None:
    if path is None:
        return
    import json

    from slopecli.cli.learning import write_atomically

    write_atomically(path, json.dumps(network.saved(features), allow_nan=False) + "\n", flag)


def compute_network(
    data: DataOptions,
    network: Path,
    output: OutputFormat,
    *,
    summary: bool,
    precision: int,
    row: int | None,
    draw: Path | None,
) -> None:
    """``compute --network``: each row's forward pass, the loss and every gradient."""
    from slopecli.cli.output import held_stdout
    from slopecli.errors import UsageError

    if row is not None and (output is not OutputFormat.table or summary):
        msg = "--row explains one row in a table: it takes neither --format json/jsonl/csv nor --summary"
        raise UsageError(msg)
    if output is OutputFormat.csv and summary:
        raise UsageError("--summary has no per-row CSV to write: use --format json or jsonl")
    _outputs(data, network, draw=draw)
    picture = _Picture(row) if draw is not None else None
    with _dataset(data, network) as source, held_stdout(stream=output is OutputFormat.jsonl) as out:
        net = source.network
        if output is OutputFormat.table:
            from slopecli.render.network_tables import NetworkTables
            from slopecli.render.tables import stdout_console

            tables = NetworkTables(
                stdout_console(), net, source.features, source.targets, precision, source.title, row
            )
            if summary:  # the gradients alone: no row to explain
                sums = _sums(source, picture.chained(None) if picture else None)
                tables.gradients(sums)
            else:
                sums = _sums(source, picture.chained(tables.rows) if picture else tables.rows)
                tables.end(sums)
        else:
            from slopecli.render.network_machine import NetworkRowsWriter

            writer = NetworkRowsWriter(out, output.value, net, with_rows=not summary)
            writer.begin(net, source.features, source.targets)
            on_rows: OnRows | None = None if summary else writer.rows
            if picture is not None:
                on_rows = picture.chained(on_rows)
            sums = _sums(source, on_rows)
            writer.end(sums)
        if draw is not None and picture is not None:
            picture.write(draw, net, sums, source.features)


def _sums(source: NetworkData, on_rows: OnRows | None) -> NetSums:
    """One pass over the rows; without per-row work, a split file's pieces on threads."""
    from slopecli.network.train import evaluate, evaluate_source

    if on_rows is None:
        return evaluate_source(source)
    return evaluate(source.network, source.blocks(), on_rows, source.name)


class _Picture:
    """Keeps the row the SVG shows (the first, or --row N) while the rows stream past."""

    def __init__(self, row: int | None) -> None:
        self._row = row or 1
        self.chosen: NetRows | None = None

    def chained(self, then: OnRows | None) -> OnRows:
        def on_rows(rows: NetRows) -> None:
            at = self._row - 1 - rows.first_row
            if self.chosen is None and 0 <= at < len(rows.error):
                self.chosen = rows.one(at)
            if then is not None:
                then(rows)

        return on_rows

    def write(self, path: Path, network: Network, sums: NetSums, features: tuple[str, ...]) -> None:
        from slopecli.cli.learning import write_atomically
        from slopecli.render.network_svg import network_svg

        write_atomically(path, network_svg(network, self.chosen, sums, features), "--draw")


def step_network(
    data: DataOptions,
    network: Path,
    output: OutputFormat,
    *,
    learning_rate: float,
    summary: bool,
    precision: int,
    save_network: Path | None,
    draw: Path | None,
) -> None:
    """``step --network``: one update of every weight and bias, and the loss before and after."""
    from slopecli.cli.output import held_stdout
    from slopecli.network.train import step

    _outputs(data, network, save_network=save_network, draw=draw)
    picture = _Picture(None) if draw is not None else None
    with _dataset(data, network) as source, held_stdout() as out:
        net = source.network
        passes = source.passes()
        if output is OutputFormat.table:
            from slopecli.render.network_tables import draw_network_step
            from slopecli.render.tables import stdout_console

            result = step(passes, net, learning_rate, None, source.name)
            draw_network_step(stdout_console(), result, source.features, precision, source.title)
        else:
            from slopecli.render.network_machine import NetworkStepWriter

            writer = NetworkStepWriter(out, output.value, net, with_rows=not summary)
            writer.begin(net, source.features, source.targets, learning_rate)
            result = step(passes, net, learning_rate, None if summary else writer.rows, source.name)
            writer.end(result)
        _save(save_network, result.updated, source.features)
        if draw is not None and picture is not None:
            from slopecli.network.train import evaluate

            sums = evaluate(net, passes(), picture.chained(None), source.name)
            picture.write(draw, net, sums, source.features)


def descend_network(
    data: DataOptions,
    network: Path,
    output: OutputFormat,
    *,
    learning_rate: float,
    steps: int,
    tol: float | None,
    plot: Path | None,
    save_network: Path | None,
    precision: int,
    progress: object,
) -> None:
    """``descend --network``: many steps, the loss curve, and the final network."""
    from slopecli.cli.output import held_stdout
    from slopecli.network.train import descend

    _outputs(data, network, save_network=save_network, plot=plot)
    with _dataset(data, network) as source, held_stdout(output is OutputFormat.jsonl) as out:
        net = source.network
        writer = None
        if output is not OutputFormat.table:
            from slopecli.render.network_machine import NetworkDescentWriter

            writer = NetworkDescentWriter(out, output.value)
            writer.begin(net, source.features, source.targets, learning_rate, steps, tol)

        def on_step(record):  # type: ignore[no-untyped-def]
            if record.step:
                progress.advance()  # type: ignore[attr-defined]
            if writer is not None:
                writer.step(record)

        run, final = descend(
            source.passes(), net, learning_rate, steps, tol, on_step=on_step, source=source.name
        )
        progress.close()  # type: ignore[attr-defined]
        if writer is not None:
            writer.end(run, final)
        else:
            from slopecli.render.descent_tables import draw_descent
            from slopecli.render.network_sheets import parameter_labels
            from slopecli.render.tables import stdout_console

            draw_descent(stdout_console(), run, parameter_labels(net, source.features), precision)
        _save(save_network, final, source.features)
        if plot is not None:
            from slopecli.cli.learning import write_atomically
            from slopecli.render.plot import loss_curve_svg

            write_atomically(plot, loss_curve_svg([h.mse for h in run.history]), "--plot")


def check_network(
    data: DataOptions, network: Path, output: OutputFormat, *, rtol: float, atol: float | None
) -> None:
    """``check --network``: every weight's and bias's gradient against central differences."""
    from slopecli.cli.output import held_stdout
    from slopecli.errors import CheckFailed
    from slopecli.network.check import check_gradient, relu_kink

    with _dataset(data, network) as source, held_stdout() as out:
        passes = source.passes()  # one pass kept in memory (a stream is read once): check and kink
        checks = check_gradient(passes, source.network, rtol=rtol, atol=atol, source=source.name)
        # A failure at a ReLU's kink is no wrong gradient: the message says where the kink is.
        kink = None if all(c.ok for c in checks) else relu_kink(passes, source.network)
        names = source.network.parameter_names()
        if output is OutputFormat.table:
            from slopecli.render.descent_tables import draw_check
            from slopecli.render.network_sheets import parameter_labels
            from slopecli.render.tables import stdout_console

            draw_check(
                stdout_console(), parameter_labels(source.network, source.features), checks, rtol, "Parameter"
            )
        else:
            from slopecli.render.machine import write_check

            # Named as in the file: layers[1].weights[0][2].
            write_check(out, output.value, names, checks, rtol, label="parameter")
    bad = [name for name, c in zip(names, checks, strict=True) if not c.ok]
    if bad:
        from slopecli.text import listed

        msg = f"check: the analytic gradient disagrees with finite differences for {listed(bad)}"
        if kink is not None:
            msg += f"; {kink}"
        raise CheckFailed(msg)
