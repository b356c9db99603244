"""Worker processes that end with the run that started them.

A process pool's workers are separate processes: when the run is killed with ``kill -9`` they are
not told, live on under PID 1, finish the file in hand (publishing an output for a run the user saw
die) and then wait for work forever. :func:`die_with_parent`, the pool's initializer, ties each
worker's life to the run's; :func:`require_parent` is the last check before an irreversible step.

In the process that runs the command itself nothing is recorded, and every check passes.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
from collections.abc import Iterator

from slopecli.errors import RunEnded

_run: int | None = None
"""In a worker: the pid of the process whose run it serves. None in that process itself."""
_run_is_parent = False
"""The run's process forked this worker, so ``os.getppid()`` tells exactly whether it lives."""
_run_pidfd: int | None = None
"""Where the run's process is not the parent (a fork server made the worker), a pidfd for it:
unlike its pid, a pidfd cannot come to name another process."""


def die_with_parent(parent: int | None = None) -> None:
    """ProcessPoolExecutor initializer: the worker is killed (SIGKILL) when the run's process dies.

    Args:
        parent: the pid of the run's process; by default the process that created the worker's
            :class:`multiprocessing.Process` (right for every start method, so ``initargs`` are not
            needed).
    """
    global _run, _run_is_parent, _run_pidfd
    run = parent if parent is not None else _pool_owner()
    if run is None:
        return  # not a multiprocessing child, and not told: there is no run to outlive
    # The kernel sends the signal when the thread that forked us exits, so the pool must be made
    # on a thread that lives as long as it (batch.run's caller, the main thread).
    _set_death_signal(signal.SIGKILL)
    _run = run
    _run_is_parent = os.getppid() == run
    if not _run_is_parent:
        _run_pidfd = _open_pidfd(run)
    # The death signal is not sent retroactively: a run that died between our fork and the prctl
    # above (we were reparented already) must be noticed here, or this worker lives on.
    if not parent_alive():
        os.kill(os.getpid(), signal.SIGKILL)


def parent_alive(pid: int | None = None) -> bool:
    """Whether the run's process still lives (``pid``, else the one :func:`die_with_parent` recorded).

    Always true in the run's own process, where nothing was recorded.
    """
    if pid is not None:
        return os.getppid() == pid or _running(pid)
    if _run is None:
        return True
    if _run_is_parent:
        # Reparenting is final: once the parent is gone, getppid() never names it again.
        return os.getppid() == _run
    if _run_pidfd is not None:
        return not _exited(_run_pidfd)
    return _running(_run)


def require_parent(pid: int | None = None) -> None:
    """Raise :class:`RunEnded` if the run's process is gone (see :func:`parent_alive`).

    Call it right before an irreversible step, such as linking an output file into place.
    """
    if not parent_alive(pid):
        run = pid if pid is not None else _run
        msg = f"the run (process {run}) has ended; nothing is published for it"
        raise RunEnded(msg)


def _pool_owner() -> int | None:
    import multiprocessing

    # Recorded in the parent when the Process object was made, before any fork or spawn, so it
    # is right even if the parent is already dead (getppid() would then name PID 1 or a subreaper).
    parent = multiprocessing.parent_process()
    return parent.pid if parent is not None else None


_PR_SET_PDEATHSIG = 1


def _set_death_signal(signum: int) -> bool:
    """``prctl(PR_SET_PDEATHSIG)``; False where it is unavailable or refused (the checks remain)."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        # prctl is variadic and the kernel reads unsigned longs: ints alone could leave high bits set.
        zero = ctypes.c_ulong(0)
        return int(libc.prctl(_PR_SET_PDEATHSIG, ctypes.c_ulong(signum), zero, zero, zero)) == 0
    except (OSError, AttributeError):
        return False


def _open_pidfd(pid: int) -> int | None:
    if sys.platform != "linux":
        return None
    try:
        return os.pidfd_open(pid)
    except OSError:
        # ESRCH (already gone) is left to the liveness check; ENOSYS (kernel before 5.3) too.
        return None


def _running(pid: int) -> bool:
    fd = _open_pidfd(pid)
    if fd is not None:
        try:
            return not _exited(fd)
        finally:
            os.close(fd)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # Without pidfds a zombie, dead but not yet reaped, still counts as running here.
    return True


def _exited(pidfd: int) -> bool:
    # A pidfd becomes readable when its process has exited, zombie or not.
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    return bool(poller.poll(0))


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C (and SIGTERM, where the run handles it) taken in this block takes effect as it ends.

    For forks: ``os.fork`` runs Python's at-fork hooks (logging's lock release among them), and
    a KeyboardInterrupt raised in one is printed as "Exception ignored" and dropped. A Ctrl-C that
    came while a worker was forked was lost, and the run went on to its end with exit 0.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread, where the forks happen
        return
    taken: list[int] = []
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        if callable(signal.getsignal(signum)):
            previous[signum] = signal.signal(signum, lambda got, frame: taken.append(got))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for got in dict.fromkeys(taken):
            signal.raise_signal(got)  # to the handler the block found: it raises here


def kill_descendants() -> int:
    """SIGKILL every process descended from this one; how many were sent the signal.

    For an interrupted run that started its own workers (a local Dask cluster): closing them
    politely takes seconds, more while they are still starting, and Ctrl-C must end the run in
    under one. Nothing of theirs is worth waiting for. Linux only (it reads /proc); elsewhere it
    sends nothing. multiprocessing's resource tracker is spared (see :func:`_is_resource_tracker`).
    """
    killed: set[int] = set()
    # A process may be forking while we look, so look again until a pass finds nobody new.
    while fresh := _descendants(os.getpid()) - killed:
        for pid in fresh:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        killed |= fresh
    return len(killed)


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return set()
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fp:
                stat = fp.read()
        except OSError:
            continue  # gone since the listing
        # The name, in parentheses, may hold spaces and parentheses: the fields follow the last ')'.
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1 and fields[0] != b"Z" and not _is_resource_tracker(entry):
            children.setdefault(int(fields[1]), []).append(int(entry))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _is_resource_tracker(pid: str) -> bool:
    """multiprocessing's resource tracker ends by itself once the processes it serves are gone;
    killed while they are still being started, it is relaunched with a warning on our stderr."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fp:
            return b"multiprocessing.resource_tracker" in fp.read()
    except OSError:
        return False
