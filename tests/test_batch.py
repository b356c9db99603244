"""slopecli batch: many files, merged sums, bad files skipped, outputs that appear whole or not at all."""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from slopecli.batch import (
    Combiner,
    FileResult,
    Task,
    expand_paths,
    plan_outputs,
    process,
    read_path_list,
    run,
)
from slopecli.core import Sums
from slopecli.dataset import Plan
from slopecli.errors import UsageError
from slopecli.readers.layout import ReadOptions

from conftest import ROOT, SAMPLES, installed_slopecli, invoke, run_installed
from oracle import assert_close, exact

FEATURES = ["a", "b", "c"]


def write_csv(path: Path, X: np.ndarray, y: np.ndarray) -> Path:
    lines = [",".join([*FEATURES, "target"])]
    lines += [",".join(repr(v) for v in [*row, t]) for row, t in zip(X.tolist(), y.tolist(), strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def shards(tmp_path):
    """Five shards of one random dataset, and the whole of it."""
    rng = np.random.default_rng(42)
    X = rng.normal(scale=5, size=(503, 3)).round(5)
    y = rng.normal(size=503).round(5)
    cuts = [0, 1, 100, 250, 400, 503]
    folder = tmp_path / "shards"
    folder.mkdir()
    for i, (a, b) in enumerate(itertools.pairwise(cuts)):
        write_csv(folder / f"part-{i}.csv", X[a:b], y[a:b])
    return folder, X, y


W = np.array([0.5, -1.25, 2.0])
WEIGHTS = "0.5,-1.25,2"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_combined_shards_equal_one_pass_and_the_exact_oracle(shards, tmp_path, jobs):
    folder, X, y = shards
    run_ = invoke("batch", str(folder), "-w", WEIGHTS, "--combine", "--jobs", jobs, "--json")
    assert run_.exit_code == 0, run_.stderr
    doc = run_.json()
    assert [Path(f["file"]).name for f in doc["files"]] == [f"part-{i}.csv" for i in range(5)]
    assert doc["succeeded"] == 5 and doc["failed"] == 0
    combined = doc["combined"]
    whole = invoke(
        "compute", str(write_csv(tmp_path / "whole.csv", X, y)), "-w", WEIGHTS, "--json", "--summary"
    ).json()
    want = exact(X.tolist(), y.tolist(), W.tolist())
    assert combined["n"] == whole["n"] == 503
    terms = 2 * np.abs(X).T @ np.abs(X @ W - y) / len(y)
    for got, one_pass, expected, scale in zip(
        combined["gradient"], whole["gradient"], want["gradient"], terms, strict=True
    ):
        assert_close(got, one_pass, scale)
        assert_close(got, expected, scale)
    assert_close(combined["mse"], whole["mse"], whole["mse"])
    assert_close(combined["mse"], want["mse"], want["mse"])


def test_per_file_results_match_compute(shards):
    folder, _, _ = shards
    doc = invoke("batch", str(folder), "-w", WEIGHTS, "--json").json()
    for record in doc["files"]:
        single = invoke("compute", record["file"], "-w", WEIGHTS, "--json", "--summary").json()
        assert record["n"] == single["n"]
        assert record["gradient"] == single["gradient"]
        assert record["mse"] == single["mse"]
    assert "combined" not in doc


def test_worker_processes_return_the_same_sums_as_in_process(shards):
    folder, _, _ = shards
    tasks = [Task(p, Plan(W, "--weights", ReadOptions())) for p in sorted(folder.iterdir())]
    here = list(run(tasks, jobs=1))
    pool = list(run(tasks, jobs=2))
    assert [r.path for r in pool] == [t.path for t in tasks]
    for a, b in zip(here, pool, strict=True):
        assert a.sums is not None and b.sums is not None
        assert a.sums.n == b.sums.n
        np.testing.assert_array_equal(a.sums.xte, b.sums.xte)
        assert a.sums.sse == b.sums.sse


def test_bad_files_are_reported_and_skipped(shards, tmp_path):
    folder, _, _ = shards
    (folder / "part-2.csv").write_text("a,b,c,target\n1,2,3,4\n1,2,oops,4\n")
    (folder / "zz-ragged.csv").write_text("a,b,c,target\n1,2,3\n")
    missing = tmp_path / "missing.csv"
    run_ = run_installed(
        "batch", str(folder), str(missing), "-w", WEIGHTS, "--format", "jsonl", "--jobs", "2"
    )
    assert run_.exit_code == 1
    records = run_.jsonl()
    files = records[:-1]
    assert [r["ok"] for r in files] == [True, True, False, True, True, False, False]
    assert files[2]["error"] == f"{folder / 'part-2.csv'}:3:3: column 'c': 'oops' is not a number"
    assert files[5]["error"] == f"{folder / 'zz-ragged.csv'}:2: expected 4 fields, found 3"
    assert files[6]["error"] == f"{missing}: cannot open it: No such file or directory"
    assert records[-1] == {
        "kind": "summary",
        "format_version": 1,
        "weights": [0.5, -1.25, 2.0],
        "succeeded": 4,
        "failed": 3,
    }
    assert run_.stderr.splitlines() == [
        f"slopecli: error: {files[2]['error']}",
        f"slopecli: error: {files[5]['error']}",
        f"slopecli: error: {files[6]['error']}",
        "slopecli: error: batch: 3 of 7 files failed",
    ]


def test_fail_fast_stops_at_the_first_failure(shards):
    folder, _, _ = shards
    (folder / "part-1.csv").write_text("a,b,c,target\n1,2,x,4\n")
    run_ = invoke("batch", str(folder), "-w", WEIGHTS, "--format", "jsonl", "--fail-fast", "--jobs", "1")
    assert run_.exit_code == 1
    assert [r.get("ok") for r in run_.jsonl()[:-1]] == [True, False]
    assert (
        run_.stderr.splitlines()[-1]
        == "slopecli: error: batch: 1 of 2 files failed; stopped after 2 of 5 (--fail-fast)"
    )


def test_combine_rejects_a_shard_with_other_columns(shards):
    folder, _, _ = shards
    (folder / "part-3.csv").write_text("x,b,c,target\n1,2,3,4\n")
    doc = invoke("batch", str(folder), "-w", WEIGHTS, "--combine", "--json").json()
    bad = doc["files"][3]
    assert bad["ok"] is False
    assert bad["error"] == (
        f"{folder / 'part-3.csv'}: features (x, b, c) differ from (a, b, c) in {folder / 'part-0.csv'},"
        " the first file with rows; the weights follow features by name"
    )
    assert doc["combined"]["n"] == 503 - 150


@pytest.mark.parametrize("first", ["x,y,target\n", "x,y,target\n1,abc,3\n", "x,y,target\n1,2\n"])
def test_a_first_file_without_readable_rows_does_not_name_the_model(tmp_path, first):
    # It fails on its own; the files after it are matched to the first file that has rows.
    (tmp_path / "a0.csv").write_text(first)
    (tmp_path / "a1.csv").write_text("a,b,target\n1,2,3\n")
    (tmp_path / "a2.csv").write_text("b,a,target\n5,4,6\n")
    doc = invoke("batch", str(tmp_path), "-w", "1,1", "--json").json()
    assert [f["ok"] for f in doc["files"]] == [False, True, True]
    assert doc["files"][1]["gradient"] == [0.0, 0.0]
    assert doc["files"][2]["features"] == ["a", "b"]  # aligned by name to a1's order
    assert doc["files"][2]["gradient"] == [24.0, 30.0]


def test_out_writes_per_row_csv_atomically_and_never_overwrites(shards, tmp_path):
    folder, X, y = shards
    out = tmp_path / "out"
    first = invoke("batch", str(folder), "-w", WEIGHTS, "--out", str(out), "--json")
    assert first.exit_code == 0, first.stderr
    assert sorted(p.name for p in out.iterdir()) == [f"part-{i}.slopes.csv" for i in range(5)]
    rows = np.loadtxt(out / "part-2.slopes.csv", delimiter=",", skiprows=1)
    err = X[100:250] @ W - y[100:250]
    np.testing.assert_allclose(rows[:, 1], err, rtol=1e-12)
    np.testing.assert_allclose(rows[:, 2:], 2 * X[100:250] * err[:, None], rtol=1e-12)
    assert (out / "part-0.slopes.csv").read_text().splitlines()[0] == "preds,error,slope_a,slope_b,slope_c"

    (out / "part-0.slopes.csv").write_text("keep me\n")
    again = invoke("batch", str(folder), "-w", WEIGHTS, "--out", str(out), "--json")
    assert again.exit_code == 1
    assert (out / "part-0.slopes.csv").read_text() == "keep me\n"
    assert f"{out / 'part-0.slopes.csv'}: already exists (--force overwrites it)" in again.stderr
    forced = invoke("batch", str(folder), "-w", WEIGHTS, "--out", str(out), "--force", "--json")
    assert forced.exit_code == 0
    assert (out / "part-0.slopes.csv").read_text().startswith("preds,error")
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_an_output_may_not_overwrite_an_input(tmp_path):
    (tmp_path / "a.csv").write_text("a,target\n1,2\n")
    (tmp_path / "a.slopes.csv").write_text("a,target\n1,2\n")
    run_ = invoke("batch", str(tmp_path), "-w", "1", "--out", str(tmp_path))
    assert run_.exit_code == 2  # a usage error: the flag's value, not the data
    assert run_.stderr == (
        f"slopecli: error: --out: the results of {tmp_path / 'a.csv'} would overwrite the input"
        f" {tmp_path / 'a.slopes.csv'}; choose another --out\n"
    )
    assert (tmp_path / "a.slopes.csv").read_text() == "a,target\n1,2\n"


def _output_being_written(pid: int, folder: Path) -> bool:
    """``pid`` has an unnamed file in ``folder`` with rows in it: the output, mid-write. (Before the
    run starts, it makes and drops an empty unnamed file there, to see that outputs can be made:
    a signal sent then would come before the run handles any.)"""
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            link = f"/proc/{pid}/fd/{fd}"
            target = os.readlink(link)
            if target.startswith(f"{folder}/") and target.endswith("(deleted)") and os.stat(link).st_size:
                return True
    except (FileNotFoundError, ProcessLookupError):
        pass
    return False


@pytest.mark.parametrize(
    ("sig", "code"),
    [
        (signal.SIGKILL, -9),
        pytest.param(signal.SIGTERM, 143, marks=pytest.mark.slow),
        pytest.param(signal.SIGINT, 130, marks=pytest.mark.slow),
    ],
)
def test_a_run_killed_mid_write_leaves_no_output_file(tmp_path, sig, code):
    rng = np.random.default_rng(0)
    big = write_csv(
        tmp_path / "big.csv", rng.normal(size=(400_000, 3)).round(4), rng.normal(size=400_000).round(4)
    )
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [installed_slopecli(), "batch", str(big), "-w", WEIGHTS, "--out", str(out), "--jobs", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while not _output_being_written(proc.pid, out):
        assert proc.poll() is None, "finished before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == code
    assert "Traceback" not in stderr.decode()
    assert list(out.iterdir()) == []


@pytest.mark.process_coverage
def test_files_from_a_list_and_stdin(shards, tmp_path):
    folder, _, _ = shards
    listing = tmp_path / "list.txt"
    listing.write_text(f"# shards\n{folder / 'part-0.csv'}\n\n{folder / 'part-4.csv'}\n")
    from_file = invoke("batch", "--files-from", str(listing), "-w", WEIGHTS, "--json").json()
    from_stdin = run_installed(
        "batch", "--files-from", "-", "-w", WEIGHTS, "--json", input=listing.read_text()
    ).json()
    assert [Path(f["file"]).name for f in from_file["files"]] == ["part-0.csv", "part-4.csv"]
    assert from_stdin["files"] == from_file["files"]


def test_csv_and_table_formats(shards):
    folder, _, _ = shards
    text = invoke("batch", str(folder), "-w", WEIGHTS, "--format", "csv", "--combine").stdout.splitlines()
    assert text[0] == "file,ok,n,mse,gradient_a,gradient_b,gradient_c,error"
    assert text[-1].startswith("(combined),true,503,")
    assert len(text) == 7
    table = invoke("batch", str(folder), "-w", WEIGHTS, "--combine").stdout
    assert "all files (combined)" in table
    assert "5 succeeded" in table


def test_a_combined_row_without_the_failed_files_says_which_it_holds(tmp_path, shards):
    folder, _, _ = shards
    mixed = tmp_path / "mixed"
    shutil.copytree(folder, mixed)
    (mixed / "zz-broken.csv").write_text("a,b,c,target\n1,2,x,4\n")
    run = invoke("batch", str(mixed), "-w", WEIGHTS, "--combine")
    assert run.exit_code == 1
    assert "the 5 files read (combined)" in run.stdout
    assert "all files" not in run.stdout
    assert "5 succeeded, 1 failed" in run.stdout


@pytest.mark.parametrize("order", ["bad first", "good first"])
def test_a_file_that_cannot_take_the_weights_does_not_name_the_features_of_the_others(tmp_path, order):
    # The first file with rows names the features every other file is matched to, but not one
    # that fails: it made every later file fail with it, depending on the order of the names.
    bad, good = tmp_path / "a.csv", tmp_path / "b.csv"
    bad.write_text("a,b,target\n1,2,3\n")
    good.write_text("a,b,c,target\n1,2,3,4\n")
    files = [bad, good] if order == "bad first" else [good, bad]
    run = invoke("batch", *map(str, files), "-w", "1,1,1", "--json")
    assert run.exit_code == 1
    results = {Path(f["file"]).name: f for f in run.json()["files"]}
    assert results["b.csv"]["ok"] and results["b.csv"]["gradient"] == [4.0, 8.0, 12.0]
    # Its own fault, whichever file came first: not that its names differ from b.csv's.
    assert results["a.csv"]["error"] == f"--weights: 3 weights, but {bad} has 2 features (a, b)"


@pytest.mark.process_coverage
def test_a_pipe_in_a_folder_or_a_pattern_fails_on_its_own_instead_of_waiting_for_a_writer(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "one.csv").write_text("a,b,target\n1,2,3\n")
    os.mkfifo(folder / "a-pipe.csv")  # sorts first: nothing after it was ever read
    for argument in (str(folder), str(folder / "*.csv")):
        run = run_installed("batch", argument, "-w", "1,1", "--format", "jsonl")  # a hang times out
        assert run.exit_code == 1
        lines = run.jsonl()
        assert lines[0] == {
            "kind": "file",
            "file": str(folder / "a-pipe.csv"),
            "ok": False,
            "error": f"{folder / 'a-pipe.csv'}: is a named pipe, not a regular file; a folder's or a"
            " pattern's are not read (a pipe may wait forever for a writer): give it by name to read it",
        }
        assert lines[1]["ok"] and lines[1]["n"] == 1


def test_glob_patterns_and_arguments_that_name_no_file(tmp_path, shards):
    folder, _, _ = shards
    assert [p.name for p in expand_paths([str(folder / "part-[12].csv")])] == ["part-1.csv", "part-2.csv"]
    empty = tmp_path / "empty"
    empty.mkdir()
    pattern = str(tmp_path / "*.nothing")
    first = folder / "part-0.csv"
    entries = expand_paths([str(empty), str(first), pattern])
    assert entries[1] == first
    assert [(e.path, e.error) for e in entries if isinstance(e, FileResult)] == [
        (empty, EMPTY_FOLDER.format(empty)),
        (Path(pattern), NO_MATCH.format(pattern)),
    ]
    assert read_path_list("a.csv\n  \n# note\n b.csv \n") == ["a.csv", "b.csv"]


EMPTY_FOLDER = (
    "{}: no data files in the folder (no *.csv, *.tsv, *.parquet or *.pq, compressed or not);"
    " name other files one by one"
)
NO_MATCH = "{}: no file matches the pattern; check its spelling and its folder"


@pytest.mark.parametrize("how", ["folder", "pattern", "files-from"])
def test_an_argument_that_names_no_file_fails_in_its_place_and_the_others_complete(tmp_path, how):
    empty = tmp_path / "existdir"
    empty.mkdir()
    points = str(SAMPLES / "points.csv")
    if how == "folder":
        args, nothing = [str(empty), points], str(empty)
        error = EMPTY_FOLDER.format(empty)
    elif how == "pattern":
        nothing = str(tmp_path / "nomatch*.csv")
        args, error = [nothing, points], NO_MATCH.format(nothing)
    else:
        listing = tmp_path / "list.txt"
        listing.write_text(f"{points}\n{empty}\n")
        args, nothing, error = ["--files-from", str(listing)], str(empty), EMPTY_FOLDER.format(empty)
    run_ = invoke("batch", *args, "-w", "0,2,1", "--format", "jsonl")
    assert run_.exit_code == 1
    records = run_.jsonl()
    files = records[:-1] if how == "files-from" else records[-2::-1]  # the failure is first in FILES
    assert files[0]["file"] == points and files[0]["ok"] is True and files[0]["n"] == 5
    assert files[1] == {"kind": "file", "file": nothing, "ok": False, "error": error}
    assert records[-1]["succeeded"] == 1 and records[-1]["failed"] == 1
    assert run_.stderr.splitlines() == [
        f"slopecli: error: {error}",
        "slopecli: error: batch: 1 of 2 files failed",
    ]


def test_when_no_argument_names_a_file_there_is_nothing_to_run(tmp_path):
    """As with no FILES at all: one usage error, and no document that reports no file."""
    empty = tmp_path / "empty"
    empty.mkdir()
    one = invoke("batch", str(empty), "-w", "1", "--format", "jsonl")
    assert (one.exit_code, one.stdout) == (2, "")
    assert one.stderr == f"slopecli: error: no files to read: {EMPTY_FOLDER.format(empty)}\n"
    pattern = str(tmp_path / "*.nothing")
    listing = tmp_path / "list.txt"
    listing.write_text(f"{empty}\n{empty}/\n")
    several = invoke("batch", pattern, str(empty), "--files-from", str(listing), "-w", "1")
    assert (several.exit_code, several.stdout) == (2, "")
    assert several.stderr == (
        f"slopecli: error: no files to read: {NO_MATCH.format(pattern)} (and 1 more argument naming no file)\n"
    )


def test_a_folder_lists_its_broken_links_which_fail_as_when_named(tmp_path):
    folder = tmp_path / "dl"
    folder.mkdir()
    (folder / "a.csv").write_bytes((SAMPLES / "points.csv").read_bytes())
    (folder / "dangling.csv").symlink_to("nonexist")
    (folder / "l1.csv").symlink_to("l2")
    (folder / "l2").symlink_to("l1.csv")
    (folder / "sub.csv").mkdir()  # a folder is not read, whatever its name
    run_ = invoke("batch", str(folder), "-w", "0,2,1", "--format", "jsonl")
    assert run_.exit_code == 1
    records = run_.jsonl()[:-1]
    assert [(Path(r["file"]).name, r["ok"]) for r in records] == [
        ("a.csv", True),
        ("dangling.csv", False),
        ("l1.csv", False),
    ]
    named = invoke(
        "batch", str(folder / "dangling.csv"), str(folder / "l1.csv"), "-w", "0,2,1", "--format", "jsonl"
    )
    assert records[1:] == named.jsonl()[:-1]
    assert records[1]["error"] == f"{folder / 'dangling.csv'}: cannot open it: No such file or directory"
    assert records[2]["error"] == f"{folder / 'l1.csv'}: cannot open it: Too many levels of symbolic links"
    assert run_.stderr.splitlines()[-1] == "slopecli: error: batch: 2 of 3 files failed"


def test_a_folder_that_cannot_be_listed_fails_in_its_place(tmp_path, monkeypatch):
    # Tests run as root here, for whom every folder can be listed: the refusal is simulated.
    import errno

    locked = tmp_path / "locked"
    locked.mkdir()
    real = Path.iterdir

    def iterdir(self):
        if self == locked:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    run_ = invoke("batch", str(SAMPLES / "points.csv"), str(locked), "-w", "0,2,1", "--format", "jsonl")
    assert run_.exit_code == 1
    assert run_.jsonl()[1]["error"] == f"{locked}: cannot list the folder: Permission denied"


def test_a_folder_means_every_kind_of_data_file_the_help_and_readme_name(tmp_path):
    import bz2
    import gzip

    text = (SAMPLES / "points.csv").read_bytes()
    (tmp_path / "a.csv").write_bytes(text)
    (tmp_path / "b.tsv").write_bytes(text.replace(b",", b"\t"))
    (tmp_path / "c.parquet").write_bytes((SAMPLES / "points.parquet").read_bytes())
    (tmp_path / "d.pq").write_bytes((SAMPLES / "points.parquet").read_bytes())
    (tmp_path / "e.csv.gz").write_bytes(gzip.compress(text))
    (tmp_path / "f.TSV.bz2").write_bytes(bz2.compress(text.replace(b",", b"\t")))
    (tmp_path / "notes.txt").write_text("not data\n")
    doc = invoke("batch", str(tmp_path), "-w", "0,2,1", "--json").json()
    assert [Path(f["file"]).name for f in doc["files"]] == [
        "a.csv", "b.tsv", "c.parquet", "d.pq", "e.csv.gz", "f.TSV.bz2"
    ]  # fmt: skip
    assert {f["mse"] for f in doc["files"]} == {349.723}
    from slopecli.batch import DATA_SUFFIXES
    from slopecli.readers.layout import COMPRESSION_SUFFIXES

    helped = " ".join(invoke("batch", "--help").stdout.split())
    readme = (ROOT / "README.md").read_text().split("## `slopecli batch`")[1].split("\n## ")[0]
    for suffix in (*DATA_SUFFIXES, *COMPRESSION_SUFFIXES):
        assert suffix in helped, suffix
        assert suffix in readme, suffix


def test_plan_outputs_refuses_colliding_names(tmp_path):
    with pytest.raises(UsageError, match="would both write"):
        plan_outputs([tmp_path / "x" / "p.csv", tmp_path / "y" / "p.csv"], tmp_path / "out")


def test_combiner_merges_the_files_that_succeeded():
    one = FileResult(Path("1.csv"), ("a",), Sums(2, np.array([1.0]), 3.0))
    two = FileResult(Path("2.csv"), ("a",), Sums(3, np.array([2.0]), 4.0))
    combiner = Combiner()
    for result in (one, FileResult(Path("bad.csv"), error="x"), two):
        combiner.add(result)
    assert combiner.total is not None
    assert (combiner.total.n, combiner.total.xte.tolist(), combiner.total.sse) == (5, [3.0], 7.0)
    assert combiner.features == ("a",)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_files_with_the_same_columns_in_another_order_give_the_same_results(tmp_path, jobs):
    """The weights follow the first file's feature order; a later file is read by name."""
    (tmp_path / "a.csv").write_text("size,rooms,age,target\n1,2,3,0\n")
    (tmp_path / "b.csv").write_text("age,size,rooms,target\n3,1,2,0\n")
    (tmp_path / "c.csv").write_text("rooms,target,age,size\n2,0,3,1\n")
    doc = invoke("batch", str(tmp_path), "-w", "0,2,1", "--json", "--combine", "-j", jobs).json()
    records = [{k: r[k] for k in ("n", "features", "gradient", "mse")} for r in doc["files"]]
    assert (
        records
        == [{"n": 1, "features": ["size", "rooms", "age"], "gradient": [14.0, 28.0, 42.0], "mse": 49.0}] * 3
    )
    assert doc["combined"] == {
        "n": 3,
        "features": ["size", "rooms", "age"],
        "gradient": [14.0, 28.0, 42.0],
        "mse": 49.0,
    }


def test_a_file_with_other_feature_names_fails_naming_both_lists(tmp_path):
    """Without --combine too: one weight vector means one model, whose weights belong to names."""
    (tmp_path / "a.csv").write_text("size,rooms,age,target\n1,2,3,0\n")
    (tmp_path / "b.csv").write_text("size,rooms,year,target\n1,2,3,0\n")
    run_ = invoke("batch", str(tmp_path), "-w", "0,2,1", "--format", "jsonl")
    assert run_.exit_code == 1
    assert run_.jsonl()[1]["error"] == (
        f"{tmp_path / 'b.csv'}: features (size, rooms, year) differ from (size, rooms, age) in"
        f" {tmp_path / 'a.csv'}, the first file with rows; the weights follow features by name"
    )


def test_the_first_file_names_the_weights_as_a_saved_weights_file_would(tmp_path):
    """Without --combine a file in another order gets each weight on its feature of that name,
    as ``compute`` does with weights saved for those names (not by position, as with plain -w)."""
    (tmp_path / "a.csv").write_text("size,rooms,age,target\n1,2,3,0\n")
    (tmp_path / "b.csv").write_text("age,size,rooms,target\n3,1,5,0\n")
    saved = tmp_path / "w.json"
    saved.write_text('{"weights": [0, 2, 1], "features": ["size", "rooms", "age"]}')
    doc = invoke("batch", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "-w", "0,2,1", "--json").json()
    alone = invoke("compute", str(tmp_path / "b.csv"), "--weights-file", str(saved), "--json", "--summary")
    got = {k: doc["files"][1][k] for k in ("n", "features", "gradient", "mse")}
    assert got == {k: alone.json()[k] for k in ("n", "features", "gradient", "mse")}
    assert got["mse"] == 169.0  # 0·1 + 2·5 + 1·3


def test_features_flag_sets_the_order_for_every_file(tmp_path):
    (tmp_path / "a.csv").write_text("size,rooms,age,target\n1,2,3,0\n")
    (tmp_path / "b.csv").write_text("age,size,rooms,target\n3,1,2,0\n")
    doc = invoke("batch", str(tmp_path), "-w", "1,0,2", "--features", "age,size,rooms", "--json").json()
    assert [r["gradient"] for r in doc["files"]] == [[42.0, 14.0, 28.0]] * 2


def test_no_header_files_are_read_by_position(tmp_path):
    (tmp_path / "a.csv").write_text("1,2,3,0\n")
    (tmp_path / "b.csv").write_text("3,1,2,0\n")
    doc = invoke("batch", str(tmp_path), "-w", "0,2,1", "--no-header", "--json").json()
    assert [r["mse"] for r in doc["files"]] == [49.0, 16.0]  # b.csv: 0·3 + 2·1 + 1·2 = 4


def test_weights_saved_for_other_features_are_refused_in_batch(tmp_path):
    (tmp_path / "a.csv").write_text("size,rooms,age,target\n1,2,3,0\n")
    saved = tmp_path / "w.json"
    saved.write_text('{"weights": [0, 2, 1], "features": ["size", "rooms", "age"]}')
    swapped = invoke(
        "batch", str(tmp_path / "a.csv"), "--weights-file", str(saved), "--features", "rooms,size,age"
    )
    assert swapped.exit_code == 2
    assert swapped.stderr.startswith(
        f"slopecli: error: --weights-file {saved}: saved for features (size, rooms, age), but"
    )
    other = tmp_path / "o.json"
    other.write_text('{"weights": [0, 2, 1], "features": ["a", "b", "c"]}')
    run_ = invoke("batch", str(tmp_path / "a.csv"), "--weights-file", str(other), "--json")
    assert run_.exit_code == 1
    assert (
        "features (size, rooms, age) differ from (a, b, c) that --weights-file"
        in run_.json()["files"][0]["error"]
    )


def test_process_reports_chunk_progress_in_bytes(tmp_path):
    rng = np.random.default_rng(3)
    path = write_csv(tmp_path / "p.csv", rng.normal(size=(20_000, 3)), rng.normal(size=20_000))
    seen: list[int] = []
    result = process(Task(path, Plan(W, "--weights", ReadOptions(block_bytes=64 << 10))), seen.append)
    assert result.ok and result.sums is not None and result.sums.n == 20_000
    assert len(seen) > 5
    assert 0 < sum(seen) <= path.stat().st_size


def test_progress_goes_to_stderr_only(shards):
    """With stderr on a terminal the progress display draws there; stdout stays pure JSON."""
    folder, _, _ = shards
    primary, secondary = os.openpty()
    try:
        done = subprocess.run(
            [installed_slopecli(), "batch", str(folder), "-w", WEIGHTS, "--json"],
            stdout=subprocess.PIPE,
            stderr=secondary,
            timeout=60,
            check=False,
            env={**os.environ, "TERM": "xterm"},
        )
        os.close(secondary)
        drawn = b""
        while True:
            try:
                data = os.read(primary, 65536)
            except OSError:
                break
            if not data:
                break
            drawn += data
    finally:
        os.close(primary)
    assert done.returncode == 0
    assert b"\x1b" not in done.stdout
    assert len(__import__("json").loads(done.stdout)["files"]) == 5
    assert b"files" in drawn  # the progress line: "N/5 files"


def test_batch_of_samples_through_the_installed_command():
    run_ = run_installed("batch", str(SAMPLES / "shards"), "-w", "0,2,1", "--combine", "--json")
    assert run_.exit_code == 0, run_.stderr
    combined = run_.json()["combined"]
    single = run_installed(
        "compute", str(SAMPLES / "points.csv"), "-w", "0,2,1", "--json", "--summary"
    ).json()
    assert combined["n"] == single["n"] == 5
    np.testing.assert_allclose(combined["gradient"], single["gradient"], rtol=1e-12)
    assert combined["mse"] == pytest.approx(single["mse"], rel=1e-12)


def _dies_on_b(task, *args, **kwargs):
    """``process``, except that the worker dies on b.csv, as if SIGKILLed by the kernel."""
    import os

    if task.path.name == "b.csv":
        os._exit(137)
    return process(task, *args, **kwargs)


def test_a_worker_killed_mid_file_fails_that_file_only(tmp_path, monkeypatch):
    """The out-of-memory killer ends a worker: its file fails with a reason, the others complete."""
    import slopecli.batch as engine

    monkeypatch.setattr(engine, "process", _dies_on_b)
    for name in "abcdef":
        (tmp_path / f"{name}.csv").write_text("a,target\n1,2\n")
    run_ = invoke("batch", str(tmp_path), "-w", "1", "--format", "jsonl", "--jobs", "2")
    assert run_.exit_code == 1
    lines = run_.jsonl()
    assert [line.get("ok") for line in lines[:-1]] == [True, False, True, True, True, True]
    assert lines[1]["error"] == (
        f"{tmp_path / 'b.csv'}: the process reading it was killed (out of memory?); nothing was written for it"
    )
    assert run_.stderr.splitlines()[-1] == "slopecli: error: batch: 1 of 6 files failed"


def test_a_failure_to_write_an_output_is_named_by_the_output(tmp_path, monkeypatch):
    """A full disk under --out is the output's problem, not the input's."""
    import errno

    import slopecli.outfiles as outfiles

    def full(self, fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(outfiles.AtomicFile, "_publish", full)
    data = tmp_path / "a.csv"
    data.write_text("a,target\n1,2\n")
    out = tmp_path / "out"
    run_ = invoke("batch", str(data), "-w", "1", "--out", str(out), "--format", "jsonl", "--jobs", "1")
    assert run_.exit_code == 1
    assert (
        run_.jsonl()[0]["error"] == f"--out: {out / 'a.slopes.csv'}: cannot write it: No space left on device"
    )


def test_an_out_directory_that_cannot_be_written_fails_before_any_file_is_read(tmp_path, monkeypatch):
    # Tests run as root here, for whom every directory is writable: the refusal is simulated.
    import slopecli.cli.batch as batch_command

    monkeypatch.setattr(batch_command.os, "access", lambda path, mode: not mode & os.W_OK)
    run_ = invoke(
        "batch", str(SAMPLES / "points.csv"), "-w", "0,2,1", "--out", str(tmp_path), "--format", "jsonl"
    )
    assert (run_.exit_code, run_.stdout) == (2, "")
    assert run_.stderr == (
        f"slopecli: error: --out: {tmp_path}: cannot write in it (permission denied); choose a directory you can write\n"
    )
