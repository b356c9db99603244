"""The per-row table's speed: rows drawn per second by ``compute FILE --all-rows``, and its memory.

For each size (10,000 and 100,000 rows of 3 features by default) it measures, ``--runs`` times
each (default 3) and interleaved:

    cli       the installed ``slopecli compute FILE -w … --all-rows`` with stdout to /dev/null and
              COLUMNS set (80 by default, what a pipe gets): wall time, rows/s and peak memory (RSS)
              of the whole command, reading and start-up included;
    renderer  the table writer alone, in this process: the per-row table (and the sums) of rows
              already computed, drawn onto a console writing to /dev/null.

It prints one markdown line with the medians. Data are made in a temporary directory: normal
features with 7 significant digits and a noisy linear target, as a sensor would give them.

    python bench/table_rows.py [--runs 3] [--rows 10000,100000] [--width 80] [--json]

Run it with the python slopecli is installed in (it imports slopecli and runs the console script
next to it). Exit status 0, or 2 if a command failed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

WEIGHTS = "0.5,-1.25,2"
SEED = 20240611


def make_data(path: Path, rows: int) -> None:
    rng = np.random.default_rng(SEED)
    X = rng.normal(loc=[10, -3, 0.5], scale=[5, 2, 0.1], size=(rows, 3))
    y = X @ np.array([0.4, -1.1, 2.2]) + rng.normal(scale=0.3, size=rows)
    with path.open("w") as fp:
        fp.write("a,b,c,target\n")
        np.savetxt(fp, np.column_stack([X, y]), delimiter=",", fmt="%.7g")


def run_cli(path: Path, width: int) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one run of the installed command."""
    script = Path(sys.executable).with_name("slopecli")
    env = {**os.environ, "COLUMNS": str(width)}
    for name in ("FORCE_COLOR", "NO_COLOR"):
        env.pop(name, None)
    with open(os.devnull, "wb") as devnull:
        start = time.perf_counter()
        child = subprocess.Popen(
            [str(script), "compute", str(path), "-w", WEIGHTS, "--all-rows"], stdout=devnull, env=env
        )
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.stderr.write(f"table_rows: slopecli exited with {child.returncode}\n")
        sys.exit(2)
    return elapsed, usage.ru_maxrss * 1024


def run_renderer(path: Path, width: int) -> float:
    """Seconds to draw the per-row table (and the sums) of rows already computed."""
    from rich.console import Console

    from slopecli.evaluation import RowBatch, evaluate
    from slopecli.readers.chunk import Chunk
    from slopecli.render.tables import TableWriter

    data = np.loadtxt(path, delimiter=",", skiprows=1)
    X, y, w = data[:, :3], data[:, 3], np.array([float(v) for v in WEIGHTS.split(",")])
    block = 8192
    batches: list[RowBatch] = []
    evaluate(
        [Chunk(X[i : i + block], y[i : i + block], i) for i in range(0, len(y), block)], w, batches.append
    )
    with open(os.devnull, "w") as devnull:
        console = Console(file=devnull, width=width, color_system=None)
        start = time.perf_counter()
        writer = TableWriter(console, show_rows=None, title=str(path))
        writer.begin(["a", "b", "c"], w)
        for batch in batches:
            writer.rows(batch)
        writer.end(evaluate([Chunk(X, y, 0)], w))
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each measurement (median reported)")
    parser.add_argument("--rows", default="10000,100000", help="comma-separated table sizes")
    parser.add_argument("--width", type=int, default=80, help="the terminal's columns (COLUMNS)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()
    sizes = [int(n) for n in args.rows.split(",")]
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        for rows in sizes:
            path = Path(tmp) / f"rows-{rows}.csv"
            make_data(path, rows)
            run_cli(path, args.width)  # warm-up: page cache, bytecode
            cli, rss, renderer = [], [], []
            for _ in range(max(args.runs, 1)):
                seconds, peak = run_cli(path, args.width)
                cli.append(seconds)
                rss.append(peak)
                renderer.append(run_renderer(path, args.width))
            figures.append(
                {
                    "rows": rows,
                    "cli_seconds": statistics.median(cli),
                    "cli_rows_per_second": rows / statistics.median(cli),
                    "cli_peak_mib": statistics.median(rss) / 2**20,
                    "renderer_seconds": statistics.median(renderer),
                    "renderer_rows_per_second": rows / statistics.median(renderer),
                    "runs": len(cli),
                }
            )
    cells = [
        f"{f['rows']:,} rows: {f['cli_seconds']:.2f} s, {f['cli_rows_per_second']:,.0f} rows/s,"
        f" {f['cli_peak_mib']:.0f} MiB (renderer alone {f['renderer_rows_per_second']:,.0f} rows/s)"
        for f in figures
    ]
    print(
        f"| per-row table, `compute FILE --all-rows` at {args.width} columns"
        f" (medians of {figures[0]['runs']}) | " + " | ".join(cells) + " |"
    )
    if args.json:
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
