"""The course a learner follows, one command after another: compute the slope of one point,
take one step with it, descend, then check the gradient. After a table that explained one
point, the next command is suggested with the same data."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from slopecli.dataset import DataOptions

COURSE = ("compute", "step", "descend", "check")
DESCEND_STEPS = 100


def data_arguments(data: DataOptions) -> list[str]:
    """The data flags of ``data`` as a command line would give them again."""
    args: list[str] = [data.file] if data.file is not None else []
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
    if command not in COURSE[:-1]:
        return None
    following = COURSE[COURSE.index(command) + 1]
    extra = {
        "step": ["--lr", f"{learning_rate:g}"],
        "descend": ["--lr", f"{learning_rate:g}", "--steps", str(DESCEND_STEPS)],
        "check": [],
    }[following]
    return "next: " + shlex.join(["slopecli", following, *arguments, *extra])
