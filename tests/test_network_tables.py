"""Every network table, at 40 to 120 columns, with numbers of every scale: no line wider than the
terminal and every number whole (the numbers on screen are those of the same tables drawn
without a width limit), as tests/test_tables_width.py holds the linear model's tables to."""

from __future__ import annotations

import math
from io import StringIO

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console

from slopecli.errors import NumericError
from slopecli.network.data import Block
from slopecli.network.model import Layer, Network
from slopecli.network.train import evaluate, step
from slopecli.render.network_tables import NetworkTables, draw_network_step
from test_tables_width import NUMBER, UNLIMITED, WIDTHS, names, precisions, values

ACTIVATIONS = ("identity", "relu", "sigmoid", "tanh")


@st.composite
def runs(draw: st.DrawFn) -> tuple[Network, np.ndarray, np.ndarray, list[str]]:
    sizes = [draw(st.integers(1, 3)), *draw(st.lists(st.integers(1, 3), max_size=2)), draw(st.integers(1, 2))]
    layers = []
    for i in range(1, len(sizes)):
        weights = np.array([[draw(values) for _ in range(sizes[i - 1])] for _ in range(sizes[i])])
        bias = np.array([draw(values) for _ in range(sizes[i])]) if draw(st.booleans()) else None
        layers.append(Layer(weights, bias, draw(st.sampled_from(ACTIVATIONS))))
    n = draw(st.integers(1, 3))
    X = np.array([[draw(values) for _ in range(sizes[0])] for _ in range(n)])
    Y = np.array([[draw(values) for _ in range(sizes[-1])] for _ in range(n)])
    return Network(tuple(layers)), X, Y, draw(st.lists(names, min_size=sizes[0], max_size=sizes[0]))


def render(network: Network, X: np.ndarray, Y: np.ndarray, features: list[str], p: int, width: int) -> str:
    console = Console(file=StringIO(), width=width, color_system=None)
    data = [Block(X, Y, 0)]
    targets = [f"t{j}" for j in range(network.outputs)]
    tables = NetworkTables(console, network, features, targets, p, "data.csv", 1)
    tables.end(evaluate(network, data, tables.rows))
    try:
        result = step(lambda: data, network, 1e-3)
    except NumericError:
        pass
    else:
        draw_network_step(console, result, features, p, "data.csv")
    return console.file.getvalue()  # type: ignore[attr-defined]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs(), precisions)
def test_network_tables_fit_and_keep_every_number_whole(run, p):
    network, X, Y, features = run
    try:
        reference = render(network, X, Y, features, p, UNLIMITED)
    except NumericError:
        return
    expected = set(NUMBER.findall(reference))
    for width in WIDTHS:
        text = render(network, X, Y, features, p, width)
        too_wide = [line for line in text.splitlines() if cell_len(line) > width]
        assert not too_wide, (width, too_wide)
        # A cut or split number shows up as a number the table does not have, or one missing.
        assert set(NUMBER.findall(text)) == expected, (width, set(NUMBER.findall(text)) ^ expected)
        assert all(math.isfinite(float(token.replace(",", ""))) for token in NUMBER.findall(text))
