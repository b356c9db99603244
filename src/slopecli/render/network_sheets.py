"""What a learner sees of a network, as sheets for :mod:`slopecli.render.layout`: the forward pass
layer by layer with the numbers substituted (``z = 2·3 + 4·5 = 26``, ``a = relu(26) = 26``), the
error and the loss, the backward pass from the output down (``δ = relu'(z)·Σ w·δ_next``), each
weight's gradient, and a step's before and after. Drawn by :mod:`slopecli.render.network_tables`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from slopecli.network.core import NetSums, backward, derivative
from slopecli.network.model import Network
from slopecli.network.train import NetRows, NetStep
from slopecli.render.layout import Cell, Column, Sheet
from slopecli.render.numbers import factor, num, squared
from slopecli.text import count

TERMS = 6
"""A sum of more terms than this shows its first and last three, as ``a + b + c + … + x + y + z``."""

NODE = Column("Node", style="bold", label="", key=True)
PARAMETER = Column("Weight", prose=True, label="", key=True)


def node_names(network: Network) -> list[list[str]]:
    """The course's names: ``node_0``, … for one hidden layer, ``node_<layer>_<index>`` for several,
    ``output`` (``output_<index>`` for several outputs)."""
    hidden = len(network.layers) - 1
    names = []
    for i, layer in enumerate(network.layers):
        if i == hidden:
            names.append(["output"] if layer.nodes == 1 else [f"output_{j}" for j in range(layer.nodes)])
        elif hidden == 1:
            names.append([f"node_{j}" for j in range(layer.nodes)])
        else:
            names.append([f"node_{i}_{j}" for j in range(layer.nodes)])
    return names


def _sum(terms: Sequence[str]) -> str:
    shown = [*terms[:3], "…", *terms[-3:]] if len(terms) > TERMS else list(terms)
    return " + ".join(shown).replace("+ -", "− ")


def forward_sheets(
    network: Network, row: NetRows, features: Sequence[str], precision: int, title: str
) -> list[Sheet]:
    """One table per layer: each node's ``z`` with its numbers, and its activation."""
    p = precision
    names = node_names(network)
    sheets = []
    a_prev = row.X[0]
    for i, layer in enumerate(network.layers):
        rows: list[Sequence[Cell]] = []
        for j in range(layer.nodes):
            terms = [f"{factor(w, p)}·{factor(a, p)}" for w, a in zip(layer.weights[j], a_prev, strict=True)]
            if layer.bias is not None:
                terms.append(factor(layer.bias[j], p))
            z, a = float(row.passed.z[i][0, j]), float(row.passed.a[i][0, j])
            rows.append(
                [
                    names[i][j],
                    f"z = {_sum(terms)} = {num(z, p)}",
                    f"a = {layer.activation}({num(z, p)}) = {num(a, p)}",
                ]
            )
        inputs = ", ".join(features) if i == 0 else ", ".join(names[i - 1])
        what = "output layer" if i == len(network.layers) - 1 else f"hidden layer {i}"
        sheet_title = f"Forward: {what} (inputs {inputs})"
        if i == 0:
            sheet_title = f"{title} · {sheet_title}"
        columns = (
            NODE,
            Column("z = Σ w·a_prev" + (" + b" if layer.bias is not None else "")),
            Column("a = f(z)"),
        )
        sheets.append(Sheet(columns, rows, title=sheet_title))
        a_prev = row.passed.a[i][0]
    return sheets


def loss_sheet(network: Network, row: NetRows, targets: Sequence[str], precision: int) -> Sheet:
    """Each output's error, and the loss of the row."""
    p = precision
    names = node_names(network)[-1]
    rows: list[Sequence[Cell]] = []
    for j, name in enumerate(names):
        pred, target, err = float(row.passed.preds[0, j]), float(row.Y[0, j]), float(row.error[0, j])
        rows.append(
            [
                name,
                targets[j],
                num(target, p),
                f"error = {num(pred, p)} − {factor(target, p)} = {num(err, p)}",
            ]
        )
    errors = row.error[0]
    k = len(errors)
    squares = " + ".join(squared(float(e), p) for e in errors)
    loss = float(np.mean(errors * errors))
    formula = (
        f"loss = {squares} = {num(loss, p)}" if k == 1 else f"loss = (1/{k})·({squares}) = {num(loss, p)}"
    )
    columns = (
        NODE,
        Column("target\ncolumn", prose=True, label="target column"),
        Column("target", "right"),
        Column("error = preds − target"),
    )
    return Sheet(columns, rows, title="Error and loss", caption=formula)


def backward_sheets(network: Network, row: NetRows, features: Sequence[str], precision: int) -> list[Sheet]:
    """From the output down: each node's δ by the chain rule, then each weight's gradient, for one row.

    The δ here are one row's: ``(2/k)·error·f'(z)`` at the output, so that each gradient is
    ``a_prev·δ``; over n rows the gradient is their mean.
    """
    p = precision
    names = node_names(network)
    k = network.outputs
    deltas = [d * (2.0 / k) for d in backward(network, row.passed, row.error).deltas]
    last = len(network.layers) - 1
    sheets = []
    for i in range(last, -1, -1):
        layer = network.layers[i]
        z, a = row.passed.z[i][0], row.passed.a[i][0]
        slope = derivative(layer.activation, z, a)
        rows: list[Sequence[Cell]] = []
        for j in range(layer.nodes):
            d = float(deltas[i][0, j])
            f = f"{layer.activation}'({num(float(z[j]), p)})"
            if i == last:
                two = "2" if k == 1 else f"(2/{k})"
                e, s = factor(float(row.error[0, j]), p), factor(float(slope[j]), p)
                text = f"δ = {two}·error·{f} = {two}·{e}·{s} = {num(d, p)}"
            else:
                nxt = network.layers[i + 1]
                terms = [
                    f"{factor(float(nxt.weights[m, j]), p)}·{factor(float(deltas[i + 1][0, m]), p)}"
                    for m in range(nxt.nodes)
                ]
                text = f"δ = {f}·Σ w·δ_next = {factor(float(slope[j]), p)}·({_sum(terms)}) = {num(d, p)}"
            rows.append([names[i][j], text])
        what = "output layer" if i == last else f"hidden layer {i}"
        sheets.append(Sheet((NODE, Column("δ (chain rule)")), rows, title=f"Backward: {what}"))
        sources = list(features) if i == 0 else names[i - 1]
        a_prev = row.X[0] if i == 0 else row.passed.a[i - 1][0]
        grads: list[Sequence[Cell]] = []
        for j in range(layer.nodes):
            d = float(deltas[i][0, j])
            for m, source in enumerate(sources):
                g = float(a_prev[m]) * d
                grads.append(
                    [
                        f"{names[i][j]} ← {source}",
                        f"∂L/∂w = a_prev·δ = {factor(float(a_prev[m]), p)}·{factor(d, p)} = {num(g, p)}",
                    ]
                )
            if layer.bias is not None:
                grads.append([f"{names[i][j]} bias", f"∂L/∂b = δ = {num(d, p)}"])
        sheets.append(Sheet((PARAMETER, Column("gradient")), grads, title=f"Gradients: {what}"))
    return sheets


def parameter_labels(network: Network, features: Sequence[str]) -> list[str]:
    """Each parameter of :meth:`Network.flat`, as a learner names it: ``node_0 ← size``, ``output bias``."""
    names = node_names(network)
    labels = []
    for i, layer in enumerate(network.layers):
        sources = list(features) if i == 0 else names[i - 1]
        labels += [f"{names[i][j]} ← {source}" for j in range(layer.nodes) for source in sources]
        if layer.bias is not None:
            labels += [f"{names[i][j]} bias" for j in range(layer.nodes)]
    return labels


def gradient_sheet(
    network: Network, sums: NetSums, features: Sequence[str], precision: int, title: str
) -> Sheet:
    """Every weight and its gradient over all rows, and the loss."""
    p = precision
    rows: list[Sequence[Cell]] = [
        [label, num(float(w), p), num(float(g), p)]
        for label, w, g in zip(
            parameter_labels(network, features), network.flat(), sums.flat_gradient(), strict=True
        )
    ]
    columns = (
        PARAMETER,
        Column("weight", "right"),
        Column("∂L/∂w\n(mean over rows)", "right", label="∂L/∂w"),
    )
    caption = f"{title}: loss = mean((preds − target)²) = {num(sums.loss, p)} over {count(sums.n, 'row')}"
    return Sheet(columns, rows, title="Gradient of the loss", caption=caption)


def step_sheet(result: NetStep, features: Sequence[str], precision: int, title: str) -> Sheet:
    """Every weight before, its gradient and after, and the loss before and after."""
    p = precision
    lr = result.learning_rate
    rows: list[Sequence[Cell]] = [
        [
            label,
            num(float(w), p),
            num(float(g), p),
            f"{num(float(w), p)} − {factor(lr, p)}·{factor(float(g), p)} = {num(float(u), p)}",
        ]
        for label, w, g, u in zip(
            parameter_labels(result.network, features),
            result.network.flat(),
            result.before.flat_gradient(),
            result.updated.flat(),
            strict=True,
        )
    ]
    columns = (
        PARAMETER,
        Column("before", "right"),
        Column("gradient", "right"),
        Column("after = before − lr·gradient", label="after"),
    )
    verdict = "lower" if result.improved else "not lower"
    caption = (
        f"{title}: loss before {num(result.before.loss, p)}, after {num(result.after.loss, p)} ({verdict})"
    )
    return Sheet(columns, rows, title=f"One step, learning rate {num(lr, p)}", caption=caption)
