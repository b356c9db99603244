"""Per-row CSV written by worker processes (slopecli.forked_rows): the same bytes as one pass, the
same failures, and no worker left behind, whatever ends the run.

Workers write to a real file descriptor, so these tests run slopecli as a process, through a
driver that lowers the sizes at which a file is cut into pieces (and output leaves the hold), so
that a file of a few hundred KiB takes the path a file of hundreds of MiB takes. The driver says
on stderr, once, that it forked, and which workers it made.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import plain_env

# The workers are forked by the run these tests start: coverage measures those runs.
pytestmark = pytest.mark.process_coverage

DRIVER = """
import os, sys
import slopecli.cli.output as output, slopecli.per_row as per_row, slopecli.readers.delimited as delimited
import slopecli.forked_rows as forked
delimited.SPLIT_BYTES, per_row.PIECE_BYTES = 1 << 12, 1 << 14
output.HOLD_BYTES = int(os.environ.get("HOLD", 1 << 14))
if os.environ.get("NO_FORK"):
    per_row.usable = lambda *args: False
started = forked._Ring.start
def start(self, work):
    started(self, work)
    sys.stderr.write("forked " + " ".join(map(str, self._pids)) + "\\n")
    sys.stderr.flush()
forked._Ring.start = start
if os.environ.get("SLOW"):  # each chunk a while, for a signal to come mid-run
    import time
    encoded = forked._encoded
    def slow(*args):
        for part in encoded(*args):
            time.sleep(0.05)
            yield part
    forked._encoded = slow
from slopecli.__main__ import main
sys.argv[0] = "slopecli"
main()
"""
W = "0.5,-0.25,2"


def data_file(tmp_path: Path, rows: int = 6000, bad: int | None = None) -> Path:
    lines = [f"{i % 97 / 7},{i % 13 - 6},{i / 3},{(i * 7) % 11}" for i in range(rows)]
    if bad is not None:
        lines[bad] = f"{bad},x,1,2"
    path = tmp_path / "d.csv"
    path.write_text("a,b,c,target\n" + "\n".join(lines) + "\n")
    return path


def run(*args: str, **more: str) -> subprocess.CompletedProcess[bytes]:
    argv = [sys.executable, "-c", DRIVER, "compute", *args]
    return subprocess.run(argv, capture_output=True, env=plain_env(**more), timeout=120, check=False)


def test_workers_write_the_bytes_of_one_pass(tmp_path):
    path = data_file(tmp_path)
    forked = run(str(path), "-w", W, "--format", "csv")
    threads = run(str(path), "-w", W, "--format", "csv", NO_FORK="1")
    assert forked.returncode == threads.returncode == 0, forked.stderr
    assert forked.stderr.decode().startswith("forked ") and b"forked" not in threads.stderr
    assert forked.stdout == threads.stdout
    assert forked.stdout.count(b"\n") == 6001


def test_a_bad_value_after_the_workers_start_is_reported_as_one_pass_reports_it(tmp_path):
    path = data_file(tmp_path, bad=4000)
    forked = run(str(path), "-w", W, "--format", "csv")
    threads = run(str(path), "-w", W, "--format", "csv", NO_FORK="1")
    assert forked.returncode == threads.returncode == 1
    message = forked.stderr.decode().splitlines()
    assert message[0].startswith("forked ") and len(message) == 2
    assert message[1] == f"slopecli: error: {path}:4002:2: column 'b': 'x' is not a number"
    assert threads.stderr.decode().splitlines() == message[1:]
    # What was written before the bad row's chunk, as with threads: whole lines, in order.
    assert forked.stdout == threads.stdout and forked.stdout.endswith(b"\n")
    assert 0 < forked.stdout.count(b"\n") <= 4001


@pytest.mark.parametrize(("bad", "hold"), [(5, 1 << 14), (1500, 1 << 18)])
def test_a_bad_value_in_the_held_output_leaves_stdout_empty(tmp_path, bad, hold):
    # The workers start at once; until the output passes the hold, they hand their bytes over
    # instead of writing them, so a failure there prints nothing, as with threads: in the first
    # piece, or (a larger hold) in the second worker's first piece.
    path = data_file(tmp_path, bad=bad)
    forked = run(str(path), "-w", W, "--format", "csv", HOLD=str(hold))
    threads = run(str(path), "-w", W, "--format", "csv", NO_FORK="1", HOLD=str(hold))
    assert forked.returncode == threads.returncode == 1
    message = forked.stderr.decode().splitlines()
    assert message[0].startswith("forked ") and len(message) == 2
    assert message[1] == f"slopecli: error: {path}:{bad + 2}:2: column 'b': 'x' is not a number"
    assert forked.stdout == threads.stdout == b""


def test_output_that_never_leaves_the_hold_is_written_whole(tmp_path):
    path = data_file(tmp_path)
    forked = run(str(path), "-w", W, "--format", "csv", HOLD=str(1 << 22))
    threads = run(str(path), "-w", W, "--format", "csv", NO_FORK="1")
    assert forked.returncode == threads.returncode == 0, forked.stderr
    assert forked.stderr.decode().startswith("forked ")
    assert forked.stdout == threads.stdout and forked.stdout.count(b"\n") == 6001


def test_a_slow_reader_of_a_non_blocking_pipe_gets_every_byte_from_the_workers(tmp_path):
    # A parent may hand over a non-blocking pipe: a worker whose write finds it full waits for
    # room (it failed with "Resource temporarily unavailable" after 62 KiB).
    path = data_file(tmp_path, rows=40000)
    expected = run(str(path), "-w", W, "--format", "csv", NO_FORK="1")
    read, write = os.pipe()
    os.set_blocking(write, False)
    argv = [sys.executable, "-c", DRIVER, "compute", str(path), "-w", W, "--format", "csv"]
    with subprocess.Popen(argv, stdout=write, stderr=subprocess.PIPE, env=plain_env()) as proc:
        os.close(write)
        chunks = []
        with open(read, "rb", buffering=0) as reader:
            while chunk := reader.read(16 << 10):
                chunks.append(chunk)
                time.sleep(0.001)  # slower than the workers write: the pipe fills
        assert proc.wait(timeout=60) == 0
        assert proc.stderr is not None and proc.stderr.read().decode().startswith("forked ")
    assert b"".join(chunks) == expected.stdout and expected.returncode == 0


def test_a_reader_that_goes_away_ends_the_run_with_141_and_no_worker_left(tmp_path):
    path = data_file(tmp_path, rows=40000)
    argv = [sys.executable, "-c", DRIVER, "compute", str(path), "-w", W, "--format", "csv"]
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=plain_env(SLOW="1")
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.read(1 << 15)  # some rows, then the reader goes away, as `| head` does
        proc.stdout.close()
        assert proc.wait(timeout=60) == 141
        stderr = proc.stderr.read().decode()
    assert "Traceback" not in stderr and stderr.count("\n") == 1, stderr
    assert_gone(workers(stderr))


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGKILL, -9)])
def test_ctrl_c_or_kill_9_of_the_run_ends_its_workers(tmp_path, signum, code):
    path = data_file(tmp_path, rows=40000)
    out = tmp_path / "out.csv"
    argv = [sys.executable, "-c", DRIVER, "compute", str(path), "-w", W, "--format", "csv"]
    with (
        out.open("wb") as stdout,
        subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE, env=plain_env(SLOW="1")) as proc,
    ):
        assert proc.stderr is not None
        line = proc.stderr.readline().decode()  # the workers have started
        os.kill(proc.pid, signum)
        assert proc.wait(timeout=60) == code
        rest = proc.stderr.read().decode()
    assert rest == ("slopecli: interrupted\n" if signum == signal.SIGINT else "")
    assert_gone(workers(line))


def test_a_worker_that_dies_unseen_fails_the_run_in_one_line(tmp_path):
    path = data_file(tmp_path, rows=40000)
    argv = [sys.executable, "-c", DRIVER, "compute", str(path), "-w", W, "--format", "csv"]
    with subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=plain_env(SLOW="1")
    ) as proc:
        assert proc.stderr is not None
        pids = workers(proc.stderr.readline().decode())
        os.kill(pids[0], signal.SIGKILL)  # as the kernel's out-of-memory killer would
        assert proc.wait(timeout=60) == 1
        stderr = proc.stderr.read().decode()
    assert stderr == (
        "slopecli: error: cannot write the output: a worker process ended without finishing its part"
        " of the output\n"
    )
    assert_gone(pids)


def workers(stderr: str) -> list[int]:
    first = stderr.splitlines()[0]
    assert first.startswith("forked "), stderr
    return [int(pid) for pid in first.split()[1:]]


def assert_gone(pids: list[int]) -> None:
    assert len(pids) == 2
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not any(alive(pid) for pid in pids):
            return
        time.sleep(0.05)
    pytest.fail(f"workers {pids} outlived the run")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (not yet reaped by init) has ended too.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"
