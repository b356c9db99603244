"""slopecli against DuckDB and polars: the same jobs on the same files, as whole processes.

    pip install -e '.[bench]'          # duckdb and polars: benchmark-only, never runtime deps
    python bench/peers.py              # every job, 5 paired rounds (about 4 minutes on 2 cores)
    python bench/peers.py --jobs summary-wide,summary-long --runs 7
    python bench/peers.py --before /tmp/before/src    # also an older slopecli tree, same rounds

Jobs (data from ``bench/make_data.py``; ``--data DIR`` to point elsewhere):

- ``summary-wide`` / ``summary-long``: n, gradient and MSE of the 1M × 10 and 10M × 3 files —
  ``slopecli compute FILE -w … --json --summary``; DuckDB's SQL over ``read_csv``; polars'
  ``scan_csv`` with the streaming engine. The gradient and MSE of every tool must agree with
  slopecli's to 1e-12 relative.
- ``csv-wide``: per-row ``preds,error,slope_<feature>…`` of the 1M × 10 file to a file —
  ``--format csv``; DuckDB ``COPY (…) TO … (FORMAT csv)``; polars ``sink_csv``.
- ``jsonl-wide``: per-row JSON Lines of the 1M × 10 file, slopecli's fields
  (``kind,row,input,target,preds,error,slope``) — ``--format jsonl``; DuckDB ``COPY … (FORMAT json)``;
  polars ``sink_ndjson``. Per-row outputs are checked for their line count and, on a sample of
  lines, for the same values (to 1e-9 of each column's scale: the tools sum ``Σ w·x`` in different
  orders, so an error near zero may differ in its last bits).

Every command is a whole process (start-up included, as a user runs it) started by this script and
reaped with ``os.wait4``: wall time, and peak RSS (``ru_maxrss``). Rounds are paired: each round runs
every tool of a job once, in an order that rotates from round to round, so drift on a shared
machine falls on all of them; the ratio reported is peer time ÷ slopecli time (above 1: slopecli is
faster), as the ratio of medians and as the median of the per-round ratios.
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
from dataclasses import dataclass, field
from pathlib import Path

from childenv import compiled

BENCH = Path(__file__).resolve().parent
DEFAULT_DATA = BENCH / "data"
WIDE = "wide-1000000x10.csv"
LONG = "long-10000000x3.csv"


def weights(features: int) -> list[float]:
    """The weights bench/make_data.py evaluates (fixed, not those the data was made with)."""
    pattern = [-0.5, -0.25, 0.0, 0.25, 0.5]
    return [pattern[i % len(pattern)] for i in range(features)]


# The peers' programs: what a data person who knows the tool writes. argv: FILE W1,… [OUT]
_DUCKDB_COMMON = """
import json, sys, duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
path, w = sys.argv[1], [float(v) for v in sys.argv[2].split(",")]
names = [c[0] for c in con.execute(f"DESCRIBE SELECT * FROM read_csv('{path}', header=true)").fetchall()]
feats = [n for n in names if n != "target"]
cols = ", ".join(f"'{n}': 'DOUBLE'" for n in names)
source = f"read_csv('{path}', header=true, columns={{{cols}}})"
preds = " + ".join(f"{wi!r} * {n}" for wi, n in zip(w, feats))
"""
_POLARS_COMMON = """
import json, sys, polars as pl
path, w = sys.argv[1], [float(v) for v in sys.argv[2].split(",")]
names = pl.scan_csv(path).collect_schema().names()
feats = [n for n in names if n != "target"]
lf = pl.scan_csv(path, schema={n: pl.Float64 for n in names})
preds = pl.sum_horizontal([pl.col(n) * wi for n, wi in zip(feats, w)])
"""
PEERS = {
    ("summary", "duckdb"): _DUCKDB_COMMON
    + """
sums = ", ".join(f"sum(e * {n})" for n in feats)
query = f"SELECT count(*), {sums}, sum(e * e) FROM (SELECT *, {preds} - target AS e FROM {source})"
row = con.execute(query).fetchone()
n = row[0]
print(json.dumps({"n": n, "gradient": [2 * s / n for s in row[1:-1]], "mse": row[-1] / n}))
""",
    ("summary", "polars"): _POLARS_COMMON
    + """
e = (preds - pl.col("target")).alias("e")
sums = [(pl.col(n) * e).sum().alias(n) for n in feats]
out = lf.select([pl.len().alias("n"), *sums, (e * e).sum().alias("sse")]).collect(engine="streaming").row(0)
n = out[0]
print(json.dumps({"n": n, "gradient": [2 * s / n for s in out[1:-1]], "mse": out[-1] / n}))
""",
    ("csv", "duckdb"): _DUCKDB_COMMON
    + """
slopes = ", ".join(f"2 * {n} * e AS slope_{n}" for n in feats)
inner = f"SELECT *, {preds} AS p, {preds} - target AS e FROM {source}"
query = f"SELECT p AS preds, e AS error, {slopes} FROM ({inner})"
con.execute(f"COPY ({query}) TO '{sys.argv[3]}' (FORMAT csv, HEADER)")
""",
    ("csv", "polars"): _POLARS_COMMON
    + """
e = preds - pl.col("target")
slopes = [(2 * pl.col(n) * e).alias(f"slope_{n}") for n in feats]
lf.select([preds.alias("preds"), e.alias("error"), *slopes]).sink_csv(sys.argv[3])
""",
    ("jsonl", "duckdb"): _DUCKDB_COMMON
    + """
inputs = ", ".join(feats)
slopes = ", ".join(f"2 * {n} * e" for n in feats)
inner = f"SELECT *, {preds} AS p, {preds} - target AS e, row_number() OVER () AS r FROM {source}"
fields = f"'row' AS kind, r AS row, [{inputs}] AS input, target, p AS preds, e AS error, [{slopes}] AS slope"
con.execute(f"COPY (SELECT {fields} FROM ({inner}) ORDER BY r) TO '{sys.argv[3]}' (FORMAT json)")
""",
    ("jsonl", "polars"): _POLARS_COMMON
    + """
e = preds - pl.col("target")
columns = [
    pl.lit("row").alias("kind"), pl.col("row"), pl.concat_list(feats).alias("input"), pl.col("target"),
    preds.alias("preds"), e.alias("error"), pl.concat_list([2 * pl.col(n) * e for n in feats]).alias("slope"),
]
lf.with_row_index("row", offset=1).select(columns).sink_ndjson(sys.argv[3])
""",
}
SLOPECLI_FLAGS = {
    "summary": ["--json", "--summary"],
    "csv": ["--format", "csv"],
    "jsonl": ["--format", "jsonl"],
}
JOBS = {
    "summary-wide": ("summary", WIDE),
    "summary-long": ("summary", LONG),
    "csv-wide": ("csv", WIDE),
    "jsonl-wide": ("jsonl", WIDE),
}


@dataclass
class Tool:
    """One command of a job and its runs."""

    name: str
    argv: list[str]
    output: Path
    to_stdout: bool
    env: dict[str, str] = field(default_factory=compiled)
    seconds: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    """User + system seconds of the process and its reaped children (less noisy than wall time)."""

    def run(self) -> None:
        out = open(self.output, "wb") if self.to_stdout else open(os.devnull, "wb")  # noqa: SIM115
        with out, tempfile.TemporaryFile() as err:
            start = time.perf_counter()
            proc = subprocess.Popen(self.argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=self.env)
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - start
            if os.waitstatus_to_exitcode(status) != 0:
                err.seek(0)
                sys.exit(f"{self.name} failed: {' '.join(self.argv)[:300]}\n{err.read().decode()[-2000:]}")
        self.seconds.append(elapsed)
        self.rss_kib.append(usage.ru_maxrss)
        self.cpu.append(usage.ru_utime + usage.ru_stime)


def paired_rounds(tools: list[Tool], runs: int) -> None:
    """A warm-up round, not recorded (page cache, bytecode), then ``runs`` rounds of every tool,
    in an order that rotates from round to round so that drift falls on all of them."""
    for tool in tools:
        tool.run()
        tool.seconds, tool.rss_kib, tool.cpu = [], [], []
    for rnd in range(runs):
        shift = rnd % len(tools)
        for tool in tools[shift:] + tools[:shift]:
            tool.run()


def slopecli_argv(python: str) -> list[str]:
    script = Path(python).parent / "slopecli"
    return [str(script)] if script.exists() else [python, "-m", "slopecli"]


def tools_for(job: str, data: Path, out: Path, python: str, before: str | None) -> list[Tool]:
    kind, name = JOBS[job]
    path = data / name
    with open(path) as fp:
        features = len(fp.readline().split(",")) - 1
    w = ",".join(map(repr, weights(features)))
    stdout = kind == "summary"
    suffix = {"summary": "json", "csv": "csv", "jsonl": "jsonl"}[kind]
    tools = [
        Tool(
            "slopecli",
            [*slopecli_argv(python), "compute", str(path), "-w", w, *SLOPECLI_FLAGS[kind]],
            out / f"{job}.slopecli.{suffix}",
            to_stdout=True,
        )
    ]
    if before is not None:
        env = compiled(PYTHONPATH=before)
        tools.append(
            Tool(
                "slopecli (before)",
                [python, "-m", "slopecli", "compute", str(path), "-w", w, *SLOPECLI_FLAGS[kind]],
                out / f"{job}.before.{suffix}",
                True,
                env,
            )
        )
    for peer in ("duckdb", "polars"):
        target = out / f"{job}.{peer}.{suffix}"
        argv = [python, "-c", PEERS[kind, peer], str(path), w, *([] if stdout else [str(target)])]
        tools.append(Tool(peer, argv, target, to_stdout=stdout))
    return tools


def check_summary(tools: list[Tool]) -> str:
    reference = json.loads(tools[0].output.read_text())
    g0 = reference["gradient"]
    scale = max(abs(v) for v in g0)
    worst = 0.0
    for tool in tools[1:]:
        other = json.loads(tool.output.read_text())
        if other["n"] != reference["n"]:
            sys.exit(f"{tool.name}: n = {other['n']}, slopecli {reference['n']}")
        rel = max(abs(a - b) / scale for a, b in zip(g0, other["gradient"], strict=True))
        rel = max(rel, abs(other["mse"] - reference["mse"]) / abs(reference["mse"]))
        if rel > 1e-12:
            sys.exit(f"{tool.name}: gradient or MSE differs from slopecli's by {rel:.2e} relative (> 1e-12)")
        worst = max(worst, rel)
    return f"gradient and MSE agree to {worst:.1e} relative (≤ 1e-12)"


def _values(kind: str, line: str) -> list[float]:
    if kind == "csv":
        return [float(v) for v in line.split(",")]
    record = json.loads(line)
    return [
        record["row"],
        *record["input"],
        record["target"],
        record["preds"],
        record["error"],
        *record["slope"],
    ]


def check_rows(kind: str, tools: list[Tool]) -> str:
    """Same row count; on every n-th row, the same values to 1e-9 of each column's scale.

    Read line by line and only the sampled rows kept: this process must stay small, or the next
    child it forks would report this process's memory as its own peak RSS.
    """
    counts = []
    rows = []
    for tool in tools:
        with open(tool.output, encoding="utf-8") as fp:
            lines = (line for line in fp if line.strip() and '"kind": "summary"' not in line)
            if kind == "csv":
                next(lines)  # the header: the tools quote it differently; the values may not differ
            count = 0
            kept = []
            for count, line in enumerate(lines, start=1):
                if (count - 1) % 499 == 0:
                    kept.append(_values(kind, line))
            counts.append(count)
            rows.append(kept)
    for tool, count in zip(tools[1:], counts[1:], strict=True):
        if count != counts[0]:
            sys.exit(f"{tool.name}: {count} rows, slopecli {counts[0]}")
    scales = [max(abs(r[j]) for r in rows[0]) or 1.0 for j in range(len(rows[0][0]))]
    for tool, other in zip(tools[1:], rows[1:], strict=True):
        for a, b in zip(rows[0], other, strict=True):
            for j, (u, v) in enumerate(zip(a, b, strict=True)):
                if abs(u - v) > 1e-9 * scales[j]:
                    sys.exit(f"{tool.name}: per-row value {v!r} where slopecli wrote {u!r}")
    return f"{counts[0]:,} rows each; every 499th row ({len(rows[0]):,}) agrees"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--jobs", default=",".join(JOBS), help="comma-separated: " + ", ".join(JOBS))
    parser.add_argument("--runs", type=int, default=5, help="paired rounds (≥ 5 for the README)")
    parser.add_argument("--before", metavar="SRC", help="also run an older slopecli from this src/ tree")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON too")
    args = parser.parse_args()
    python = sys.executable
    report: dict[str, object] = {}
    print("| job | tool | median s | CPU s | peak RSS MiB | ratio of medians | median paired ratio |")
    print("|---|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="peers-") as tmp:
        for job in args.jobs.split(","):
            kind, _ = JOBS[job]
            tools = tools_for(job, args.data, Path(tmp), python, args.before)
            paired_rounds(tools, args.runs)
            base = tools[0]
            for tool in tools:
                ratio = statistics.median(tool.seconds) / statistics.median(base.seconds)
                paired = statistics.median(t / s for t, s in zip(tool.seconds, base.seconds, strict=True))
                rss = statistics.median(tool.rss_kib) / 1024
                print(
                    f"| {job} | {tool.name} | {statistics.median(tool.seconds):.3f} |"
                    f" {statistics.median(tool.cpu):.2f} | {rss:.0f} |"
                    f" {ratio:.2f} | {paired:.2f} |",
                    flush=True,
                )
                report[f"{job}.{tool.name}"] = {
                    "seconds": tool.seconds,
                    "cpu": tool.cpu,
                    "rss_kib": tool.rss_kib,
                }
            check = check_summary(tools) if kind == "summary" else check_rows(kind, tools)
            print(f"| {job} | check: {check} | | | | | |", flush=True)
            for tool in tools:
                tool.output.unlink(missing_ok=True)
    if args.json:
        print(json.dumps(report))


if __name__ == "__main__":
    main()
