"""Rows typed on the command line: ``-x 1,2,3 -y 0 -x 4,5,6 -y 1``, paired by position."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from slopecli.errors import InputError, UsageError
from slopecli.readers.chunk import Chunk
from slopecli.readers.layout import Layout
from slopecli.text import count
from slopecli.values import parse_number, parse_vector

NAME = "--input"
"""How messages name rows that came from flags."""


class FlagTable:
    """The rows of ``--input``/``--target`` as a table with features ``x1, x2, …``, or ``names``.

    Raises:
        UsageError: the counts of inputs and targets differ, a value is not a finite number, or
            two inputs have different lengths: the flags' values are wrong.
    """

    name = NAME

    def __init__(
        self, inputs: Sequence[str], targets: Sequence[str], names: Sequence[str] | None = None
    ) -> None:
        if len(inputs) != len(targets):
            msg = f"{len(inputs)} --input but {len(targets)} --target: give one --target per --input"
            raise UsageError(msg)
        try:
            rows = [parse_vector(text, f"--input {i}") for i, text in enumerate(inputs, start=1)]
            y = np.array([parse_number(t, f"--target {i}") for i, t in enumerate(targets, start=1)])
        except InputError as exc:
            raise UsageError(str(exc)) from None
        for i, row in enumerate(rows[1:], start=2):
            if len(row) != len(rows[0]):
                msg = f"--input {i}: {len(row)} values, but --input 1 has {len(rows[0])}"
                raise UsageError(msg)
        self._chunk = Chunk(np.vstack(rows), y, 0)
        d = len(rows[0])
        if names is not None and len(names) != d:
            msg = f"--features names {count(len(names), 'column')}, but --input has {count(d, 'value')}"
            raise UsageError(msg)
        features = tuple(names) if names is not None else tuple(f"x{i}" for i in range(1, d + 1))
        self.layout = Layout((*features, "target"), tuple(range(d)), d)

    @property
    def features(self) -> tuple[str, ...]:
        return self.layout.features

    def chunks(self) -> Iterator[Chunk]:
        positions = list(self.layout.feature_positions)
        yield Chunk(self._chunk.X[:, positions], self._chunk.y, 0)

    def pieces(
        self, count: int, processes: bool = False, most_bytes: int | None = None
    ) -> list[tuple[int, int]]:
        return []

    def read_piece(self, piece: tuple[int, int]) -> Iterator[Chunk]:
        return self.chunks()

    def close(self) -> None:
        pass
