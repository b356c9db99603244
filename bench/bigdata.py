"""Big-data benchmark: slopecli against the scripts a user would write, same files, same run.

One command reproduces it::

    python3 bench/bigdata.py            # full run (about 8 minutes on 2 cores)
    python3 bench/bigdata.py --quick    # smoke run on small data (about a minute)
    python3 bench/bigdata.py --only wide --reps 3   # one dataset, fewer runs

It (1) makes or reuses a benchmark virtualenv at ``bench/.venv`` holding a snapshot of slopecli
(the committed HEAD, or the working tree with ``--worktree``) plus pandas, so pandas never enters
the project's dependencies — or uses the interpreter given by ``--python``; (2) generates the
data with ``bench/make_data.py`` (skipped when it is already there); (3) runs every command
``--reps`` times, interleaved and in a rotating order, recording wall time, CPU time and peak
RSS; (4) checks that all commands computed the same
numbers, then prints a markdown report (medians, MB/s, peak RSS, ratios, pass/fail against the
issue's targets) and writes it with the raw figures to ``bench/data/bigdata.{md,json}``.
``--update-readme`` also puts the report into ``bench/README.md`` between its ``bigdata`` markers.

How peak RSS is measured: each command is started with :class:`subprocess.Popen` and reaped with
:func:`os.wait4`, whose ``ru_maxrss`` on Linux is the larger of the child's own peak and the
peaks of every descendant it reaped (the kernel keeps the *maximum*, not the sum). So for a shell
loop or a multi-process batch run the figure is the peak RSS of the largest single process in
the tree — the quantity the targets name — with no polling and no sampling error. Concurrent
workers' RSS is not added up, and a descendant that nobody reaps is not seen.

The machine may be shared: before each run the script waits (a few seconds at most) for other
processes to go quiet, and it records how many cores other processes used during each run
(from ``/proc/stat``, less the command's own CPU time), so a reader can tell a clean run from a
crowded one.

This script needs only the standard library; the measured commands run in the benchmark's
interpreter.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENV = BENCH / ".venv"
DATA = BENCH / "data"
OUT = DATA / "out"
README = BENCH / "README.md"
BEGIN, END = "<!-- bigdata:begin -->", "<!-- bigdata:end -->"
MB = 1e6
RECORDED_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")


# ------------------------------------------------------------------------------------------------
# The environment and the data


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True).stdout


def bench_python(requested: str | None, worktree: bool) -> tuple[Path, str]:
    """The interpreter that runs the measured commands, and which slopecli source it holds.

    With ``--python``, that interpreter as it is. Otherwise ``bench/.venv``, made if missing,
    with pandas and a snapshot of slopecli: the committed ``HEAD`` (reinstalled only when HEAD
    moves), or with ``--worktree`` the working tree's files as they are now. A snapshot, not an
    editable install: an edit made elsewhere during the run must not change what is measured.
    """
    if requested:
        return Path(requested), f"as installed in {requested}"
    python = VENV / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if not python.exists():
        _say(f"creating {VENV} ...")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    head = _git("rev-parse", "--short", "HEAD").strip()
    source = f"working tree on {head}" if worktree else f"commit {head}"
    marker = VENV / "slopecli-source.txt"
    if not worktree and marker.exists() and marker.read_text() == source:
        return python, source
    _say(f"installing slopecli ({source}) and pandas into {VENV} ...")
    with tempfile.TemporaryDirectory() as tmp:
        if worktree:
            for name in _git("ls-files", "--cached", "--others", "--exclude-standard", "-z").split("\0"):
                if name and (REPO / name).is_file():
                    (Path(tmp) / name).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(REPO / name, Path(tmp) / name)
        else:
            archive = subprocess.run(
                ["git", "-C", str(REPO), "archive", "HEAD"], capture_output=True, check=True
            )
            subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        subprocess.run([*pip, tmp, "pandas"], check=True)  # slopecli's dependencies, and pandas
        subprocess.run([*pip, "--no-deps", "--force-reinstall", tmp], check=True)
    marker.write_text(source)
    return python, source


def slopecli_command(python: Path) -> list[str]:
    """How to start slopecli with ``python``: its console script if it has one, else ``-m``."""
    script = python.parent / "slopecli"
    return [str(script)] if script.exists() else [str(python), "-m", "slopecli"]


def has_batch(slopecli: list[str]) -> bool:
    return subprocess.run([*slopecli, "batch", "--help"], capture_output=True).returncode == 0


_VERSIONS = """
import json, platform, numpy, pyarrow, pandas, slopecli
blas = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]
print(json.dumps({
    "python": platform.python_version(), "numpy": numpy.__version__, "pyarrow": pyarrow.__version__,
    "pandas": pandas.__version__, "slopecli": slopecli.__version__,
    "blas": f"{blas['name']} {blas.get('version', '')}".strip(),
    "simd": pyarrow.runtime_info().simd_level,
}))
"""


def machine(python: Path) -> dict[str, object]:
    """What the figures were measured on: CPU, memory, OS, interpreter, library versions, BLAS."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?")
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem_kib = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal:"))
    versions = json.loads(
        subprocess.run([str(python), "-c", _VERSIONS], capture_output=True, check=True).stdout
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / (1 << 20), 1),
        "os": f"{platform.system()} {platform.release()}",
        **versions,
        "env": {k: os.environ.get(k, "unset") for k in RECORDED_ENV},
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


@dataclass(frozen=True)
class Dataset:
    """One dataset of the manifest that ``make_data.py --json`` prints."""

    name: str
    path: Path
    bytes: int
    rows: int
    features: int
    files: int
    weights: str

    @property
    def mb(self) -> float:
        return self.bytes / MB


def make_data(python: Path, quick: bool) -> dict[str, Dataset]:
    """Generate (or find) the data, using the benchmark's interpreter."""
    _say("generating or checking the data ...")
    command = [str(python), str(BENCH / "make_data.py"), "--json", *(["--quick"] if quick else [])]
    manifest = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    fields = ("name", "bytes", "rows", "features", "files", "weights")
    return {
        key: Dataset(path=Path(entry["path"]), **{f: entry[f] for f in fields})
        for key, entry in manifest.items()
    }


def warm_cache(datasets: list[Dataset]) -> None:
    """Read the inputs once so that every run, first round included, reads from the page cache."""
    for data in datasets:
        for path in sorted(data.path.glob("*.csv")) if data.path.is_dir() else [data.path]:
            with open(path, "rb") as fp:
                while fp.read(16 << 20):
                    pass


# ------------------------------------------------------------------------------------------------
# Measuring


@dataclass
class Case:
    """One command to time: what it reads, where its standard output goes, and its runs."""

    key: str
    label: str
    argv: list[str]
    input_bytes: int
    stdout: Path | None = None
    scale: float = 1.0
    """Multiplies the measured times: a loop over a sample of the files, extrapolated to all."""
    seconds: list[float] = field(default_factory=list)
    maxrss_kib: list[int] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    """User + system seconds of the process tree."""
    others: list[float] = field(default_factory=list)
    """Cores kept busy by other processes of the machine while the command ran."""
    failure: str = ""
    """Why the command failed, if it did: it is then left out of later rounds and of the targets."""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) * self.scale

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu) * self.scale

    @property
    def rss_mib(self) -> float:
        return statistics.median(self.maxrss_kib) / 1024

    @property
    def mb_per_s(self) -> float:
        return self.input_bytes / MB / self.median


class CommandFailed(RuntimeError):
    pass


def busy_seconds() -> float:
    """CPU seconds that all processes of the machine have used since boot (from /proc/stat)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


def settle(max_wait: float, threshold: float = 0.3) -> None:
    """Wait, at most ``max_wait`` seconds, until other processes use less than ``threshold`` cores."""
    deadline = time.monotonic() + max_wait
    while time.monotonic() < deadline:
        before, start = busy_seconds(), time.monotonic()
        time.sleep(0.25)
        if (busy_seconds() - before) / (time.monotonic() - start) < threshold:
            return


def run_once(case: Case) -> None:
    """Run ``case`` once and append its wall time, peak RSS, CPU time and the machine's other load."""
    with open(case.stdout or os.devnull, "wb") as out, tempfile.TemporaryFile() as err:
        busy = busy_seconds()
        start = time.perf_counter()
        proc = subprocess.Popen(case.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        cpu = usage.ru_utime + usage.ru_stime
        others = max(0.0, busy_seconds() - busy - cpu) / elapsed
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace")[-2000:]
            msg = f"{case.key} exited {proc.returncode}: {shlex.join(case.argv)[:300]}\n{tail}"
            raise CommandFailed(msg)
    case.seconds.append(elapsed)
    case.maxrss_kib.append(usage.ru_maxrss)
    case.cpu.append(cpu)
    case.others.append(others)


def measure(cases: list[Case], reps: int, settle_s: float) -> None:
    """Run every case ``reps`` times, interleaved; each round starts one case later than the last.

    Before each run, wait up to ``settle_s`` seconds (30 times that in all) for the machine to be
    quiet: on a shared machine other work would otherwise land in some runs and not in others.
    """
    budget = 30 * settle_s
    for rep in range(reps):
        shift = rep % len(cases)
        for case in cases[shift:] + cases[:shift]:
            if budget > 0:
                start = time.monotonic()
                settle(min(settle_s, budget))
                budget -= time.monotonic() - start
            if case.failure:
                continue
            try:
                run_once(case)
            except CommandFailed as exc:
                case.failure = str(exc)
                _say(f"  {case.key} FAILED and is left out from now on:\n{exc}")
                continue
            _say(
                f"  round {rep + 1}/{reps}  {case.key:<20} {case.seconds[-1]:8.2f} s  "
                f"cpu {case.cpu[-1]:7.2f} s  {case.maxrss_kib[-1] / 1024:6.0f} MiB  "
                f"other load {case.others[-1]:4.2f} cores"
            )


# ------------------------------------------------------------------------------------------------
# The commands


def build_cases(python: Path, data: dict[str, Dataset], batch: bool, loop_files: int) -> dict[str, Case]:
    """Every command of the benchmark, keyed ``<dataset>.<command>``."""
    slopecli = slopecli_command(python)
    script = {
        name: [str(python), str(BENCH / "baselines" / f"{name}_script.py")]
        for name in ("loadtxt", "pandas", "savetxt")
    }
    shutil.rmtree(OUT, ignore_errors=True)  # no output of an earlier run may pass for this one's
    OUT.mkdir(parents=True)
    cases: list[Case] = []

    def add(key: str, label: str, argv: list[str], data: Dataset, stdout: bool = True) -> None:
        suffix = {"csv": "csv", "jsonl": "jsonl"}.get(key.rsplit("_", 1)[-1], "json")
        cases.append(Case(key, label, argv, data.bytes, OUT / f"{key}.{suffix}" if stdout else None))

    for d in (data["wide"], data["long"]):
        file, w = str(d.path), d.weights
        add(
            f"{d.name}.slopecli",
            "slopecli compute --json --summary",
            [*slopecli, "compute", file, "-w", w, "--json", "--summary"],
            d,
        )
        add(f"{d.name}.loadtxt", "numpy.loadtxt script", [*script["loadtxt"], file, w], d)
        add(f"{d.name}.pandas", "pandas.read_csv script", [*script["pandas"], file, w], d)

    d = data["wide"]
    file, w = str(d.path), d.weights
    add(
        "wide.slopecli_csv",
        "slopecli compute --format csv > out.csv",
        [*slopecli, "compute", file, "-w", w, "--format", "csv"],
        d,
    )
    add(
        "wide.slopecli_jsonl",
        "slopecli compute --format jsonl > out.jsonl",
        [*slopecli, "compute", file, "-w", w, "--format", "jsonl"],
        d,
    )
    add(
        "wide.savetxt",
        "numpy.loadtxt + numpy.savetxt script",
        [*script["savetxt"], file, w, str(OUT / "wide.savetxt.csv")],
        d,
        stdout=False,
    )
    if batch:
        add(
            "wide.batch_out",
            "slopecli batch FILE --out DIR --force",
            [*slopecli, "batch", file, "-w", w, "--out", str(OUT / "wide.batch"), "--force", "--json"],
            d,
        )

    d = data["small"]
    files = sorted(d.path.glob("*.csv"))
    sample = files[:: max(1, len(files) // loop_files)][:loop_files]
    scale = len(files) / len(sample)
    loop = f'for f in "$@"; do {shlex.join(slopecli)} compute "$f" -w {d.weights} --json --summary; done'
    label = f"shell loop of slopecli compute (on {len(sample)} of the {len(files)} files, × {scale:g})"
    argv = ["bash", "-c", loop, "loop", *map(str, sample)]
    (OUT / "small.loop.files").write_text("".join(f"{f}\n" for f in sample))
    # The loop's time is extrapolated to all the files, so its MB/s counts all their bytes.
    cases.append(Case("small.loop", label, argv, d.bytes, OUT / "small.loop.jsonl", scale=scale))
    if batch:
        add(
            "small.batch",
            "slopecli batch DIR --format json --combine",
            [*slopecli, "batch", str(d.path), "-w", d.weights, "--format", "json", "--combine"],
            d,
        )
    return {c.key: c for c in cases}


# ------------------------------------------------------------------------------------------------
# Checking that every command computed the same thing

_CHECK = r"""
import glob, json, os, sys
import numpy as np
import pyarrow.csv as pacsv

out = sys.argv[1]
problems = []


def there(*names):
    return all(os.path.exists(f"{out}/{name}") for name in names)


for name in ("wide", "long"):
    for other in ("slopecli", "pandas"):
        if not there(f"{name}.loadtxt.json", f"{name}.{other}.json"):
            continue
        ref = json.load(open(f"{out}/{name}.loadtxt.json"))
        got = json.load(open(f"{out}/{name}.{other}.json"))
        same = got["n"] == ref["n"] and np.allclose(got["gradient"], ref["gradient"], rtol=1e-9, atol=0)
        if not (same and np.isclose(got["mse"], ref["mse"], rtol=1e-9)):
            problems.append(f"{name}: the {other} gradient or MSE differs from numpy.loadtxt's")
if not there("wide.slopecli_csv.csv", "wide.savetxt.csv"):
    pass
elif (a := pacsv.read_csv(f"{out}/wide.slopecli_csv.csv")).column_names != (
    b := pacsv.read_csv(f"{out}/wide.savetxt.csv")
).column_names or a.num_rows != b.num_rows:
    problems.append("per-row CSV: the columns or row count differ from numpy.savetxt's")
else:
    A = np.column_stack([c.to_numpy() for c in a.columns])
    B = np.column_stack([c.to_numpy() for c in b.columns])
    if not np.allclose(A, B, rtol=1e-9, atol=1e-12 * np.abs(B).max()):
        problems.append("per-row CSV: the values differ from numpy.savetxt's")
    batch_out = glob.glob(f"{out}/wide.batch/*.csv")
    if batch_out:
        C = np.column_stack([c.to_numpy() for c in pacsv.read_csv(batch_out[0]).columns])
        if C.shape != B.shape or not np.allclose(C, B, rtol=1e-9, atol=1e-12 * np.abs(B).max()):
            problems.append("batch --out: the per-row values differ from numpy.savetxt's")
if there("small.batch.json", "small.loop.jsonl"):
    by_file = {os.path.abspath(r["file"]): r for r in json.load(open(f"{out}/small.batch.json"))["files"]}
    names = open(f"{out}/small.loop.files").read().split()
    for name, line in zip(names, open(f"{out}/small.loop.jsonl"), strict=True):
        got, ref = by_file[os.path.abspath(name)], json.loads(line)
        if not np.allclose(got["gradient"], ref["gradient"], rtol=1e-9, atol=0):
            problems.append(f"batch: {name}: the gradient differs from slopecli compute's")
            break
print(json.dumps(problems))
"""


def check(python: Path) -> list[str]:
    """Disagreements between the commands' results (empty when they all agree)."""
    result = subprocess.run([str(python), "-c", _CHECK, str(OUT)], capture_output=True, text=True)
    if result.returncode != 0:
        return [f"the consistency check itself failed: {result.stderr.strip()[-500:]}"]
    problems: list[str] = json.loads(result.stdout)
    return problems


# ------------------------------------------------------------------------------------------------
# Reporting


@dataclass(frozen=True)
class Target:
    what: str
    required: str
    measured: float | None
    ok: bool | None
    note: str = ""


def targets(
    c: dict[str, Case], data: dict[str, Dataset], skipped: frozenset[str] = frozenset()
) -> list[Target]:
    """The issue's targets, each with the measured figure and whether it is met.

    ``skipped`` names the commands left out on purpose (``--only``).
    """
    wide, long = (f"{data[k].rows / 1e6:g}M×{data[k].features}" for k in ("wide", "long"))
    small = f"{data['small'].files:,} small files"

    def missing(*keys: str) -> str:
        absent = [k for k in keys if k not in c]
        if absent:
            return (
                "not measured" if all(k in skipped for k in absent) else "`slopecli batch` not yet available"
            )
        return "a command failed" if any(not c[k].seconds for k in keys) else ""

    def faster(what: str, slower: str, fast: str, need: float) -> Target:
        if why := missing(slower, fast):
            return Target(what, f"≥ {need:g}×", None, None, why)
        r = c[slower].median / c[fast].median
        return Target(what, f"≥ {need:g}×", r, r >= need)

    def rss_ratio(what: str, key: str, ref: str, limit: float) -> Target:
        if why := missing(key, ref):
            return Target(what, f"≤ {limit:g}", None, None, why)
        a, b = c[key].rss_mib, c[ref].rss_mib
        return Target(what, f"≤ {limit:g}", a / b, a <= limit * b, f"{a:.0f} vs {b:.0f} MiB")

    def write_only() -> Target:
        what = "per-row CSV, writing only: (savetxt − loadtxt script) / (--format csv − --summary)"
        if why := missing("wide.savetxt", "wide.loadtxt", "wide.slopecli_csv", "wide.slopecli"):
            return Target(what, "≥ 2×", None, None, why)
        numpy_s = c["wide.savetxt"].median - c["wide.loadtxt"].median
        ours = c["wide.slopecli_csv"].median - c["wide.slopecli"].median
        r = numpy_s / ours if ours > 0 else None
        return Target(what, "≥ 2×", r, r is not None and r >= 2, f"{numpy_s:.2f} s vs {ours:.2f} s")

    return [
        faster(f"{wide} throughput vs the numpy.loadtxt script", "wide.loadtxt", "wide.slopecli", 1.5),
        faster(f"{wide} throughput vs the pandas script", "wide.pandas", "wide.slopecli", 1.0),
        rss_ratio(
            f"{long} peak RSS as a fraction of the numpy.loadtxt script's",
            "long.slopecli",
            "long.loadtxt",
            0.25,
        ),
        rss_ratio(
            f"peak RSS on {long} / peak RSS on {wide} (constant memory)",
            "long.slopecli",
            "wide.slopecli",
            1.2,
        ),
        faster(f"{small}: shell loop time / batch time", "small.loop", "small.batch", 50),
        faster(
            "per-row CSV, end to end: savetxt script / --format csv", "wide.savetxt", "wide.slopecli_csv", 2
        ),
        write_only(),
        faster(
            "per-row JSON Lines, end to end: savetxt script / --format jsonl",
            "wide.savetxt",
            "wide.slopecli_jsonl",
            2,
        ),
        faster(
            "per-row output, end to end: savetxt script / batch FILE --out",
            "wide.savetxt",
            "wide.batch_out",
            2,
        ),
    ]


def report(
    cases: dict[str, Case],
    found: list[Target],
    info: dict[str, object],
    data: dict[str, Dataset],
    reps: int,
    quick: bool,
    problems: list[str],
    batch: bool,
) -> str:
    """The markdown report: machine, data, one row per command, one row per target."""
    env = info["env"]
    env_text = ", ".join(f"{k}={v}" for k, v in env.items()) if isinstance(env, dict) else ""
    wide, long, small = data["wide"], data["long"], data["small"]
    lines = [
        f"Measured {info['date']} on slopecli {info['source']}"
        + (" with `--quick` (smoke-run data: the targets are for the full data)" if quick else "")
        + f". Machine: {info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB, {info['os']}; "
        f"Python {info['python']}, numpy {info['numpy']} ({info['blas']}), pyarrow {info['pyarrow']} "
        f"(SIMD {info['simd']}), pandas {info['pandas']}, slopecli {info['slopecli']}; "
        f"{env_text} (left as the machine sets them).",
        "",
        f"Data: `{wide.path.name}` ({wide.mb:.0f} MB), `{long.path.name}` ({long.mb:.0f} MB), "
        f"{small.files:,} files of {small.rows} rows × {small.features} features in `{small.path.name}/` "
        f"({small.mb:.1f} MB). Medians of {reps} interleaved runs, inputs in the page cache; "
        "MB/s = MB (10⁶ bytes) of input per second; peak RSS = `ru_maxrss` of the largest single "
        "process (median over the runs); CPU s = user + system time of the process tree.",
        "",
        "| data | command | median s (min–max) | MB/s | peak RSS MiB | CPU s | time ÷ slopecli's |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    per_row = ("wide.slopecli_csv", "wide.slopecli_jsonl", "wide.savetxt", "wide.batch_out")
    for case in cases.values():
        data_name = case.key.split(".")[0]
        if not case.seconds:
            lines.append(f"| {data_name} | {case.label} | failed: see below | | | | |")
            continue
        ref_key = "wide.slopecli_csv" if case.key in per_row else f"{data_name}.slopecli"
        ref_key = "small.batch" if data_name == "small" else ref_key
        ref = cases.get(ref_key)
        vs = "—" if ref is None or ref is case or not ref.seconds else f"{case.median / ref.median:.2f}"
        low, high = min(case.seconds) * case.scale, max(case.seconds) * case.scale
        lines.append(
            f"| {data_name} | {case.label} | {case.median:.2f} ({low:.2f}–{high:.2f}) "
            f"| {case.mb_per_s:.0f} | {case.rss_mib:.0f} | {case.cpu_median:.2f} | {vs} |"
        )
    for key, label in (
        ("wide.batch_out", "slopecli batch FILE --out DIR --force"),
        ("small.batch", "slopecli batch DIR --format json --combine"),
    ):
        data_name = key.split(".")[0]
        if not batch and any(k.startswith(f"{data_name}.") for k in cases):
            lines.append(f"| {key.split('.')[0]} | {label} | not yet available | | | | |")
    lines += [
        "",
        "“time ÷ slopecli's” divides by `slopecli compute --json --summary` on the same file; the "
        "per-row rows divide by `--format csv`, the small-file rows by `batch`. " + contention(cases),
        "",
        "| target | measured | required | result |",
        "| --- | ---: | ---: | --- |",
    ]
    for t in found:
        measured = (
            "—" if t.measured is None else f"{t.measured:.3f}" if t.measured < 10 else f"{t.measured:.0f}"
        )
        result = "n/a" if t.ok is None else ("**pass**" if t.ok else "**FAIL**")
        note = f" ({t.note})" if t.note else ""
        lines.append(f"| {t.what} | {measured} | {t.required} | {result}{note} |")
    lines.append("")
    for case in cases.values():
        if case.failure:
            first = case.failure.strip().splitlines()[-1]
            lines += [f"`{case.key}` failed{' after some runs' if case.seconds else ''}: {first}", ""]
    if problems:
        lines += ["Consistency check FAILED:", *(f"- {p}" for p in problems)]
    else:
        lines.append(
            "Consistency check passed on the outputs measured: every gradient and MSE agrees with "
            "the numpy.loadtxt script's (rtol 1e-9), slopecli's per-row CSV holds the values "
            "numpy.savetxt wrote, and `batch` gives each small file the gradient `compute` gives it."
        )
    return "\n".join(lines) + "\n"


def contention(cases: dict[str, Case]) -> str:
    """One sentence on how busy the rest of the machine was while the commands ran."""
    others = [o for case in cases.values() for o in case.others] or [0.0]
    crowded = sum(o > 0.25 for o in others)
    return (
        f"Other processes used a median {statistics.median(others):.2f} cores (max {max(others):.2f}) "
        f"during the runs; {crowded} of {len(others)} runs shared the machine with more than a quarter "
        "of a core of other work."
    )


def update_readme(text: str) -> None:
    """Replace what stands between the bigdata markers of bench/README.md, and nothing else."""
    current = README.read_text() if README.exists() else ""
    if BEGIN not in current or END not in current:
        msg = f"{README} has no {BEGIN} … {END} block: add the 'Big data' section first"
        raise SystemExit(msg)
    head, rest = current.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{BEGIN}\n{text}{END}{tail}")


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    option = parser.add_argument
    option("--quick", action="store_true", help="small data, for a smoke run")
    option("--python", help="use this interpreter (with slopecli and pandas) instead of bench/.venv")
    option("--reps", type=int, help="runs per command (default 5; 3 with --quick)")
    option(
        "--loop-files",
        type=int,
        help="files the shell loop runs on, extrapolated to all (default 100; 20 with --quick)",
    )
    option(
        "--settle",
        type=float,
        default=5.0,
        help="seconds to wait, at most, before each run for the machine to go quiet (0: never)",
    )
    option("--only", help="comma-separated datasets to measure: wide, long, small (default: all)")
    option("--worktree", action="store_true", help="benchmark the working tree's files instead of HEAD")
    option("--update-readme", action="store_true", help="also write the report into bench/README.md")
    option("--keep-output", action="store_true", help="keep the commands' outputs in bench/data/out")
    args = parser.parse_args()
    reps = args.reps or (3 if args.quick else 5)
    loop_files = args.loop_files or (20 if args.quick else 100)

    python, source = bench_python(args.python, args.worktree)
    info = {**machine(python), "source": source}
    data = make_data(python, args.quick)
    batch = has_batch(slopecli_command(python))
    if not batch:
        _say("`slopecli batch` is not available: its rows are skipped")
    every = build_cases(python, data, batch, loop_files)
    only = set(args.only.split(",")) if args.only else set(data)
    cases = {key: case for key, case in every.items() if key.split(".")[0] in only}
    skipped = frozenset(every) - frozenset(cases)
    warm_cache(list(data.values()))
    started = time.perf_counter()
    measure(list(cases.values()), reps, args.settle)
    _say(f"measured in {time.perf_counter() - started:.0f} s; checking that the results agree ...")
    problems = check(python)
    for case in cases.values():
        if case.failure and case.stdout is not None:
            case.stdout.unlink(missing_ok=True)  # a failed run's output is not compared
    found = targets(cases, data, skipped)
    text = report(cases, found, info, data, reps, args.quick, problems, batch)
    print(text)
    name = "bigdata-quick" if args.quick else "bigdata"
    (DATA / f"{name}.md").write_text(text)
    raw = {
        "machine": info,
        "reps": reps,
        "data": {k: {**d.__dict__, "path": str(d.path)} for k, d in data.items()},
        "cases": {k: {**c.__dict__, "stdout": str(c.stdout)} for k, c in cases.items()},
        "targets": [t.__dict__ for t in found],
        "problems": problems,
    }
    (DATA / f"{name}.json").write_text(json.dumps(raw, indent=2) + "\n")
    if args.update_readme:
        update_readme(text)
    if not args.keep_output:
        shutil.rmtree(OUT, ignore_errors=True)
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
