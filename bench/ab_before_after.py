"""Before and after: the same slopecli commands from two source trees, interleaved in one run.

    git worktree add /tmp/before 8e3c7ec                 # the tree to compare with
    python3 bench/bigdata.py --only wide                 # makes bench/.venv and bench/data
    bench/.venv/bin/python bench/ab_before_after.py --before /tmp/before/src --runs 15

Each tree runs through ``PYTHONPATH`` with the same interpreter (the bench virtualenv's, which has
every dependency), in alternating order, so drift falls on both; the medians and their ratio are
printed as a markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
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
    args = parser.parse_args()
    trees = {"before": args.before, "after": args.after}
    times: dict[tuple[str, str], list[float]] = {(c, t): [] for c in COMMANDS for t in trees}
    for run in range(args.runs):
        for name, command in COMMANDS.items():
            order = list(trees.items())
            for tree, src in order if run % 2 == 0 else reversed(order):
                env = compiled(PYTHONPATH=src)
                start = time.perf_counter()
                argv = [sys.executable, "-c", RUN, *command]
                subprocess.run(argv, env=env, cwd=REPO, stdout=subprocess.DEVNULL, check=True)
                times[(name, tree)].append(time.perf_counter() - start)
    print("| command | runs | before | after | after ÷ before |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name in COMMANDS:
        before = statistics.median(times[(name, "before")])
        after = statistics.median(times[(name, "after")])
        print(f"| {name} | {args.runs} | {before:.3f} s | {after:.3f} s | {after / before:.3f} |")


if __name__ == "__main__":
    main()
