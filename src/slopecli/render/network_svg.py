"""A network as a standalone SVG 1.1 picture: the diagram a learner would otherwise draw by hand.

One column per layer, inputs on the left, outputs on the right. Each node shows its name and, for
the row drawn, its value (``a``; the inputs' ``x``); each edge its weight and, below it, the
gradient of the loss over all rows (``∇``). An edge's width grows with its weight's size, and
its colour says its sign. A large network keeps its edges but drops their labels, which would
overlap. Built from strings; writing the file is the caller's job.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from xml.sax.saxutils import escape

from slopecli.network.core import NetSums
from slopecli.network.model import Network
from slopecli.network.train import NetRows
from slopecli.render.network_sheets import node_names
from slopecli.render.numbers import num
from slopecli.text import count

COLUMN, ROW, RADIUS, MARGIN = 240, 90, 26, 70
LABELLED_EDGES = 40
"""Up to this many edges, each is labelled with its weight and gradient."""
POSITIVE, NEGATIVE = "#1f77b4", "#d62728"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: str) -> str:
    return escape(_NOT_XML.sub("\ufffd", value))


def _n(value: float) -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def network_svg(network: Network, row: NetRows | None, sums: NetSums, features: Sequence[str]) -> str:
    """The picture of ``network``: values of ``row`` (None: names only), gradients from ``sums``."""
    names = [list(features), *node_names(network)]
    values: list[list[float] | None] = [None] * len(names)
    if row is not None:
        values = [row.X[0].tolist(), *(a[0].tolist() for a in row.passed.a)]
    tallest = max(len(column) for column in names)
    width = 2 * MARGIN + COLUMN * (len(names) - 1)
    height = 2 * MARGIN + ROW * (tallest - 1) + 40

    def at(layer: int, node: int) -> tuple[float, float]:
        count = len(names[layer])
        top = MARGIN + 30 + ROW * (tallest - count) / 2
        return MARGIN + COLUMN * layer, top + ROW * node

    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        *(
            f'<text x="{width / 2:.0f}" y="{22 + 18 * k}" text-anchor="middle"'
            f' font-size="{14 - k}">{_text(line)}</text>'
            for k, line in enumerate(_title(row, sums))
        ),
    ]
    edges = sum(layer.weights.size for layer in network.layers)
    gradients = sums.gradients if sums.n else None
    largest = max(float(abs(network.flat()).max()), 1e-300)
    for i, layer in enumerate(network.layers):
        for j in range(layer.nodes):
            x2, y2 = at(i + 1, j)
            for m in range(layer.inputs):
                x1, y1 = at(i, m)
                w = float(layer.weights[j, m])
                stroke = POSITIVE if w >= 0 else NEGATIVE
                thick = 0.5 + 3.5 * abs(w) / largest
                parts.append(
                    f'<line x1="{_n(x1 + RADIUS)}" y1="{_n(y1)}" x2="{_n(x2 - RADIUS)}" y2="{_n(y2)}"'
                    f' stroke="{stroke}" stroke-width="{_n(thick)}" opacity="0.7"/>'
                )
                if edges <= LABELLED_EDGES:
                    # On the third of the edge nearer its source, where edges into one node part.
                    lx, ly = x1 + RADIUS + (x2 - x1 - 2 * RADIUS) / 3, y1 + (y2 - y1) / 3
                    label = f"w={num(w, 4)}"
                    if gradients is not None:
                        label += f" ∇={num(float(gradients[i][0][j, m]), 4)}"
                    parts.append(
                        f'<text x="{_n(lx)}" y="{_n(ly - 4)}" text-anchor="middle" fill="{stroke}">'
                        f"{_text(label)}</text>"
                    )
    for i, column in enumerate(names):
        for j, name in enumerate(column):
            x, y = at(i, j)
            fill = "#eeeeee" if i == 0 else "#ffffff"
            parts.append(
                f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{RADIUS}" fill="{fill}"'
                ' stroke="#333333" stroke-width="1.5"/>'
            )
            shown = values[i]
            parts.append(f'<text x="{_n(x)}" y="{_n(y - 4)}" text-anchor="middle">{_text(name)}</text>')
            if shown is not None:
                parts.append(
                    f'<text x="{_n(x)}" y="{_n(y + 12)}" text-anchor="middle" font-weight="bold">'
                    f"{_text(num(shown[j], 4))}</text>"
                )
            if i > 0:
                layer = network.layers[i - 1]
                note = layer.activation
                if layer.bias is not None:
                    note += f", b={num(float(layer.bias[j]), 4)}"
                parts.append(
                    f'<text x="{_n(x)}" y="{_n(y + RADIUS + 14)}" text-anchor="middle" fill="#555555">'
                    f"{_text(note)}</text>"
                )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _title(row: NetRows | None, sums: NetSums) -> list[str]:
    nodes = f"nodes: row {row.first_row + 1}'s values · " if row is not None else ""
    lines = [f"{nodes}edges: weight w, gradient ∇ = ∂L/∂w"]
    if sums.n:
        lines.append(f"loss over {count(sums.n, 'row')} = {num(sums.loss, 6)}")
    return lines
