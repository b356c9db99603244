"""Help that fits the terminal: Typer's Rich panels where they fit, plain text where they do not.

Typer lays each option out as a row of a Rich table, and below about 80 columns Rich crops the
cells it cannot fit: ``--weights-fi…``, ``0.01,0…``, and at 40 columns ``--weights`` and
``--weights-file`` both read ``--wei…``. On a narrower terminal the help is Click's plain text
instead, each option on a line of its own and its description wrapped below it, at the
terminal's real width (Click would assume at least 50 columns, and Rich 80 on a "dumb" one).
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Sequence
from typing import Any

import typer
from typer._click import HelpFormatter  # Click as Typer 0.29 vendors it, as in cli/coercion.py

from slopecli.terminal import terminal_size

RICH_HELP_COLUMNS = 80
"""The narrowest terminal on which Typer's Rich help of every command crops nothing (a test
draws each at this width)."""

DESCRIPTION_INDENT = 4
SHORT_HELP_CHARACTERS = 200
"""A command's first sentence in a list of commands, in full up to this: each has lines of its own."""


class FittedHelpContext(typer.Context):
    """A command's context whose help fits the terminal it is shown on."""

    def get_help(self) -> str:
        width = terminal_size()[0]
        command: Any = self.command
        for param in command.get_params(self):
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""  # Typer 0.29 shows a flag's type, `--json <bool>`, as if it took one
        if width >= RICH_HELP_COLUMNS or not hasattr(command, "rich_markup_mode"):
            return super().get_help()
        mode = command.rich_markup_mode
        command.rich_markup_mode = None  # Typer's switch to Click's own formatter
        try:
            text = super().get_help()
        finally:
            command.rich_markup_mode = mode
        # Written here, as Typer's Rich help writes itself: Click shows the help of a command
        # given no arguments as an error's message, which would make it one line on stderr.
        sys.stdout.write(text + "\n")
        # Now, as Rich's help is: the run may end in os._exit (no flush), or without the help
        # having passed through a handler that would report a closed pipe.
        sys.stdout.flush()
        return ""

    def make_formatter(self) -> HelpFormatter:
        return ListFormatter(width=terminal_size()[0])


class ListFormatter(HelpFormatter):
    """Click's formatter, with each term of a list (an option, a command) on a line of its own and
    its description below it (beside it, a column of terms would leave the text a few characters
    on a narrow terminal), and text broken at spaces only: Click's also breaks after a hyphen
    (``samples/course-`` / ``network.json``)."""

    def write_dl(self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        indent = self.current_indent + DESCRIPTION_INDENT
        for term, description in rows:
            self.write(wrapped(term, self.width, self.current_indent))
            if description:
                self.write(wrapped(description, self.width, indent))

    def write_text(self, text: str) -> None:
        self.write(wrapped(text, self.width, self.current_indent))


def write_commands(group: Any, ctx: Any, formatter: HelpFormatter) -> None:
    """The plain help's list of ``group``'s commands, each with its first sentence (Click cuts it
    to what fits beside the names: ``Compute the gradient and...``)."""
    rows = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is not None and not command.hidden:
            rows.append((name, command.get_short_help_str(SHORT_HELP_CHARACTERS)))
    if rows:
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def wrapped(text: str, width: int, indent: int) -> str:
    """``text``'s paragraphs (split at blank lines), each filled to ``width`` at ``indent`` and
    broken at spaces only: a word wider than the line is left whole."""
    text = text.replace("\\[", "[")  # Rich's escape of a bracket, as in slopecli\[dask]
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
    margin = " " * indent
    fill = textwrap.TextWrapper(
        max(width, indent + 10),
        initial_indent=margin,
        subsequent_indent=margin,
        break_long_words=False,
        break_on_hyphens=False,
    ).fill
    return "\n\n".join(fill(p) for p in paragraphs) + "\n"
