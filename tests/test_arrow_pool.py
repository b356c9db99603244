"""The memory pool slopecli asks Arrow for: one this pyarrow has, so Arrow never prints a warning."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from slopecli.cli.app import _arrow_pool

from conftest import plain_env


def test_the_pool_is_one_this_pyarrow_was_built_with():
    assert _arrow_pool() in pa.supported_memory_backends()


def test_a_run_that_reads_with_arrow_prints_its_result_and_nothing_on_stderr(tmp_path: Path):
    path = tmp_path / "d.parquet"  # read by Arrow (a small CSV is not)
    pq.write_table(pa.table({"a": [1.0, 2.0], "b": [3.0, 4.0], "target": [0.0, 1.0]}), path)
    env = {k: v for k, v in plain_env().items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    argv = [sys.executable, "-m", "slopecli", "compute", str(path), "-w", "1,2", "--json", "--summary"]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith('{"format_version": 1, "features": ["a", "b"]')
