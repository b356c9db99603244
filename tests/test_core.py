"""The core formulas against independent oracles.

Oracles: the hand-worked course example, a plain-Python loop in exact rational arithmetic
(``fractions.Fraction``), central finite differences of the MSE, integer data where floating
point is exact, and hypothesis properties of the gradient and of the ``Sums`` reducer.
"""

from __future__ import annotations

import functools
import itertools
import operator
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from slopecli.core import Sums, error, gradient, mse, predict, slope, update

EPS = np.finfo(np.float64).eps
Dataset = tuple[np.ndarray, np.ndarray, np.ndarray]  # X (n×d), y (n), w (d)

# ---------------------------------------------------------------------------------------------
# Oracles and tolerances


def exact_errors(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> list[Fraction]:
    """error_i = Σ_k x_ik·w_k − y_i, one row at a time in exact rational arithmetic."""
    wf = [Fraction(v) for v in w.tolist()]
    return [
        sum((Fraction(a) * b for a, b in zip(row, wf, strict=True)), Fraction(0)) - Fraction(target)
        for row, target in zip(X.tolist(), y.tolist(), strict=True)
    ]


def exact_gradient_and_mse(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[list[Fraction], Fraction]:
    """(2/n)·Σ x·error and mean(error²) in exact rational arithmetic."""
    n, d = X.shape
    errors = exact_errors(X, y, w)
    xte = [sum((Fraction(X[i, j]) * errors[i] for i in range(n)), Fraction(0)) for j in range(d)]
    return [2 * s / n for s in xte], sum((e * e for e in errors), Fraction(0)) / n


def term_scales(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float]:
    """Bounds on the magnitude of the terms summed for each gradient component and for the MSE.

    With T_i = Σ_k |x_ik·w_k| + |y_i| (the terms of error_i), the gradient's component j sums
    x_ij·error_i, so its terms are bounded by (2/n)·Σ_i |x_ij|·T_i, and the MSE's by mean(T_i²).
    A sum of terms of mixed sign can cancel to a value far smaller than its terms, and floating
    point is then accurate only relative to the terms, not to the result: a tolerance relative to
    the result would fail on exactly the cases worth testing. Rounding error is at most about
    (n + d)·eps times these scales, so 1e-12 of them is safe for the sizes tested here.
    """
    T = np.abs(X) @ np.abs(w) + np.abs(y)
    return 2.0 * (np.abs(X).T @ T) / len(y), float(np.mean(T * T))


def assert_vectors_close(
    actual: np.ndarray, expected: np.ndarray, scale: np.ndarray, rel: float = 1e-12
) -> None:
    assert actual.shape == expected.shape
    assert np.all(np.abs(actual - expected) <= rel * scale), (actual, expected, scale)


def assert_sums_close(actual: Sums, expected: Sums, X: np.ndarray, y: np.ndarray, w: np.ndarray) -> None:
    grad_scale, mse_scale = term_scales(X, y, w)
    n = len(y)
    assert actual.n == expected.n == n
    # xte is gradient·n/2 and sse is mse·n, so their scales follow from the gradient's and the MSE's.
    assert_vectors_close(actual.xte, expected.xte, grad_scale * n / 2)
    assert abs(actual.sse - expected.sse) <= 1e-12 * mse_scale * n


def batch_mse(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    return mse(error(predict(X, w), y))


# ---------------------------------------------------------------------------------------------
# Strategies: small datasets of bounded floats

# Magnitudes in [1e-6, 1e3], or exactly zero: no product underflows into subnormal numbers, which
# carry fewer bits than any relative tolerance assumes. Overflow has its own tests in test_evaluate.
ELEMENTS = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False).map(
    lambda v: v if abs(v) >= 1e-6 else 0.0
)


@st.composite
def datasets(draw: st.DrawFn, max_rows: int = 20, max_features: int = 5) -> Dataset:
    n = draw(st.integers(1, max_rows))
    d = draw(st.integers(1, max_features))
    X = draw(hnp.arrays(np.float64, (n, d), elements=ELEMENTS))
    y = draw(hnp.arrays(np.float64, (n,), elements=ELEMENTS))
    w = draw(hnp.arrays(np.float64, (d,), elements=ELEMENTS))
    return X, y, w


@st.composite
def integer_datasets(draw: st.DrawFn) -> Dataset:
    """Small integers: every product and sum is an integer far below 2**53, so exact in float64."""
    n = draw(st.integers(1, 20))
    d = draw(st.integers(1, 5))
    ints = st.integers(-100, 100).map(float)
    X = draw(hnp.arrays(np.float64, (n, d), elements=ints))
    y = draw(hnp.arrays(np.float64, (n,), elements=ints))
    w = draw(hnp.arrays(np.float64, (d,), elements=ints))
    return X, y, w


# ---------------------------------------------------------------------------------------------
# The course example, worked by hand: w = [0, 2, 1], x = [1, 2, 3], y = 0

COURSE_X = np.array([[1.0, 2.0, 3.0]])
COURSE_Y = np.array([0.0])
COURSE_W = np.array([0.0, 2.0, 1.0])


def test_course_example_prediction_error_slope_and_mse() -> None:
    preds = predict(COURSE_X, COURSE_W)
    err = error(preds, COURSE_Y)
    assert preds.tolist() == [7.0]
    assert err.tolist() == [7.0]
    assert slope(COURSE_X, err).tolist() == [[14.0, 28.0, 42.0]]
    assert mse(err) == 49.0


def test_course_example_gradient_is_the_slope_of_its_one_row() -> None:
    assert gradient(COURSE_X, COURSE_Y, COURSE_W).tolist() == [14.0, 28.0, 42.0]


def test_course_example_one_update_step() -> None:
    grad = gradient(COURSE_X, COURSE_Y, COURSE_W)
    new_w = update(COURSE_W, grad, 0.01)
    # 0.01 is not a binary fraction, so the step is correct to rounding, not exact.
    assert new_w.tolist() == pytest.approx([-0.14, 1.72, 0.58], rel=0, abs=1e-15)
    new_error = error(predict(COURSE_X, new_w), COURSE_Y)
    assert new_error.tolist() == pytest.approx([5.04], rel=0, abs=1e-14)
    assert mse(new_error) == pytest.approx(5.04**2, rel=1e-14)


def test_update_does_not_modify_the_weights_it_is_given() -> None:
    w = COURSE_W.copy()
    update(w, np.array([14.0, 28.0, 42.0]), 0.5)
    assert w.tolist() == COURSE_W.tolist()


def test_update_with_zero_learning_rate_keeps_the_weights() -> None:
    assert update(COURSE_W, np.array([14.0, 28.0, 42.0]), 0.0).tolist() == [0.0, 2.0, 1.0]


# ---------------------------------------------------------------------------------------------
# Shapes and exact small cases


def test_shapes_for_several_rows() -> None:
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = np.array([1.0, 2.0, 3.0])
    w = np.array([2.0, 4.0])
    preds = predict(X, w)
    err = error(preds, y)
    assert preds.tolist() == [2.0, 4.0, 6.0]
    assert err.tolist() == [1.0, 2.0, 3.0]
    assert slope(X, err).tolist() == [[2.0, 0.0], [0.0, 4.0], [6.0, 6.0]]
    # (2/3)·[1 + 3, 2 + 3] = [8/3, 10/3]; mse = (1 + 4 + 9)/3 = 14/3
    assert gradient(X, y, w).tolist() == [8 / 3, 10 / 3]
    assert mse(err) == 14 / 3


def test_a_perfect_fit_has_zero_gradient_and_zero_mse() -> None:
    X = np.array([[1.0, 2.0], [3.0, -4.0], [0.5, 0.25]])
    w = np.array([-2.0, 0.5])
    y = predict(X, w)
    assert gradient(X, y, w).tolist() == [0.0, 0.0]
    assert batch_mse(X, y, w) == 0.0


def test_gradient_of_a_single_feature_is_the_familiar_formula() -> None:
    # One feature, no intercept: d/dw mean((w·x − y)²) = (2/n)·Σ x·(w·x − y)
    x = np.array([1.0, 2.0, 4.0])
    y = np.array([3.0, 3.0, 3.0])
    w = 2.0
    expected = 2 * ((2 - 3) * 1 + (4 - 3) * 2 + (8 - 3) * 4) / 3  # = 2·21/3 = 14
    assert gradient(x[:, np.newaxis], y, np.array([w])).tolist() == [expected] == [14.0]


@given(integer_datasets())
def test_integer_data_is_computed_exactly(data: Dataset) -> None:
    X, y, w = data
    n = len(y)
    exact_grad, exact_mse = exact_gradient_and_mse(X, y, w)
    err = error(predict(X, w), y)
    # Every product and partial sum is an integer below 2**53, so these are exact ...
    exact_err = exact_errors(X, y, w)
    assert err.tolist() == [float(e) for e in exact_err]
    assert slope(X, err).tolist() == [
        [float(2 * Fraction(x) * e) for x in row] for row, e in zip(X.tolist(), exact_err, strict=True)
    ]
    sums = Sums.of(X, y, w)
    assert sums.n == n
    assert sums.xte.tolist() == [float(g * n / 2) for g in exact_grad]
    assert sums.sse == float(exact_mse * n)
    # ... and the final division by n is one correctly rounded operation, so the results equal
    # the exact rationals rounded once.
    assert gradient(X, y, w).tolist() == [float(g) for g in exact_grad]
    assert mse(err) == float(exact_mse)
    assert sums.mse == float(exact_mse)


# ---------------------------------------------------------------------------------------------
# Against exact rational arithmetic on random data


@pytest.mark.parametrize("seed", range(5))
def test_gradient_and_mse_match_exact_arithmetic_on_random_data(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, d = rng.integers(1, 60), rng.integers(1, 8)
    # Mixed magnitudes make cancellation likely, which is what the tolerance must survive.
    X = rng.normal(size=(n, d)) * 10.0 ** rng.integers(-3, 4, size=(n, d))
    w = rng.normal(size=d) * 10.0 ** rng.integers(-3, 4, size=d)
    y = predict(X, w) + rng.normal(size=n)
    exact_grad, exact_mse = exact_gradient_and_mse(X, y, w)
    grad_scale, mse_scale = term_scales(X, y, w)

    assert_vectors_close(gradient(X, y, w), np.array([float(g) for g in exact_grad]), grad_scale)
    assert abs(batch_mse(X, y, w) - float(exact_mse)) <= 1e-12 * mse_scale
    sums = Sums.of(X, y, w)
    assert_vectors_close(sums.gradient, np.array([float(g) for g in exact_grad]), grad_scale)
    assert abs(sums.mse - float(exact_mse)) <= 1e-12 * mse_scale


def test_cancelling_gradient_component_is_accurate_relative_to_its_terms() -> None:
    # Component 0 sums 1e8·e₀ + 1e8·e₁ with e₀ ≈ −e₁ ≈ 0.9: the result is tiny next to its terms.
    X = np.array([[1e8, 1.0], [1e8, 1.0]])
    w = np.array([1e-8, 0.0])
    y = np.array([0.1, 1.9])
    exact_grad, _ = exact_gradient_and_mse(X, y, w)
    grad_scale, _ = term_scales(X, y, w)
    actual = gradient(X, y, w)
    assert_vectors_close(actual, np.array([float(g) for g in exact_grad]), grad_scale)
    assert abs(float(exact_grad[0])) < 1e-6 * grad_scale[0]  # the case really does cancel


def test_gradient_matches_a_plain_python_loop() -> None:
    rng = np.random.default_rng(42)
    X, y, w = rng.normal(size=(30, 4)), rng.normal(size=30), rng.normal(size=4)
    n, d = X.shape
    expected = [0.0] * d
    for i in range(n):
        err = sum(X[i, k] * w[k] for k in range(d)) - y[i]
        for j in range(d):
            expected[j] += 2 * X[i, j] * err / n
    grad_scale, _ = term_scales(X, y, w)
    assert_vectors_close(gradient(X, y, w), np.array(expected), grad_scale)


# ---------------------------------------------------------------------------------------------
# Central finite differences


@pytest.mark.parametrize("seed", range(3))
def test_gradient_matches_central_finite_differences_of_the_mse(seed: int) -> None:
    rng = np.random.default_rng(seed)
    X, y, w = rng.normal(size=(40, 5)), rng.normal(size=40), rng.normal(size=5)
    # The MSE is quadratic in w, so a central difference has no truncation error at all; what is
    # left is rounding in the two MSE values, about eps·mse/h ≈ 1e-13 with h = 0.01 and mse ~ 6.
    # A tolerance of 1e-9 relative to the gradient's size leaves a wide margin.
    h = 1e-2
    numeric = np.array(
        [(batch_mse(X, y, w + h * unit) - batch_mse(X, y, w - h * unit)) / (2 * h) for unit in np.eye(len(w))]
    )
    np.testing.assert_allclose(gradient(X, y, w), numeric, rtol=0, atol=1e-9 * np.abs(numeric).max())


def test_forward_difference_error_is_the_curvature_term() -> None:
    # A sanity check that the finite-difference oracle is sensitive: a forward difference of a
    # quadratic is off by exactly h·(1/n)·Σ x_j², which the central difference cancels.
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    y = np.array([1.0, -1.0])
    w = np.array([0.5, 0.25])
    h = 0.5  # a binary fraction: every value below is exact
    forward = (batch_mse(X, y, w + np.array([h, 0.0])) - batch_mse(X, y, w)) / h
    curvature = (1.0**2 + 3.0**2) / 2
    assert forward == gradient(X, y, w)[0] + h * curvature


# ---------------------------------------------------------------------------------------------
# Hypothesis properties


@given(datasets(), st.data())
def test_gradient_does_not_depend_on_the_order_of_rows(data: Dataset, draw: st.DataObject) -> None:
    X, y, w = data
    order = np.array(draw.draw(st.permutations(range(len(y)))), dtype=np.intp)
    grad_scale, mse_scale = term_scales(X, y, w)
    assert_vectors_close(gradient(X[order], y[order], w), gradient(X, y, w), grad_scale)
    assert abs(batch_mse(X[order], y[order], w) - batch_mse(X, y, w)) <= 1e-12 * mse_scale


@given(datasets())
def test_batch_gradient_is_the_mean_of_the_row_slopes(data: Dataset) -> None:
    X, y, w = data
    slopes = slope(X, error(predict(X, w), y))
    assert slopes.shape == X.shape
    grad_scale, _ = term_scales(X, y, w)
    assert_vectors_close(gradient(X, y, w), slopes.mean(axis=0), grad_scale)


@given(datasets())
def test_each_row_slope_is_the_gradient_of_that_row_alone(data: Dataset) -> None:
    X, y, w = data
    slopes = slope(X, error(predict(X, w), y))
    for i in range(len(y)):
        # Close, not bit-for-bit: numpy may order (or fuse) the products of X·w differently for
        # one row than for many.
        one = X[i : i + 1], y[i : i + 1], w
        assert_vectors_close(gradient(*one), slopes[i], term_scales(*one)[0])


@given(datasets(max_rows=30), st.data())
def test_merging_sums_over_any_split_equals_one_pass(data: Dataset, draw: st.DataObject) -> None:
    X, y, w = data
    n = len(y)
    cuts = sorted(draw.draw(st.lists(st.integers(0, n), max_size=6)))
    bounds = [0, *cuts, n]
    parts = [Sums.of(X[a:b], y[a:b], w) for a, b in itertools.pairwise(bounds)]
    merged = functools.reduce(operator.add, parts, Sums.zero(len(w)))
    assert_sums_close(merged, Sums.of(X, y, w), X, y, w)
    grad_scale, mse_scale = term_scales(X, y, w)
    assert_vectors_close(merged.gradient, gradient(X, y, w), grad_scale)
    assert abs(merged.mse - batch_mse(X, y, w)) <= 1e-12 * mse_scale


@given(datasets())
def test_sums_zero_is_the_identity_of_addition(data: Dataset) -> None:
    X, y, w = data
    sums = Sums.of(X, y, w)
    for merged in (Sums.zero(len(w)) + sums, sums + Sums.zero(len(w))):
        # x + 0 is exact in floating point: equality, not closeness.
        assert merged.n == sums.n
        assert merged.xte.tolist() == sums.xte.tolist()
        assert merged.sse == sums.sse


@given(datasets())
def test_sums_of_error_equals_sums_of(data: Dataset) -> None:
    X, y, w = data
    direct = Sums.of(X, y, w)
    via_error = Sums.of_error(X, error(predict(X, w), y))
    assert (direct.n, direct.xte.tolist(), direct.sse) == (via_error.n, via_error.xte.tolist(), via_error.sse)


@given(datasets())
def test_a_small_step_against_the_gradient_does_not_increase_the_mse(
    data: Dataset,
) -> None:
    X, y, w = data
    g = gradient(X, y, w)
    grad_scale, _ = term_scales(X, y, w)
    # At (or near) an optimum the computed gradient is rounding noise, at most ~(n + d)·eps of
    # its terms, and points nowhere in particular. Require it to stand well clear of that noise,
    # so that it is within 1e-6 of the true gradient in direction.
    assume(np.linalg.norm(g) > 1e-6 * np.linalg.norm(grad_scale))
    # Along w − lr·g the MSE is exactly the quadratic f(0) − lr·∇f·g + lr²·H with H = mean((X·g)²),
    # which decreases for 0 < lr < ∇f·g / H. "Tiny" must therefore be relative to the curvature:
    # lr = 1e-3·|g|²/H is tiny on that scale whatever the data's units.
    G = float(g @ g)
    H = float(np.mean((X @ g) ** 2))
    lr = 1e-3 * G / H
    new_w = update(w, g, lr)
    before, after = batch_mse(X, y, w), batch_mse(X, y, new_w)
    # Rounding in each MSE (and in new_w itself) is bounded by a few eps of the squared terms.
    rounding = 64 * EPS * (term_scales(X, y, w)[1] + term_scales(X, y, new_w)[1])
    assert after <= before + rounding
    # The decrease is the one the quadratic predicts: lr·G·(1 − 1e-3), up to the same rounding
    # and the 1e-6 by which g may differ from the true gradient.
    predicted = before - lr * G + lr * lr * H
    assert abs(after - predicted) <= rounding + 1e-5 * lr * G


# ---------------------------------------------------------------------------------------------
# Sums edge cases


def test_sums_zero_has_no_rows_and_zero_sums() -> None:
    zero = Sums.zero(3)
    assert zero.n == 0
    assert zero.xte.tolist() == [0.0, 0.0, 0.0]
    assert zero.sse == 0.0


def test_sums_of_no_rows_have_no_mean() -> None:
    with pytest.raises(ZeroDivisionError, match="no rows"):
        _ = Sums.zero(2).gradient
    with pytest.raises(ZeroDivisionError, match="no rows"):
        _ = Sums.zero(2).mse


def test_gradient_near_the_float64_limit_stays_finite() -> None:
    sums = Sums(2, np.array([1.5e308]), 0.0)
    assert sums.gradient.tolist() == [1.5e308]


def test_a_slope_near_the_float64_limit_is_finite_when_its_value_is() -> None:
    # 2 * 1e308 alone overflows; the slope 2 * 1e308 * 0.25 = 5e307 does not.
    slopes = slope(np.array([[1e308, 1.0]]), np.array([0.25]))
    assert slopes.tolist() == [[5e307, 0.5]]


def test_sums_of_course_example() -> None:
    sums = Sums.of(COURSE_X, COURSE_Y, COURSE_W)
    assert (sums.n, sums.xte.tolist(), sums.sse) == (1, [7.0, 14.0, 21.0], 49.0)
    assert sums.gradient.tolist() == [14.0, 28.0, 42.0]
    assert sums.mse == 49.0


def test_merged_sums_of_two_rows_by_hand() -> None:
    w = np.array([1.0, -1.0])
    first = Sums.of(np.array([[2.0, 1.0]]), np.array([0.0]), w)  # error 1
    second = Sums.of(np.array([[0.0, 3.0]]), np.array([1.0]), w)  # error −4
    both = first + second
    assert (both.n, both.xte.tolist(), both.sse) == (2, [2.0, 1.0 - 12.0], 1.0 + 16.0)
    assert both.gradient.tolist() == [2.0, -11.0]
    assert both.mse == 8.5


def test_sums_are_immutable() -> None:
    sums = Sums.zero(1)
    with pytest.raises(AttributeError):
        sums.n = 3  # type: ignore[misc]
