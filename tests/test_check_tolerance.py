"""``check``'s default tolerance: never a false disagreement at a near-perfect fit, where each error
is rounded relative to the much larger x·w and y, and still a catch for a wrong gradient."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slopecli.descent import analytic_gradient, check_gradient
from slopecli.errors import NumericError
from slopecli.readers.chunk import Chunk

from conftest import SAMPLES, invoke


def near_fit(seed: int) -> tuple[Chunk, np.ndarray]:
    """Data whose least-squares weights leave errors many orders below x·w and y."""
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(2, 200)), int(rng.integers(1, 5))
    X = rng.normal(size=(n, d)) * 10 ** rng.uniform(-2, 3, size=d)
    y = X @ (rng.normal(size=d) * 10 ** rng.uniform(-2, 2)) + rng.normal(size=n) * 10 ** rng.uniform(-8, -1)
    w, *_ = np.linalg.lstsq(X, y, rcond=None)
    return Chunk(X, y, 0), w


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_a_right_gradient_agrees_at_a_near_perfect_fit(seed):
    chunk, w = near_fit(seed)
    checks = check_gradient(lambda: [chunk], w)
    assert all(c.ok for c in checks), [(c.analytic, c.numeric, c.tolerance) for c in checks]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([0.5, 0.99, 1.01, 2.0]))
def test_a_wrong_gradient_is_caught_away_from_the_minimum(seed, factor):
    chunk, w = near_fit(seed)
    start = w + np.random.default_rng(seed).normal(size=len(w)) * (1 + np.abs(w))
    checks = check_gradient(
        lambda: [chunk], start, analytic=lambda data, v: factor * analytic_gradient(data, v)
    )
    assert not all(c.ok for c in checks)


def test_the_rounding_at_w_plus_and_minus_h_counts_too():
    """At w = 0 the errors are rounded relative to |y|, but at w ± h relative to |x|·h: with
    x = 1e16 the differences carry 1e10 of rounding that the old tolerance did not allow for."""
    chunk = Chunk(np.array([[1e16]]), np.array([1.0]), 0)
    (check,) = check_gradient(lambda: [chunk], np.array([0.0]))
    assert check.analytic == -2e16
    assert check.ok


@pytest.mark.parametrize("scale", [1e155, 1e160, 1e200, 1e300])
def test_a_huge_weight_on_a_tiny_feature_is_checked_not_called_an_overflow(scale):
    # The step h = ε^(1/3)·|w| squares past float64 above ~1e154, where mean(x²) underflows to 0:
    # inf·0 made a NaN tolerance, and the check said the values overflow. None of them does.
    chunk = Chunk(np.array([[1 / scale, 1.0]]), np.array([0.0]), 0)
    checks = check_gradient(lambda: [chunk], np.array([scale, 0.0]))
    assert all(c.ok for c in checks)
    assert checks[0].analytic == pytest.approx(2 / scale, rel=1e-12)
    assert checks[1].analytic == pytest.approx(2.0, rel=1e-12)


def test_a_weight_too_large_to_step_is_one_error():
    chunk = Chunk(np.array([[0.0]]), np.array([0.0]), 0)
    with pytest.raises(NumericError, match=r"^check: the values overflow float64 at these weights"):
        check_gradient(lambda: [chunk], np.array([1.7976931348623157e308]))


@pytest.mark.parametrize(
    ("args", "slope"),
    [
        (("samples/points.csv", "-w", "0,2,1"), "215.73"),
        (("--network", "samples/network.json", "-x", "3,5", "-y", "1"), "612"),
    ],
)
def test_an_rtol_whose_tolerance_overflows_is_a_usage_error_not_the_values(args, slope):
    # The values are fine (--rtol 1e300 passes): the flag is what is too large.
    args = tuple(str(SAMPLES / a.removeprefix("samples/")) if a.startswith("samples/") else a for a in args)
    run = invoke("check", *args, "--rtol", "1e306", "--json")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        f"slopecli: error: --rtol 1e+306 times the numeric slope {slope} overflows float64; give a smaller"
        " --rtol\n"
    )
