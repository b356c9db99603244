"""The floor any Typer + numpy tool pays: parse a subcommand and an option, do one numpy
operation, print one number.

Shaped like ``slopecli compute`` (a group with a callback, so the command is a subcommand) and
written the way a minimal tool would be: numpy imported at the top, the vector typed as a
comma-separated option, the result printed with ``print``.

    python minimal_numpy_app.py compute --input 1,2,3   ->   14.0
"""

from typing import Annotated

import numpy as np
import typer

app = typer.Typer()


@app.callback()
def main() -> None:
    """A minimal Typer + numpy tool."""


@app.command()
def compute(values: Annotated[str, typer.Option("--input", help="Comma-separated numbers.")]) -> None:
    """Print the squared norm of the input vector."""
    x = np.array([float(v) for v in values.split(",")])
    print(float(x @ x))


if __name__ == "__main__":
    app()
