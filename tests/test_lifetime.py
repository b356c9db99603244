"""Worker processes end with their run: kill -9 of slopecli takes its workers along, and nothing is
published after the run is dead."""

from __future__ import annotations

import io
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from slopecli import lifetime
from slopecli.errors import RunEnded
from slopecli.lifetime import die_with_parent, parent_alive, require_parent
from slopecli.outfiles import AtomicFile

from conftest import installed_slopecli

# Workers, pools and signals of the processes these tests start: coverage measures them.
pytestmark = pytest.mark.process_coverage

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc, uses pidfds")


def _dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", ""])
    proc.wait()
    return proc.pid


def test_the_run_itself_is_always_alive():
    # Nothing is recorded outside a pool worker: the parent publishing its own output is unchanged.
    assert parent_alive()
    require_parent()


def test_liveness_of_a_given_process():
    assert parent_alive(os.getppid())
    assert parent_alive(os.getpid())
    dead = _dead_pid()
    assert not parent_alive(dead)
    with pytest.raises(RunEnded, match=f"process {dead}"):
        require_parent(dead)


@linux_only
def test_a_zombie_is_not_alive():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        proc.kill()
        while _stat(proc.pid)[0] != "Z":
            time.sleep(0.005)
        assert not parent_alive(proc.pid)  # exited, not reaped yet: only a pidfd tells
    finally:
        proc.kill()
        proc.wait()


def test_nothing_is_published_once_the_run_is_gone(tmp_path, monkeypatch):
    # As a worker whose run's process has died: its parent pid no longer names it.
    monkeypatch.setattr(lifetime, "_run", _dead_pid())
    monkeypatch.setattr(lifetime, "_run_is_parent", True)
    with pytest.raises(RunEnded), AtomicFile(tmp_path / "out.csv") as fp:
        fp.write(b"x\n")
    # The hidden-file fallback (no O_TMPFILE) removes its part file too.
    monkeypatch.setattr("slopecli.outfiles._unnamed_file", lambda directory: None)
    with pytest.raises(RunEnded), AtomicFile(tmp_path / "out.csv", overwrite=True) as fp:
        fp.write(b"x\n")
    assert list(tmp_path.iterdir()) == []


def test_a_worker_whose_run_died_before_it_started_ends_itself():
    code = f"from slopecli.lifetime import die_with_parent; die_with_parent({_dead_pid()}); print('alive')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30, check=False)
    assert done.returncode == -signal.SIGKILL
    assert done.stdout == b""


@pytest.mark.parametrize("method", multiprocessing.get_all_start_methods())
def test_pool_workers_find_their_run_under_every_start_method(method):
    # No initargs: the worker must still know the run's process, whoever forked it (a fork server).
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(1, mp_context=context, initializer=die_with_parent) as pool:
        assert pool.submit(parent_alive).result(timeout=60)
        assert pool.submit(parent_alive, os.getpid()).result(timeout=60)


def _write_inputs(folder: Path, count: int, rows: int) -> list[Path]:
    rng = np.random.default_rng(0)
    data = np.column_stack([rng.normal(size=(rows, 3)), rng.normal(size=rows)])
    text = io.StringIO()
    np.savetxt(text, data, fmt="%.4f", delimiter=",", header="a,b,c,target", comments="")
    body = text.getvalue().encode()
    paths = [folder / f"part-{i:02}.csv" for i in range(count)]
    for path in paths:
        path.write_bytes(body)
    return paths


def _stat(pid: int | str) -> list[str]:
    """/proc/PID/stat from the state on (field 3: [0] state, [1] parent pid, [19] start time);
    empty once the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return []


def _started(pid: int) -> str | None:
    """When the process began, or None once it is gone or a zombie: with the pid, the start time
    names one process even if the pid is reused."""
    fields = _stat(pid)
    return fields[19] if fields and fields[0] not in "ZX" else None


def _children(pid: int) -> dict[int, str]:
    """The live children of ``pid`` and their start times."""
    found = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        fields = _stat(entry)
        if fields and int(fields[1]) == pid and fields[0] not in "ZX":
            found[int(entry)] = fields[19]
    return found


@pytest.mark.slow
@linux_only
def test_kill_9_of_a_batch_run_ends_its_workers_and_publishes_nothing_more(tmp_path):
    inputs = _write_inputs(tmp_path, count=12, rows=130_000)  # ~4 MB each: ~2 s of work at -j 2
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [installed_slopecli(), "batch", *map(str, inputs), "-w", "0,2,1", "--out", str(out), "-j", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: dict[int, str] = {}
    try:
        # Mid-run: both workers started and at least one output published, so each has a file in hand.
        deadline = time.monotonic() + 20
        while len(workers) < 2 or not (out.exists() and any(out.iterdir())):
            assert proc.poll() is None, "the run finished before it could be killed"
            assert time.monotonic() < deadline, "no workers or no output in time"
            workers |= _children(proc.pid)
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        killed = time.monotonic()
        proc.wait(timeout=10)
        # Listed once the kill has taken effect: a link already in the kernel when the signal
        # came is not one made after it.
        published = set(os.listdir(out))
        assert len(published) < len(inputs), "the run was over before the kill"

        while any(_started(pid) == started for pid, started in workers.items()):
            assert time.monotonic() < killed + 2, f"workers still alive 2 s after the kill: {workers}"
            time.sleep(0.01)
        time.sleep(max(0.0, killed + 2.5 - time.monotonic()))
        assert set(os.listdir(out)) == published
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid, started in workers.items():
            if _started(pid) == started:
                os.kill(pid, signal.SIGKILL)


@linux_only
def test_kill_descendants_ends_children_and_grandchildren_but_spares_the_resource_tracker():
    script = textwrap.dedent(
        """
        import multiprocessing.resource_tracker, os, subprocess, time
        from slopecli.lifetime import kill_descendants
        multiprocessing.resource_tracker.ensure_running()
        tracker = multiprocessing.resource_tracker._resource_tracker._pid
        child = subprocess.Popen(["sh", "-c", "sleep 60 & exec sleep 61"])
        time.sleep(0.3)
        killed = kill_descendants()
        os.kill(tracker, 0)  # still there: it ends by itself once its clients are gone
        print(killed, child.wait())
        """
    )
    found = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert (found.stdout, found.stderr) == (f"2 {-signal.SIGKILL}\n", "")  # a child and its own child


@linux_only
def test_a_process_gone_between_the_listing_and_its_stat_is_skipped(monkeypatch):
    # /proc lists a process that has ended by the time its stat file is opened: not a descendant,
    # and no error (as when a worker exits while kill_descendants looks).
    gone = str(_dead_pid())
    assert not Path("/proc", gone).exists()
    found = lifetime._descendants(os.getpid())
    listdir = os.listdir
    monkeypatch.setattr(
        lifetime.os, "listdir", lambda path: [gone, *listdir(path)] if path == "/proc" else listdir(path)
    )
    assert lifetime._descendants(os.getpid()) == found


@pytest.fixture
def handlers():
    """SIGINT and SIGTERM handled as a run handles them (Ctrl-C as KeyboardInterrupt, kill as
    SystemExit), and restored after the test."""

    def terminate(signum, frame):
        raise SystemExit(143)

    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, terminate)
    yield
    for signum, handler in before.items():
        signal.signal(signum, handler)


@pytest.mark.parametrize(
    ("signum", "raised"), [(signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, SystemExit)]
)
def test_a_signal_held_over_a_block_is_raised_as_the_block_ends(handlers, signum, raised):
    steps = []
    with pytest.raises(raised), lifetime.signals_held():
        signal.raise_signal(signum)
        steps.append("went on")
    assert steps == ["went on"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the run's own, back


def test_a_block_without_signals_ends_as_it_would(handlers):
    with lifetime.signals_held():
        pass
    with pytest.raises(ValueError, match="its own"), lifetime.signals_held():
        raise ValueError("its own")


def test_signals_are_held_only_on_the_main_thread(handlers):
    """Elsewhere Python cannot set a handler; a thread's block runs unchanged."""
    import threading

    seen = []

    def work():
        with lifetime.signals_held():
            seen.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen == [signal.default_int_handler]
