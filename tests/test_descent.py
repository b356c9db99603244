"""step, descend and check as library calls, against independent computations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from slopecli.descent import DivergedError, analytic_gradient, check_gradient, descend, step
from slopecli.errors import NumericError
from slopecli.readers.chunk import Chunk

COURSE = [Chunk(np.array([[1.0, 2.0, 3.0]]), np.array([0.0]), 0)]
W0 = np.array([0.0, 2.0, 1.0])


def data_of(X, y, chunk_rows=None):
    rows = chunk_rows or len(y)
    chunks = [Chunk(X[i : i + rows], y[i : i + rows], i) for i in range(0, len(y), rows)]
    return lambda: chunks


def test_one_step_of_the_course_example():
    seen = []
    result = step(
        lambda: COURSE, W0, 0.01, on_rows=lambda old, new: seen.append((old.error[0], new.error[0]))
    )
    assert result.gradient.tolist() == [14.0, 28.0, 42.0]
    np.testing.assert_allclose(result.updated, [-0.14, 1.72, 0.58], rtol=1e-15)
    assert seen[0][0] == 7.0
    assert seen[0][1] == pytest.approx(5.04, rel=1e-15)
    assert result.before.mse == 49.0
    assert result.after.mse == pytest.approx(5.04**2, rel=1e-14)
    assert result.improved


def test_step_without_rows_gives_the_same_result():
    with_rows = step(lambda: COURSE, W0, 0.01, on_rows=lambda old, new: None)
    without = step(lambda: COURSE, W0, 0.01)
    assert with_rows.after.sse == without.after.sse
    np.testing.assert_array_equal(with_rows.updated, without.updated)


def noiseless(seed=0, n=200, d=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    true_w = rng.normal(size=d)
    return X, X @ true_w, true_w


def test_descend_converges_to_the_true_weights_and_to_lstsq():
    X, y, true_w = noiseless()
    run = descend(data_of(X, y, chunk_rows=37), np.zeros(3), learning_rate=0.1, steps=5000, tol=1e-10)
    assert run.stopped == "tol"
    final = run.final.weights
    np.testing.assert_allclose(final, true_w, atol=1e-6)
    lstsq = np.linalg.lstsq(X, y, rcond=None)[0]
    np.testing.assert_allclose(final, lstsq, atol=1e-6)
    mses = [r.mse for r in run.history]
    assert all(b <= a for a, b in itertools.pairwise(mses))
    assert run.history[0].step == 0 and run.history[-1].step == len(run.history) - 1


def test_descend_history_is_the_sequence_of_updates():
    run = descend(lambda: COURSE, W0, 0.01, steps=3)
    w = W0.copy()
    for record in run.history:
        # Sums are BLAS's, whose order of adding depends on the CPU: equal up to rounding.
        np.testing.assert_allclose(record.weights, w, rtol=1e-14)
        x = np.array([1.0, 2.0, 3.0])
        err = x @ w
        assert record.mse == pytest.approx(err * err, rel=1e-14)
        np.testing.assert_allclose(record.gradient, 2 * x * err, rtol=1e-15)
        w = w - 0.01 * (2 * x * err)
    assert run.stopped == "steps" and len(run.history) == 4


def test_a_too_large_learning_rate_is_caught_as_divergence():
    X, y, _ = noiseless()
    with pytest.raises(
        DivergedError,
        match=r"diverged at step \d+: .*try a smaller --learning-rate, e\.g\. 0\.458: on this data, rates"
        r" of 0\.917 and above do not converge$",
    ):
        descend(data_of(X, y), np.zeros(3), learning_rate=5.0, steps=1000)


def test_overflow_is_divergence_not_nan():
    with pytest.raises(DivergedError, match="overflow"):
        descend(lambda: [Chunk(np.array([[1e150, 1e150]]), np.array([0.0]), 0)], np.ones(2), 1e10, steps=50)


def test_overflow_at_the_starting_weights_is_the_data_s_not_divergence():
    with pytest.raises(NumericError) as caught:
        descend(
            data_of(np.array([[1e200, 1.0]]), np.array([0.0])), np.array([1e200, 1.0]), 0.1, 3, source="f.csv"
        )
    assert type(caught.value) is NumericError
    assert str(caught.value) == "f.csv: data row 1: the error overflows float64; the values are too large"


@pytest.mark.parametrize("rows", [False, True])
def test_a_step_that_overshoots_names_the_learning_rate_not_the_data(rows):
    # Finite at the start, and the updated weights are finite; only their predictions overflow.
    # This said "the values are too large", which sent the learner to a file that is fine.
    data = data_of(np.array([[1.0, 2.0]]), np.array([100.0]))
    on_rows = (lambda old, new: None) if rows else None
    with pytest.raises(DivergedError) as caught:
        step(data, np.ones(2), 1e300, on_rows=on_rows, source="f.csv")
    assert str(caught.value) == (
        "f.csv: after the step, the predictions overflow float64: --learning-rate 1e+300 is too large;"
        " try a smaller --learning-rate, e.g. 0.1: on this data, rates of 0.2 and above do not converge"
    )


def test_check_agrees_on_random_data():
    X, y, _ = noiseless(seed=4, n=120, d=5)
    y = y + np.random.default_rng(5).normal(size=len(y))
    w = np.random.default_rng(6).normal(size=5) * 10
    checks = check_gradient(data_of(X, y, 50), w)
    assert all(c.ok for c in checks)
    assert max(c.rel_error for c in checks) < 1e-8
    assert [c.h for c in checks] == pytest.approx([6.055454452393343e-06 * max(1, abs(v)) for v in w])


def test_check_fails_for_a_deliberately_wrong_gradient():
    X, y, _ = noiseless(seed=7)

    def perturbed(data, weights):
        g = analytic_gradient(data, weights)
        return g + np.array([0.0, 1e-3 * max(1.0, abs(g[1])), 0.0])

    checks = check_gradient(data_of(X, y), np.ones(3), analytic=perturbed)
    assert [c.ok for c in checks] == [True, False, True]
    assert checks[1].rel_error > 1e-4
