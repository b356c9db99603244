"""The command line: the only package that imports Typer.

Commands parse their flags, make one library call and hand the result to a renderer. Errors
become a one-line message and an exit code in one place, :class:`~slopecli.cli.app.SlopeGroup`.
Nothing here imports numpy at module level, so ``slopecli --help`` stays fast.
"""

from slopecli.cli import batch as _batch  # noqa: F401 - registers the command
from slopecli.cli import check as _check  # noqa: F401 - registers the command
from slopecli.cli import compute as _compute  # noqa: F401 - registers the command
from slopecli.cli import descend as _descend  # noqa: F401 - registers the command
from slopecli.cli import step as _step  # noqa: F401 - registers the command
from slopecli.cli.app import app, main

__all__ = ["app", "main"]
