"""The floor any Typer tool's ``--help`` pays: a group with one subcommand, help drawn by Typer
(with Rich, as Typer does whenever Rich is installed). It imports nothing else: ``--help`` should
not need numpy, and slopecli's does not.

    python minimal_help_app.py --help
"""

from typing import Annotated

import typer

app = typer.Typer()


@app.callback()
def main() -> None:
    """A minimal Typer tool."""


@app.command()
def compute(values: Annotated[str, typer.Option("--input", help="Comma-separated numbers.")]) -> None:
    """Print the input."""
    print(values)


if __name__ == "__main__":
    app()
