"""Before and after: the same slopecli commands from two source trees, interleaved in one run.

    git worktree add /tmp/before 8e3c7ec                 # the tree to compare with
    python3 bench/bigdata.py --only wide                 # makes bench/.venv and bench/data
    bench/.venv/bin/python bench/ab_before_after.py --before /tmp/before/src --runs 15
    bench/.venv/bin/python bench/ab_before_after.py --before /tmp/before/src --only "format csv"

Each tree runs through ``PYTHONPATH`` with the same interpreter (the bench virtualenv's, which has
every dependency), in alternating order, so drift falls on both, writing to a file; the medians
of wall time, their ratio, the median of the paired ratios and the ratio of median CPU times
(``os.wait4``) are printed as a markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from childenv import compiled

REPO = Path(__file__).resolve().parent.parent
WIDE = ["bench/data/wide-1000000x10.csv", "-w", "0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0"]
LONG = ["bench/data/long-10000000x3.csv", "-w", "0.1,0.2,0.3"]
COMMANDS = {
    "`compute` 1M × 10 `--json --summary`": ["compute", *WIDE, "--json", "--summary"],
    "`compute` 10M × 3 `--json --summary`": ["compute", *LONG, "--json", "--summary"],
    "`compute` 1M × 10 `--format csv`": ["compute", *WIDE, "--format", "csv"],
    "`compute … --json` from flags": ["compute", "-w", "0,2,1", "-x", "1,2,3", "-y", "0", "--json"],
}
RUN = "import sys; from slopecli.__main__ import main; sys.argv[0] = 'slopecli'; main()"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="the src/ folder of the tree to compare with")
    parser.add_argument("--after", default=str(REPO / "src"), help="the src/ folder measured against it")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--only", default="", help="only the commands whose name holds this text")
    args = parser.parse_args()
    trees = {"before": args.before, "after": args.after}
    commands = {name: command for name, command in COMMANDS.items() if args.only in name}
    wall: dict[tuple[str, str], list[float]] = {(c, t): [] for c in commands for t in trees}
    cpu: dict[tuple[str, str], list[float]] = {(c, t): [] for c in commands for t in trees}
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "out"  # a file, not /dev/null: writing costs as it does for a user
        for run in range(args.runs + 1):  # the first round warms the page cache, and is not kept
            for name, command in commands.items():
                order = list(trees.items())
                for tree, src in order if run % 2 == 0 else reversed(order):
                    with out.open("wb") as stdout:
                        start = time.perf_counter()
                        argv = [sys.executable, "-c", RUN, *command]
                        proc = subprocess.Popen(argv, env=compiled(PYTHONPATH=src), cwd=REPO, stdout=stdout)
                        _, status, usage = os.wait4(proc.pid, 0)
                        elapsed = time.perf_counter() - start
                    if os.waitstatus_to_exitcode(status) != 0:
                        sys.exit(f"{tree} failed: {' '.join(command)}")
                    if run:
                        wall[(name, tree)].append(elapsed)
                        cpu[(name, tree)].append(usage.ru_utime + usage.ru_stime)
    print("| command | runs | before | after | after ÷ before | paired | CPU after ÷ before |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in commands:
        before, after = wall[(name, "before")], wall[(name, "after")]
        paired = statistics.median(a / b for a, b in zip(after, before, strict=True))
        cpus = statistics.median(cpu[(name, "after")]) / statistics.median(cpu[(name, "before")])
        b, a = statistics.median(before), statistics.median(after)
        print(f"| {name} | {args.runs} | {b:.3f} s | {a:.3f} s | {a / b:.3f} | {paired:.3f} | {cpus:.3f} |")


if __name__ == "__main__":
    main()
