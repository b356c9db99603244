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
    python bench/network.py --per-row           # also per-row CSV output (constant memory too)

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


def run(args: list[str], capture: bool = False) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB, and (with ``capture``) stdout of one run of ``slopecli args``."""
    command = [sys.executable, "-m", "slopecli", *args]
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        target = out if capture else subprocess.DEVNULL
        process = subprocess.Popen(command, stdout=target, stderr=subprocess.PIPE)
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


def pairs(linear: list[str], network: list[str], reps: int, rows: int) -> dict[str, object]:
    """``reps`` interleaved pairs: the medians of each command and of the per-pair ratios."""
    figures: dict[str, list[tuple[float, float]]] = {"linear": [], "network": []}
    for rep in range(reps):
        order = ["linear", "network"] if rep % 2 == 0 else ["network", "linear"]
        for name in order:
            wall, rss, _ = run(linear if name == "linear" else network)
            figures[name].append((wall, rss))
    pairs = list(zip(figures["linear"], figures["network"], strict=True))
    report: dict[str, object] = {}
    for name, runs in figures.items():
        seconds = statistics.median(w for w, _ in runs)
        report[name] = {
            "seconds": seconds,
            "rows_per_second": rows / seconds,
            "peak_rss_mib": statistics.median(r for _, r in runs),
        }
    report["rows_per_second_ratio"] = statistics.median(lin[0] / net[0] for lin, net in pairs)
    report["peak_rss_ratio"] = statistics.median(net[1] / lin[1] for lin, net in pairs)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", type=Path, default=BENCH / "data", help="data directory (default: bench/data)"
    )
    parser.add_argument("--reps", type=int, default=7, help="pairs of runs (default 7)")
    parser.add_argument("--quick", action="store_true", help="100k × 10 instead of 1M × 10")
    parser.add_argument(
        "--per-row", action="store_true", help="also every row's values as CSV (--format csv), 3 pairs"
    )
    options = parser.parse_args()
    made = [sys.executable, str(BENCH / "make_data.py"), "--out", str(options.data), "--json"]
    manifest = json.loads(
        subprocess.run(made + ["--quick"] * options.quick, capture_output=True, check=True).stdout
    )
    spec = manifest["wide"]
    data, weights, rows = spec["path"], spec["weights"], spec["rows"]
    report: dict[str, object] = {"file": str(data), "rows": rows, "pairs": options.reps}
    with tempfile.TemporaryDirectory() as folder:
        net = str(network_file(spec["features"], Path(folder)))
        linear = ["compute", str(data), "--weights", weights]
        network = ["compute", str(data), "--network", net]
        _, _, check = run([*network, "--summary", "--json"], capture=True)
        if json.loads(check)["n"] != rows:
            raise SystemExit(f"the network run saw {json.loads(check)['n']} rows, not {rows}")
        report["gradient"] = pairs(
            [*linear, "--summary", "--json"], [*network, "--summary", "--json"], options.reps, rows
        )
        if options.per_row:
            report["per_row_csv"] = pairs([*linear, "-f", "csv"], [*network, "-f", "csv"], 3, rows)
    print(json.dumps(report, indent=2))
    verdict = {True: "pass", False: "FAIL"}
    gradient = report["gradient"]
    assert isinstance(gradient, dict)
    speed, rss = gradient["rows_per_second_ratio"], gradient["peak_rss_ratio"]
    print(f"gradient pass, network ÷ linear rows/s: {speed:.3f} (target ≥ 0.5: {verdict[speed >= 0.5]})")
    print(f"gradient pass, network ÷ linear peak RSS: {rss:.3f} (target ≤ 1.2: {verdict[rss <= 1.2]})")


if __name__ == "__main__":
    main()
