"""Waits of the main thread that Ctrl-C ends at once.

Python runs a signal's handler on the main thread, at the next bytecode that thread runs. But the
kernel may hand SIGINT to any thread that does not block it (a piece reader, one of Arrow's, one of
a Dask cluster's), and a main thread asleep in a lock wait is then not woken: Ctrl-C went
unnoticed until the wait ended (while a local Dask cluster started, for over 0.6 s in 15 runs of
100 under load). So the main thread waits in steps of :data:`STEP` seconds, and looks again.
"""

from __future__ import annotations

import concurrent.futures
import queue
import threading
from typing import Any, TypeVar

STEP = 0.05
"""Seconds between the main thread's looks at what it waits for."""

ENDING = (KeyboardInterrupt, SystemExit)
"""What ends a run at once: Ctrl-C, and ``kill`` (SIGTERM, raised as SystemExit by the CLI); no
helper thread or process is waited for then."""

T = TypeVar("T")


def result(future: concurrent.futures.Future[T]) -> T:
    """``future.result()``, waited for in steps."""
    while not future.done():
        concurrent.futures.wait([future], timeout=STEP)
    return future.result()


def get(source: queue.SimpleQueue[T]) -> T:
    """The next item of ``source``, waited for in steps."""
    while True:
        try:
            return source.get(timeout=STEP)
        except queue.Empty:
            continue


def joined(thread: threading.Thread) -> None:
    """``thread.join()``, waited for in steps."""
    while thread.is_alive():
        thread.join(STEP)


def all_done(futures: list[Any]) -> list[Any]:
    """``futures`` (anything with a ``done()``, a Dask future too), once all are done: each is
    looked at until it is, so thousands cost a look each, not one every step."""
    import time

    for future in futures:
        while not future.done():
            time.sleep(STEP)
    return futures
