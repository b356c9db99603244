"""Ctrl-C: any run stops within a second, exit 130, one line on stderr, nothing on stdout."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import installed_slopecli, plain_env

# Signals reach the runs these tests start: coverage measures those runs.
pytestmark = pytest.mark.process_coverage


def interrupted(
    args: list[str], after: float, stdin: bytes | None = None, threads: int = 0
) -> tuple[int, float, bytes, str]:
    """Run slopecli, send it SIGINT ``after`` seconds (or, with ``threads``, as soon as it runs
    that many threads: on a fast machine a fixed delay may outlast the run), and wait for it."""
    env = plain_env()
    proc = subprocess.Popen(
        [installed_slopecli(), *args],
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    if stdin is not None:
        assert proc.stdin is not None
        proc.stdin.write(stdin)
        proc.stdin.flush()
    started = time.monotonic()
    while threads and len(os.listdir(f"/proc/{proc.pid}/task")) < threads and time.monotonic() - started < 30:
        time.sleep(0.005)
    time.sleep(0 if threads else after)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    return proc.returncode, time.monotonic() - sent, out, err.decode()


def test_ctrl_c_on_a_stream_that_has_not_ended():
    """--json holds its document until the end: nothing on stdout. (Sent after a second; a start
    slower than that, under coverage on a crowded machine, is interrupted as cleanly.)"""
    code, _, out, err = interrupted(["compute", "-", "-w", "1", "--json"], 1.0, stdin=b"a,target\n1,2\n")
    assert (code, out, err) == (130, b"", "slopecli: interrupted\n")


@pytest.mark.slow
def test_ctrl_c_stops_a_large_file_read_on_several_threads_within_a_second(tmp_path):
    path = tmp_path / "big.csv"
    row = b"1.5,2.25,-3.125,4.0625,5.5,6.75,7.875,8.9375,9.5,10.25,0.5\n"
    with path.open("wb") as fp:
        fp.write(b"a,b,c,d,e,f,g,h,i,j,target\n")
        block = row * 100_000
        for _ in range(50):  # about 300 MB: seconds of reading on two threads
            fp.write(block)
    # Sent once the piece readers run (the main thread and one per core, two here): on a quiet
    # machine the whole file takes about 0.75 s, so a fixed delay could miss the run.
    readers = min(2, len(os.sched_getaffinity(0)))  # one core: no pieces, no reader threads
    code, took, out, err = interrupted(
        ["compute", str(path), "-w", "1,1,1,1,1,1,1,1,1,1", "--summary", "--json"],
        0,
        threads=1 + readers if readers > 1 else 1,
    )
    assert (code, out, err) == (130, b"", "slopecli: interrupted\n")
    assert took < 1.0


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_ctrl_c_stops_per_row_output_of_a_large_file_read_in_pieces_within_a_second(tmp_path, fmt):
    """Per-row output of a large file streams past the 4 MiB held back: what it wrote stays (the
    first rows, in order, up to what the pipe took: its last line may be cut, as a write to a
    full pipe is), and the piece readers stop with the run."""
    path = tmp_path / "big.csv"
    row = b"1.5,2.25,-3.125,4.0625,5.5,6.75,7.875,8.9375,9.5,10.25,0.5\n"
    with path.open("wb") as fp:
        fp.write(b"a,b,c,d,e,f,g,h,i,j,target\n")
        block = row * 100_000
        for _ in range(50):  # about 300 MB: seconds of per-row output on two threads
            fp.write(block)
    code, took, out, err = interrupted(["compute", str(path), "-w", "1,1,1,1,1,1,1,1,1,1", "-f", fmt], 0.8)
    assert (code, err) == (130, "slopecli: interrupted\n")
    assert took < 1.0
    whole = out.splitlines()[:-1]
    if fmt == "csv":
        # preds 53.5, error 53, slopes 2·x·53: exact in binary, so exact here.
        assert set(whole[1:]) <= {b"53.5,53,159,238.5,-331.25,430.625,583,715.5,834.75,947.375,1007,1086.5"}
    else:
        assert [json.loads(line)["row"] for line in whole] == list(range(1, len(whole) + 1))


@pytest.mark.slow
@pytest.mark.parametrize("processes", [2, 4], ids=["while-the-cluster-starts", "while-it-reads"])
def test_ctrl_c_on_the_dask_engine_ends_within_a_second_and_leaves_no_worker(tmp_path, processes):
    """Ctrl-C reaches the terminal's whole process group: the local cluster's workers too.

    ``processes``: how many processes of the run exist when Ctrl-C comes (the run's own, then its
    workers as they are made); with all of them (4) the workers are reading."""
    pytest.importorskip("distributed")
    path = tmp_path / "big.csv"
    with path.open("wb") as fp:
        fp.write(b"a,b,target\n")
        block = b"1.5,2.25,-3.125\n" * 1_000_000
        for _ in range(20):
            fp.write(block)
    env = plain_env()
    proc = subprocess.Popen(
        [installed_slopecli(), "compute", str(path), "-w", "1,1", "--json", "--engine", "dask"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while len(_group(proc.pid)) < processes:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        if processes == 4:
            time.sleep(0.5)
        sent = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        took = time.monotonic() - sent
        assert (proc.returncode, out, err.decode()) == (130, b"", "slopecli: interrupted\n")
        assert took < 1.0
        time.sleep(1.0)
        assert _group(proc.pid, states="R,S,D") == []  # zombies, already dead, may wait for init
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def _group(pgid: int, states: str = "R,S,D,Z,T") -> list[str]:
    found = subprocess.run(["pgrep", "-g", str(pgid), "-r", states], capture_output=True, text=True)
    return found.stdout.split()


WINDOWS = {
    # Each moment before the command runs, with the call a Ctrl-C interrupts there.
    "importing the command line": "builtins.__import__",
    "Typer building the command": "typer.main.get_command",
    "parsing the flags": "slopecli.cli.app.SlopeGroup.make_context",
}


@pytest.mark.parametrize("target", WINDOWS.values(), ids=WINDOWS.keys())
def test_ctrl_c_before_the_command_runs_is_one_line_too(target):
    """A Ctrl-C in the first few hundred milliseconds: the console script's entry imports the
    command line, Typer builds the command, Click parses the flags. (Python's own start-up,
    before any of slopecli is imported, is Python's.) The interrupt is raised where the signal
    would land, so the test does not race the clock."""
    script = textwrap.dedent(
        f"""
        import builtins, sys
        from unittest import mock
        real_import = builtins.__import__

        def interrupted(*args, **kwargs):
            if {target!r} != "builtins.__import__" or args[0] == "slopecli.cli":
                raise KeyboardInterrupt
            return real_import(*args, **kwargs)

        import slopecli.__main__
        {"" if target == "builtins.__import__" else "import slopecli.cli.app, typer.main"}
        sys.argv = ["slopecli", "compute", "-x", "1", "-y", "2", "-w", "1", "--json"]
        with mock.patch({target!r}, interrupted):
            slopecli.__main__.main()
        """
    )
    env = plain_env()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, env=env, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (130, b"", b"slopecli: interrupted\n")


@pytest.mark.slow
@pytest.mark.parametrize("to", ["the process group", "the run alone"])
def test_ctrl_c_on_batch_workers_gives_one_line_and_leaves_no_worker(tmp_path, to):
    """A terminal's Ctrl-C reaches the workers too: they leave it to the run, which stops them
    (a worker that took it itself printed a traceback of its own). Sent to the run alone (kill
    -INT), the workers are stopped as well, not waited for."""
    row = b"1.5,2.25,-3.125,0.5\n"
    for name in ("a.csv", "b.csv", "c.csv"):
        with (tmp_path / name).open("wb") as fp:
            fp.write(b"x,y,z,target\n")
            for _ in range(30):
                fp.write(row * 100_000)  # 60 MB: seconds of per-row output in a worker
    env = plain_env()
    proc = subprocess.Popen(
        [installed_slopecli(), "batch", *(str(tmp_path / n) for n in ("a.csv", "b.csv", "c.csv")),
         "-w", "1,1,1", "--jobs", "2", "--out", str(tmp_path / "slopes")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while len(_group(proc.pid)) < 3:  # the run and its two workers
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.3)  # the workers are reading
        sent = time.monotonic()
        if to == "the process group":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        took = time.monotonic() - sent
        assert (proc.returncode, out, err.decode()) == (130, b"", "slopecli: interrupted\n")
        assert took < 1.0
        time.sleep(0.5)
        assert _group(proc.pid, states="R,S,D") == []
        assert list((tmp_path / "slopes").iterdir()) == []  # no output appears half-written
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


FORKING = {
    # Runs that fork workers, shrunk (a file cut in pieces of a few KiB) so that a small one forks.
    "per-row output": ["compute", "{data}", "-w", "1,1", "--format", "csv"],
    "batch": ["batch", "{data}", "{data2}", "-w", "1,1", "--jobs", "2", "--out", "{out}"],
}


@pytest.mark.parametrize("argv", FORKING.values(), ids=FORKING.keys())
def test_ctrl_c_while_a_worker_is_forked_is_not_lost(tmp_path, argv):
    """Python runs its at-fork hooks in the run as each worker is forked, and a KeyboardInterrupt
    raised in one is printed as "Exception ignored" and dropped: the run went on to exit 0. The
    interrupt is raised in such a hook, so the test does not race the clock."""
    data = tmp_path / "d.csv"
    data.write_text("a,b,target\n" + "".join(f"{i},{i % 7},{i % 5}\n" for i in range(20000)))
    (tmp_path / "d2.csv").write_bytes(data.read_bytes())
    args = [a.format(data=data, data2=tmp_path / "d2.csv", out=tmp_path / "out") for a in argv]
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        import slopecli.cli.output as output, slopecli.per_row as per_row
        import slopecli.readers.delimited as delimited
        delimited.SPLIT_BYTES, per_row.PIECE_BYTES, output.HOLD_BYTES = 1 << 12, 1 << 14, 1 << 14
        os.register_at_fork(after_in_parent=lambda: signal.raise_signal(signal.SIGINT))
        from slopecli.__main__ import main
        sys.argv = ["slopecli", *{args!r}]
        main()
        """
    )
    env = plain_env()
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        out, err = proc.communicate(timeout=60)
        assert (proc.returncode, out, err.decode()) == (130, b"", "slopecli: interrupted\n")
        deadline = time.monotonic() + 10
        while _group(proc.pid, states="R,S,D") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _group(proc.pid, states="R,S,D") == []
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
