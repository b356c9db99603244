"""Generate the benchmark's data into bench/data/, deterministically and in constant memory.

Three datasets, each a plain CSV with a header ``x1,...,xk,target``:

* ``wide``:  1,000,000 rows x 10 features (about 100 MB);
* ``long``:  10,000,000 rows x 3 features (about 390 MB);
* ``small``: 1,000 files of 100 rows x 10 features (about 10 KB each), in one folder.

Features are normal with a per-column location and scale and keep 7 significant digits; the target
is a fixed linear function of them plus noise, with 8 significant digits: numbers as a sensor or a
spreadsheet export would give them, not ``0.5`` or 17-digit noise. Rows are generated and written
one block at a time, so generation needs a few MB whatever the file's size. A JSON marker next to
each dataset records what was asked for and the bytes written: a dataset whose marker and size
match is not generated again.

Usage: python bench/make_data.py [--quick] [--out DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

GENERATOR_VERSION = 2
SEED = 20240611
BLOCK_ROWS = 200_000
DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Spec:
    """One dataset: ``files`` CSV files of ``rows`` rows and ``features`` feature columns each."""

    name: str
    rows: int
    features: int
    files: int = 1
    seed: int = SEED

    @property
    def path(self) -> str:
        """The file (one file) or folder (many files), relative to the data directory."""
        stem = f"{self.name}-{self.rows}x{self.features}"
        return f"{stem}-{self.files}files" if self.files > 1 else f"{stem}.csv"


FULL = {
    "wide": Spec("wide", 1_000_000, 10),
    "long": Spec("long", 10_000_000, 3),
    "small": Spec("small", 100, 10, files=1_000),
}
QUICK = {
    "wide": Spec("wide", 100_000, 10),
    "long": Spec("long", 1_000_000, 3),
    "small": Spec("small", 100, 10, files=100),
}


def weights(features: int) -> list[float]:
    """The weights the benchmark evaluates: fixed, and not the ones the data was made with."""
    return [round(0.25 * (i % 5) - 0.5, 2) for i in range(features)]


def round_significant(values: np.ndarray, digits: int) -> np.ndarray:
    """``values`` rounded to ``digits`` significant digits, as the double nearest that decimal.

    Dividing an integer by an exact power of ten rounds once, so the shortest text form of each
    result is the rounded decimal itself (``12.3457``, not ``12.345700000000001``).
    """
    with np.errstate(divide="ignore"):
        exponent = np.floor(np.log10(np.abs(values)))
    exponent[~np.isfinite(exponent)] = 0
    decimals = (digits - 1 - exponent).astype(np.int64)
    scale = 10.0 ** np.abs(decimals)
    rounded: np.ndarray = np.where(
        decimals >= 0, np.round(values * scale) / scale, np.round(values / scale) * scale
    )
    return rounded


def write_csv(path: Path, rows: int, features: int, rng: np.random.Generator) -> int:
    """Write ``rows`` generated rows to ``path`` block by block; return the bytes written."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    loc = rng.uniform(-50, 50, features)
    scale = 10.0 ** rng.uniform(-0.5, 1.5, features)
    true_w = rng.uniform(-3, 3, features)
    names = [f"x{i + 1}" for i in range(features)] + ["target"]
    schema = pa.schema([(n, pa.float64()) for n in names])
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as fp:
        fp.write((",".join(names) + "\n").encode())
        options = pacsv.WriteOptions(include_header=False, quoting_style="none")
        writer = pacsv.CSVWriter(fp, schema, write_options=options)
        done = 0
        while done < rows:
            n = min(BLOCK_ROWS, rows - done)
            X = round_significant(loc + scale * rng.standard_normal((n, features)), 7)
            y = round_significant(X @ true_w + rng.normal(0.0, 5.0, n), 8)
            writer.write_table(pa.table([*X.T, y], schema=schema))
            done += n
        writer.close()
    os.replace(tmp, path)
    return path.stat().st_size


def _marker(target: Path) -> Path:
    return target.with_name(target.name.removesuffix(".csv") + ".marker.json")


def _describe(spec: Spec) -> dict[str, object]:
    return {"generator_version": GENERATOR_VERSION, **asdict(spec)}


def _size(target: Path) -> int:
    if target.is_dir():
        return sum(p.stat().st_size for p in target.glob("*.csv"))
    return target.stat().st_size if target.exists() else -1


def ensure(spec: Spec, data_dir: Path = DATA_DIR, log: bool = True) -> Path:
    """The dataset of ``spec`` under ``data_dir``, generated unless an identical one is there."""
    target = data_dir / spec.path
    marker = _marker(target)
    if marker.exists() and target.exists():
        recorded = json.loads(marker.read_text())
        if recorded.get("spec") == _describe(spec) and recorded.get("bytes") == _size(target):
            return target
    if log:
        print(f"generating {target} ...", flush=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    marker.unlink(missing_ok=True)
    rng = np.random.default_rng(spec.seed)
    if spec.files == 1:
        written = write_csv(target, spec.rows, spec.features, rng)
    else:
        target.mkdir(exist_ok=True)
        for stale in target.glob("*.csv"):
            stale.unlink()
        written = sum(
            write_csv(target / f"part-{i:04d}.csv", spec.rows, spec.features, rng) for i in range(spec.files)
        )
    marker.write_text(json.dumps({"spec": _describe(spec), "bytes": written}, indent=2) + "\n")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller datasets, for a smoke run")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="data directory (default: bench/data)")
    parser.add_argument("--json", action="store_true", help="print a JSON manifest of the datasets")
    args = parser.parse_args()
    manifest = {}
    for key, spec in (QUICK if args.quick else FULL).items():
        path = ensure(spec, args.out, log=not args.json)
        manifest[key] = {
            **asdict(spec),
            "path": str(path),
            "bytes": _size(path),
            "weights": ",".join(map(str, weights(spec.features))),
        }
        if not args.json:
            print(f"{path}: {_size(path) / 1e6:.1f} MB")
    if args.json:
        print(json.dumps(manifest, indent=2))


if __name__ == "__main__":
    main()
