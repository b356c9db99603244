"""Writes that take all of what they are given, as a reader of the output expects."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer


def write_all(fd: int, data: ReadableBuffer) -> int:
    """Every byte of ``data`` written to ``fd``; how many (all of them).

    ``os.write`` may take part of what it is given: when the reader goes away mid-write (the rest
    must be tried, so that the closed pipe is seen), or from a non-blocking pipe that is full (the
    rest must wait for room: a parent may hand us such a pipe).

    Raises:
        OSError: the write failed (``BrokenPipeError`` for a reader that went away).
    """
    view = memoryview(data).cast("B")
    done = 0
    while done < len(view):
        try:
            done += os.write(fd, view[done:])
        except BlockingIOError:
            import select  # here: a full non-blocking pipe is rare, and start-up is every run's

            select.select([], [fd], [])  # until the reader has made room
    return done
