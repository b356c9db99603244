"""From the data flags and ``--network FILE`` to a network and its rows, checked against each other.

The rows come through the same readers as the linear model's (one table protocol, chunks, stdin).
Several outputs need several targets: ``-y 0.01,0.99`` on flags, ``--target-column t1,t2`` in a
file. The readers know one target column; the others are read as extra feature columns and
split off here, chunk by chunk, so every reader serves a network unchanged.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

import numpy as np

from slopecli.core import Matrix
from slopecli.dataset import (
    STDIN,
    STDIN_NAME,
    DataOptions,
    cached_passes,
    check_rows_on_flags,
    column_names,
    opening_error,
    read_flag_file,
    read_options,
)
from slopecli.errors import DataError, InputError, UsageError
from slopecli.network.model import Network, parse_network
from slopecli.readers.chunk import Chunk
from slopecli.readers.flags import FlagTable
from slopecli.readers.layout import reordered
from slopecli.readers.table import Table, open_table
from slopecli.text import count, listed, quoted
from slopecli.values import parse_vector


@dataclass(frozen=True)
class Block:
    """Consecutive rows: inputs ``X`` (n × d), targets ``Y`` (n × k), and where they start (0-based)."""

    X: Matrix
    Y: Matrix
    first_row: int


Blocks = Callable[[], Iterable[Block]]
"""A fresh pass over the rows, each time it is called."""


def read_network(file: str, *, data_on_stdin: bool) -> Network:
    """The network in ``file`` (``--network``).

    Raises:
        UsageError: ``file`` is ``-``, or the standard input that holds the data.
        InputError: it cannot be read, or is not a network.
    """
    text = read_flag_file("--network", file, "the network", data_on_stdin=data_on_stdin)
    return parse_network(text, f"--network {file}")


@dataclass(frozen=True)
class NetworkData:
    """A network and the rows of one source, checked against each other.

    Attributes:
        network: the model.
        table: the rows as the reader sees them (extra targets among its features).
        title: how tables name the data: its file, or "flags".
        features: the input columns, in the order of the first layer's weights.
        targets: the target columns, one per output.
        inputs: positions of ``features`` among the table's feature columns.
        extra: positions of the targets after the first among the table's feature columns.
    """

    network: Network
    table: Table
    title: str
    features: tuple[str, ...]
    targets: tuple[str, ...]
    inputs: tuple[int, ...]
    extra: tuple[int, ...]

    @property
    def name(self) -> str:
        return self.table.name

    def split(self, chunk: Chunk) -> Block:
        """A reader's chunk as inputs and targets."""
        if not self.extra:  # one output: the reader's chunk as it is, no copy
            return Block(chunk.X, chunk.y[:, np.newaxis], chunk.first_row)
        Y = np.column_stack([chunk.y, chunk.X[:, self.extra]])
        return Block(chunk.X[:, self.inputs], Y, chunk.first_row)

    def blocks(self) -> Iterator[Block]:
        """One streamed pass over the rows."""
        return (self.split(chunk) for chunk in self.table.chunks())

    def passes(self) -> Blocks:
        """The rows, one pass per call: from memory once read, if they are small enough."""
        chunks = cached_passes(self.table.chunks)
        return lambda: (self.split(chunk) for chunk in chunks())


@contextmanager
def open_network_dataset(options: DataOptions, network_file: str) -> Iterator[NetworkData]:
    """The network in ``network_file`` and the rows of the file (``-`` for stdin) or of the flags.

    Raises:
        UsageError: the flags conflict with --network or with each other.
        InputError: the network is malformed or does not fit the data.
        DataError: the file cannot be read as a table.
    """
    if options.weights is not None or options.weights_file is not None:
        flag = "--weights" if options.weights is not None else "--weights-file"
        msg = f"--network and {flag}: give one model, not both"
        raise UsageError(msg)
    if options.bias:
        msg = '--bias does not apply to --network: each layer\'s biases live in the network file ("bias")'
        raise UsageError(msg)
    if options.file is not None and (options.inputs or options.targets):
        msg = "give either a FILE or --input/--target, not both"
        raise UsageError(msg)
    network = read_network(network_file, data_on_stdin=options.file == STDIN)
    k = network.outputs
    if options.file is None:
        check_rows_on_flags(options)
        yield _from_flags(network, options, network_file)
        return
    targets = _target_columns(options.target_column, k)
    read = read_options(replace(options, target_column=targets[0] if targets else None))
    stdin = options.file == STDIN
    if targets and read.features is not None:
        both = [t for t in targets[1:] if t in read.features]
        if both:  # the reader would say the column is "named more than once": the user named it once
            where = STDIN_NAME if stdin else options.file
            msg = (
                f"{where}: --features: {quoted(both[0])} is a target column (--target-column), not a feature"
            )
            raise InputError(msg)
        read = replace(read, features=(*read.features, *targets[1:]))
    if stdin and sys.stdin is None:
        msg = "-: standard input is closed; pipe the data in, or give a FILE"
        raise InputError(msg)
    name = STDIN_NAME if stdin else options.file
    with _opened(name, sys.stdin.buffer if stdin else None) as fp:
        table = open_table(fp, name, read)
        try:
            yield _fitted(network, table, targets, name, network_file)
        finally:
            table.close()


@contextmanager
def _opened(name: str, fp: IO[bytes] | None) -> Iterator[IO[bytes]]:
    if fp is not None:
        yield fp
        return
    try:
        owned = Path(name).open("rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise InputError(opening_error(name, exc)) from None
    with owned:
        yield owned


def _target_columns(text: str | None, outputs: int) -> tuple[str, ...] | None:
    if text is None:
        if outputs > 1:
            msg = f"the network has {outputs} outputs: name their target columns with --target-column t1,t2,…"
            raise UsageError(msg)
        return None
    names = column_names(text, "--target-column")
    if len(set(names)) != len(names):
        msg = f"--target-column: a column is named twice in {quoted(text)}"
        raise UsageError(msg)
    if len(names) != outputs:
        have, need = count(len(names), "column"), count(outputs, "output")
        msg = f"--target-column names {have}, but the network has {need}"
        raise UsageError(msg)
    return names


def _fitted(
    network: Network, table: Table, targets: tuple[str, ...] | None, name: str, network_file: str
) -> NetworkData:
    extra_names = targets[1:] if targets else ()
    missing = [t for t in extra_names if t not in table.features]
    if missing:
        shown = listed(table.layout.names)
        msg = f"{name}: --target-column: no column named {quoted(missing[0])} (columns: {shown})"
        raise DataError(msg)
    _in_saved_order(network, table, extra_names, name, network_file)
    columns = table.features
    extra = tuple(columns.index(t) for t in extra_names)
    inputs = tuple(i for i in range(len(columns)) if i not in extra)
    features = tuple(columns[i] for i in inputs)
    _check_inputs(network, features, name)
    title = targets if targets else (table.layout.target,)
    return NetworkData(network, table, name, features, title, inputs, extra)


def _in_saved_order(
    network: Network, table: Table, extra_names: tuple[str, ...], name: str, network_file: str
) -> None:
    """``table`` read with its input columns in the order of the names the network was saved for,
    if it was: data with the same columns in another order is read by name, as weights are.

    Raises:
        DataError: the data's features are not the ones the network was saved for.
    """
    features = tuple(column for column in table.features if column not in extra_names)
    if network.features is None or network.features == features or len(features) != network.inputs:
        return  # a count that differs is told by layer (_check_inputs)
    why = f"that --network {network_file} was saved for"
    if sorted(network.features) != sorted(features):
        msg = (
            f"{name}: features ({listed(features)}) differ from ({listed(network.features)}) {why};"
            " the network's inputs follow features by name"
        )
        raise DataError(msg)
    table.layout = reordered(table.layout, (*network.features, *extra_names), name, why)


def _check_inputs(network: Network, features: tuple[str, ...], name: str) -> None:
    if network.inputs != len(features):
        msg = (
            f"--network: layers[0] (the first layer) has {count(network.inputs, 'weight')} per node,"
            f" but {name} has {count(len(features), 'feature')} ({listed(features)})"
        )
        raise InputError(msg)


def _from_flags(network: Network, options: DataOptions, network_file: str) -> NetworkData:
    """Rows typed as ``-x 1,2 -y 0.01,0.99``: each --target holds one value per output."""
    k = network.outputs
    if len(options.inputs) != len(options.targets):
        given = f"{len(options.inputs)} --input but {len(options.targets)} --target"
        msg = f"{given}: give one --target per --input"
        raise UsageError(msg)
    firsts, rests = [], []
    for i, text in enumerate(options.inputs, start=1):
        # Checked here, as typed: the reader below sees each input with the extra targets appended.
        try:
            width = len(parse_vector(text, f"--input {i}"))
        except InputError as exc:
            raise UsageError(str(exc)) from None
        if i == 1:
            first = width
        elif width != first:
            msg = f"--input {i}: {width} values, but --input 1 has {first}"
            raise UsageError(msg)
    for i, text in enumerate(options.targets, start=1):
        try:
            values = parse_vector(text, f"--target {i}")
        except InputError as exc:
            raise UsageError(str(exc)) from None
        if len(values) != k:
            msg = f"--target {i}: {count(len(values), 'value')}, but the network has {count(k, 'output')}"
            raise UsageError(msg)
        firsts.append(text.split(",", 1)[0])
        rests.append(text.split(",", 1)[1] if k > 1 else "")
    # The reader takes one target per row: the others ride along as trailing input columns.
    inputs = tuple(f"{x},{rest}" if rest else x for x, rest in zip(options.inputs, rests, strict=True))
    table = FlagTable(inputs, tuple(firsts))
    d = len(table.features) - (k - 1)
    features = tuple(f"x{i}" for i in range(1, d + 1))
    _check_inputs(network, features, "--input")
    # The other targets ride along as features x{d+1}…, which the network's names never hold.
    _in_saved_order(network, table, table.features[d:], "--input", network_file)
    targets = ("target",) if k == 1 else tuple(f"target_{j}" for j in range(1, k + 1))
    extra = tuple(range(d, d + k - 1))
    return NetworkData(network, table, "flags", table.features[:d], targets, tuple(range(d)), extra)
