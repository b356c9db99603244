"""The long fuzz run, for a release: 100,000+ generated inputs held to the contract, and the local
engine against the Dask engine on 5,000+ generated files.

Usage: python bench/fuzz.py [--inputs 100000] [--files 5000] [--seed 0] [--jobs N]
                            [--categories csv,mutated,random,flags,parquet,weights,network]
                            [--show 3]

The inputs come from the test suite's generators (tests/fuzzing.py) and run in process through
tests/conftest.py's ``invoke``, with the same independent oracle and the same contract as
tests/test_fuzz_contract.py (the ``network`` category: tests/test_fuzz_network.py's generator,
contract and oracle). The files of the differential check come from the same generators
and go through tests/fuzzing.py's ``differences`` (``batch --json`` with each engine, and
``compute --engine dask`` against ``compute --summary``) and, for one file set in four,
``split_differences`` (every file cut into pieces of a few bytes, as files of many MiB are).

Unlike a hypothesis test it does not stop at the first break: it counts every input, groups the
breaks by kind, prints up to ``--show`` reproducers of each (the files' bytes, or where larger
files were saved, and the exact command line) and exits 1 if there was any. A worker process
that dies (a crash in a native library) is a break too: the input it had in hand is replayed in
a fresh process to confirm it, and the run goes on. Seeded: the same arguments generate the same
inputs. Run it with the python slopecli is installed in: ``.venv/bin/python bench/fuzz.py``.
"""

from __future__ import annotations

import argparse
import collections
import faulthandler
import os
import pickle
import re
import subprocess
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
TESTS = HERE.parent.parent / "tests"

SHARES = {
    "csv": 0.30,
    "mutated": 0.25,
    "random": 0.05,
    "flags": 0.22,
    "parquet": 0.10,
    "weights": 0.08,
    "network": 0.05,
}
"""Shares of --inputs: CSV dialects, mutated bytes, random bytes, hostile flags, Parquet files,
weights files, network files with their data."""
TASK_SIZE = 500
"""Inputs per unit of work: small enough to keep every core busy and to show progress."""
DIFF_TASK_SIZE = 100
SAVED = Path(os.environ.get("TMPDIR", "/tmp")) / "slopecli-fuzz"
"""Reproducers' files too large to print (Parquet, long weights files), and each worker's input
in hand and crash dump."""

Break = tuple[str, str, str]
"""(the problem, a reproducer, details)."""


# ----------------------------------------------------------------------------------------------
# In a worker.


_DUMP: list[Any] = []
"""The file faulthandler writes to: open as long as the worker lives."""


def generating(count: int, seed: int) -> Any:
    """Hypothesis, set to draw ``count`` examples from ``seed`` and only generate: no shrinking, no
    database, no deadline, no health checks (a fuzz run wants breadth, and its reproducers)."""
    from hypothesis import HealthCheck, Phase, settings
    from hypothesis import seed as seeded

    def decorate(test: Any) -> Any:
        configured = settings(
            max_examples=count,
            database=None,
            phases=[Phase.generate],
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )(test)
        return seeded(seed)(configured)

    return decorate


def _prepare() -> None:
    """Once per worker: the tests' imports, a crash dump, a cached Click command, and warnings
    as errors."""
    if _DUMP:
        return
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    import conftest  # noqa: F401
    import fuzzing  # noqa: F401

    SAVED.mkdir(parents=True, exist_ok=True)
    _DUMP.append((SAVED / f"fault-{os.getpid()}.txt").open("w"))
    faulthandler.enable(file=_DUMP[0], all_threads=True)

    # CliRunner builds the Click command from the Typer app on every call (9 ms, a third of a
    # run): build it once. It is the command each call would build.
    import typer.main
    import typer.testing

    from slopecli.cli import app

    command = typer.main.get_command(app)
    typer.testing._get_command = lambda _app: command

    # As pytest's filterwarnings = error: a warning during a run is a break (after the imports,
    # whose own warnings are the libraries' business).
    warnings.simplefilter("error")


def _in_hand(item: Any) -> None:
    """Keep what this worker is about to run, for the report if it dies running it."""
    with (SAVED / f"current-{os.getpid()}.pkl").open("wb") as fp:
        pickle.dump(item, fp)


def _folder(seed: int, number: int) -> Path:
    return SAVED / "breaks" / f"{seed}-{number}"


def contract_task(category: str, count: int, seed: int) -> dict[str, Any]:
    """Run ``count`` inputs of ``category``: their exit codes, and the breaks."""
    _prepare()
    from hypothesis import given

    from fuzzing import run_case

    cases, problems = _contract(category)
    codes: collections.Counter[str] = collections.Counter()
    breaks: list[Break] = []

    @generating(count, seed)
    @given(cases())
    def one(case):  # type: ignore[no-untyped-def]
        _in_hand(("contract", case))
        run = run_case(case)
        codes[str(run.exit_code) if run.exception is None else "exception"] += 1
        found = problems(case, run)
        if found:
            detail = f"exit {run.exit_code}; stderr {run.stderr[-600:]!r}; stdout {run.stdout[:300]!r}"
            breaks.append((found[0], case.reproducer(_folder(seed, len(breaks))), detail))

    began = time.perf_counter()
    one()
    return {"category": category, "codes": codes, "breaks": breaks, "seconds": time.perf_counter() - began}


def _contract(category: str) -> tuple[Any, Any]:
    """The generator of ``category`` and the contract its runs are held to."""
    if category == "network":  # a network's output has its own schemas and oracle
        from test_fuzz_network import network_cases, network_problems

        return network_cases, network_problems
    from fuzzing import CATEGORIES, problems

    return CATEGORIES[category], problems


def differential_task(count: int, seed: int, split_every: int = 4) -> dict[str, Any]:
    """Generate file sets until ``count`` files have been compared across the engines."""
    _prepare()
    from hypothesis import given

    from fuzzing import differences, engine_files, split_differences

    state = {"files": 0, "sets": 0, "split_files": 0}
    breaks: list[Break] = []

    @generating(count, seed)
    @given(engine_files())
    def one(drawn):  # type: ignore[no-untyped-def]
        if state["files"] >= count:
            return
        files, options = drawn
        _in_hand(("engines", drawn))
        state["files"] += len(files)
        state["sets"] += 1
        found = differences(files, options)
        if state["sets"] % split_every == 0:
            state["split_files"] += len(files)
            found += split_differences(files, options)
        if found:
            breaks.append(
                (found[0], engines_reproducer(drawn, _folder(seed, len(breaks))), "\n".join(found[1:4]))
            )

    began = time.perf_counter()
    one()
    return {"category": "engines", **state, "breaks": breaks, "seconds": time.perf_counter() - began}


def engines_reproducer(drawn: Any, folder: Path) -> str:
    from fuzzing import Case, File

    files, options = drawn
    words = (*(File(name) for name, _ in files), *options.args(), "--json")
    case = Case(
        "engines",
        ("batch", *words, "--engine", "dask", "--scheduler", "synchronous"),
        (*files, *options.files()),
    )
    return case.reproducer(folder)


def replay(path: str) -> int:
    """Run the input saved at ``path`` once (in this fresh process): does it kill the process?"""
    _prepare()
    from fuzzing import differences, run_case, split_differences

    with open(path, "rb") as fp:
        kind, item = pickle.load(fp)
    if kind == "contract":
        run_case(item)
    else:
        differences(*item)
        split_differences(*item)
    return 0


# ----------------------------------------------------------------------------------------------
# The run.


def _signature(problem: str) -> str:
    """A break's kind: its first line without its numbers, quoted text and paths."""
    line = problem.splitlines()[0]
    line = re.sub(r"'[^']*'|\"[^\"]*\"", "…", line)
    return re.sub(r"[-+]?\d[\d.e+-]*", "#", line)[:160]


def _plan(args: argparse.Namespace, chosen: list[str]) -> list[tuple[str, str, int, int]]:
    work = []
    total_share = sum(SHARES[c] for c in chosen)
    for index, category in enumerate(chosen):
        left = round(args.inputs * SHARES[category] / total_share)
        part = 0
        while left > 0:
            size = min(TASK_SIZE, left)
            work.append(("contract", category, size, args.seed * 1_000_003 + index * 10_007 + part))
            left -= size
            part += 1
    left, part = args.files, 0
    while left > 0:
        size = min(DIFF_TASK_SIZE, left)
        work.append(("engines", "engines", size, args.seed * 1_000_003 + 99_991 + part))
        left -= size
        part += 1
    return work


def _dead_workers(pool: ProcessPoolExecutor) -> list[tuple[int, int | None]]:
    """The pool's workers that died by themselves (not the ones the broken pool then stopped)."""
    processes = getattr(pool, "_processes", None) or {}
    dead = []
    for pid, process in list(processes.items()):
        process.join(timeout=5)
        if process.exitcode not in (0, None, -15):
            dead.append((pid, process.exitcode))
    return dead


def _crash_breaks(dead: list[tuple[int, int | None]]) -> list[tuple[str, Break]]:
    """A break for each worker that died: its input in hand, replayed in a fresh process."""
    found = []
    for pid, code in dead:
        saved = SAVED / f"current-{pid}.pkl"
        fault = SAVED / f"fault-{pid}.txt"
        dump = fault.read_text(errors="replace")[:1500] if fault.exists() else ""
        if not saved.exists():
            found.append(
                ("engines", (f"a worker process died (exit {code}); its input is unknown", "", dump))
            )
            continue
        with saved.open("rb") as fp:
            kind, item = pickle.load(fp)
        keep = SAVED / "breaks" / f"crash-{pid}.pkl"
        keep.parent.mkdir(parents=True, exist_ok=True)
        keep.write_bytes(saved.read_bytes())
        again = subprocess.run(
            [sys.executable, str(HERE), "--replay", str(keep)], capture_output=True, timeout=600
        )
        confirmed = (
            "again" if again.returncode < 0 else f"not again (exit {again.returncode}: killed from outside?)"
        )
        problem = f"the process died (exit {code}) running this input; replayed alone, it died {confirmed}"
        if kind == "contract":
            reproducer, category = item.reproducer(keep.with_suffix("")), item.category
        else:
            reproducer, category = engines_reproducer(item, keep.with_suffix("")), "engines"
        found.append((category, (problem, reproducer, f"replay: python {HERE} --replay {keep}\n{dump}")))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=100_000, help="inputs held to the contract")
    parser.add_argument("--files", type=int, default=5_000, help="files compared across engines")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--categories", default=",".join(SHARES), help="comma-separated")
    parser.add_argument("--show", type=int, default=3, help="reproducers shown per kind of break")
    parser.add_argument("--replay", metavar="FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.replay:
        return replay(args.replay)
    chosen = [c for c in args.categories.split(",") if c]
    unknown = set(chosen) - set(SHARES)
    if unknown:
        parser.error(f"unknown categories: {', '.join(sorted(unknown))}")

    sys.path.insert(0, str(TESTS))  # to read back a dead worker's input (tests/fuzzing.py's Case)
    pending = _plan(args, chosen)
    started = time.perf_counter()
    codes: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    breaks: dict[str, list[tuple[str, str, str, str]]] = collections.defaultdict(list)
    engines: collections.Counter[str] = collections.Counter()
    busy = {"contract": 0.0, "engines": 0.0}
    """Seconds the workers spent on each part, to project the time of a full run."""
    tasks = len(pending)
    finished = 0
    for attempt in range(1, 6):
        if not pending:
            break
        with ProcessPoolExecutor(max_workers=args.jobs, mp_context=get_context("spawn")) as pool:
            futures = {
                pool.submit(contract_task, category, size, seed)
                if kind == "contract"
                else pool.submit(differential_task, size, seed): (kind, category, size, seed)
                for kind, category, size, seed in pending
            }
            try:
                for future in as_completed(futures):
                    result = future.result()
                    pending.remove(futures[future])
                    finished += 1
                    category = result["category"]
                    busy["engines" if category == "engines" else "contract"] += result["seconds"]
                    if category == "engines":
                        for key in ("files", "sets", "split_files"):
                            engines[key] += result[key]
                    else:
                        codes[category].update(result["codes"])
                    for problem, reproducer, detail in result["breaks"]:
                        breaks[_signature(problem)].append((category, problem, reproducer, detail))
                    inputs = sum(sum(c.values()) for c in codes.values())
                    print(
                        f"\r{finished}/{tasks} tasks · {inputs:,} inputs · {engines['files']:,} files"
                        f" · {sum(len(b) for b in breaks.values())} breaks"
                        f" · {time.perf_counter() - started:.0f} s",
                        end="",
                        file=sys.stderr,
                        flush=True,
                    )
            except BrokenProcessPool:
                for category, (problem, reproducer, detail) in _crash_breaks(_dead_workers(pool)):
                    breaks[_signature(problem)].append((category, problem, reproducer, detail))
                # The unfinished tasks again, on other inputs: the same seed would die again.
                pending = [(k, c, s, seed + 7_919 * attempt) for k, c, s, seed in pending]
    print(file=sys.stderr)
    elapsed = time.perf_counter() - started
    # The workers' inputs in hand and crash dumps served their purpose (breaks/ is kept).
    for stale in [*SAVED.glob("current-*.pkl"), *SAVED.glob("fault-*.txt")]:
        stale.unlink(missing_ok=True)

    inputs = sum(sum(c.values()) for c in codes.values())
    print(f"slopecli fuzz run: seed {args.seed}, {args.jobs} jobs, {elapsed:.1f} s")
    print(f"{'category':<10} {'inputs':>8}   exit codes")
    for category in chosen:
        counter = codes[category]
        shown = ", ".join(f"{k}: {v}" for k, v in sorted(counter.items()))
        print(f"{category:<10} {sum(counter.values()):>8,}   {shown}")
    rate = inputs / elapsed if elapsed else 0.0
    print(f"{'total':<10} {inputs:>8,}   ({rate:.0f} inputs/s, the differential check included)")
    print(
        f"local vs dask: {engines['files']:,} files in {engines['sets']:,} runs"
        f" ({engines['split_files']:,} of them also cut into pieces of a few bytes)"
    )
    per_input = busy["contract"] / inputs if inputs else 0.0
    per_file = busy["engines"] / engines["files"] if engines["files"] else 0.0
    print(
        f"worker time: {per_input * 1e3:.1f} ms per input, {per_file * 1e3:.1f} ms per file compared;"
        f" a full run (--inputs 100000 --files 5000) on {args.jobs} jobs: about"
        f" {(100_000 * per_input + 5_000 * per_file) / args.jobs / 60:.0f} min"
    )
    if pending:
        print(f"{len(pending)} tasks never finished: their workers kept dying")
    count = sum(len(b) for b in breaks.values())
    if not count and not pending:
        print("no contract break, no difference between the engines")
        return 0
    print(f"\n{count} breaks of {len(breaks)} kinds:")
    for signature, items in sorted(breaks.items(), key=lambda kv: -len(kv[1])):
        categories = collections.Counter(item[0] for item in items)
        print(f"\n=== {len(items)}× {signature}  ({', '.join(f'{k} {v}' for k, v in categories.items())})")
        for category, problem, reproducer, detail in items[: args.show]:
            print(f"--- {category}: " + "\n    ".join(line[:700] for line in problem.splitlines()[:6]))
            print(reproducer)
            print("# " + detail.replace("\n", "\n# "))
    return 1


if __name__ == "__main__":
    sys.exit(main())
