"""How fast slopecli could be on its own parts: floors measured beside polars, in paired rounds.

    pip install -e '.[bench]'
    python bench/bounds.py                         # summary-wide, summary-long, csv-wide; 7 rounds
    python bench/bounds.py --jobs csv-wide --runs 9

``bench/peers.py`` measures slopecli against DuckDB and polars. Where slopecli stays behind, this
script asks whether any arrangement of slopecli's own parts could get ahead, by timing programs
that do only part of its work, with nothing between the parts:

- ``arrow parse, 2 processes``: the file cut at a line start near its middle, each half read by
  Arrow's streaming CSV reader (slopecli's options and block size) in its own forked process, and
  the batches thrown away. No reader built on Arrow's parser can take less time on two cores.
- ``slopecli parts, 2 processes``: the same halves, each chunk turned into slopecli's numbers by
  its own functions (``Chunk`` from the batch's columns, ``rows_of``, the sums; for per-row CSV,
  ``render.csv_rows`` and a write to a file of the half's own): slopecli's work with perfect
  parallelism, no interpreter lock shared between readers, no per-chunk queue, no row order kept.

Each program is a whole process, started as a user would and timed as ``peers.py`` times tools
(``os.wait4`` on the parent, which waits for its fork). The ratio is polars' time ÷ the floor's:
a floor below 1.0 means no slopecli built from these parts can be as fast as polars on the job.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from peers import DEFAULT_DATA, JOBS, PEERS, SLOPECLI_FLAGS, Tool, paired_rounds, slopecli_argv, weights

# argv: FILE W1,… MODE OUTDIR, MODE one of parse, summary, csv, orjson (csv's numbers, not its lines)
FLOOR = """
import os, sys
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["ARROW_DEFAULT_MEMORY_POOL"] = "jemalloc"  # as slopecli sets it on Linux (cli/app.py)
import numpy as np, pyarrow as pa, pyarrow.csv as pacsv
from slopecli.readers.layout import BLOCK_BYTES

path, mode, outdir = sys.argv[1], sys.argv[3], sys.argv[4]
w = np.array([float(v) for v in sys.argv[2].split(",")])
with open(path, "rb") as fp:
    header = fp.readline()
    size = os.fstat(fp.fileno()).st_size
    fp.seek(len(header) + (size - len(header)) // 2)
    fp.readline()
    middle = fp.tell()
columns = [f"c{i}" for i in range(len(w) + 1)]
halves = [(len(header), middle), (middle, size)]
pid = os.fork()
start, end = halves[pid == 0]


class Range:
    def __init__(self, fd):
        self.fd, self.at = fd, start
    def read(self, n=-1):
        n = end - self.at if n < 0 else min(n, end - self.at)
        data = os.pread(self.fd, n, self.at)
        self.at += len(data)
        return data
    closed = False
    def readable(self):
        return True


fd = os.open(path, os.O_RDONLY)
reader = pacsv.open_csv(
    Range(fd),
    read_options=pacsv.ReadOptions(column_names=columns, block_size=BLOCK_BYTES, use_threads=False),
    convert_options=pacsv.ConvertOptions(
        column_types=dict.fromkeys(columns, pa.float64()),
        null_values=[], strings_can_be_null=False, quoted_strings_can_be_null=False,
    ),
)
if mode != "parse":
    from slopecli.core import Sums
    from slopecli.evaluation import rows_of
    from slopecli.readers.chunk import Chunk
    from slopecli.render.csv_rows import csv_rows
    import orjson
out = open(os.path.join(outdir, f"half{pid == 0}.csv"), "wb") if mode in ("csv", "orjson") else None
total = None
for batch in reader:
    if mode == "parse":
        continue
    matrix = np.asarray(batch.to_tensor(row_major=False))
    if not np.isfinite(matrix.sum()):
        sys.exit("not finite")
    rows = rows_of(Chunk(matrix[:, :-1], matrix[:, -1], 0), w)
    sums = Sums.of_error(rows.X, rows.error)
    total = sums if total is None else total + sums
    if mode == "csv":
        out.write(csv_rows(np.column_stack((rows.preds, rows.error, rows.slopes))))
    elif mode == "orjson":
        values = np.ascontiguousarray(np.column_stack((rows.preds, rows.error, rows.slopes)))
        out.write(orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY))
if out is not None:
    out.close()
if pid:
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))
os._exit(0)
"""


def tools_for(job: str, data: Path, out: Path, python: str) -> list[Tool]:
    kind, name = JOBS[job]
    path = data / name
    with open(path) as fp:
        features = len(fp.readline().split(",")) - 1
    w = ",".join(map(repr, weights(features)))
    polars_out = out / f"{job}.polars"
    polars_argv = [python, "-c", PEERS[kind, "polars"], str(path), w]
    slopecli = [*slopecli_argv(python), "compute", str(path), "-w", w, *SLOPECLI_FLAGS[kind]]
    floors = {"arrow parse, 2 processes": "parse", "slopecli parts, 2 processes": kind}
    if kind == "csv":
        floors["… numbers by orjson alone"] = "orjson"
    return [
        Tool("polars", [*polars_argv, str(polars_out)], polars_out, False)
        if kind == "csv"
        else Tool("polars", polars_argv, polars_out, True),
        Tool("slopecli", slopecli, out / f"{job}.slopecli", True),
        *(
            Tool(label, [python, "-c", FLOOR, str(path), w, mode, str(out)], out / f"{job}.{mode}", True)
            for label, mode in floors.items()
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    jobs = [job for job, (kind, _) in JOBS.items() if kind in ("summary", "csv")]
    parser.add_argument("--jobs", default=",".join(jobs), help="comma-separated: " + ", ".join(jobs))
    parser.add_argument("--runs", type=int, default=7, help="paired rounds")
    args = parser.parse_args()
    print("| job | program | median s | CPU s | polars ÷ this (medians) | median paired |")
    print("|---|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="bounds-") as tmp:
        for job in args.jobs.split(","):
            if job not in jobs:
                sys.exit(f"{job}: bounds are measured for " + ", ".join(jobs))
            tools = tools_for(job, args.data, Path(tmp), sys.executable)
            paired_rounds(tools, args.runs)
            polars = tools[0]
            for tool in tools:
                ratio = statistics.median(polars.seconds) / statistics.median(tool.seconds)
                paired = statistics.median(p / t for p, t in zip(polars.seconds, tool.seconds, strict=True))
                print(
                    f"| {job} | {tool.name} | {statistics.median(tool.seconds):.3f} |"
                    f" {statistics.median(tool.cpu):.2f} | {ratio:.2f} | {paired:.2f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
