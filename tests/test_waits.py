"""The main thread's waits notice Ctrl-C within a step, and an interrupted run leaves its readers.

``_thread.interrupt_main`` marks SIGINT as arrived without waking anyone, as when the kernel hands
the signal to another thread: a plain lock wait would sleep on."""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future

import pytest

from slopecli import waits
from slopecli.evaluation import sum_pieces

from conftest import interrupted_within_a_second


def test_waits_for_a_future_a_queue_a_thread_and_dask_futures_notice_an_interrupt():
    never = threading.Event()
    sleeper = threading.Thread(target=never.wait, daemon=True)
    sleeper.start()

    class Pending:  # a Dask future, as far as all_done looks
        def done(self):
            return never.is_set()

    interrupted_within_a_second(lambda: waits.result(Future()))
    interrupted_within_a_second(lambda: waits.get(queue.SimpleQueue()))
    interrupted_within_a_second(lambda: waits.joined(sleeper))
    interrupted_within_a_second(lambda: waits.all_done([Pending()]))
    never.set()


def test_waits_return_what_they_waited_for():
    done: Future[int] = Future()
    done.set_result(7)
    items: queue.SimpleQueue[str] = queue.SimpleQueue()
    threading.Timer(0.12, items.put, args=("late",)).start()
    assert (waits.result(done), waits.get(items)) == (7, "late")
    failed: Future[int] = Future()
    failed.set_exception(TimeoutError("its own"))  # not taken for a step's end
    with pytest.raises(TimeoutError, match="its own"):
        waits.result(failed)


def test_an_interrupted_sum_of_pieces_does_not_wait_for_its_readers():
    """A piece's reader may be a second from its next chunk on a busy machine."""

    class Table:
        def read_piece(self, piece):
            yield piece

    release = threading.Event()

    def slow_fold(chunks):
        release.wait(10)
        return sum(chunks)

    interrupted_within_a_second(lambda: sum_pieces(Table(), [1, 2], slow_fold))
    release.set()
