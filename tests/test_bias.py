"""--bias: an intercept b with its own slope, 2·error, on every command and engine."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from slopecli.readers.chunk import BIAS, Chunk, with_bias

from conftest import SAMPLES, invoke

POINTS = np.loadtxt(SAMPLES / "points.csv", delimiter=",", skiprows=1)
X, Y = POINTS[:, :3], POINTS[:, 3]
W = np.array([0.0, 2.0, 1.0, 0.5])


def expected():
    err = X @ W[:3] + W[3] - Y
    return 2 * np.append(X.T @ err, err.sum()) / len(err), float(err @ err / len(err))


def test_with_bias_appends_a_column_of_ones():
    (chunk,) = with_bias([Chunk(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.0, 1.0]), 5)])
    assert chunk.X.tolist() == [[1.0, 2.0, 1.0], [3.0, 4.0, 1.0]]
    assert chunk.first_row == 5


def test_course_example_with_an_intercept():
    doc = invoke("compute", "-w", "0,2,1,0.5", "-x", "1,2,3", "-y", "0", "--bias", "--json").json()
    assert doc["features"] == ["x1", "x2", "x3", BIAS]
    assert doc["rows"][0]["preds"] == 7.5
    assert doc["gradient"] == [15.0, 30.0, 45.0, 15.0]  # the intercept's slope is 2·error


def test_a_missing_intercept_weight_is_not_pointed_to_features():
    run = invoke("compute", str(SAMPLES / "points.csv"), "-w", "0,2,1", "--bias")
    assert run.stderr.endswith("(size, rooms, age, bias; --bias adds one weight, last)\n")


@pytest.mark.parametrize("command", ["compute", "step"])
def test_a_table_names_flags_as_flags_with_an_intercept_too(command):
    table = invoke(command, "-w", "0,2,1,0.5", "-x", "1,2,3", "-y", "0", "--bias").stdout
    assert table.startswith("flags · 1 row · ")


@pytest.mark.parametrize(
    "args",
    [
        ("compute", str(SAMPLES / "points.csv")),
        ("compute", str(SAMPLES / "points.parquet")),
        ("batch", str(SAMPLES / "shards"), "--combine"),
        ("batch", str(SAMPLES / "shards"), "--combine", "--engine", "dask", "--scheduler", "synchronous"),
        ("compute", str(SAMPLES / "shards"), "--engine", "dask", "--scheduler", "synchronous"),
    ],
    ids=["csv", "parquet", "batch", "batch-dask", "compute-dask"],
)
def test_every_path_adds_the_same_intercept(args):
    run = invoke(*args, "-w", "0,2,1,0.5", "--bias", "--json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    summary = doc.get("combined", doc)
    gradient, mse = expected()
    np.testing.assert_allclose(summary["gradient"], gradient, rtol=1e-12)
    assert summary["mse"] == pytest.approx(mse, rel=1e-12)
    assert summary["features"][-1] == BIAS


def least_squares(X, Y):
    """The weights and intercept that minimise the MSE, by numpy's solver."""
    return np.linalg.lstsq(np.column_stack([X, np.ones(len(Y))]), Y, rcond=None)[0]


def flags(X, Y):
    """The rows as repeated --input/--target flags."""
    return [
        arg
        for x, y in zip(X.tolist(), Y.tolist(), strict=True)
        for arg in ("-x", ",".join(map(repr, x)), "-y", repr(y))
    ]


def test_descend_with_bias_finds_the_least_squares_intercept_of_well_conditioned_data():
    # Centred features: the MSE's Hessian has eigenvalues 2/3, 2 and 2, so --lr 0.3 gets to
    # the minimum in about a hundred steps (points.csv needs 150,000, see the slow test below).
    Xc = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0], [1.0, 1.0], [-1.0, -1.0]])
    Yc = np.array([3.0, 1.0, -2.0, 0.5, 4.0, -3.0])
    doc = invoke("descend", "-w", "0,0,0", "--bias", "--lr", "0.3", "--steps", "10000", "--tol", "1e-12",
                 "--json", *flags(Xc, Yc)).json()  # fmt: skip
    assert doc["stopped"] == "tol"
    assert doc["features"][-1] == BIAS
    np.testing.assert_allclose(doc["weights_final"], least_squares(Xc, Yc), atol=1e-9)


def test_rounding_jitter_at_the_minimum_is_not_divergence():
    """Regression: a millionth away from points.csv's minimum, each step lowers the MSE by less
    than its rounding, so it "rises" on about 40% of the steps and, somewhere in these 2,000, on
    5 in a row, which a growth check without a noise margin took for divergence (at step 914 on
    the project's machine; at step 123,825 of the slow test's run from zero)."""
    start = least_squares(X, Y) + 1e-6
    run = invoke("descend", str(SAMPLES / "points.csv"), "-w", ",".join(map(repr, start.tolist())), "--bias",
                 "--lr", "0.005", "--steps", "2000", "--json")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert doc["stopped"] == "steps"
    mse = np.array([record["mse"] for record in doc["history"]])
    assert (mse[1:] > mse[:-1]).sum() > 100  # the run is in the jitter it is meant to survive
    assert mse[-1] <= mse[0]
    np.testing.assert_allclose(doc["weights_final"], least_squares(X, Y), atol=2e-6)


@pytest.mark.release
def test_descend_with_bias_finds_the_least_squares_intercept():
    """Also a regression test: near this minimum the MSE rises by rounding noise for steps on
    end, which a growth check without a noise margin took for divergence. points.csv is badly
    conditioned (Hessian eigenvalues 0.02 to 264), so this takes 150,000 steps: seconds."""
    doc = invoke("descend", str(SAMPLES / "points.csv"), "-w", "0,0,0,0", "--bias", "--lr", "0.005",
                 "--steps", "200000", "--tol", "1e-9", "--json").json()  # fmt: skip
    assert doc["stopped"] == "tol"
    np.testing.assert_allclose(doc["weights_final"], least_squares(X, Y), atol=1e-6)


def test_check_and_step_accept_bias():
    assert invoke("check", str(SAMPLES / "points.csv"), "-w", "0,2,1,0.5", "--bias").exit_code == 0
    doc = invoke(
        "step", "-w", "0,2,1,0.5", "-x", "1,2,3", "-y", "0", "--bias", "--lr", "0.01", "--json"
    ).json()
    assert doc["weights_updated"] == pytest.approx([-0.15, 1.7, 0.55, 0.35])


def test_a_missing_intercept_weight_is_explained():
    run = invoke("compute", "-w", "0,2,1", "-x", "1,2,3", "-y", "0", "--bias")
    assert run.exit_code == 1
    assert run.stderr == (
        "slopecli: error: --weights: 3 weights, but --input has 4 features (x1, x2, x3, bias;"
        " --bias adds one weight, last)\n"
    )


RENAME = (
    "a feature is named 'bias', the name of the intercept --bias adds; rename that column, or drop --bias"
)


@pytest.mark.parametrize(
    "args",
    [
        ("compute", "-w", "1,1,1"),
        ("check", "-w", "1,1,1"),
        ("step", "-w", "1,1,1", "--lr", "0.1"),
        ("descend", "-w", "1,1,1", "--lr", "0.1"),
    ],
    ids=lambda args: args[0],
)
def test_a_feature_named_bias_is_refused_with_bias_by_every_command(tmp_path, args):
    """Two features named "bias" would share one JSON key, CSV column and table row."""
    data = tmp_path / "bc.csv"
    data.write_text("a,bias,target\n1,2,3\n")
    run = invoke(args[0], str(data), *args[1:], "--bias")
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr == f"slopecli: error: {data}: {RENAME}\n"


def test_batch_refuses_a_feature_named_bias_per_file_and_never_repeats_a_column(tmp_path):
    data = tmp_path / "bc.csv"
    data.write_text("a,bias,target\n1,2,3\n")
    alone = invoke("batch", str(data), "-w", "1,1,1", "--bias", "--format", "csv")
    assert alone.exit_code == 1
    assert list(csv.reader(alone.stdout.splitlines())) == [
        ["file", "ok", "n", "mse", "gradient_1", "gradient_2", "gradient_3", "error"],  # no file named them
        [str(data), "false", "", "", "", "", "", f"{data}: {RENAME}"],
    ]
    points = str(SAMPLES / "points.csv")
    both = invoke("batch", str(data), points, "-w", "0,2,1,0.5", "--bias", "--format", "csv")
    assert both.exit_code == 1
    header, bad, good = csv.reader(both.stdout.splitlines())
    assert header == [
        "file",
        "ok",
        "n",
        "mse",
        *(f"gradient_{f}" for f in ("size", "rooms", "age", BIAS)),
        "error",
    ]
    assert bad == [str(data), "false", "", "", "", "", "", "", f"{data}: {RENAME}"]
    assert good[:3] == [points, "true", "5"]
    assert both.stderr.splitlines() == [
        f"slopecli: error: {data}: {RENAME}",
        "slopecli: error: batch: 1 of 2 files failed",
    ]


def test_features_naming_bias_with_bias_is_a_usage_error():
    run = invoke("compute", str(SAMPLES / "points.csv"), "-w", "1,1,1", "--features", "size,bias", "--bias")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == f"slopecli: error: --features: {RENAME}\n"


@pytest.mark.parametrize("command", ["compute", "step", "descend", "check"])
def test_weights_saved_with_bias_and_read_without_it_say_to_add_bias(tmp_path, command):
    saved = tmp_path / "w.json"
    saved.write_text('{"weights": [0, 2, 1, 0.5], "features": ["size", "rooms", "age", "bias"]}')
    points = SAMPLES / "points.csv"
    run = invoke(command, str(points), "--weights-file", str(saved), "--json")
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr == (
        f"slopecli: error: {points}: the weights end with one for 'bias' that --weights-file {saved} was"
        " saved for, but this run has no intercept: add --bias\n"
    )
    rate = ("--lr", "0.0001") if command == "descend" else ()
    assert (
        invoke(command, str(points), "--weights-file", str(saved), "--bias", *rate, "--json").exit_code == 0
    )
