"""The terminal's size, as every part of slopecli that lays out text for a screen reads it."""

from __future__ import annotations

import os

DEFAULT_SIZE = (80, 25)
"""Columns and lines off a terminal, as Rich and Click assume them."""


def terminal_size() -> tuple[int, int]:
    """Columns and lines: COLUMNS and LINES when set, else the size of the first of stdin,
    stdout and stderr that is a terminal, else :data:`DEFAULT_SIZE`.

    Rich reads the same, in the same order, except on a terminal whose TERM is ``dumb`` or
    ``unknown`` (Emacs' shell, some IDE consoles, serial lines), which it takes to be 80 × 25
    whatever its size: a table drawn 80 wide on a 40-column screen wraps mid-number.
    """
    width = height = 0
    for fd in (0, 1, 2):
        try:
            width, height = os.get_terminal_size(fd)
        except (OSError, ValueError):
            continue
        break
    columns, lines = environment_size("COLUMNS"), environment_size("LINES")
    return columns or width or DEFAULT_SIZE[0], lines or height or DEFAULT_SIZE[1]


def environment_size(name: str) -> int | None:
    """The environment variable ``name`` (COLUMNS, LINES) as a size: a positive whole number in
    ASCII digits, else None. Digits of other scripts (``٣``, ``²``) are no number here, as on
    flags and in files."""
    value = os.environ.get(name)
    if value is None or not (value.isascii() and value.isdigit()) or int(value) == 0:
        return None
    return int(value)
