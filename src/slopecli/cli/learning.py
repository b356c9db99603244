"""Shared plumbing of ``step``, ``descend`` and ``check``: validated numbers and output files."""

from __future__ import annotations

import math
import os
from pathlib import Path

from slopecli.errors import UsageError


def positive(value: float, flag: str) -> float:
    if not (math.isfinite(value) and value > 0):
        msg = f"{flag}: expected a positive number, got {value:g}"
        raise UsageError(msg)
    return value


def refuse_inputs(flag: str, target: Path | None, *inputs: Path | None) -> None:
    """An output named by ``flag`` may not be one of the inputs: it would destroy the data."""
    if target is None:
        return
    for source in inputs:
        if source is None or str(source) == "-":
            continue
        if source.exists() and target.exists():
            same = os.path.samefile(source, target)
        else:  # an output that does not exist yet is the same file when its path resolves the same
            same = os.path.realpath(source) == os.path.realpath(target)
        if same:
            msg = f"{flag}: {target} is an input of this run; choose another file"
            raise UsageError(msg)


def write_atomically(path: Path, text: str, flag: str) -> None:
    """A small output file (weights, a plot) that appears whole or not at all."""
    from slopecli.outfiles import AtomicFile

    try:
        with AtomicFile(path, overwrite=True) as fp:
            fp.write(text.encode())
    except OSError as exc:
        msg = f"{flag}: {path}: cannot write it: {exc.strerror or exc}"
        raise UsageError(msg) from None
