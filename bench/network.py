"""Network benchmark: a 10-16-1 ReLU network's gradient pass against the linear model's, same file.

Issue 11's targets, on the 1M × 10 CSV of ``bench/make_data.py`` (``wide``):

* the network's gradient pass runs at **≥ 0.5×** the linear path's rows/s;
* it streams in constant memory: peak RSS **≤ 1.2×** the linear path's.

Both commands are the installed ``slopecli`` of this interpreter, with the file's whole gradient
and no per-row output (``compute FILE --summary --json``, with ``--weights`` or ``--network``).
They run in pairs, in alternating order, ``--reps`` times; the report gives the median of each
and the median of the per-pair ratios. Peak RSS comes from :func:`os.wait4` (``ru_maxrss``), as in
``bench/bigdata.py``. The machine may be shared: run it on a quiet one for figures worth quoting.

Usage::

    python bench/network.py                     # 1M × 10, 7 pairs (about a minute on 2 cores)
    python bench/network.py --data /tmp/d --reps 11
    python bench/network.py --quick             # 100k × 10, a smoke run

This script needs only the standard library: the data is made by ``bench/make_data.py`` in a
child process, so that this process stays small (a forked child's peak RSS counts the pages it
shares with its parent until it execs, so a large parent would inflate both figures alike).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
HIDDEN = 16
SEED = 11


def network_file(features: int, folder: Path) -> Path:
    """A 10-16-1 ReLU network with small random weights and biases (fixed seed)."""
    rng = random.Random(SEED)

    def normal(scale: float, n: int) -> list[float]:
        return [round(rng.gauss(0, scale), 4) for _ in range(n)]

    layers = [
        {
            "weights": [normal(0.3, features) for _ in range(HIDDEN)],
            "bias": normal(0.1, HIDDEN),
            "activation": "relu",
        },
        {"weights": [normal(0.3, HIDDEN)], "bias": [0.0], "activation": "identity"},
    ]
    path = folder / "net-10-16-1.json"
    path.write_text(json.dumps({"layers": layers}))
    return path


def run(args: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB, and stdout of one run of ``slopecli args``."""
    command = [sys.executable, "-m", "slopecli", *args]
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise SystemExit(
                f"{' '.join(command)} failed: {process.stderr.read().decode() if process.stderr else ''}"
            )
        out.seek(0)
        text = out.read().decode()
    return wall, usage.ru_maxrss / 1024, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", type=Path, default=BENCH / "data", help="data directory (default: bench/data)"
    )
    parser.add_argument("--reps", type=int, default=7, help="pairs of runs (default 7)")
    parser.add_argument("--quick", action="store_true", help="100k × 10 instead of 1M × 10")
    options = parser.parse_args()
    made = [sys.executable, str(BENCH / "make_data.py"), "--out", str(options.data), "--json"]
    manifest = json.loads(
        subprocess.run(made + ["--quick"] * options.quick, capture_output=True, check=True).stdout
    )
    spec = manifest["wide"]
    data, weights = spec["path"], spec["weights"]
    with tempfile.TemporaryDirectory() as folder:
        net = network_file(spec["features"], Path(folder))
        linear_args = ["compute", str(data), "--weights", weights, "--summary", "--json"]
        network_args = ["compute", str(data), "--network", str(net), "--summary", "--json"]
        _, _, check = run(network_args)
        if json.loads(check)["n"] != spec["rows"]:
            raise SystemExit(f"the network run saw {json.loads(check)['n']} rows, not {spec['rows']}")
        figures: dict[str, list[tuple[float, float]]] = {"linear": [], "network": []}
        for rep in range(options.reps):
            order = ["linear", "network"] if rep % 2 == 0 else ["network", "linear"]
            for name in order:
                wall, rss, _ = run(linear_args if name == "linear" else network_args)
                figures[name].append((wall, rss))
    speeds = [lin[0] / net_[0] for lin, net_ in zip(figures["linear"], figures["network"], strict=True)]
    memory = [net_[1] / lin[1] for lin, net_ in zip(figures["linear"], figures["network"], strict=True)]
    rows = spec["rows"]
    report = {
        "file": str(data),
        "rows": rows,
        "pairs": options.reps,
        "linear": {
            "seconds": statistics.median(w for w, _ in figures["linear"]),
            "peak_rss_mib": statistics.median(r for _, r in figures["linear"]),
        },
        "network": {
            "seconds": statistics.median(w for w, _ in figures["network"]),
            "peak_rss_mib": statistics.median(r for _, r in figures["network"]),
        },
        "rows_per_second_ratio": statistics.median(speeds),
        "peak_rss_ratio": statistics.median(memory),
    }
    for name in ("linear", "network"):
        report[name]["rows_per_second"] = rows / report[name]["seconds"]
    verdict = {True: "pass", False: "FAIL"}
    speed, rss = report["rows_per_second_ratio"], report["peak_rss_ratio"]
    print(json.dumps(report, indent=2))
    print(f"network ÷ linear rows/s: {speed:.3f} (target ≥ 0.5: {verdict[speed >= 0.5]})")
    print(f"network ÷ linear peak RSS: {rss:.3f} (target ≤ 1.2: {verdict[rss <= 1.2]})")


if __name__ == "__main__":
    main()
