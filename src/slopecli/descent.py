"""Using the slope: one update, many updates, and a check of the gradient itself.

Each pass over the data is one call of ``data()``, a fresh stream of chunks, so a file larger
than memory costs one streamed read per step. Nothing here prints or reads flags.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from slopecli.core import Sums, Vector, update
from slopecli.errors import DivergedError, NumericError, UsageError
from slopecli.evaluation import RowBatch, checked, evaluate, rows_of
from slopecli.readers.chunk import Chunk
from slopecli.stability import rate_advice, tenth_advice

Data = Callable[[], Iterable[Chunk]]
"""A fresh pass over the rows, each time it is called."""
P = TypeVar("P")
"""A model's parameters: the linear model's weights, or a network."""
S = TypeVar("S")
"""What one pass over the data gives for them."""

EPS = float(np.finfo(np.float64).eps)
GROWTH_NOISE = 1e-9
"""Relative MSE growth that counts as noise, not divergence (rounding at the minimum)."""


@dataclass(frozen=True)
class StepResult:
    """One update ``w' = w − lr·gradient`` and the MSE before and after it."""

    weights: Vector
    learning_rate: float
    before: Sums
    updated: Vector
    after: Sums
    advice: str | None = None
    """What to try instead, when the step raised the MSE by more than rounding (a learning rate,
    from the data)."""

    @property
    def gradient(self) -> Vector:
        return self.before.gradient

    @property
    def improved(self) -> bool:
        return self.after.mse < self.before.mse


def step(
    data: Data,
    weights: Vector,
    learning_rate: float,
    on_rows: Callable[[RowBatch, RowBatch], None] | None = None,
    source: str = "input",
) -> StepResult:
    """One step of gradient descent, in two passes.

    The first pass finds the gradient at ``w``; the second evaluates each chunk at ``w`` and at
    the updated weights, so ``on_rows`` sees every row before and after the step together.

    Raises:
        NumericError: a value overflowed, before or after the update.
    """
    before = evaluate(data(), weights, None, source)
    with np.errstate(over="ignore", invalid="ignore"):
        updated = update(weights, before.gradient, learning_rate)
    if not np.isfinite(updated).all():
        msg = (
            f"the updated weights overflow float64: --learning-rate {learning_rate:g} is too large;"
            f" {rate_advice(data, learning_rate)}"
        )
        raise DivergedError(msg)
    try:
        if on_rows is None:
            after = evaluate(data(), updated, None, source)
        else:
            after = Sums.zero(len(weights))
            for chunk in data():
                old, new = rows_of(chunk, weights, source), rows_of(chunk, updated, source)
                on_rows(old, new)
                with np.errstate(over="ignore", invalid="ignore"):  # checked() below says what overflowed
                    after = after + Sums.of_error(chunk.X, new.error)
            after = checked(after, source)
    except NumericError:
        # The data was fine before the step (the first pass said so): the step overshot.
        raise overshot(source, "the predictions", learning_rate, rate_advice(data, learning_rate)) from None
    # No advice for a step that lowered the MSE, or left it where it was within rounding: at the
    # minimum (or with a zero gradient) no rate does better, and an update that underflows on
    # tiny values needs a larger one.
    unchanged = after.mse <= before.mse * (1 + GROWTH_NOISE) or not before.gradient.any()
    advice = None if unchanged else rate_advice(data, learning_rate)
    return StepResult(weights, learning_rate, before, updated, after, advice)


def overshot(source: str, what: str, learning_rate: float, advice: str | None = None) -> DivergedError:
    """The error of a step whose updated parameters overflow float64 on data that was fine before it."""
    msg = (
        f"{source}: after the step, {what} overflow float64: --learning-rate {learning_rate:g} is too"
        f" large; {advice or tenth_advice(learning_rate)}"
    )
    return DivergedError(msg)


@dataclass(frozen=True)
class Record:
    """Where descent stood at one step: the weights, their MSE and the gradient's length."""

    step: int
    weights: Vector
    mse: float
    gradient: Vector

    @property
    def gradient_norm(self) -> float:
        """The Euclidean length, scaled so that squaring cannot overflow a finite gradient."""
        largest = float(np.max(np.abs(self.gradient)))
        if largest == 0.0:
            return 0.0
        return largest * float(np.sqrt(np.sum(np.square(self.gradient / largest))))


@dataclass(frozen=True)
class Descent:
    """The history of a run (step 0 is the starting point) and why it stopped."""

    history: list[Record]
    learning_rate: float
    stopped: str
    """``"steps"`` (all steps taken) or ``"tol"`` (the gradient norm fell below the tolerance)."""

    @property
    def final(self) -> Record:
        return self.history[-1]


def descend(
    data: Data,
    weights: Vector,
    learning_rate: float,
    steps: int,
    tol: float | None = None,
    patience: int = 5,
    on_step: Callable[[Record], None] | None = None,
    source: str = "input",
) -> Descent:
    """Full-batch gradient descent: ``steps`` updates, each from one pass over the data.

    Stops early when the gradient norm falls below ``tol``.

    Raises:
        NumericError: a value overflowed at the starting weights (naming ``source``).
        DivergedError: the MSE grew for ``patience`` steps in a row, or a value overflowed.
    """
    descent, _ = run_descent(
        weights,
        measure=lambda w: evaluate(data(), w, None, source),
        record=lambda k, w, sums: Record(k, w, sums.mse, sums.gradient),
        move=lambda w, sums: update(w, sums.gradient, learning_rate),
        flat=lambda w: w,
        learning_rate=learning_rate,
        steps=steps,
        tol=tol,
        patience=patience,
        on_step=on_step,
        advice=functools.partial(rate_advice, data, learning_rate),
    )
    return descent


def run_descent(
    start: P,
    *,
    measure: Callable[[P], S],
    record: Callable[[int, P, S], Record],
    move: Callable[[P, S], P],
    flat: Callable[[P], Vector],
    learning_rate: float,
    steps: int,
    tol: float | None = None,
    patience: int = 5,
    on_step: Callable[[Record], None] | None = None,
    loss: str = "MSE",
    advice: Callable[[], str] | None = None,
) -> tuple[Descent, P]:
    """The descent loop, for any model: the linear one's weights, or a network.

    Args:
        start: the parameters at step 0.
        measure: one pass over the data at the given parameters (raises NumericError on overflow).
        record: what step ``k`` shows of the parameters and their pass.
        move: one update of the parameters from their pass (``w − lr·gradient``).
        flat: the parameters as one vector, to check that the update stayed finite.
        loss: the loss's name in a divergence message.
        advice: what a divergence message suggests (asked only then); a tenth of the rate if None.

    Returns:
        The run, and the final parameters.

    Raises:
        NumericError: ``measure``'s, for the starting parameters.
        DivergedError: the loss grew for ``patience`` steps in a row, or a value overflowed.
    """
    history: list[Record] = []
    params = start
    growing = 0
    if advice is None:
        advice = functools.partial(tenth_advice, learning_rate)
    for k in range(steps + 1):
        try:
            sums = measure(params)
        except NumericError:
            if not k:
                # The starting point is the user's, not a step taken: its message names the data.
                raise
            raise _diverged(k, "the values overflow float64", advice()) from None
        current = record(k, params, sums)
        history.append(current)
        if on_step is not None:
            on_step(current)
        # Near the minimum the loss jitters by rounding while the gradient still shrinks; a
        # diverging run grows both, by more than rounding.
        previous = history[-2] if k else None
        if (
            previous is not None
            and current.mse > previous.mse * (1 + GROWTH_NOISE)
            and current.gradient_norm > previous.gradient_norm
        ):
            growing += 1
            if growing >= patience:
                raise _diverged(k, f"the {loss} grew for {patience} steps in a row", advice())
        else:
            growing = 0
        if tol is not None and current.gradient_norm < tol:
            return _kept(Descent(history, learning_rate, "tol"), loss, advice), params
        if k < steps:
            with np.errstate(over="ignore", invalid="ignore"):
                params = move(params, sums)
            if not np.isfinite(flat(params)).all():
                raise _diverged(k + 1, "the weights overflow float64", advice())
    return _kept(Descent(history, learning_rate, "steps"), loss, advice), params


def _kept(run: Descent, loss: str, advice: Callable[[], str]) -> Descent:
    """``run``, unless it ended with a larger loss than it started with.

    A network's step can overshoot once into a flat region (every ReLU off, the gradient zero):
    the loss jumps and then stays, with no run of rises for the rule above to see, and the run
    would end "converged" or at its last step, worse than it began.

    Raises:
        DivergedError: the last loss is above the first, by more than rounding.
    """
    first, last = run.history[0], run.history[-1]
    if last.mse > first.mse * (1 + GROWTH_NOISE):
        msg = (
            f"the {loss} ended above where it started ({first.mse:g} at step 0, {last.mse:g} at step"
            f" {last.step}): a step overshot; {advice()}"
        )
        raise DivergedError(msg)
    return run


def _diverged(k: int, why: str, advice: str) -> DivergedError:
    msg = f"diverged at step {k}: {why}; {advice}"
    return DivergedError(msg)


@dataclass(frozen=True)
class WeightCheck:
    """The analytic and numeric slope of the MSE along one weight."""

    analytic: float
    numeric: float
    h: float
    tolerance: float

    @property
    def abs_error(self) -> float:
        return abs(self.analytic - self.numeric)

    @property
    def rel_error(self) -> float:
        scale = max(abs(self.analytic), abs(self.numeric))
        return self.abs_error / scale if scale else 0.0

    @property
    def ok(self) -> bool:
        return self.abs_error <= self.tolerance


def analytic_gradient(data: Data, weights: Vector) -> Vector:
    """The gradient the rest of slopecli computes: ``(2/n)·Xᵀ(Xw − y)``."""
    return evaluate(data(), weights).gradient


def check_gradient(
    data: Data,
    weights: Vector,
    rtol: float = 1e-6,
    atol: float | None = None,
    analytic: Callable[[Data, Vector], Vector] = analytic_gradient,
    source: str = "input",
) -> list[WeightCheck]:
    """Compare the analytic gradient with central finite differences of the MSE, per weight.

    The step for weight i is ``h = ε^(1/3)·max(1, |w_i|)``, which balances truncation and
    rounding error for a smooth function. The MSE is quadratic in w, so the central difference
    has no truncation error at all: what remains is rounding. Each error ``e = x·w − y`` is
    rounded relative to the magnitudes it is made of, ``m = |x|·|w| + |y|``, not to itself, so
    near a perfect fit the rounding of the MSE, about ``2ε·mean(|e|·m)``, far exceeds ``ε·MSE``.
    The default absolute tolerance is 100 times the rounding of both sides: that of the MSE
    divided by ``h`` (the differences) plus ``2ε·mean(|x_i|·m)`` (the analytic sum), on top of
    ``rtol`` relative to the numeric value.
    """
    # The data's own pass first: values too large for float64 are named by their file here.
    mse0 = evaluate(data(), weights, None, source).mse
    grad = analytic(data, weights)
    scales = _Rounding.of(data, weights)
    checks = []
    for i in range(len(weights)):
        h = EPS ** (1 / 3) * max(1.0, abs(float(weights[i])))
        plus, minus, width = stepped(weights, i, h)
        numeric = (
            evaluate(data(), plus, None, source).mse - evaluate(data(), minus, None, source).mse
        ) / width
        if atol is not None:
            floor = atol
        else:
            differences = (EPS * max(mse0, math.ulp(1.0)) + scales.mse(i, h)) / h
            floor = 100 * (differences + float(scales.gradient[i]))
        checks.append(weight_check(float(grad[i]), numeric, h, floor, rtol))
    return checks


def weight_check(analytic: float, numeric: float, h: float, floor: float, rtol: float) -> WeightCheck:
    """The check of one weight, with the tolerance ``floor + rtol·|numeric|``.

    Raises:
        NumericError: a value overflows, so there is no difference to compare.
        UsageError: ``rtol`` times the slope overflows (the values themselves are fine).
    """
    if not all(math.isfinite(v) for v in (analytic, numeric, floor)):
        raise uncheckable()
    tolerance = floor + rtol * abs(numeric)
    if not math.isfinite(tolerance):
        msg = (
            f"--rtol {rtol:g} times the numeric slope {abs(numeric):.6g} overflows float64;"
            " give a smaller --rtol"
        )
        raise UsageError(msg)
    return WeightCheck(analytic, numeric, h, tolerance)


def stepped(theta: Vector, i: int, h: float) -> tuple[Vector, Vector, float]:
    """``θ + h·eᵢ``, ``θ − h·eᵢ`` and the width of the step actually taken between them, after
    rounding ``θᵢ ± h`` to doubles.

    Raises:
        NumericError: either side leaves float64, or rounding leaves no step at all.
    """
    plus, minus = theta.copy(), theta.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        plus[i] += h
        minus[i] -= h
    width = float(plus[i] - minus[i])
    if not (np.isfinite(plus[i]) and np.isfinite(minus[i]) and width > 0):
        raise uncheckable()
    return plus, minus, width


def uncheckable() -> NumericError:
    msg = "check: the values overflow float64 at these weights; there is no difference to compare"
    return NumericError(msg)


@dataclass(frozen=True)
class _Rounding:
    """How much rounding the MSE and the analytic gradient carry near ``w``.

    Each error ``e = x·w − y`` is rounded relative to ``m = |x|·|w| + |y|``, so ``e²`` carries about
    ``2ε·|e|·m``. At ``w ± h·eᵢ`` both grow by ``|xᵢ|·h``: the MSE there carries about
    ``2ε·mean((|e| + |xᵢ|h)(m + |xᵢ|h)) = 2ε·(a + h·bᵢ + h²·cᵢ)``. The analytic sum carries about
    ``2ε·mean(|xᵢ|·m)``.
    """

    a: float
    b: Vector
    c: Vector
    gradient: Vector

    @classmethod
    def of(cls, data: Data, weights: Vector) -> _Rounding:
        n = 0
        a = 0.0
        b = np.zeros(len(weights))
        c = np.zeros(len(weights))
        g = np.zeros(len(weights))
        with np.errstate(over="ignore", invalid="ignore"):  # overflow shows as a non-finite tolerance
            for chunk in data():
                magnitude = np.abs(chunk.X) @ np.abs(weights) + np.abs(chunk.y)
                err = np.abs(chunk.X @ weights - chunk.y)
                ax = np.abs(chunk.X)
                a += float(err @ magnitude)
                b += ax.T @ (err + magnitude)
                c += np.einsum("ij,ij->j", ax, ax)
                g += ax.T @ magnitude
                n += len(err)
            return cls(a / n, b / n, c / n, 2 * EPS * g / n)

    def mse(self, i: int, h: float) -> float:
        with np.errstate(over="ignore", invalid="ignore"):
            # h·(h·c), not h·h·c: for weights above ~1e154, h² overflows although h²·c may not
            # (c, a mean of x², underflows to 0 beside them): inf·0 was a NaN tolerance.
            return float(2 * EPS * (self.a + h * self.b[i] + h * (h * self.c[i])))
