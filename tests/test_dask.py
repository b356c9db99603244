"""--engine dask: the same sums as the local engine, on every kind of scheduler, loopback only."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from slopecli.batch import Task
from slopecli.dataset import Plan
from slopecli.readers.layout import ReadOptions

from conftest import SAMPLES, interrupted_within_a_second, invoke, run_installed

pytest.importorskip("distributed", reason="the dask extra is part of the test install")

W = "0.5,-1.25,2"
WEIGHTS = np.array([0.5, -1.25, 2.0])


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """Four CSV shards and two Parquet shards of one random dataset."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path_factory.mktemp("shards")
    rng = np.random.default_rng(21)
    X = rng.normal(scale=4, size=(3000, 3)).round(6)
    y = rng.normal(size=3000).round(6)
    cuts = [0, 700, 1500, 2200, 2600, 2800, 3000]
    for i, (a, b) in enumerate(itertools.pairwise(cuts)):
        if i < 4:
            rows = [
                ",".join(map(repr, [*r, t])) for r, t in zip(X[a:b].tolist(), y[a:b].tolist(), strict=True)
            ]
            (folder / f"part-{i}.csv").write_text("a,b,c,target\n" + "\n".join(rows) + "\n")
        else:
            table = pa.table({"a": X[a:b, 0], "b": X[a:b, 1], "c": X[a:b, 2], "target": y[a:b]})
            pq.write_table(table, folder / f"part-{i}.parquet", row_group_size=97)
    return folder


def local_results(folder: Path) -> dict:
    run = invoke("batch", str(folder), "-w", W, "--combine", "--json", "--jobs", "1")
    assert run.exit_code == 0, run.stderr
    return run.json()


def assert_same(dask_doc: dict, local_doc: dict) -> None:
    assert [f["file"] for f in dask_doc["files"]] == [f["file"] for f in local_doc["files"]]
    pairs = [
        *zip(dask_doc["files"], local_doc["files"], strict=True),
        (dask_doc["combined"], local_doc["combined"]),
    ]
    for got, want in pairs:
        assert got["n"] == want["n"]
        np.testing.assert_allclose(got["gradient"], want["gradient"], rtol=1e-12)
        assert got["mse"] == pytest.approx(want["mse"], rel=1e-12)


@pytest.mark.parametrize("scheduler", ["synchronous", "threads"])
def test_in_process_schedulers_equal_the_local_engine(shards, scheduler):
    run = invoke(
        "batch", str(shards), "-w", W, "--combine", "--json", "--engine", "dask", "--scheduler", scheduler
    )
    assert run.exit_code == 0, run.stderr
    assert_same(run.json(), local_results(shards))


@pytest.mark.slow
def test_a_two_process_local_cluster_equals_the_local_engine(shards):
    run = run_installed(
        "batch", str(shards), "-w", W, "--combine", "--json", "--engine", "dask", "--jobs", "2"
    )
    assert run.exit_code == 0, run.stderr
    assert_same(run.json(), local_results(shards))


def test_partitions_are_reduced_with_the_core_reducer(shards, monkeypatch):
    """Small blocks make several partitions per file; their sums must add up to one pass."""
    import slopecli.distributed as engine
    import slopecli.readers.delimited as delimited

    monkeypatch.setattr(engine, "PIECE_BYTES", 16 << 10)
    monkeypatch.setattr(delimited, "SPLIT_BYTES", 16 << 10)
    tasks = [Task(p, Plan(WEIGHTS, "--weights", ReadOptions())) for p in sorted(shards.glob("*.csv"))]
    import dask

    with dask.config.set(scheduler="synchronous"):
        results = engine.run(tasks, None)
    for task, result in zip(tasks, results, strict=True):
        data = np.loadtxt(task.path, delimiter=",", skiprows=1)
        err = data[:, :3] @ WEIGHTS - data[:, 3]
        assert result.sums is not None
        np.testing.assert_allclose(result.sums.gradient, 2 * data[:, :3].T @ err / len(err), rtol=1e-12)


@pytest.mark.parametrize(
    "scheduler",
    [["--scheduler", "synchronous"], pytest.param(["--jobs", "2"], marks=pytest.mark.slow)],
    ids=["synchronous", "cluster"],
)
def test_a_malformed_shard_gives_the_same_one_line_error(tmp_path, scheduler):
    good = tmp_path / "good.csv"
    good.write_text("a,target\n1,2\n3,4\n")
    bad = tmp_path / "late.csv"
    # The bad value lies past the sample dask.dataframe reads on the client: a worker finds it.
    bad.write_text("a,target\n" + "1,2\n" * 200_000 + "1,oops\n")
    run = run_installed(
        "batch", str(good), str(bad), "-w", "1", "--format", "jsonl", "--engine", "dask", *scheduler
    )
    assert run.exit_code == 1
    records = run.jsonl()
    assert records[1]["error"] == f"{bad}:200002:2: column 'target': 'oops' is not a number"
    assert run.stderr.splitlines() == [f"slopecli: error: {bad}:200002:2: column 'target': 'oops' is not a number",
                                       "slopecli: error: batch: 1 of 2 files failed"]  # fmt: skip


def test_an_early_malformed_value_is_diagnosed_too(tmp_path):
    bad = tmp_path / "early.csv"
    bad.write_text("a,target\n1,2\n1,\n")
    run = invoke("batch", str(bad), "-w", "1", "--json", "--engine", "dask", "--scheduler", "synchronous")
    assert run.json()["files"][0]["error"] == f"{bad}:3:2: column 'target': empty value"


def test_workers_write_per_row_output(shards, tmp_path):
    out = tmp_path / "out"
    run = invoke(
        "batch",
        str(shards),
        "-w",
        W,
        "--out",
        str(out),
        "--json",
        "--engine",
        "dask",
        "--scheduler",
        "threads",
    )
    assert run.exit_code == 0, run.stderr
    assert sorted(p.name for p in out.iterdir()) == [f"part-{i}.slopes.csv" for i in range(6)]
    rows = (out / "part-5.slopes.csv").read_text().splitlines()
    assert rows[0] == "preds,error,slope_a,slope_b,slope_c" and len(rows) == 201


def test_without_the_extra_the_message_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    run = invoke("batch", str(SAMPLES / "shards"), "-w", "0,2,1", "--engine", "dask")
    assert run.exit_code == 1
    assert (
        run.stderr
        == 'slopecli: error: the dask engine needs the optional extra: pip install "slopecli[dask]"\n'
    )


@pytest.mark.parametrize("command", ["batch", "compute"])
def test_scheduler_needs_the_dask_engine(command):
    run = invoke(command, str(SAMPLES / "shards"), "-w", "0,2,1", "--scheduler", "tcp://127.0.0.1:1")
    assert (run.exit_code, run.stdout, run.stderr) == (
        2,
        "",
        "slopecli: error: --scheduler needs --engine dask\n",
    )


@pytest.mark.parametrize(
    "flags",
    [("--row", "2"), ("--all-rows",), ("--show-rows", "2"), ("--show-rows", "10")],
    ids=["row", "all-rows", "show-rows", "show-rows at its default"],
)
def test_per_row_table_flags_need_the_local_engine(flags):
    run = invoke("compute", str(SAMPLES / "points.csv"), "-w", "0,2,1", *flags, "--engine", "dask")
    assert (run.exit_code, run.stdout) == (2, "")
    assert (
        run.stderr
        == f"slopecli: error: {flags[0]} needs the local engine: --engine dask computes the sums only\n"
    )


def test_an_empty_scheduler_is_a_usage_error_not_a_local_cluster():
    run = invoke("compute", str(SAMPLES / "points.csv"), "-w", "0,2,1", "--engine", "dask", "--scheduler", "")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        "slopecli: error: --scheduler: expected tcp://HOST:PORT, or synchronous, threads or processes;"
        " got an empty value\n"
    )


def _dask_command(name: str) -> list[str]:
    script = Path(sys.executable).with_name("dask")
    if script.exists():
        return [str(script), name]
    found = shutil.which("dask")
    if found is None:
        pytest.skip("the dask command is not installed")
    return [found, name]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


@pytest.mark.slow
def test_a_real_scheduler_and_worker_on_loopback(shards, tmp_path):
    scheduler_file = tmp_path / "scheduler.json"
    env = {**os.environ, "DASK_DISTRIBUTED__LOGGING__DISTRIBUTED": "error"}
    scheduler = subprocess.Popen(
        [*_dask_command("scheduler"), "--host", "127.0.0.1", "--port", "0", "--dashboard-address", "127.0.0.1:0",
         "--scheduler-file", str(scheduler_file)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists():
            assert scheduler.poll() is None, "the scheduler exited"
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.1)
        time.sleep(0.2)  # the file is written before it is complete on slow machines
        import json

        address = json.loads(scheduler_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        worker = subprocess.Popen(
            [*_dask_command("worker"), address, "--host", "127.0.0.1", "--nworkers", "1", "--nthreads", "1",
             "--no-dashboard"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        )  # fmt: skip
        run = run_installed(
            "batch", str(shards), "-w", W, "--combine", "--json", "--engine", "dask", "--scheduler", address
        )
        assert run.exit_code == 0, run.stderr
        assert_same(run.json(), local_results(shards))
        # The same through the environment variable.
        env_run = subprocess.run(
            [str(Path(sys.executable).with_name("slopecli")), "batch", str(shards), "-w", W, "--json", "--engine", "dask"],
            capture_output=True, text=True, timeout=120, check=False, env={**env, "DASK_SCHEDULER_ADDRESS": address},
        )  # fmt: skip
        assert env_run.returncode == 0, env_run.stderr
    finally:
        for proc in (worker, scheduler):
            if proc is not None:
                _stop(proc)
    assert scheduler.poll() is not None
    assert worker is None or worker.poll() is not None


def test_compute_on_a_glob_equals_the_combined_batch(shards):
    run = invoke(
        "compute",
        str(shards / "part-*.csv"),
        "-w",
        W,
        "--json",
        "--engine",
        "dask",
        "--scheduler",
        "synchronous",
    )
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    csv_only = invoke(
        "batch", *map(str, sorted(shards.glob("part-*.csv"))), "-w", W, "--combine", "--json"
    ).json()
    assert doc["n"] == csv_only["combined"]["n"] == 2600
    np.testing.assert_allclose(doc["gradient"], csv_only["combined"]["gradient"], rtol=1e-12)
    assert doc["features"] == ["a", "b", "c"]
    assert "rows" not in doc


def test_compute_on_dask_fails_as_a_whole_when_a_shard_is_bad(tmp_path):
    (tmp_path / "a.csv").write_text("a,target\n1,2\n")
    (tmp_path / "b.csv").write_text("a,target\nx,2\n")
    run = invoke(
        "compute", str(tmp_path), "-w", "1", "--json", "--engine", "dask", "--scheduler", "synchronous"
    )
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr == (
        f"slopecli: error: {tmp_path / 'b.csv'}:2:1: column 'a': 'x' is not a number; if 'a' is not a feature,"
        " leave it out with --features\n"
    )


def test_the_dask_engine_aligns_features_by_name_as_the_local_one_does(tmp_path):
    (tmp_path / "a.csv").write_text("size,rooms,age,target\n1,2,3,0\n")
    (tmp_path / "b.csv").write_text("age,size,rooms,target\n3,1,2,0\n")
    (tmp_path / "c.csv").write_text("size,rooms,year,target\n1,2,3,0\n")
    common = ("batch", str(tmp_path), "-w", "0,2,1", "--json", "--jobs", "1")
    local = invoke(*common).json()
    remote = invoke(*common, "--engine", "dask", "--scheduler", "synchronous").json()
    assert remote == local
    assert [f.get("mse") for f in local["files"]] == [49.0, 49.0, None]
    assert "features (size, rooms, year) differ from (size, rooms, age)" in local["files"][2]["error"]


def test_compute_on_dask_reads_shards_by_name(tmp_path):
    (tmp_path / "a.csv").write_text("size,rooms,age,target\n1,2,3,0\n")
    (tmp_path / "b.csv").write_text("age,size,rooms,target\n3,1,2,0\n")
    doc = invoke(
        "compute", str(tmp_path), "-w", "0,2,1", "--json", "--engine", "dask", "--scheduler", "synchronous"
    ).json()
    assert (doc["n"], doc["gradient"], doc["mse"]) == (2, [14.0, 28.0, 42.0], 49.0)


@pytest.mark.parametrize(
    "args",
    [
        ("-x", "1,2,3", "-y", "0"),
        (str(Path(__file__).parent.parent / "samples" / "points.csv"), "-x", "1,2,3", "-y", "0"),
        ("-",),
    ],
)
def test_compute_on_dask_refuses_rows_it_cannot_send_to_workers(args):
    run = invoke("compute", *args, "-w", "0,2,1", "--engine", "dask", "--scheduler", "synchronous")
    assert run.exit_code == 2
    assert run.stdout == ""
    assert run.stderr.startswith("slopecli: error: --engine dask reads files")


def test_dask_reads_a_file_split_into_pieces_as_the_local_engine_does(tmp_path, monkeypatch):
    """Every piece is read by slopecli's own reader: a bare CR after the header loses no row."""
    import slopecli.distributed as engine
    import slopecli.readers.delimited as delimited

    monkeypatch.setattr(engine, "PIECE_BYTES", 8 << 10)
    monkeypatch.setattr(delimited, "SPLIT_BYTES", 8 << 10)
    path = tmp_path / "cr.csv"
    path.write_bytes(b"a,b,target\r1000,1000,0\n" + b"1,2,3\n" * 20_000)
    doc = invoke(
        "compute", str(path), "-w", "1,1", "--json", "--engine", "dask", "--scheduler", "synchronous"
    ).json()
    local = invoke("compute", str(path), "-w", "1,1", "--json", "--summary").json()
    assert doc["n"] == local["n"] == 20_001
    assert doc["gradient"] == pytest.approx(local["gradient"], rel=1e-12)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"a,b,target\n1,2,3,\n4,5,6,\n", id="extra-trailing-fields"),
        pytest.param(b'"a\nx",b,target\n1,2,3\n4,5,6\n', id="quoted-newline-in-header"),
        pytest.param(b"\ra,b,target\r1,2,3\r4,5,6\r", id="cr-only-starting-with-cr"),
        pytest.param(b"a,b,target\n1,2,3\n   \n\t\n4,5,6\n", id="whitespace-only-lines"),
        pytest.param(b'a,b,target\n1,"2\n",3\n4,5,6\n', id="quoted-newline-in-a-value"),
    ],
)
def test_the_dask_engine_reads_what_the_local_one_reads(tmp_path, data):
    """Reproducers of files that dask.dataframe once read differently: now one reader serves both."""
    path = tmp_path / "d.csv"
    path.write_bytes(data)
    local = invoke("compute", str(path), "-w", "1,1", "--json", "--summary")
    remote = invoke(
        "compute", str(path), "-w", "1,1", "--json", "--engine", "dask", "--scheduler", "synchronous"
    )
    assert (remote.exit_code, remote.stdout, remote.stderr) == (local.exit_code, local.stdout, local.stderr)


@pytest.mark.slow
def test_the_local_cluster_is_silenced_while_it_lives_and_logging_restored_after():
    """Its event loop logs a worker killed by Ctrl-C at any moment (asyncio's "Task exception was
    never retrieved"): our stderr carries one line, so logging is off while it lives, and a
    library user's setting comes back after a run that ends normally."""
    import logging

    from slopecli.distributed import connection

    before = logging.root.manager.disable
    try:
        logging.disable(logging.INFO)
        with connection(None, 1) as client:
            assert client is not None
            assert logging.root.manager.disable == logging.CRITICAL
        assert logging.root.manager.disable == logging.INFO
    finally:
        logging.disable(before)


def test_after_an_interrupt_no_python_child_starts(tmp_path, monkeypatch):
    """The cluster's threads go on starting workers after Ctrl-C: once the run has abandoned its
    cluster, a process started by multiprocessing never runs its target, so none is made that the
    last kill could miss (one such worker kept CI's pipes open 2.4 s)."""
    import logging
    import multiprocessing
    import multiprocessing.resource_tracker
    import multiprocessing.spawn

    from slopecli import distributed

    monkeypatch.setattr(distributed, "kill_descendants", lambda: 0)  # not pytest's own children
    monkeypatch.setattr(multiprocessing.spawn, "_python_exe", multiprocessing.spawn.get_executable())
    # Started with the real interpreter, as Dask's first worker starts it: left to start after
    # the abandon, it would be relaunched later with a warning.
    multiprocessing.resource_tracker.ensure_running()
    before = logging.root.manager.disable
    try:
        distributed._abandon()
        marker = tmp_path / "ran"
        worker = multiprocessing.get_context("spawn").Process(target=Path.touch, args=(marker,))
        worker.start()
        worker.join(30)
    finally:
        logging.disable(before)
    assert (worker.exitcode, marker.exists()) == (255, False)


def test_an_interrupt_is_noticed_while_dask_makes_the_cluster():
    """Dask blocks the waiting thread in 10 s lock waits that only a signal taken by that very
    thread interrupts; the kernel may hand Ctrl-C to one of the cluster's threads instead."""
    import threading

    from slopecli import distributed

    never = threading.Event()
    interrupted_within_a_second(lambda: distributed._made_on_a_thread(never.wait))
    never.set()


def test_what_is_made_on_a_thread_is_returned_and_its_failure_raised_here():
    from slopecli import distributed

    assert distributed._made_on_a_thread(lambda: "cluster") == "cluster"

    def make_cluster():
        raise OSError(98, "Address already in use")

    with pytest.raises(OSError, match="Address already in use"):
        distributed._made_on_a_thread(make_cluster)


def test_a_cluster_that_no_client_can_join_is_closed(monkeypatch):
    import logging

    import distributed as dask_distributed

    from slopecli.distributed import connection

    closed = []

    class Cluster:
        def __init__(self, **options):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            closed.append(True)

    def refuse(cluster):
        raise OSError(111, "Connection refused")

    monkeypatch.setattr(dask_distributed, "LocalCluster", Cluster)
    monkeypatch.setattr(dask_distributed, "Client", refuse)
    before = logging.root.manager.disable
    with pytest.raises(OSError, match="Connection refused"), connection(None, 1):
        pass
    assert (closed, logging.root.manager.disable) == ([True], before)
