"""Shared plumbing of ``step``, ``descend`` and ``check``: validated numbers and cached passes."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path

from slopecli.cli.inputs import Source
from slopecli.descent import Data
from slopecli.errors import InputError
from slopecli.loaders import Chunk

CACHE_BYTES = 256 << 20
"""Data up to this size is kept in memory after the first pass; larger data is streamed anew each pass."""


def positive(value: float, flag: str) -> float:
    if not (math.isfinite(value) and value > 0):
        msg = f"{flag}: expected a positive number, got {value:g}"
        raise InputError(msg)
    return value


def passes(source: Source) -> Data:
    """``source``'s rows, one pass per call: from memory once read, if they fit in CACHE_BYTES."""
    kept: list[Chunk] = []
    state = {"cached": False, "fits": True}

    def data() -> Iterable[Chunk]:
        if state["cached"]:
            return kept
        return _reading()

    def _reading() -> Iterable[Chunk]:
        size = 0
        for chunk in source.chunks():
            if state["fits"]:
                size += chunk.X.nbytes + chunk.y.nbytes
                if size > CACHE_BYTES:
                    state["fits"] = False
                    kept.clear()
                else:
                    kept.append(chunk)
            yield chunk
        state["cached"] = state["fits"]

    return data


def refuse_inputs(flag: str, target: Path | None, *inputs: Path | None) -> None:
    """An output named by ``flag`` may not be one of the inputs: it would destroy the data."""
    if target is None:
        return
    for source in inputs:
        exists = source is not None and str(source) != "-" and source.exists() and target.exists()
        if exists and source is not None and os.path.samefile(source, target):
            msg = f"{flag}: {target} is an input of this run; choose another file"
            raise InputError(msg)


def write_atomically(path: Path, text: str, flag: str) -> None:
    """A small output file (weights, a plot) that appears whole or not at all."""
    from slopecli.outfiles import AtomicFile

    try:
        with AtomicFile(path, overwrite=True) as fp:
            fp.write(text.encode())
    except OSError as exc:
        msg = f"{flag}: {path}: cannot write it: {exc.strerror or exc}"
        raise InputError(msg) from None
