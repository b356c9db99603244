"""Readers benchmark (issue 10): wide rows, Parquet in constant memory, compressed input.

One command reproduces it, with the interpreter slopecli is installed in::

    .venv/bin/python bench/readers.py                       # about 10 minutes on 2 shared cores
    .venv/bin/python bench/readers.py --runs 3 --only wide  # one group, fewer runs
    .venv/bin/python bench/readers.py --before /tmp/before/src   # and the old tree, interleaved

Every figure is a ratio (or a peak) measured in this run: each pair of commands runs ``--runs``
times, alternating which goes first, and the medians are compared. Peak RSS is the child's
``ru_maxrss`` from :func:`os.wait4` (for a shell pipeline: its largest process). The data is made
under ``--data`` (default ``/tmp/slopecli-readers-bench``) from the 1M x 10 benchmark file of
``bench/make_data.py`` (``--csv``): its rows six times over as CSV and as Parquet (row groups of
1M rows, pyarrow's default), and gzip-compressed; and random wide files. Needs pyarrow and gzip.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from childenv import compiled

REPO = Path(__file__).resolve().parent.parent
RUN = "import sys; from slopecli.cli import main; sys.argv[0] = 'slopecli'; main()"
READ_CSV = "import sys, pyarrow.csv as c; c.read_csv(sys.argv[1])"
W10 = "0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0"


Command = tuple["list[str] | str", dict[str, str], bool]
"""argv (or a shell line), environment, whether it is a shell line."""


def measure(argv: list[str] | str, env: dict[str, str], shell: bool = False) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one run."""
    start = time.perf_counter()
    with subprocess.Popen(argv, env=env, cwd=REPO, stdout=subprocess.DEVNULL, shell=shell) as proc:
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"failed ({proc.returncode}): {argv}")
    return time.perf_counter() - start, usage.ru_maxrss >> 10


def paired(commands: dict[str, Command], runs: int) -> dict[str, tuple[float, int]]:
    """Median wall time and median peak RSS of each command, run in alternating order."""
    figures: dict[str, list[tuple[float, int]]] = {name: [] for name in commands}
    names = list(commands)
    for run in range(runs):
        for name in names if run % 2 == 0 else names[::-1]:
            argv, env, shell = commands[name]
            figures[name].append(measure(argv, env, shell))
    return {
        name: (statistics.median(t for t, _ in got), int(statistics.median(m for _, m in got)))
        for name, got in figures.items()
    }


def wide_csv(path: Path, columns: int, rows: int, digits: bool = False) -> Path:
    """Random values with 3 decimals under a header; or, with ``digits``, one digit each and no
    header (the only wide file the old tree could read: its rows had to fit in 96 KiB)."""
    import numpy as np

    if not path.exists():
        rng = np.random.default_rng(10)
        with path.open("w") as out:
            if not digits:
                out.write(",".join([*(f"x{i}" for i in range(columns)), "target"]) + "\n")
            for _ in range(rows):
                values = rng.integers(0, 10, columns + 1) if digits else rng.random(columns + 1)
                out.write(",".join(str(v) if digits else f"{v:.3f}" for v in values) + "\n")
        path.with_suffix(".w").write_text(",".join(["0.5"] * columns))
    return path


def same_data(source: Path, folder: Path, copies: int) -> tuple[Path, Path, Path]:
    """``source``'s rows ``copies`` times as CSV and as Parquet, and ``source`` gzip-compressed."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    csv, parquet, packed = (
        folder / f"same-x{copies}.csv",
        folder / f"same-x{copies}.parquet",
        folder / "one.csv.gz",
    )
    if not csv.exists():
        with source.open("rb") as fp, csv.open("wb") as out:
            header = fp.readline()
            out.write(header)
            for _ in range(copies):
                fp.seek(len(header))
                shutil.copyfileobj(fp, out, 16 << 20)
    if not parquet.exists():
        table = pacsv.read_csv(source)
        with pq.ParquetWriter(parquet, table.schema) as writer:
            for _ in range(copies):
                writer.write_table(table)
    if not packed.exists():
        with source.open("rb") as fp, gzip.open(packed, "wb", compresslevel=6) as out:
            shutil.copyfileobj(fp, out, 16 << 20)
    return csv, parquet, packed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=["wide", "parquet", "gzip"], action="append")
    parser.add_argument("--data", type=Path, default=Path("/tmp/slopecli-readers-bench"))
    parser.add_argument("--csv", type=Path, default=REPO / "bench/data/wide-1000000x10.csv")
    parser.add_argument("--before", help="the src/ folder of a tree to compare with, through PYTHONPATH")
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    groups = args.only or ["wide", "parquet", "gzip"]
    args.data.mkdir(parents=True, exist_ok=True)
    w10k, w40k = args.data / "wide-10000.csv", args.data / "digits-40000x3.csv"
    csv, parquet, packed = args.data / "same-x6.csv", args.data / "same-x6.parquet", args.data / "one.csv.gz"
    if args.prepare:
        wide_csv(w10k, 10_000, 216)
        wide_csv(w40k, 40_000, 3, digits=True)
        same_data(args.csv, args.data, 6)
        return
    # The data is made by a child: a child forked from a large parent would start with its RSS,
    # which ru_maxrss counts.
    subprocess.run(
        [sys.executable, __file__, "--prepare", "--data", str(args.data), "--csv", str(args.csv)], check=True
    )
    env = {k: v for k, v in compiled().items() if k != "PYTHONPATH"}
    after = {**env, "PYTHONPATH": str(REPO / "src")}
    before = {**env, "PYTHONPATH": args.before} if args.before else None
    py = sys.executable
    slope = [py, "-c", RUN]

    def both(name: str, argv: list[str]) -> dict[str, Command]:
        runs = {f"{name} (after)": (argv, after, False)}
        if before is not None:
            runs[f"{name} (before)"] = (argv, before, False)
        return runs

    rows: list[str] = []
    if "wide" in groups:
        summary = ["compute", "--summary", "--json", "--weights-file"]
        got = paired(
            {
                **both("10,000 columns × 13 MB", [*slope, *summary, str(w10k.with_suffix(".w")), str(w10k)]),
                "pyarrow.csv.read_csv alone": ([py, "-c", READ_CSV, str(w10k)], env, False),
            },
            args.runs,
        )
        base = got["pyarrow.csv.read_csv alone"][0]
        for name, (seconds, peak) in got.items():
            rows.append(f"| {name} | {seconds:.2f} s | {peak} MiB | {seconds / base:.2f}× read_csv |")
        got = paired(
            both(
                "40,000 columns × 3 rows",
                [*slope, *summary, str(w40k.with_suffix(".w")), str(w40k), "--no-header"],
            ),
            args.runs,
        )
        rows += [f"| {name} | {seconds:.2f} s | {peak} MiB | |" for name, (seconds, peak) in got.items()]
    if "parquet" in groups:
        got = paired(
            {
                **both(
                    "Parquet 6M × 11", [*slope, "compute", str(parquet), "-w", W10, "--summary", "--json"]
                ),
                "CSV 6M × 11 (the same rows)": (
                    [*slope, "compute", str(csv), "-w", W10, "--summary", "--json"],
                    after,
                    False,
                ),
            },
            args.runs,
        )
        csv_time, csv_peak = got["CSV 6M × 11 (the same rows)"]
        for name, (seconds, peak) in got.items():
            rows.append(
                f"| {name} | {seconds:.2f} s | {peak} MiB | peak {peak / csv_peak:.2f}× CSV's,"
                f" throughput {csv_time / seconds:.2f}× CSV's |"
            )
    if "gzip" in groups:
        script = f'{sys.executable} -c "{RUN}"'
        gzip_file = [*slope, "compute", str(packed), "-w", W10, "--summary", "--json"]
        got = paired(
            {
                "gzip file, 1M × 11": (gzip_file, after, False),  # the old tree refused it
                "zcat FILE | slopecli compute -": (
                    f"zcat {packed} | {script} compute - -w {W10} --summary --json",
                    after,
                    True,
                ),
            },
            args.runs,
        )
        base = got["zcat FILE | slopecli compute -"][0]
        for name, (seconds, peak) in got.items():
            rows.append(f"| {name} | {seconds:.2f} s | {peak} MiB | {seconds / base:.2f}× the zcat pipe |")
    print(f"Medians of {args.runs} paired runs.\n")
    print("| command | time | peak RSS | ratio |")
    print("| --- | ---: | ---: | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
