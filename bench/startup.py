"""Start-up benchmark: slopecli against the floor any Typer (+ numpy) tool pays, in one run.

Two pairs, each a candidate and its baseline, measured on the same machine in the same run:

    json   slopecli compute --weights 0,2,1 --input 1,2,3 --target 0 --json
           vs  baselines/minimal_numpy_app.py compute --input 1,2,3   (Typer + numpy, prints 14.0)
    help   slopecli --help
           vs  baselines/minimal_help_app.py --help                   (Typer, help drawn with Rich)

Each command runs ``--runs`` times (default 20), after ``--warmup`` unmeasured runs that also check
its output. The four commands are interleaved, and their order rotates each round, so that drift
(other load, CPU frequency, caches) falls on candidates and baselines alike. The verdict is the
ratio of wall-clock medians, candidate / baseline, against ``--max-ratio`` (default 1.2). On a
shared machine it first waits (``--wait-quiet``, 30 s at most) for other processes to go quiet, and
it reports how many CPUs they kept busy during the runs, so a crowded run can be told from a clean one.

All commands run as ``<this python> <script file> args``: the baselines as their file, slopecli as
its console script file (the one ``pip`` wrote next to this python), which is exactly what the
kernel runs for ``slopecli args`` via its shebang. ``--via module`` runs ``python -m slopecli``.
Every command reads compiled bytecode, as after ``pip install`` (see ``--bytecode``).

``--imports`` instead runs each pair under ``python -X importtime`` and lists the modules slopecli
imports that its baseline does not, with the slopecli module that pulled each one in.

Stdlib only; run it with the python that has slopecli installed:

    python bench/startup.py [--runs 20] [--json] [--imports]

Exit status: 0 if both ratios are within the target, 1 if not, 2 on a usage or set-up error.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, NoReturn

HERE = Path(__file__).resolve().parent
BASELINES = HERE / "baselines"
MIN_RUNS = 10
PACKAGES = ("slopecli", "typer", "rich", "numpy", "pyarrow", "pydantic", "shellingham")
CANDIDATE_JSON_ARGS = ("compute", "--weights", "0,2,1", "--input", "1,2,3", "--target", "0", "--json")


@dataclass
class Command:
    """One program to time: its argv, and a check of its output (a fast error is no result)."""

    label: str
    argv: list[str]
    check: Callable[[str], bool]
    wall_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Pair:
    name: str
    candidate: Command
    baseline: Command


def _fail(message: str) -> NoReturn:
    sys.stderr.write(f"startup.py: {message}\n")
    raise SystemExit(2)


def _json_ok(out: str) -> bool:
    try:
        doc = json.loads(out)
    except ValueError:
        return False
    return bool(doc.get("gradient") == [14.0, 28.0, 42.0] and doc.get("mse") == 49.0)


def _number_ok(out: str) -> bool:
    return out.strip() == "14.0"


def _help_ok(out: str) -> bool:
    return "Usage:" in out and "compute" in out


def slopecli_argv(via: str) -> list[str]:
    """How to start slopecli with this python: its console script file, or ``-m slopecli``."""
    if via == "module":
        return [sys.executable, "-m", "slopecli"]
    script = Path(sys.executable).parent / "slopecli"
    if not script.is_file():
        _fail(f"no console script {script}; install slopecli in this python, or use --via module")
    # The script file run by this python, as its shebang would: both sides are `python FILE args`.
    return [sys.executable, str(script)]


def make_pairs(via: str) -> list[Pair]:
    slopecli = slopecli_argv(via)
    py = sys.executable
    return [
        Pair(
            "json",
            Command("slopecli compute … --json", [*slopecli, *CANDIDATE_JSON_ARGS], _json_ok),
            Command(
                "minimal Typer + numpy app",
                [py, str(BASELINES / "minimal_numpy_app.py"), "compute", "--input", "1,2,3"],
                _number_ok,
            ),
        ),
        Pair(
            "help",
            Command("slopecli --help", [*slopecli, "--help"], _help_ok),
            Command(
                "minimal Typer app --help", [py, str(BASELINES / "minimal_help_app.py"), "--help"], _help_ok
            ),
        ),
    ]


def child_environment(bytecode: str, pycache: str) -> dict[str, str]:
    """The one environment every command runs in (OPENBLAS_CORETYPE and the like left as they are).

    A wheel installed by pip has its .pyc compiled; an editable install under
    PYTHONDONTWRITEBYTECODE has none, so slopecli (but not its dependencies) would be compiled from
    source on every run. ``cached`` puts every command's bytecode under a fresh PYTHONPYCACHEPREFIX,
    filled by the warm-up runs, so candidates and baselines alike read compiled code and nothing is
    written into the source tree.
    """
    env = dict(os.environ)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    if bytecode == "cached":
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = pycache
    return env


def run_once(command: Command, env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock and CPU (user + system) milliseconds of one run, after checking it succeeded."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command.argv, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0 or not command.check(done.stdout):
        _fail(
            f"{command.label} failed (exit {done.returncode}): {' '.join(command.argv)}\n"
            f"stdout: {done.stdout[:500]}\nstderr: {done.stderr[:2000]}"
        )
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall * 1000, cpu * 1000


def measure(pairs: Sequence[Pair], runs: int, warmup: int, env: dict[str, str]) -> None:
    commands = [c for p in pairs for c in (p.candidate, p.baseline)]
    for _ in range(warmup):  # fills the page cache and the bytecode cache; not recorded
        for command in commands:
            run_once(command, env)
    for r in range(runs):
        # Rotate the order each round: every command takes every position equally often.
        k = r % len(commands)
        for command in commands[k:] + commands[:k]:
            wall, cpu = run_once(command, env)
            command.wall_ms.append(wall)
            command.cpu_ms.append(cpu)


@dataclass(frozen=True)
class Stats:
    label: str
    argv: list[str]
    median_ms: float
    min_ms: float
    iqr_ms: float
    cpu_median_ms: float
    wall_ms: list[float]

    @classmethod
    def of(cls, c: Command) -> Stats:
        q1, _, q3 = statistics.quantiles(c.wall_ms, n=4)
        return cls(
            c.label,
            c.argv,
            statistics.median(c.wall_ms),
            min(c.wall_ms),
            q3 - q1,
            statistics.median(c.cpu_ms),
            c.wall_ms,
        )


@dataclass(frozen=True)
class Result:
    name: str
    candidate: Stats
    baseline: Stats
    ratio: float
    """Candidate median / baseline median: the figure the target is about."""
    min_ratio: float
    cpu_ratio: float
    passed: bool


def summarise(pairs: Sequence[Pair], max_ratio: float) -> list[Result]:
    results = []
    for pair in pairs:
        cand, base = Stats.of(pair.candidate), Stats.of(pair.baseline)
        ratio = cand.median_ms / base.median_ms
        results.append(
            Result(
                pair.name,
                cand,
                base,
                ratio,
                cand.min_ms / base.min_ms,
                cand.cpu_median_ms / base.cpu_median_ms,
                ratio <= max_ratio,
            )
        )
    return results


def environment(via: str, bytecode: str) -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "python": platform.python_version(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "via": via,
        "bytecode": bytecode,
        "packages": versions,
    }


def _busy_seconds() -> float | None:
    """CPU seconds all cores have spent busy since boot (Linux), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def wait_for_quiet(limit_s: float, max_cores: float = 0.3, settle_s: int = 3) -> bool:
    """Waits (at most ``limit_s``) until other processes use under ``max_cores`` for ``settle_s``
    seconds in a row. Returns whether they did; the benchmark runs either way."""
    deadline, calm = time.monotonic() + limit_s, 0
    while time.monotonic() < deadline:
        busy = _busy_seconds()
        time.sleep(1)
        busy_after = _busy_seconds()
        if busy is None or busy_after is None:
            return False
        calm = calm + 1 if busy_after - busy < max_cores else 0
        if calm >= settle_s:
            return True
    return False


@contextmanager
def other_load(into: dict[str, Any]) -> Iterator[None]:
    """Records how many cores *other* processes kept busy, on average, while the block ran.

    On a shared machine this tells a clean run from a crowded one: interleaving spreads the
    noise over both sides, but it still widens the spread of each median.
    """
    busy, own, start = _busy_seconds(), _own_cpu_seconds(), time.perf_counter()
    yield
    busy_after = _busy_seconds()
    if busy is None or busy_after is None:
        into["other_cores"] = None
        return
    others = (busy_after - busy) - (_own_cpu_seconds() - own)
    into["other_cores"] = round(max(others, 0.0) / (time.perf_counter() - start), 2)


def markdown(results: Sequence[Result], env: dict[str, Any], runs: int, max_ratio: float) -> str:
    lines = [
        f"Python {env['python']} on {env['platform']}, {env['usable_cpus']} usable CPUs;"
        f" OPENBLAS_CORETYPE={env['OPENBLAS_CORETYPE']}",
        ", ".join(f"{k} {v}" for k, v in env["packages"].items() if v),
        f"{runs} interleaved runs each; slopecli run as its console {env['via']}, bytecode {env['bytecode']};"
        f" other processes kept {env['other_cores']} of {env['usable_cpus']} CPUs busy meanwhile"
        + (" (they had not gone quiet before it)." if env["was_quiet"] is False else "."),
        "Wall-clock ms; CPU = user + system time of the process and its threads.",
        "",
        "| pair | command | median ms | min ms | IQR ms | CPU median ms | ratio of medians | ratio of mins"
        " | CPU ratio | target |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        verdict = f"{'pass' if r.passed else '**FAIL**'} (≤ {max_ratio}×)"
        for name, c, ratio, target in (
            (r.name, r.candidate, f"**{r.ratio:.2f}×** | {r.min_ratio:.2f}× | {r.cpu_ratio:.2f}×", verdict),
            ("", r.baseline, "1.00× | 1.00× | 1.00×", ""),
        ):
            lines.append(
                f"| {name} | {c.label} | {c.median_ms:.1f} | {c.min_ms:.1f} | {c.iqr_ms:.1f}"
                f" | {c.cpu_median_ms:.1f} | {ratio} | {target} |"
            )
    return "\n".join(lines)


# --- -X importtime: what slopecli imports beyond its baseline -------------------------------------


@dataclass
class Module:
    name: str
    self_us: int
    depth: int
    children: list[Module] = field(default_factory=list)
    parent: Module | None = None


def parse_importtime(stderr: str) -> dict[str, Module]:
    """The import tree of one ``-X importtime`` run, by module name.

    Lines come children first; a line's depth is its name's indentation (2 spaces a level).
    """
    modules: dict[str, Module] = {}
    pending: list[Module] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_part, _, name_part = line.split("|")
        depth = (len(name_part) - len(name_part.lstrip(" ")) - 1) // 2
        node = Module(name_part.strip(), int(self_part.split(":")[1]), depth)
        while pending and pending[-1].depth > depth:
            child = pending.pop()
            child.parent = node
            node.children.append(child)
        pending.append(node)
        modules[node.name] = node
    return modules


def importtime(argv: list[str], env: dict[str, str]) -> dict[str, Module]:
    done = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]], capture_output=True, text=True, env=env, check=False
    )
    return parse_importtime(done.stderr)


def culprit(module: Module) -> str:
    """The innermost slopecli module that (transitively) imported ``module``, or the top of its chain."""
    node: Module | None = module.parent
    top = module
    while node is not None:
        if node.name.split(".")[0] == "slopecli":
            return node.name
        top = node
        node = node.parent
    return top.name if top is not module else "(top level: the script, or an import inside a function)"


def import_report(pairs: Sequence[Pair], runs: int, env: dict[str, str], top: int) -> str:
    """Modules the candidate imports that the baseline does not, by median self time."""
    out: list[str] = []
    for pair in pairs:
        run_once(pair.candidate, env)  # checks the commands and fills the bytecode cache
        run_once(pair.baseline, env)
        cand: list[dict[str, Module]] = []
        base: list[dict[str, Module]] = []
        for _ in range(runs):  # interleaved, as the timings are
            cand.append(importtime(pair.candidate.argv, env))
            base.append(importtime(pair.baseline.argv, env))
        base_names = set().union(*(t.keys() for t in base))
        cand_names = set().union(*(t.keys() for t in cand))

        def med(trees: list[dict[str, Module]], name: str) -> float:
            return statistics.median(t[name].self_us if name in t else 0 for t in trees)

        added = sorted(((med(cand, n), n) for n in cand_names - base_names), reverse=True)
        missing = sorted(((med(base, n), n) for n in base_names - cand_names), reverse=True)
        cand_total = statistics.median(sum(m.self_us for m in t.values()) for t in cand)
        base_total = statistics.median(sum(m.self_us for m in t.values()) for t in base)
        by_culprit: dict[str, list[tuple[float, str]]] = defaultdict(list)
        for us, name in added:
            by_culprit[culprit(cand[0][name]) if name in cand[0] else "?"].append((us, name))

        out += [
            f"## {pair.name}: {pair.candidate.label} vs {pair.baseline.label}",
            f"All imports (sum of self times, median of {runs}): {cand_total / 1000:.1f} ms vs"
            f" {base_total / 1000:.1f} ms.",
            f"Imported only by the candidate: {len(added)} modules, {sum(u for u, _ in added) / 1000:.1f} ms;"
            f" only by the baseline: {len(missing)} modules, {sum(u for u, _ in missing) / 1000:.1f} ms"
            + (
                f" ({', '.join(n for _, n in missing[:6])}{', …' if len(missing) > 6 else ''})"
                if missing
                else ""
            )
            + ".",
            "",
            "| pulled in by | ms | modules (self ms) |",
            "|---|---:|---|",
        ]
        groups = sorted(by_culprit.items(), key=lambda kv: -sum(u for u, _ in kv[1]))
        for who, mods in groups:
            listed = ", ".join(f"{n} {u / 1000:.1f}" for u, n in mods[:top])
            more = f", … {len(mods) - top} more" if len(mods) > top else ""
            out.append(f"| {who} | {sum(u for u, _ in mods) / 1000:.1f} | {listed}{more} |")
        out.append("")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help=f"measured runs per command (≥ {MIN_RUNS})")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured runs per command first")
    parser.add_argument(
        "--max-ratio", type=float, default=1.2, help="target: candidate median / baseline median"
    )
    parser.add_argument("--via", choices=("script", "module"), default="script", help="how to start slopecli")
    parser.add_argument(
        "--bytecode",
        choices=("cached", "as-is"),
        default="cached",
        help="cached: every command reads compiled .pyc, as after `pip install` (default); as-is: this"
        " environment's settings (under PYTHONDONTWRITEBYTECODE an editable slopecli is compiled each run)",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=30,
        metavar="SECONDS",
        help="first wait up to this long for other processes to go quiet (0: do not wait)",
    )
    parser.add_argument("--json", action="store_true", help="print the results, with every sample, as JSON")
    parser.add_argument(
        "--imports", action="store_true", help="instead, diff -X importtime against the baselines"
    )
    parser.add_argument("--top", type=int, default=12, help="modules listed per culprit in --imports")
    args = parser.parse_args(argv)
    if args.runs < MIN_RUNS:
        parser.error(f"--runs: at least {MIN_RUNS}, so that the medians mean something")
    if args.warmup < 1:
        parser.error("--warmup: at least 1, to check each command and fill the bytecode cache")

    pairs = make_pairs(args.via)
    with tempfile.TemporaryDirectory(prefix="slopecli-bench-pycache-") as pycache:
        env = child_environment(args.bytecode, pycache)
        if args.imports:
            print(import_report(pairs, args.runs, env, args.top))
            return 0
        info = environment(args.via, args.bytecode)
        info["was_quiet"] = wait_for_quiet(args.wait_quiet) if args.wait_quiet > 0 else None
        with other_load(into=info):
            measure(pairs, args.runs, args.warmup, env)
    results = summarise(pairs, args.max_ratio)
    if args.json:
        document = {"environment": info, "runs": args.runs, "max_ratio": args.max_ratio}
        print(json.dumps({**document, "pairs": [asdict(r) for r in results]}))
    else:
        print(markdown(results, info, args.runs, args.max_ratio))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
