"""The course a learner follows, one command after another: compute the slope of one point,
take one step with it, descend, then check the gradient. After a table that explained one
point, the next command is suggested with the same data."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING

from slopecli.render.wrap import cells

if TYPE_CHECKING:
    from slopecli.dataset import DataOptions

COURSE = ("compute", "step", "descend", "check")
DESCEND_STEPS = 100


def data_arguments(data: DataOptions) -> list[str]:
    """The data flags of ``data`` as a command line would give them again."""
    args: list[str] = []
    if data.file is not None:
        # A name that starts with "-" would be read as flags: ./-data.csv is the same file.
        args.append(f"./{data.file}" if data.file.startswith("-") and data.file != "-" else data.file)
    if data.weights is not None:
        args += ["--weights", data.weights]
    if data.weights_file is not None:
        args += ["--weights-file", data.weights_file]
    for x, y in zip(data.inputs, data.targets, strict=False):
        args += ["--input", x, "--target", y]
    if not data.header:
        args.append("--no-header")
    for flag, value in (
        ("--target-column", data.target_column),
        ("--features", data.features),
        ("--delimiter", data.delimiter),
    ):
        if value is not None:
            args += [flag, value]
    if data.bias:
        args.append("--bias")
    return args


def next_command(command: str, arguments: Sequence[str], *, learning_rate: float = 0.01) -> str | None:
    """The line suggesting the command after ``command`` in the course, or None after the last.

    >>> next_command("compute", ["--weights", "0,2,1", "--input", "1,2,3", "--target", "0"])
    'next: slopecli step --weights 0,2,1 --input 1,2,3 --target 0 --lr 0.01'
    """
    words = _next_words(command, arguments, learning_rate)
    return None if words is None else HINT + " ".join(words)


def next_command_lines(
    command: str, arguments: Sequence[str], width: int, *, learning_rate: float = 0.01
) -> list[str] | None:
    r""":func:`next_command` in lines of at most ``width`` characters, broken between words with
    the shell's ``\`` (a terminal would break it anywhere, a number too); None after the last
    command, or when one word does not fit.

    >>> next_command_lines("compute", ["--weights", "0,2,1", "--input", "1,2,3"], 30)
    ['next: slopecli step \\', '      --weights 0,2,1 \\', '      --input 1,2,3 --lr 0.01']
    """
    words = _next_words(command, arguments, learning_rate)
    if words is None:
        return None
    # A flag stays with its value (values never start with "--": data_arguments names flags in full).
    units: list[str] = []
    for word in words:
        if units and units[-1].startswith("--") and " " not in units[-1] and not word.startswith("--"):
            units[-1] += " " + word
        else:
            units.append(word)
    lines = [HINT + units[0]]
    for i, unit in enumerate(units[1:], start=1):
        rest = " ".join(units[i:])
        if cells(lines[-1]) + 1 + cells(rest) <= width:  # the rest fits: no more breaks
            lines[-1] += " " + rest
            break
        if cells(lines[-1]) + 1 + cells(unit) + len(CONTINUED) <= width:
            lines[-1] += " " + unit
        else:
            lines[-1] += CONTINUED
            lines.append(" " * len(HINT) + unit)
    if any(cells(line) > width for line in lines):
        return None
    return lines


HINT = "next: "
CONTINUED = " \\"


def _next_words(command: str, arguments: Sequence[str], learning_rate: float) -> list[str] | None:
    if command not in COURSE[:-1]:
        return None
    following = COURSE[COURSE.index(command) + 1]
    rate = repr(float(learning_rate))  # the rate as given: %g would round 0.0123456789
    extra = {
        "step": ["--lr", rate],
        "descend": ["--lr", rate, "--steps", str(DESCEND_STEPS)],
        "check": [],
    }[following]
    return [shlex.quote(word) for word in ["slopecli", following, *arguments, *extra]]
