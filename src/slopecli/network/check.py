"""``check --network``: every weight's and bias's analytic gradient beside central differences,
with a default tolerance made of bounds (the rounding of each loss and of the gradient, the
truncation of the difference), so that a correct gradient is not reported. Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from slopecli.core import Matrix
from slopecli.descent import EPS, WeightCheck, stepped, uncheckable, weight_check
from slopecli.errors import NumericError
from slopecli.network.core import Forward, forward
from slopecli.network.data import Block, Blocks
from slopecli.network.model import Network
from slopecli.network.train import evaluate, rows_of
from slopecli.readers.chunk import Chunk


def check_gradient(
    data: Blocks, network: Network, rtol: float = 1e-6, atol: float | None = None, source: str = "input"
) -> list[WeightCheck]:
    """Every weight's and bias's analytic gradient beside central differences of the loss.

    The step for parameter i is ``h = ε^(1/3)·max(1, |θ_i|)``, and the numeric slope is
    ``D(h) = (L(θ+h) − L(θ−h))/2h``. Unlike the linear model's, a network's loss is not quadratic
    in its weights, so ``D(h)`` carries two errors besides the analytic gradient's own rounding:

    - truncation, ``c·h² + O(h⁴)``, whose size depends on how curved the loss is (it grows with
      the inputs' scale and a saturating activation). ``D(h/2)`` is taken too: their difference
      is ``¾·c·h²``, so ``4·|D(h) − D(h/2)|`` bounds the truncation with a margin of three;
    - rounding: each loss is bounded by a running error analysis of the forward pass
      (:class:`_LossBound`), which, like the linear ``check``'s, charges each error with the
      magnitudes it is computed from, not with itself (a near-perfect fit cancels).

    The default absolute tolerance is the sum of these bounds (the analytic gradient's by
    :func:`_gradient_bound`), twice, on top of ``rtol`` relative to the numeric value. A ReLU
    node whose ``z`` is 0, or so near 0 that the differences at ``h`` and ``h/2`` straddle the
    kink alike, has no derivative the differences can see, and the check rightly reports it; a
    kink that only the wider step reaches makes ``D(h)`` and ``D(h/2)`` differ, and widens the
    tolerance instead of raising a false alarm.

    A network that is the linear model (one ``identity`` layer of one node) is checked as the
    linear model is, by :func:`slopecli.descent.check_gradient`: the loss is quadratic there, so
    its tolerance can be the rounding alone, and the two commands agree to the last bit.

    Raises:
        NumericError: the values overflow, so there is no difference to compare.
    """
    if len(network.layers) == 1 and network.outputs == 1 and network.layers[0].activation == "identity":
        return _check_linear(data, network, rtol, atol)
    base = evaluate(network, data(), None, source)
    grad = base.flat_gradient()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # overflow: a non-finite tolerance
        rounding = _gradient_bound(data, network)
    theta = network.flat()
    checks = []
    for i in range(len(theta)):
        h = EPS ** (1 / 3) * max(1.0, abs(float(theta[i])))
        numeric, error = _difference(data, network, theta, i, h)
        if atol is None:
            half, half_error = _difference(data, network, theta, i, h / 2)
            floor = 2 * (error + half_error + 4 * abs(numeric - half) + float(rounding[i]))
        else:
            floor = atol
        checks.append(weight_check(float(grad[i]), numeric, h, floor, rtol))
    return checks


@dataclass(frozen=True)
class Kink:
    """A ReLU node whose ``z`` is 0 on a data row (1-based), or so near 0 that the differences'
    steps cross it: ReLU has no derivative there, and the check cannot agree."""

    layer: int
    node: int
    row: int
    z: float

    def __str__(self) -> str:
        where = f"layers[{self.layer}] node {self.node}"
        if self.z == 0:
            return (
                f"{where} has z = 0 on data row {self.row}, where ReLU has no derivative (slopecli"
                " takes 0; the differences see the kink)"
            )
        return (
            f"{where} has z = {self.z:.3g} on data row {self.row}, so near ReLU's kink at 0 that the"
            " differences' steps cross it"
        )


def relu_kink(data: Blocks, network: Network) -> Kink | None:
    """The first ReLU node whose ``z`` on a row is 0, or nearer 0 than a step of the check can
    move it (twice ``ε^(1/3)`` of the terms it is summed from, at least of 1), if any: what a
    failed check most often means for a learner's hand-made network, not a wrong gradient."""
    relu = [i for i, layer in enumerate(network.layers) if layer.activation == "relu"]
    if not relu:
        return None
    reach = 2 * EPS ** (1 / 3)
    for block in data():
        passed = forward(network, block.X)
        for i in relu:
            layer = network.layers[i]
            a_prev = passed.inputs if i == 0 else passed.a[i - 1]
            terms = np.abs(a_prev) @ np.abs(layer.weights).T
            if layer.bias is not None:
                terms = terms + np.abs(layer.bias)
            z = passed.z[i]
            hits = np.argwhere(np.abs(z) <= reach * np.maximum(1.0, terms))
            if len(hits):
                row, node = hits[0]
                return Kink(i, int(node), block.first_row + int(row) + 1, float(z[row, node]))
    return None


def _difference(data: Blocks, network: Network, theta: Matrix, i: int, h: float) -> tuple[float, float]:
    """``(L(θ+h·eᵢ) − L(θ−h·eᵢ))/width`` and a bound on its rounding; width is the step taken
    after rounding ``θᵢ ± h`` to doubles."""
    plus, minus, width = stepped(theta, i, h)
    try:
        up = _LossBound.of(network.with_flat(plus), data())
        down = _LossBound.of(network.with_flat(minus), data())
    except NumericError:
        raise uncheckable() from None
    with np.errstate(over="ignore", invalid="ignore"):
        return (up.loss - down.loss) / width, (up.error + down.error) / width


_LIPSCHITZ = {"identity": 1.0, "relu": 1.0, "sigmoid": 0.25, "tanh": 1.0}
_ULPS = {"identity": 0.0, "relu": 0.0, "sigmoid": 4.0, "tanh": 2.0}
"""How many ε of |a| the computed activation may be off by, beside what its input's error makes."""
_WIDTH = {"sigmoid": 1.0, "tanh": 2.0}
"""The width of a bounded activation's range: no error in its value can be larger."""


def _gamma(k: float) -> float:
    """Higham's γ_k = kε/(1 − kε): the relative error bound of a sum of k + 1 terms, in any order."""
    return k * EPS / (1 - k * EPS)  # k stays far below 1/ε ≈ 4.5e15 (rows, nodes, inputs)


def _forward_bounds(
    network: Network, X: Matrix, passed: Forward | None = None
) -> tuple[Forward, list[Matrix]]:
    """The forward pass, and for each layer's ``a`` a bound on its absolute rounding error.

    ``z = W·a + b`` in any order of summation is off by at most ``γ_{d+1}·(|W|·|a| + |b|)``,
    plus ``|W|·r`` carried from ``a``'s own error ``r``; ``f(z)`` adds its Lipschitz constant
    times that, and a few ulps of ``|f(z)|`` for ``exp`` and ``tanh``. ``passed``: the forward
    pass of ``X``, when it is known already.
    """
    passed = forward(network, X) if passed is None else passed
    bounds = []
    a, r = np.abs(X), np.zeros_like(X)
    for layer, out in zip(network.layers, passed.a, strict=True):
        weights = np.abs(layer.weights)
        magnitude = a @ weights.T
        if layer.bias is not None:
            magnitude = magnitude + np.abs(layer.bias)
        rz = _gamma(layer.inputs + 1) * magnitude + r @ weights.T
        r = _LIPSCHITZ[layer.activation] * rz + _ULPS[layer.activation] * EPS * np.abs(out)
        if layer.activation in _WIDTH:  # a saturating activation's value is off by at most its range
            r = np.minimum(r, _WIDTH[layer.activation])
        bounds.append(r)
        a = np.abs(out)
    return passed, bounds


@dataclass(frozen=True)
class _LossBound:
    """The loss ``Σ e²/(n·k)`` as :func:`evaluate` computes it, and a bound on its rounding.

    Each error ``e = a_L − y`` is off by ``r = r_L + ε·(|a_L| + |y|)``, so ``e²`` by
    ``2|e|·r + r² + ε·e²``; the sum of ``N = n·k`` squares adds ``γ_N·Σe²``, the mean one ε.
    """

    loss: float
    error: float

    @classmethod
    def of(cls, network: Network, blocks: Iterable[Block]) -> _LossBound:
        sse = slack = 0.0
        n = 0
        for block in blocks:
            rows = rows_of(network, block)  # raises NumericError on overflow, as evaluate does
            with np.errstate(over="ignore", invalid="ignore"):
                _, bounds = _forward_bounds(network, block.X, rows.passed)
                err = rows.error
                r = bounds[-1] + EPS * (np.abs(rows.passed.preds) + np.abs(block.Y))
                flat = err[:, 0] if err.shape[1] == 1 else err.ravel()
                sse += float(flat @ flat)
                slack += float(np.sum(2 * np.abs(err) * r + r * r + EPS * err * err))
                n += len(err)
        count = max(n, 1) * network.outputs  # no rows: the data's readers have said so already
        with np.errstate(over="ignore", invalid="ignore"):
            loss = sse / count
            return cls(loss, (slack + _gamma(count) * sse) / count + EPS * loss)


def _gradient_bound(data: Blocks, network: Network) -> Matrix:
    """A bound on the rounding of the analytic gradient, in the order of :meth:`Network.flat`.

    A first-order running error analysis of the backward pass: beside each ``δ``'s magnitude
    ``D`` (``|e|·|f'|`` at the output, then ``|f'|·(D·|W|)``) it carries a bound ``E`` on its
    error, made of the errors of ``e`` (from :func:`_forward_bounds`), of ``f'(z)`` (computed
    from a rounded ``a``) and of each product and sum (``γ_k`` of their magnitudes). A weight's
    gradient ``Σ δ·a_prev`` is then off by ``Σ E·|a_prev| + D·r_prev + γ_{n+1}·D·|a_prev|``.
    """
    layers = network.layers
    # Σ (E·|a_prev| + D·r_prev) and Σ D·|a_prev|, apart: γ_{n+1} is known after the last block.
    weights = [np.zeros_like(layer.weights) for layer in layers]
    biases = [np.zeros(layer.nodes) for layer in layers]
    weights_d = [np.zeros_like(layer.weights) for layer in layers]
    biases_d = [np.zeros(layer.nodes) for layer in layers]
    n = 0
    for block in data():
        n += len(block.X)
        passed, bounds = _forward_bounds(network, block.X)
        last = len(layers) - 1
        err = passed.preds - block.Y
        r_e = bounds[last] + EPS * (np.abs(passed.preds) + np.abs(block.Y))
        slope, slope_error = _slope_bound(layers[last].activation, passed.a[last], bounds[last])
        D = np.abs(err) * slope
        E = r_e * slope + np.abs(err) * slope_error + EPS * D
        for i in range(last, -1, -1):
            a_prev = np.abs(block.X) if i == 0 else np.abs(passed.a[i - 1])
            r_prev = np.zeros_like(a_prev) if i == 0 else bounds[i - 1]
            weights[i] += E.T @ a_prev + D.T @ r_prev
            weights_d[i] += D.T @ a_prev
            biases[i] += E.sum(axis=0)
            biases_d[i] += D.sum(axis=0)
            if i:
                W = np.abs(layers[i].weights)
                slope, slope_error = _slope_bound(layers[i - 1].activation, passed.a[i - 1], bounds[i - 1])
                back = D @ W
                E = slope * (E @ W + _gamma(layers[i].nodes) * back) + slope_error * back + EPS * slope * back
                D = slope * back
    gamma_rows = _gamma(n + 1)
    parts: list[Matrix] = []
    for layer, w, wd, b, bd in zip(layers, weights, weights_d, biases, biases_d, strict=True):
        parts.append((w + gamma_rows * wd).ravel())
        if layer.bias is not None:
            parts.append(b + gamma_rows * bd)
    # The factor 2/(n·k) rounds once more.
    scaled: Matrix = (1 + 2 * EPS) * 2.0 / (n * network.outputs) * np.concatenate(parts)
    return scaled


def _slope_bound(activation: str, a: Matrix, r: Matrix) -> tuple[Matrix, Matrix]:
    """``|f'(z)|`` (at most) and a bound on its error, from ``a = f(z)`` and ``a``'s error ``r``.

    ReLU's slope is exact, 0 or 1, unless ``z`` is within its error of the kink: that is the
    kink the check reports, not rounding.
    """
    if activation in ("identity", "relu"):
        return np.ones_like(a), np.zeros_like(a)
    if activation == "sigmoid":  # a·(1 − a): off by |1 − 2a|·r, and three roundings
        slope = np.abs(a * (1 - a))
        return slope, np.abs(1 - 2 * a) * r + 3 * EPS * (slope + np.abs(a))
    slope = np.abs(1 - a * a)  # tanh: 1 − a², off by 2|a|·r, and two roundings
    return slope, 2 * np.abs(a) * r + 2 * EPS * (slope + a * a)


def _check_linear(data: Blocks, network: Network, rtol: float, atol: float | None) -> list[WeightCheck]:
    """The linear model's check; a bias is the weight of a constant-1 feature, last (as ``--bias``)."""
    from slopecli.descent import check_gradient as linear_check

    bias = network.layers[0].bias is not None

    def chunks() -> Iterator[Chunk]:
        for block in data():
            X = np.column_stack([block.X, np.ones(len(block.X))]) if bias else block.X
            yield Chunk(X, block.Y[:, 0], block.first_row)

    return linear_check(chunks, network.flat(), rtol=rtol, atol=atol)
