"""Passes over the data with a network: the sums, one step and many steps.

Each pass is one call of ``data()``, a fresh stream of blocks, so a file larger than memory
costs one streamed read per pass, in constant memory. The divergence rules are the linear
model's (:mod:`slopecli.descent`). Nothing here prints or reads flags.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from slopecli.core import Matrix
from slopecli.descent import Descent, Record, overshot, run_descent
from slopecli.errors import DivergedError, NumericError
from slopecli.evaluation import CORES, sum_pieces
from slopecli.network.core import Forward, NetSums, forward, update
from slopecli.network.data import Block, Blocks, NetworkData
from slopecli.network.model import Network


@dataclass(frozen=True)
class NetRows:
    """Per-row results of one block: inputs, targets, every layer's z and a, and the errors."""

    first_row: int
    X: Matrix
    Y: Matrix
    passed: Forward
    error: Matrix

    def one(self, at: int) -> NetRows:
        """Row ``at`` (0-based in this block) alone, copied so that the block can be freed."""
        rows = slice(at, at + 1)
        passed = Forward(
            self.passed.inputs[rows].copy(),
            tuple(z[rows].copy() for z in self.passed.z),
            tuple(a[rows].copy() for a in self.passed.a),
        )
        return NetRows(
            self.first_row + at, self.X[rows].copy(), self.Y[rows].copy(), passed, self.error[rows].copy()
        )


def rows_of(network: Network, block: Block, source: str = "input") -> NetRows:
    """The forward pass and the errors of one block.

    Raises:
        NumericError: a value overflowed.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        passed = forward(network, block.X)
        err = passed.preds - block.Y
    # A hidden z can overflow while the output stays finite (a sigmoid saturates): name it too.
    for what, values in [*((f"z of layers[{i}]", z) for i, z in enumerate(passed.z)), ("error", err)]:
        bad = ~np.isfinite(values).all(axis=1)
        if bad.any():
            row = block.first_row + int(np.flatnonzero(bad)[0]) + 1
            msg = f"{source}: data row {row}: the {what} overflows float64; the values are too large"
            raise NumericError(msg)
    return NetRows(block.first_row, block.X, block.Y, passed, err)


def evaluate(
    network: Network,
    blocks: Iterable[Block],
    on_rows: Callable[[NetRows], None] | None = None,
    source: str = "input",
) -> NetSums:
    """The sums over every row; ``on_rows`` sees each block's per-row results.

    Raises:
        NumericError: a value or a sum overflowed.
    """
    total = NetSums.zero(network)
    for block in blocks:
        rows = rows_of(network, block, source)
        if on_rows is not None:
            on_rows(rows)
        with np.errstate(over="ignore", invalid="ignore"):
            total = total + NetSums.of(network, rows.passed, rows.error)
    return checked(total, source)


def evaluate_source(source: NetworkData, threads: int = CORES) -> NetSums:
    """The sums of every row of ``source``: its pieces on one thread each when its table can be
    split, else one pass, as the linear model's :func:`~slopecli.evaluation.evaluate_table`.

    Arrow's parser and numpy release the GIL, so the threads use all cores. If a piece fails, one
    sequential pass finds the error and says exactly where it is.

    Raises:
        SlopeError: the data is wrong.
    """
    network, table = source.network, source.table
    pieces = table.pieces(threads)
    if not pieces:
        return evaluate(network, source.blocks(), None, source.name)
    total = sum_pieces(
        table, pieces, lambda chunks: evaluate(network, map(source.split, chunks), None, source.name)
    )
    if total is None:
        return evaluate(network, source.blocks(), None, source.name)
    return checked(total, source.name)


def checked(total: NetSums, source: str = "input") -> NetSums:
    """``total``, once its gradient and loss are known to be finite.

    Raises:
        NumericError: the sums overflowed.
    """
    if total.n == 0:
        return total
    with np.errstate(over="ignore", invalid="ignore"):
        finite = math.isfinite(total.loss) and bool(np.isfinite(total.flat_gradient()).all())
    if not finite:
        msg = f"{source}: the gradient or loss overflows float64; the values are too large"
        raise NumericError(msg)
    return total


@dataclass(frozen=True)
class NetStep:
    """One update ``θ' = θ − lr·gradient`` of every weight and bias, and the loss before and after."""

    network: Network
    learning_rate: float
    before: NetSums
    updated: Network
    after: NetSums

    @property
    def improved(self) -> bool:
        return self.after.loss < self.before.loss


def step(
    data: Blocks,
    network: Network,
    learning_rate: float,
    on_rows: Callable[[NetRows, NetRows], None] | None = None,
    source: str = "input",
) -> NetStep:
    """One step of gradient descent, in two passes (the gradient, then the rows before and after).

    Raises:
        NumericError: a value overflowed, before or after the update.
    """
    before = evaluate(network, data(), None, source)
    with np.errstate(over="ignore", invalid="ignore"):
        updated = update(network, before, learning_rate)
    if not np.isfinite(updated.flat()).all():
        msg = f"the updated network overflows float64: --learning-rate {learning_rate:g} is too large"
        raise DivergedError(msg)
    try:
        if on_rows is None:
            return NetStep(network, learning_rate, before, updated, evaluate(updated, data(), None, source))
        after = NetSums.zero(network)
        for block in data():
            old, new = rows_of(network, block, source), rows_of(updated, block, source)
            on_rows(old, new)
            with np.errstate(over="ignore", invalid="ignore"):
                after = after + NetSums.of(updated, new.passed, new.error)
        return NetStep(network, learning_rate, before, updated, checked(after, source))
    except NumericError:
        # The data was fine before the step (the first pass said so): the step overshot.
        raise overshot(source, "the network's values", learning_rate) from None


def descend(
    data: Blocks,
    network: Network,
    learning_rate: float,
    steps: int,
    tol: float | None = None,
    patience: int = 5,
    on_step: Callable[[Record], None] | None = None,
    source: str = "input",
) -> tuple[Descent, Network]:
    """Full-batch gradient descent, with the linear ``descend``'s stopping and divergence rules.

    Each :class:`~slopecli.descent.Record` holds the parameters in the order of
    :meth:`Network.flat`, the loss as ``mse``, and the flat gradient. Returns the run and the
    final network.

    Raises:
        NumericError: a value overflowed at the starting network (naming ``source``).
        DivergedError: the loss grew for ``patience`` steps in a row, or a value overflowed.
    """
    return run_descent(
        network,
        measure=lambda net: evaluate(net, data(), None, source),
        record=lambda k, net, sums: Record(k, net.flat(), sums.loss, sums.flat_gradient()),
        move=lambda net, sums: update(net, sums, learning_rate),
        flat=lambda net: net.flat(),
        learning_rate=learning_rate,
        steps=steps,
        tol=tol,
        patience=patience,
        on_step=on_step,
        loss="loss",
    )
