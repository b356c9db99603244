"""The README's exit-code table, run row by row.

Every example the table quotes, and every one it names in words, is a command here; a quoted
example without a command here (or a command for an example the table no longer quotes) fails.
"""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import ROOT, SAMPLES, installed_slopecli, invoke, plain_env

POINTS = str(SAMPLES / "points.csv")
W = ("-w", "0,2,1")

# For each exit code: the table's quoted examples (as written there) and the command each stands for.
QUOTED: dict[int, dict[str, tuple[str, ...]]] = {
    0: {"compute samples/points.csv -w 0,2,1": ("compute", POINTS, *W)},
    1: {
        "compute samples/bad.csv -w 0,2,1": ("compute", str(SAMPLES / "bad.csv"), *W),
        "compute samples/points.csv -w 1,2": ("compute", POINTS, "-w", "1,2"),
        "compute missing.csv -w 1": ("compute", "missing.csv", "-w", "1"),
        "compute -x 1e300 -y 0 -w 1e10": ("compute", "-x", "1e300", "-y", "0", "-w", "1e10"),
        "batch": ("batch", POINTS, str(SAMPLES / "bad.csv"), *W),
        "descend": ("descend", POINTS, *W, "--lr", "1", "--steps", "50"),
    },
    2: {
        "--bogus": ("compute", POINTS, *W, "--bogus"),
        "--jobs 0": ("batch", POINTS, *W, "--jobs", "0"),
        "--precision 0": ("compute", POINTS, *W, "--precision", "0"),
        "--lr 0": ("step", POINTS, *W, "--lr", "0"),
        "--tol -1": ("descend", POINTS, *W, "--tol", "-1"),
        "--row 9": ("compute", POINTS, *W, "--row", "9"),
        "--weights 1,abc": ("compute", POINTS, "--weights", "1,abc"),
        "-x 1e999": ("compute", "-x", "1e999", "-y", "0", "-w", "1"),
        "--lr inf": ("step", POINTS, *W, "--lr", "inf"),
        "--target-column": ("compute", *W, "-x", "1,2,3", "-y", "0", "--target-column", "t"),
        "-x": ("compute", *W, "-x", "1,2,3", "-y", "0", "--no-header"),
        "--input": ("compute", POINTS, *W, "--input", "1,2,3", "-y", "0"),
        "--json --format csv": ("compute", POINTS, *W, "--json", "--format", "csv"),
        "--summary --format csv": ("compute", POINTS, *W, "--summary", "--format", "csv"),
        "--scheduler": ("compute", POINTS, *W, "--scheduler", "tcp://127.0.0.1:1"),
        "--engine dask": ("compute", POINTS, *W, "--scheduler", "synchronous"),
        "--row": ("compute", POINTS, *W, "--row", "1", "--json"),
        "batch -": ("batch", "-", *W),
        "--delimiter": ("compute", POINTS, *W, "--delimiter", ";;"),
        "--scheduler tls://host:8786": (
            "batch",
            POINTS,
            *W,
            "--engine",
            "dask",
            "--scheduler",
            "tls://host:8786",
        ),
        "--out": ("batch", POINTS, *W, "--out", "/proc/version/x"),
        "--plot": ("descend", POINTS, *W, "--plot", "/proc/version/x.svg"),
        "--save-weights": ("descend", POINTS, *W, "--save-weights", "/proc/version/w.json"),
    },
    3: {"check": ("check", POINTS, *W, "--rtol", "1e-300", "--atol", "1e-300")},
    130: {"Ctrl-C": ()},  # test_interrupted
    141: {"| head": ()},  # test_a_closed_pipe
    143: {"kill": ()},  # test_interrupted; batch's own: test_batch.test_a_run_killed_mid_write_…
}

# What the table names in words, each with its exit code and command.
IN_WORDS: dict[str, tuple[int, tuple[str, ...]]] = {
    "an empty value": (1, ("compute", "-", "-w", "1", "--json")),
    "ragged rows": (1, ("compute", "-", "-w", "1,1")),
    "a duplicate column": (1, ("compute", "-", "-w", "1,1")),
    "a missing --target-column": (1, ("compute", POINTS, *W, "--target-column", "nope")),
    "no weights": (2, ("compute", POINTS)),
    "no data": (2, ("compute", *W)),
    "standard input as both the data and the weights": (2, ("compute", "-", "--weights-file", "-")),
    "an output path that is empty": (2, ("descend", POINTS, *W, "--plot", "")),
    "an output that is an input of the run": (2, ("batch", "{tmp}", "-w", "1", "--out", "{tmp}")),
}
STDIN = {
    "an empty value": "a,target\n,1\n",
    "ragged rows": "a,b,target\n1,2,3\n1,2\n",
    "a duplicate column": "a,a,target\n1,2,3\n",
}


def _table() -> dict[int, list[str]]:
    """Each row of the README's exit-code table: its code and the examples it quotes."""
    text = (ROOT / "README.md").read_text()
    rows = re.findall(r"^\| (\d+) \| (.*) \|$", text.split("| exit code | meaning |", 1)[1], re.MULTILINE)
    return {
        int(code): [quoted.replace("\\|", "|") for quoted in re.findall(r"`((?:[^`\\]|\\.)+)`", meaning)]
        for code, meaning in rows
    }


def test_the_table_quotes_exactly_the_examples_run_here():
    assert {code: sorted(quoted) for code, quoted in _table().items()} == {
        code: sorted(examples) for code, examples in QUOTED.items()
    }


CASES = [
    (code, quoted, args) for code, examples in QUOTED.items() for quoted, args in examples.items() if args
]


@pytest.mark.parametrize(("code", "args"), [(c, a) for c, _, a in CASES], ids=[q for _, q, _ in CASES])
def test_each_quoted_example_exits_as_the_table_says(code, args):
    run = invoke(*args)
    assert run.exit_code == code, run.stderr
    if code != 0 and args[0] not in ("batch", "descend", "check"):
        # Failures print nothing; batch, descend and check print their findings, then fail.
        assert run.stdout == ""
    assert len(run.stderr.splitlines()) == (0 if code == 0 else 1 + (args[0] == "batch" and code == 1))


@pytest.mark.parametrize(
    ("example", "code", "args"), [(k, *v) for k, v in IN_WORDS.items()], ids=list(IN_WORDS)
)
def test_each_example_in_words_exits_as_the_table_says(tmp_path, example, code, args):
    for name in ("a.csv", "a.slopes.csv"):  # for --out: a.csv's results would overwrite a.slopes.csv
        (tmp_path / name).write_text("a,target\n1,2\n")
    run = invoke(*(arg.format(tmp=tmp_path) for arg in args), input=STDIN.get(example))
    assert (run.exit_code, run.stdout, len(run.stderr.splitlines())) == (code, "", 1), run.stderr


@pytest.mark.parametrize(
    ("sig", "code", "said"),
    [
        (signal.SIGINT, 130, b"slopecli: interrupted\n"),
        # kill: the run ends as the signal ends any process (-15 here, 143 to a shell), silently.
        (signal.SIGTERM, -signal.SIGTERM, b""),
    ],
    ids=["Ctrl-C", "kill"],
)
def test_interrupted(sig, code, said):
    """Ctrl-C or kill once the run is under way (it has printed a row: a fixed sleep would race a
    slow start): exit 130 with one line, or the end kill gives; the rows already streamed stay
    (README: JSON Lines)."""
    proc = subprocess.Popen(
        [installed_slopecli(), "compute", "-", "-w", "1", "--format", "jsonl"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=plain_env(),
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    seen = threading.Event()

    def write_slowly() -> None:
        # A row every 50 ms until one is out: rows come out as later ones arrive (tests/test_stdin.py).
        assert proc.stdin is not None
        proc.stdin.write(b"a,target\n")
        for i in range(600):
            if seen.is_set():
                return
            proc.stdin.write(f"{i},0\n".encode())
            proc.stdin.flush()
            time.sleep(0.05)

    writer = threading.Thread(target=write_slowly)
    writer.start()
    first = proc.stdout.readline()
    seen.set()
    writer.join()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert first.startswith(b'{"kind": "row", "row": 1,')
    assert (proc.returncode, err) == (code, said)


def test_an_output_that_is_the_run_s_standard_output_is_a_usage_error(tmp_path):
    # Named in the table's words; tests/test_outfiles.py tries /dev/stdout and a pipe too.
    out = tmp_path / "out.json"
    with out.open("wb") as stdout:
        done = subprocess.run(
            [installed_slopecli(), "descend", POINTS, *W, "--json", "--save-weights", str(out)],
            stdout=stdout, stderr=subprocess.PIPE, env=plain_env(), timeout=60, check=False,
        )  # fmt: skip
    assert (done.returncode, out.read_bytes(), len(done.stderr.splitlines())) == (2, b"", 1)


@pytest.mark.process_coverage
@pytest.mark.parametrize("fmt", ["table", "jsonl"])
def test_a_closed_pipe(tmp_path: Path, fmt):
    """The reader (`| head -1`) goes away while slopecli still has rows to write: exit 141, silently."""
    path = tmp_path / "many.csv"
    # Several times what a pipe holds (64 KiB): a table row is ~40 bytes, a JSON Lines one ~90.
    path.write_text("a,target\n" + "1,2\n" * (5_000 if fmt == "table" else 20_000))
    args = ["compute", str(path), "-w", "1", "--format", fmt] + (["--all-rows"] if fmt == "table" else [])
    proc = subprocess.Popen(
        [installed_slopecli(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=plain_env()
    )
    with proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.readline()
        proc.stdout.close()
        err = proc.stderr.read()
    assert (proc.wait(timeout=60), err) == (141, b"")


def test_an_output_name_too_long_for_the_file_system_is_a_usage_error_before_any_step(tmp_path):
    name = "a" * 300 + ".svg"
    run = invoke("descend", POINTS, *W, "--plot", str(tmp_path / name), "--format", "jsonl")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr.startswith(
        f"slopecli: error: --plot: {tmp_path / name}: cannot write it: the name is longer"
    )
