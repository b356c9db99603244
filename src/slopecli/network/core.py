"""Forward and backward passes through a network under squared error: numpy in, numpy out.

For rows ``A₀ = X`` (n × d) and targets ``Y`` (n × k)::

    z = a_prev·Wᵀ + b,  a = f(z)                 forward(net, X), layer by layer; preds = a_L
    L = mean((preds − Y)²)                        over rows and outputs
    δ_L = (2/(n·k))·error ⊙ f'(z_L)               at the output
    δ_prev = f'(z_prev) ⊙ δ·W                     the chain rule, one layer down
    ∂L/∂W = δᵀ·a_prev,  ∂L/∂b = Σ δ               summed over rows

:class:`NetSums` keeps the sums over rows *without* the ``2/(n·k)``, so that chunks, files and
machines merge them with ``+`` as the linear :class:`~slopecli.core.Sums` do. For a network with
no hidden layer, one output and identity activation every number here is computed by the same
numpy operations as the linear model's, so the two agree exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from slopecli.core import Matrix, Vector
from slopecli.network.model import Layer, Network


def _relu(z: Matrix) -> Matrix:
    return np.maximum(z, 0.0)


def _sigmoid(z: Matrix) -> Matrix:
    # exp(−logaddexp(0, −z)) = 1/(1 + e^−z), without overflow for large |z|.
    return np.exp(-np.logaddexp(0.0, -z))


FUNCTIONS: dict[str, Callable[[Matrix], Matrix]] = {
    "identity": lambda z: z,
    "relu": _relu,
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
}


def derivative(activation: str, z: Matrix, a: Matrix) -> Matrix:
    """``f'(z)``, from ``z`` and ``a = f(z)``; ``relu'(0) = 0``."""
    if activation == "identity":
        return np.ones_like(z)
    if activation == "relu":
        return (z > 0).astype(np.float64)
    if activation == "sigmoid":
        return a * (1.0 - a)
    return 1.0 - a * a


def affine(a_prev: Matrix, layer: Layer) -> Matrix:
    """``z = a_prev·Wᵀ + b``; a one-node layer as a matrix-vector product, as the linear ``X·w``."""
    one = layer.nodes == 1
    z: Matrix = (a_prev @ layer.weights[0])[:, np.newaxis] if one else a_prev @ layer.weights.T
    return z if layer.bias is None else z + layer.bias


@dataclass(frozen=True)
class Forward:
    """Every layer's ``z`` and ``a`` (n × nodes) for a block of rows; ``inputs`` is ``a₀``."""

    inputs: Matrix
    z: tuple[Matrix, ...]
    a: tuple[Matrix, ...]

    @property
    def preds(self) -> Matrix:
        return self.a[-1]


def forward(network: Network, X: Matrix) -> Forward:
    """Each layer's ``z`` and ``a``, from the first hidden layer to the output."""
    zs, activations = [], []
    a = X
    for layer in network.layers:
        z = affine(a, layer)
        a = FUNCTIONS[layer.activation](z)
        zs.append(z)
        activations.append(a)
    return Forward(X, tuple(zs), tuple(activations))


@dataclass(frozen=True)
class Backward:
    """Each layer's ``e ⊙ f'(z)``-scaled deltas (n × nodes), without the factor ``2/(n·k)``."""

    deltas: tuple[Matrix, ...]


def backward(network: Network, passed: Forward, err: Matrix) -> Backward:
    """The deltas of every layer, from the output down, by the chain rule."""
    layers = network.layers
    deltas: list[Matrix] = [None] * len(layers)  # type: ignore[list-item]
    last = len(layers) - 1
    delta = err * derivative(layers[last].activation, passed.z[last], passed.a[last])
    deltas[last] = delta
    for i in range(last - 1, -1, -1):
        delta = derivative(layers[i].activation, passed.z[i], passed.a[i]) * (delta @ layers[i + 1].weights)
        deltas[i] = delta
    return Backward(tuple(deltas))


def layer_sums(a_prev: Matrix, delta: Matrix) -> Matrix:
    """``Σ_rows δᵀ·a_prev`` (nodes × inputs); one node as ``a_prevᵀ·δ``, as the linear ``Xᵀ·e``."""
    if delta.shape[1] == 1:
        return (a_prev.T @ delta[:, 0])[np.newaxis, :]
    return delta.T @ a_prev


@dataclass(frozen=True, eq=False)
class NetSums:
    """The mergeable sums of a batch: ``n``, per layer ``Σ δᵀ·a_prev`` and ``Σ δ``, and ``Σ error²``.

    The deltas here lack the factor ``2/(n·k)``, which :attr:`gradients` applies once at the end:
    two batches' sums add to the sums of their concatenation.

    Attributes:
        n: number of rows.
        outputs: k, the number of outputs (targets per row).
        weights: per layer, ``Σ_rows δᵀ·a_prev``.
        bias: per layer, ``Σ_rows δ`` (None where the layer has no bias).
        sse: ``Σ error²`` over rows and outputs.
    """

    n: int
    outputs: int
    weights: tuple[Matrix, ...]
    bias: tuple[Vector | None, ...]
    sse: float

    @classmethod
    def zero(cls, network: Network) -> NetSums:
        return cls(
            0,
            network.outputs,
            tuple(np.zeros_like(layer.weights) for layer in network.layers),
            tuple(None if layer.bias is None else np.zeros(layer.nodes) for layer in network.layers),
            0.0,
        )

    @classmethod
    def of(cls, network: Network, passed: Forward, err: Matrix) -> NetSums:
        """The sums of rows whose forward pass and errors are known."""
        deltas = backward(network, passed, err).deltas
        inputs = (passed.inputs, *passed.a[:-1])
        weights = tuple(layer_sums(a_prev, d) for a_prev, d in zip(inputs, deltas, strict=True))
        bias = tuple(
            None if layer.bias is None else d.sum(axis=0)
            for layer, d in zip(network.layers, deltas, strict=True)
        )
        flat = err[:, 0] if err.shape[1] == 1 else err.ravel()
        return cls(len(err), err.shape[1], weights, bias, float(flat @ flat))

    def __add__(self, other: NetSums) -> NetSums:
        return NetSums(
            self.n + other.n,
            self.outputs,
            tuple(a + b for a, b in zip(self.weights, other.weights, strict=True)),
            tuple(
                None if a is None or b is None else a + b for a, b in zip(self.bias, other.bias, strict=True)
            ),
            self.sse + other.sse,
        )

    @property
    def gradients(self) -> tuple[tuple[Matrix, Vector | None], ...]:
        """Per layer ``(∂L/∂W, ∂L/∂b)``: the sums divided by n, times ``2/k``.

        Raises:
            ZeroDivisionError: there are no rows.
        """
        n = self._rows()
        scale = 2.0 / self.outputs
        return tuple(
            (w / n * scale, None if b is None else b / n * scale)
            for w, b in zip(self.weights, self.bias, strict=True)
        )

    def flat_gradient(self) -> Vector:
        """The gradient in the order of :meth:`Network.flat`."""
        parts: list[Vector] = []
        for w, b in self.gradients:
            parts.append(w.ravel())
            if b is not None:
                parts.append(b)
        return np.concatenate(parts)

    @property
    def loss(self) -> float:
        """``mean((preds − target)²)`` over rows and outputs.

        Raises:
            ZeroDivisionError: there are no rows.
        """
        return self.sse / (self._rows() * self.outputs)

    def _rows(self) -> int:
        if self.n == 0:
            msg = "no rows: the mean of zero errors is undefined"
            raise ZeroDivisionError(msg)
        return self.n


def update(network: Network, sums: NetSums, learning_rate: float) -> Network:
    """One step: every weight and bias ``− learning_rate·gradient``."""
    layers = []
    for layer, (gw, gb) in zip(network.layers, sums.gradients, strict=True):
        bias = None if layer.bias is None or gb is None else layer.bias - learning_rate * gb
        layers.append(Layer(layer.weights - learning_rate * gw, bias, layer.activation))
    return Network(tuple(layers))
