"""slopecli compute, end to end: in-process and as the installed command."""

from __future__ import annotations

import csv
import io
import subprocess

import numpy as np
import pytest

from conftest import SAMPLES, invoke, run_installed
from oracle import assert_close, exact

COURSE = ("compute", "--weights", "0,2,1", "--input", "1,2,3", "--target", "0")

COURSE_JSON = {
    "format_version": 1,
    "features": ["x1", "x2", "x3"],
    "weights": [0.0, 2.0, 1.0],
    "rows": [
        {
            "row": 1,
            "input": [1.0, 2.0, 3.0],
            "target": 0.0,
            "preds": 7.0,
            "error": 7.0,
            "slope": [14.0, 28.0, 42.0],
        }
    ],
    "n": 1,
    "gradient": [14.0, 28.0, 42.0],
    "mse": 49.0,
}


def test_course_example_json(slopecli):
    run = slopecli(*COURSE, "--json")
    assert run.exit_code == 0, run.stderr
    assert run.stderr == ""
    assert run.json() == COURSE_JSON


def test_course_example_table_shows_every_step(slopecli):
    run = slopecli(*COURSE)
    assert run.exit_code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert any(
        "preds" in line and "0·1 + 2·2 + 1·3" in line and line.rstrip().endswith("7 │") for line in lines
    )
    assert any("error" in line and "7 − 0" in line for line in lines)
    assert any("2·[1, 2, 3]·7" in line and "[14, 28, 42]" in line for line in lines)
    assert "\x1b[" not in run.stdout  # no colour when not on a terminal


def test_short_flags_and_spaces_negative_and_exponents():
    run = invoke("compute", "-w", "-1, 2e0,  0.5", "-x", "1,-2, 3e-1", "-y", "-0.5", "--json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert doc["weights"] == [-1.0, 2.0, 0.5]
    preds = -1 * 1 + 2 * -2 + 0.5 * 0.3
    assert doc["rows"][0]["preds"] == pytest.approx(preds, rel=1e-15)
    assert doc["rows"][0]["error"] == pytest.approx(preds + 0.5, rel=1e-15)


def test_several_points_from_repeated_flags():
    run = invoke("compute", "-w", "0,2,1", "-x", "1,2,3", "-y", "0", "-x", "4,5,6", "-y", "1", "--json")
    doc = run.json()
    assert doc["n"] == 2
    assert [r["error"] for r in doc["rows"]] == [7.0, 15.0]
    assert doc["gradient"] == [(14 + 120) / 2, (28 + 150) / 2, (42 + 180) / 2]
    assert doc["mse"] == (49 + 225) / 2


def random_data(seed: int, n: int = 40, d: int = 4):
    rng = np.random.default_rng(seed)
    X = rng.normal(scale=3.0, size=(n, d)).round(6)
    y = rng.normal(size=n).round(6)
    w = rng.normal(size=d).round(6)
    return X, y, w


def as_csv(X, y, delimiter=",", header=True) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    if header:
        writer.writerow([f"f{i}" for i in range(X.shape[1])] + ["target"])
    for row, target in zip(X.tolist(), y.tolist(), strict=True):
        writer.writerow([repr(v) for v in row] + [repr(target)])
    return out.getvalue()


def assert_matches_oracle(doc, X, y, w):
    want = exact(X.tolist(), y.tolist(), w.tolist())
    assert doc["n"] == len(y)
    for got, expected, x in zip(doc["rows"], want["rows"], X, strict=True):
        scale = float(np.abs(w * x).sum())
        assert_close(got["preds"], expected["preds"], scale)
        assert_close(got["error"], expected["error"], scale + 10)
        for g, e in zip(got["slope"], expected["slope"], strict=True):
            assert_close(g, e, abs(e))
    terms = np.abs(X).T @ np.abs(X @ w - y) * 2 / len(y)
    for g, e, s in zip(doc["gradient"], want["gradient"], terms, strict=True):
        assert_close(g, e, s)
    assert_close(doc["mse"], want["mse"], want["mse"])


@pytest.mark.parametrize("seed", range(3))
def test_random_data_matches_exact_oracle_from_every_source(tmp_path, seed):
    X, y, w = random_data(seed)
    weights = ",".join(repr(v) for v in w.tolist())
    flags = [
        a
        for x, t in zip(X.tolist(), y.tolist(), strict=True)
        for a in ("-x", ",".join(map(repr, x)), "-y", repr(t))
    ]
    (tmp_path / "d.csv").write_text(as_csv(X, y))
    (tmp_path / "d.tsv").write_text(as_csv(X, y, delimiter="\t"))
    runs = {
        "flags": invoke("compute", "-w", weights, *flags, "--json"),
        "csv": invoke("compute", str(tmp_path / "d.csv"), "-w", weights, "--json"),
        "tsv": invoke("compute", str(tmp_path / "d.tsv"), "-w", weights, "--json"),
        "stdin": run_installed("compute", "-", "-w", weights, "--json", input=as_csv(X, y)),
    }
    for source, run in runs.items():
        assert run.exit_code == 0, (source, run.stderr)
        assert_matches_oracle(run.json(), X, y, w)


def test_jsonl_streams_rows_then_a_summary(slopecli):
    run = slopecli(
        "compute",
        str(SAMPLES / "points.csv"),
        "--weights-file",
        str(SAMPLES / "weights.json"),
        "--format",
        "jsonl",
    )
    assert run.exit_code == 0, run.stderr
    records = run.jsonl()
    assert [r["kind"] for r in records] == ["row"] * 5 + ["summary"]
    assert [r["row"] for r in records[:-1]] == [1, 2, 3, 4, 5]
    summary = records[-1]
    assert summary["n"] == 5
    assert summary["features"] == ["size", "rooms", "age"]
    errors = np.array([r["error"] for r in records[:-1]])
    assert summary["mse"] == pytest.approx(float(np.mean(errors**2)), rel=1e-15)


def test_csv_has_named_slope_columns():
    run = invoke("compute", str(SAMPLES / "points.csv"), "-w", "0,2,1", "--format", "csv")
    rows = list(csv.reader(io.StringIO(run.stdout)))
    assert rows[0] == ["preds", "error", "slope_size", "slope_rooms", "slope_age"]
    assert rows[1] == ["7", "7", "14", "28", "42"]
    assert len(rows) == 6


def test_summary_omits_rows():
    run = invoke("compute", str(SAMPLES / "points.csv"), "-w", "0,2,1", "--json", "--summary")
    doc = run.json()
    assert "rows" not in doc
    assert doc["n"] == 5


def test_weights_file_formats_agree(tmp_path):
    (tmp_path / "a.json").write_text("[0, 2, 1]")
    (tmp_path / "b.json").write_text('{"weights": [0, 2, 1], "features": ["x1", "x2", "x3"]}')
    (tmp_path / "c.txt").write_text("0, 2, 1\n")
    for name in ("a.json", "b.json", "c.txt"):
        run = invoke("compute", str(SAMPLES / "course.csv"), "--weights-file", str(tmp_path / name), "--json")
        assert run.json()["gradient"] == [14.0, 28.0, 42.0], name


def test_target_column_and_feature_selection():
    run = invoke(
        "compute",
        str(SAMPLES / "points.csv"),
        "-w",
        "1,0",
        "--features",
        "age,size",
        "--target-column",
        "rooms",
        "--json",
    )
    doc = run.json()
    assert doc["features"] == ["age", "size"]
    assert doc["rows"][0]["input"] == [3.0, 1.0]
    assert doc["rows"][0]["target"] == 2.0
    assert doc["rows"][0]["preds"] == 3.0


@pytest.mark.process_coverage
def test_version_and_module_entry_point():
    import subprocess
    import sys

    from slopecli import __version__

    assert run_installed("--version").stdout == f"slopecli {__version__}\n"
    done = subprocess.run(
        [sys.executable, "-m", "slopecli", *COURSE, "--json"], capture_output=True, text=True, check=True
    )
    assert '"gradient": [14.0, 28.0, 42.0]' in done.stdout


def test_all_rows_and_show_rows(tmp_path):
    X, y, w = random_data(7, n=25, d=2)
    (tmp_path / "d.csv").write_text(as_csv(X, y))
    weights = ",".join(map(repr, w.tolist()))
    short = invoke("compute", str(tmp_path / "d.csv"), "-w", weights, "--show-rows", "3")
    assert "… 22 more rows (--all-rows shows them)" in short.stdout
    default = invoke("compute", str(tmp_path / "d.csv"), "-w", weights)
    assert "… 15 more rows (--all-rows shows them)" in default.stdout
    step = invoke("step", str(tmp_path / "d.csv"), "-w", weights)
    assert "… 15 more rows (--all-rows shows them)" in step.stdout
    full = invoke("compute", str(tmp_path / "d.csv"), "-w", weights, "--all-rows")
    assert "more rows" not in full.stdout
    assert "│  25 │" in full.stdout


def test_broken_pipe_ends_quietly(tmp_path):
    X, y, _ = random_data(1, n=200_000, d=2)
    path = tmp_path / "big.csv"
    path.write_text(as_csv(X, y))
    from conftest import installed_slopecli

    proc = subprocess.Popen(
        [installed_slopecli(), "compute", str(path), "-w", "1,2", "--format", "jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    proc.stderr.close()
    code = proc.wait(timeout=60)
    assert b'"kind": "row"' in first
    assert stderr == ""
    assert code == 141
