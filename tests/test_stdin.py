"""stdin (`-`) is a stream: rows are read and printed as they arrive, and nothing is spooled."""

from __future__ import annotations

import json
import os
import subprocess
import time

from conftest import COLOUR_VARIABLES, installed_slopecli


def test_jsonl_lines_come_out_before_the_writer_closes_the_pipe():
    env = {k: v for k, v in os.environ.items() if k not in COLOUR_VARIABLES}
    with subprocess.Popen(
        [installed_slopecli(), "compute", "-", "-w", "2", "--format", "jsonl"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    ) as proc:  # fmt: skip
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(b"a,target\n1,0\n")
        proc.stdin.flush()
        seen = []
        deadline = time.monotonic() + 20
        for i in range(2, 6):
            time.sleep(0.3)
            proc.stdin.write(f"{i},0\n".encode())
            proc.stdin.flush()
            # Each row is parsed once the next one shows its line is complete.
            seen.append(json.loads(proc.stdout.readline()))
            assert time.monotonic() < deadline
        assert [r["row"] for r in seen] == [1, 2, 3, 4]
        assert proc.poll() is None, "the writer has not closed the pipe yet"
        proc.stdin.close()
        rest = [json.loads(line) for line in proc.stdout.read().splitlines()]
        assert proc.wait(timeout=20) == 0
    assert rest[-1]["kind"] == "summary" and rest[-1]["n"] == 5


def test_a_stream_is_not_copied_to_the_temporary_folder(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in COLOUR_VARIABLES} | {"TMPDIR": str(tmp)}
    rows = b"a,b,target\n" + b"1.5,2,3\n" * 500_000
    done = subprocess.run(
        [installed_slopecli(), "compute", "-", "-w", "1,1", "--json", "--summary"],
        input=rows, capture_output=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["n"] == 500_000
    assert list(tmp.iterdir()) == []


def test_a_command_that_reads_twice_keeps_a_small_stream_in_memory():
    env = {k: v for k, v in os.environ.items() if k not in COLOUR_VARIABLES}
    done = subprocess.run(
        [installed_slopecli(), "descend", "-", "-w", "0", "--steps", "3", "--lr", "0.1", "--json"],
        input=b"a,target\n1,2\n2,4\n", capture_output=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [h["step"] for h in json.loads(done.stdout)["history"]] == [0, 1, 2, 3]
