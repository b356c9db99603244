"""The learning rate at which descent on the MSE stops converging, computed from the data, and the
advice a diverging descent gives with it."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slopecli.core import Sums, update
from slopecli.descent import descend, step
from slopecli.errors import DivergedError
from slopecli.readers.chunk import Chunk
from slopecli.stability import MOST_FEATURES, diverging_rate, rate_advice
from test_schema import schema_validator

from conftest import invoke, plain_env

COURSE_ADVICE = (
    "try a smaller --learning-rate, e.g. 0.0357: on this data, rates of 0.0715 and above do not converge"
)
"""For the course example's one row, x = (1, 2, 3): 1/λ = 1/28 rounded down, 2/λ = 1/14 rounded up."""


def slopecli(*args: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it, colour variables cleared."""
    env = plain_env(**environment)
    argv = [sys.executable, "-m", "slopecli", *args]
    return subprocess.run(argv, capture_output=True, text=True, check=False, env=env)


def passes(X: np.ndarray, y: np.ndarray, rows: int = 2):
    """The data as a fresh stream of chunks of ``rows`` rows per call."""
    X = np.asfortranarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return lambda: (Chunk(X[i : i + rows], y[i : i + rows], i) for i in range(0, len(y), rows))


def test_the_course_example_diverges_from_one_over_fourteen():
    # One row x = (1, 2, 3): the MSE's Hessian is 2·x·xᵀ, whose largest eigenvalue is 2·|x|² = 28,
    # so steps diverge from 2/28 = 1/14 on.
    rate = diverging_rate(passes(np.array([[1.0, 2.0, 3.0]]), np.array([0.0])))
    assert rate == pytest.approx(1 / 14, rel=1e-12)


def test_two_orthogonal_rows_are_limited_by_the_longer():
    # XᵀX = diag(9, 4) over n = 2 rows: the Hessian is diag(9, 4), so the limit is 2/9.
    rate = diverging_rate(passes(np.array([[3.0, 0.0], [0.0, 2.0]]), np.array([1.0, 1.0])))
    assert rate == pytest.approx(2 / 9, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda d: st.lists(
            st.lists(st.integers(-9, 9), min_size=d, max_size=d), min_size=1, max_size=12
        ).filter(lambda rows: any(any(r) for r in rows))
    ),
    st.data(),
)
def test_descent_converges_just_below_the_rate_and_diverges_just_above(rows, draw):
    # The error of every eigen-direction is multiplied by (1 - rate·λ) per step: below 2/λmax
    # all shrink, above it the largest grows. Checked by iterating the update itself.
    X = np.array(rows, dtype=np.float64)
    y = np.array(draw.draw(st.lists(st.integers(-9, 9), min_size=len(rows), max_size=len(rows))), dtype=float)
    data = passes(X, y, rows=3)
    rate = diverging_rate(data)
    assert rate is not None

    def mse_after(lr: float, steps: int) -> float:
        w = np.zeros(X.shape[1])
        for _ in range(steps):
            w = update(w, Sums.of(X, y, w).gradient, lr)
        return Sums.of(X, y, w).mse

    start = Sums.of(X, y, np.zeros(X.shape[1])).mse
    assert mse_after(rate * 0.5, 200) <= start * (1 + 1e-9)
    assert mse_after(rate * 0.99, 2000) <= start * (1 + 1e-9)
    # Above the rate the component along the top eigenvector grows by |1 - 1.2·2| = 1.4 a step,
    # unless the start has none of it (then the error never leaves the other directions).
    top = np.linalg.eigh(X.T @ X)[1][:, -1]
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    if abs(top @ w_star) > 1e-6:
        assert mse_after(rate * 1.2, 200) > start


def test_exact_rational_rate_of_a_small_integer_dataset():
    # X = [[1, 1], [1, -1]]: XᵀX = 2·I, the Hessian (2/2)·2·I = 2·I, so the rate is exactly 1.
    rate = diverging_rate(passes(np.array([[1.0, 1.0], [1.0, -1.0]]), np.array([0.0, 3.0])))
    assert Fraction(rate).limit_denominator(1000) == 1


def test_many_rows_of_huge_values_give_the_rate_of_their_mean_not_an_overflow():
    # Σ x² of ten rows of 6e153 overflows float64, though their mean, 3.6e307, does not: the
    # rate depends on the mean, so it is that of two such rows.
    two, ten = (passes(np.full((rows, 1), 6e153), np.ones(rows)) for rows in (2, 10))
    assert diverging_rate(ten) == pytest.approx(diverging_rate(two), rel=1e-12)
    assert diverging_rate(two) == pytest.approx(1 / 3.6e307, rel=1e-12)


def test_a_rate_that_rounds_up_beyond_float64_is_shown_unrounded():
    # 2/λ = 1/(7.46e-155)² is 1.7969e308; rounded up to 3 digits it would be 1.80e308: infinite.
    advice = rate_advice(passes(np.array([[7.46e-155]]), np.array([1.0])), 1.7976931348623157e308)
    assert "inf" not in advice and "rates of 1.79" in advice


def test_no_rate_for_all_zero_inputs_or_too_many_features():
    assert diverging_rate(passes(np.zeros((3, 2)), np.ones(3))) is None
    wide = np.ones((2, MOST_FEATURES + 1))
    assert diverging_rate(passes(wide, np.ones(2))) is None


def test_advice_names_a_rate_that_converges_and_the_limit():
    data = passes(np.array([[1.0, 2.0, 3.0]]), np.array([0.0]))
    assert rate_advice(data, 0.1) == COURSE_ADVICE


def test_advice_falls_back_to_a_tenth_when_the_rate_is_not_the_cause():
    # Below the limit, a step cannot make the MSE of a linear model grow: something else did.
    data = passes(np.array([[1.0, 2.0, 3.0]]), np.array([0.0]))
    assert rate_advice(data, 0.01) == "try a smaller --learning-rate, e.g. 0.001"
    assert rate_advice(passes(np.zeros((2, 2)), np.ones(2)), 5.0) == "try a smaller --learning-rate, e.g. 0.5"


def test_a_diverging_descent_names_a_rate_that_converges():
    data = passes(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), np.array([0.0, 1.0]))
    with pytest.raises(DivergedError) as caught:
        descend(data, np.array([0.0, 2.0, 1.0]), 0.1, 50)
    message = str(caught.value)
    assert message.startswith("diverged at step ")
    suggested = float(message.split("e.g. ")[1].split(":")[0])
    # The suggestion converges, where 0.1 did not.
    run = descend(data, np.array([0.0, 2.0, 1.0]), suggested, 2000)
    assert run.final.mse < 1e-9 * run.history[0].mse


def test_the_installed_command_gives_the_advice_in_one_line():
    done = slopecli("descend", "-w", "0,2,1", "-x", "1,2,3", "-y", "0", "--lr", "0.1")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.endswith(f"; {COURSE_ADVICE}\n") and done.stderr.count("\n") == 1


def test_a_step_that_does_not_lower_the_mse_says_which_rate_would():
    data = passes(np.array([[1.0, 2.0, 3.0]]), np.array([0.0]))
    worse = step(data, np.array([0.0, 2.0, 1.0]), 0.1)
    assert not worse.improved
    assert worse.advice == COURSE_ADVICE
    assert step(data, np.array([0.0, 2.0, 1.0]), 0.01).advice is None


def test_a_step_at_the_minimum_or_too_small_to_show_gets_no_advice():
    # At the least-squares weights the MSE stays put (or rises by rounding): no rate does better.
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = np.array([1.0, 2.0, 3.0])
    best = np.linalg.lstsq(X, y, rcond=None)[0]
    at_minimum = step(passes(X, y), best, 0.1)
    assert not at_minimum.improved or at_minimum.after.mse == pytest.approx(at_minimum.before.mse)
    assert at_minimum.advice is None
    # On values of 1e-300 the update underflows: the MSE does not move, and a smaller rate
    # would not help either.
    tiny = step(passes(np.array([[1e-300], [1e-300]]), np.array([1.0, 2.0])), np.zeros(1), 1.0)
    assert tiny.after.mse == tiny.before.mse and tiny.advice is None


def test_the_step_table_says_when_the_mse_did_not_move(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    done = invoke("step", "-w", "0", "-x", "1e-300", "-y", "1", "--lr", "1")
    assert done.exit_code == 0, done.stderr
    assert done.stdout.rstrip().endswith(
        "unchanged within rounding: at a minimum, or a step too small to show"
    )


def test_the_step_table_ends_with_the_advice(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    done = invoke("step", "-w", "0,2,1", "-x", "1,2,3", "-y", "0", "--lr", "0.1")
    assert done.exit_code == 0, done.stderr
    assert done.stdout.rstrip().endswith(f"did not improve ✗: {COURSE_ADVICE}")


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_step_json_carries_the_advice_when_the_step_did_not_improve(fmt):
    """A script sees what the table's caption says: the advice, only for a step that made things worse."""
    worse = invoke("step", "-w", "0,2,1", "-x", "1,2,3", "-y", "0", "--lr", "0.1", "--format", fmt)
    better = invoke("step", "-w", "0,2,1", "-x", "1,2,3", "-y", "0", "--lr", "0.01", "--format", fmt)
    for done, advice in ((worse, COURSE_ADVICE), (better, None)):
        assert (done.exit_code, done.stderr) == (0, "")
        documents = (
            [json.loads(line) for line in done.stdout.splitlines()]
            if fmt == "jsonl"
            else [json.loads(done.stdout)]
        )
        summary = documents[-1]
        assert summary.get("advice") == advice
        assert summary["improved"] is (advice is None)
        for document in documents:
            schema_validator(f"step{'-jsonl' if fmt == 'jsonl' else ''}.schema.json").validate(document)
