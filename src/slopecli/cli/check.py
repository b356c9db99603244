"""``slopecli check``: is the analytic gradient right? Compared with central finite differences."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from slopecli.cli import network as n
from slopecli.cli import options as o
from slopecli.cli.app import app

if TYPE_CHECKING:
    from slopecli.core import Vector
    from slopecli.dataset import DataOptions
    from slopecli.descent import Data


@app.command()
@o.data_flags()
def check(
    *,
    data: "DataOptions",
    rtol: Annotated[
        float,
        typer.Option(
            "--rtol", metavar="R", parser=o.number, help="Relative tolerance, against the numeric value."
        ),
    ] = 1e-6,
    atol: Annotated[
        float | None,
        typer.Option(
            "--atol",
            parser=o.number,
            metavar="A",
            help="Absolute tolerance. Default: 100 times the rounding error of both sides.",
        ),
    ] = None,
    fmt: o.Format = None,
    json_flag: o.Json = False,
    network: n.NetworkFile = None,
) -> None:
    """Compare the analytic gradient with central finite differences of the MSE, weight by weight.

    The exit code is 0 when every weight agrees within the tolerance, 3 when one does not.

    With --network FILE, every weight and bias of the network is checked.

    Example: slopecli check samples/points.csv --weights 0,2,1

    Example: slopecli check --network samples/course-network.json --input 2,3 --target 7
    """
    from slopecli.cli.inputs import dataset
    from slopecli.cli.learning import positive
    from slopecli.cli.output import choose_format, held_stdout
    from slopecli.descent import check_gradient
    from slopecli.errors import CheckFailed

    output = choose_format(fmt, json_flag)
    positive(rtol, "--rtol")
    if atol is not None:
        positive(atol, "--atol")
    if network is not None:
        n.check_network(data, network, output, rtol=rtol, atol=atol)
        return
    with dataset(data) as source, held_stdout() as out:
        checks = check_gradient(
            source.passes(),
            source.weights,
            rtol=rtol,
            atol=atol,
            analytic=analytic_gradient(),
            source=source.name,
        )
        if output is o.OutputFormat.table:
            from slopecli.render.descent_tables import draw_check
            from slopecli.render.tables import stdout_console

            draw_check(stdout_console(), source.features, checks, rtol)
        else:
            from slopecli.render.machine import write_check

            write_check(out, output.value, source.features, checks, rtol)
    bad = [name for name, c in zip(source.features, checks, strict=True) if not c.ok]
    if bad:
        from slopecli.text import listed

        msg = f"check: the analytic gradient disagrees with finite differences for {listed(bad)}"
        raise CheckFailed(msg)


def analytic_gradient() -> "Callable[[Data, Vector], Vector]":
    """The gradient under test; tests replace it with a deliberately wrong one."""
    from slopecli.descent import analytic_gradient as gradient

    return gradient
