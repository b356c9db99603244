"""--scheduler against things that are not a Dask scheduler: each fails in bounded time with one
line, never a hang, a traceback or an attempt to allocate exabytes. Servers listen on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from conftest import SAMPLES, invoke

pytest.importorskip("distributed", reason="the dask extra is part of the test install")

POINTS = str(SAMPLES / "points.csv")


def serve(reply: bytes | None) -> Iterator[str]:
    """A loopback server that accepts connections and sends ``reply`` (None: stays silent)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            held.append(conn)
            if reply is not None:
                conn.sendall(reply)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()


@pytest.fixture
def silent():
    yield from serve(None)


@pytest.fixture
def garbage():
    yield from serve(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")


def test_a_server_that_never_replies_times_out(silent):
    started = time.monotonic()
    run = invoke(
        "compute", POINTS, "-w", "0,2,1", "--engine", "dask", "--scheduler", silent, "--timeout", "0.5"
    )
    assert time.monotonic() - started < 5
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr == (
        f"slopecli: error: --scheduler: {silent} accepted the connection but sent no Dask handshake within"
        " 0.5 s: is it a Dask scheduler? (--timeout changes the wait)\n"
    )


def test_a_server_that_speaks_another_protocol_is_named(garbage):
    run = invoke("batch", POINTS, "-w", "0,2,1", "--engine", "dask", "--scheduler", garbage, "--timeout", "2")
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr == (
        f"slopecli: error: --scheduler: {garbage} answered, but not as a Dask scheduler does; give a"
        " scheduler's address\n"
    )


def test_nothing_listening_is_named():
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    run = invoke(
        "compute", POINTS, "-w", "0,2,1", "--engine", "dask", "--scheduler", f"tcp://127.0.0.1:{port}"
    )
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr == (
        f"slopecli: error: --scheduler: cannot reach the Dask scheduler at tcp://127.0.0.1:{port}: Connection refused\n"
    )


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("tls://127.0.0.1:8786", "tls:// needs security settings slopecli does not pass"),
        ("ucx://127.0.0.1:8786", "ucx:// needs security settings slopecli does not pass"),
        ("127.0.0.1:8786", "it is not a scheduler address"),
        ("tcp://127.0.0.1:port", "it is not a scheduler address"),
    ],
)
def test_addresses_slopecli_cannot_use_are_usage_errors(address, why):
    run = invoke("compute", POINTS, "-w", "0,2,1", "--engine", "dask", "--scheduler", address)
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        f"slopecli: error: --scheduler: {address!r}: {why}; give tcp://HOST:PORT, or one of synchronous,"
        " threads, processes\n"
    )


def test_a_fifo_is_refused_by_the_dask_engine_without_hanging(tmp_path):
    import os

    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    run = invoke(
        "batch", str(fifo), "-w", "1", "--engine", "dask", "--scheduler", "synchronous", "--format", "jsonl"
    )
    assert run.exit_code == 1
    assert run.jsonl()[0]["error"] == (
        f"{fifo}: not a regular file; the Dask engine's workers reopen each file, which a pipe cannot be:"
        " use the local engine"
    )
