"""stdin (`-`) is a stream: rows are read and printed as they arrive, and nothing is spooled."""

from __future__ import annotations

import json
import subprocess
import threading
import time

from conftest import installed_slopecli, plain_env


def test_jsonl_lines_come_out_before_the_writer_closes_the_pipe():
    """A slow writer, as `tail -f` would be: rows are printed while it is still writing.

    Arrow hands over a block's rows once the next block has begun, so a row shows up when the
    writer has sent the one after it."""
    env = plain_env()
    with subprocess.Popen(
        [installed_slopecli(), "compute", "-", "-w", "2", "--format", "jsonl"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    ) as proc:  # fmt: skip
        assert proc.stdin is not None and proc.stdout is not None
        closed = threading.Event()

        seen = threading.Event()
        written = []

        def write_slowly() -> None:
            # A row every 50 ms until the first result is out (30 s at most), then three more.
            assert proc.stdin is not None
            proc.stdin.write(b"a,target\n")
            deadline = time.monotonic() + 30
            extra = 3
            while extra and time.monotonic() < deadline:
                written.append(len(written) + 1)
                proc.stdin.write(f"{written[-1]},0\n".encode())
                proc.stdin.flush()
                time.sleep(0.05)
                extra -= seen.is_set()
            closed.set()
            proc.stdin.close()

        writer = threading.Thread(target=write_slowly)
        writer.start()
        first = json.loads(proc.stdout.readline())
        seen_while_writing = not closed.is_set()
        seen.set()
        rest = [json.loads(line) for line in proc.stdout.read().splitlines()]
        writer.join()
        assert proc.wait(timeout=20) == 0
    assert (first["kind"], first["row"]) == ("row", 1)
    assert seen_while_writing
    assert rest[-1]["kind"] == "summary" and rest[-1]["n"] == len(written)


def test_a_stream_is_not_copied_to_the_temporary_folder(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = plain_env(TMPDIR=str(tmp))
    rows = b"a,b,target\n" + b"1.5,2,3\n" * 500_000
    done = subprocess.run(
        [installed_slopecli(), "compute", "-", "-w", "1,1", "--json", "--summary"],
        input=rows, capture_output=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["n"] == 500_000
    assert list(tmp.iterdir()) == []


def test_a_command_that_reads_twice_keeps_a_small_stream_in_memory():
    env = plain_env()
    done = subprocess.run(
        [installed_slopecli(), "descend", "-", "-w", "0", "--steps", "3", "--lr", "0.1", "--json"],
        input=b"a,target\n1,2\n2,4\n", capture_output=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [h["step"] for h in json.loads(done.stdout)["history"]] == [0, 1, 2, 3]
