"""The learner's tables of a network run, drawn with the one layout rule of :mod:`slopecli.render.tables`.

``compute`` explains one row (the first, or ``--row N``) forward and backward with its numbers,
then lists every weight's gradient over all rows; ``step`` lists each weight before, its gradient
and after.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from slopecli.errors import UsageError
from slopecli.network.core import NetSums
from slopecli.network.model import Network
from slopecli.network.train import NetRows, NetStep
from slopecli.render import network_sheets as ns
from slopecli.render.tables import draw
from slopecli.text import count


class NetworkTables:
    """A sink for ``compute --network`` that keeps one row to explain and draws it at ``end``."""

    def __init__(
        self,
        console: Console,
        network: Network,
        features: Sequence[str],
        targets: Sequence[str],
        precision: int = 6,
        title: str = "",
        row: int | None = None,
    ) -> None:
        self._console = console
        self._network = network
        self._features = features
        self._targets = targets
        self._p = precision
        self._title = title
        self._row = row or 1
        self._chosen: NetRows | None = None

    def rows(self, rows: NetRows) -> None:
        at = self._row - 1 - rows.first_row
        if 0 <= at < len(rows.error):
            self._chosen = rows.one(at)

    def end(self, sums: NetSums) -> None:
        if self._chosen is None:
            msg = f"--row {self._row}: {self._title} has {count(sums.n, 'row')}"
            raise UsageError(msg)
        where = f"{self._title} · row {self._row:,} of {sums.n:,}"
        for sheet in ns.forward_sheets(self._network, self._chosen, self._features, self._p, where):
            draw(self._console, sheet)
        draw(self._console, ns.loss_sheet(self._network, self._chosen, self._targets, self._p))
        for sheet in ns.backward_sheets(self._network, self._chosen, self._features, self._p):
            draw(self._console, sheet)
        self.gradients(sums)

    def gradients(self, sums: NetSums) -> None:
        """Every weight's gradient over all rows, and the loss (``--summary``: this table alone)."""
        draw(self._console, ns.gradient_sheet(self._network, sums, self._features, self._p, self._title))


def draw_network_step(
    console: Console, result: NetStep, features: Sequence[str], precision: int, title: str
) -> None:
    draw(console, ns.step_sheet(result, features, precision, title))
