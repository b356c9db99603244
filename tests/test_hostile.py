"""Hostile input: each reproducer of a traceback, a hang or a silent wrong number, now one line on
stderr naming what is wrong, a documented exit code and nothing on stdout."""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pytest

from conftest import ROOT, SAMPLES, installed_slopecli, invoke, plain_env, run_installed

POINTS = str(SAMPLES / "points.csv")


@pytest.fixture
def slopecli():
    """In process: the cases that need the installed command (closed stdin, a full disk, pipes,
    file names that are not UTF-8) start it themselves, and conftest's fixture runs the rest of
    the suite both ways."""
    return invoke


def assert_fails(run, code: int, message: str) -> None:
    assert (run.exit_code, run.stdout) == (code, "")
    assert run.stderr == f"slopecli: error: {message}\n"


def test_a_non_ascii_delimiter_is_refused(slopecli):
    run = slopecli("compute", POINTS, "-w", "0,2,1", "-d", "é")
    assert_fails(run, 2, "--delimiter: 'é' is not an ASCII character; give one such as ';' or '|', or 'tab'")


def test_a_deeply_nested_weights_file_is_refused(slopecli, tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000)
    run = slopecli("compute", POINTS, "--weights-file", str(deep))
    assert_fails(
        run,
        1,
        f"--weights-file {deep}: weights must be a flat JSON array of numbers; this one is nested too deeply",
    )


@pytest.mark.parametrize("digit", ["１", "٣", "߁"])
def test_unicode_digits_are_not_numbers_on_flags_as_in_files(slopecli, digit, tmp_path):
    run = slopecli("compute", "-w", "1", "-x", digit, "-y", "0")
    assert_fails(run, 2, f"--input 1: item 1 of '{digit}': '{digit}' is not a number")
    data = tmp_path / "d.csv"
    data.write_text(f"a,target\n{digit},0\n")
    run = slopecli("compute", str(data), "-w", "1")
    assert_fails(run, 1, f"{data}:2:1: column 'a': '{digit}' is not a number")


@pytest.mark.parametrize(
    ("args", "flag", "text"),
    [
        (("step", "--lr", "1_0"), "'--learning-rate' / '--lr'", "1_0"),  # float() reads 10
        (("step", "--lr", "٣"), "'--learning-rate' / '--lr'", "٣"),  # float() reads 3
        (("descend", "--tol", "１"), "'--tol'", "１"),
        (("check", "--rtol", "1_0"), "'--rtol'", "1_0"),
        (("check", "--atol", "٣"), "'--atol'", "٣"),
        (("compute", "--timeout", "1_0"), "'--timeout'", "1_0"),
    ],
)
def test_number_flags_read_numbers_as_files_do(slopecli, args, flag, text):
    command, *rest = args
    run = slopecli(command, "-w", "1", "-x", "1", "-y", "0", *rest)
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        f"slopecli {command}: usage error: Invalid value for {flag}: {text!r} is not a number"
        f" (see 'slopecli {command} --help')\n"
    )


def test_a_timeout_must_be_positive(slopecli):
    run = slopecli(
        "compute", str(SAMPLES / "points.csv"), "-w", "0,2,1", "--engine", "dask", "--timeout", "0"
    )
    assert_fails(run, 2, "--timeout: expected a positive number of seconds, got 0")


def run_raw(*args: str, **kwargs) -> subprocess.CompletedProcess:
    env = plain_env()
    return subprocess.run(
        [installed_slopecli(), *args],
        capture_output=False,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
        **kwargs,
    )


@pytest.mark.process_coverage
def test_closed_stdin_is_named(tmp_path):
    err = tmp_path / "err"
    with open(err, "wb") as stderr:
        done = run_raw(
            "compute",
            "-",
            "-w",
            "0,2,1",
            stdout=subprocess.PIPE,
            stderr=stderr,
            pass_fds=(),
            preexec_fn=lambda: os.close(0),
        )
    assert (done.returncode, done.stdout) == (1, b"")
    assert (
        err.read_text() == "slopecli: error: -: standard input is closed; pipe the data in, or give a FILE\n"
    )


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("fmt", ["json", "table", "csv"])
def test_a_full_disk_on_stdout_is_one_line(fmt):
    with open("/dev/full", "wb") as full:
        done = run_raw("compute", POINTS, "-w", "0,2,1", "--format", fmt, stdout=full, stderr=subprocess.PIPE)
    assert done.returncode == 1
    assert done.stderr.decode() == "slopecli: error: cannot write the output: No space left on device\n"


@pytest.fixture
def parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    def write(name: str, **columns) -> str:
        path = tmp_path / name
        pq.write_table(pa.table(columns), path)
        return str(path)

    return write


def test_a_null_in_parquet_is_a_missing_value_with_its_row(slopecli, parquet):
    path = parquet("n.parquet", a=[1.0, None, 3.0], target=[0.0, 1.0, 2.0])
    run = slopecli("compute", path, "-w", "1")
    assert_fails(
        run,
        1,
        f"{path}: data row 2: column 'a': a missing value (null); every feature and target needs a number",
    )


def test_parquet_integers_beyond_2_to_the_53_round_as_csv_digits_do(slopecli, parquet, tmp_path):
    big = 2**53 + 1
    path = parquet("big.parquet", a=[1, big], target=[0, 1])
    csv = tmp_path / "big.csv"
    csv.write_text(f"a,target\n1,0\n{big},1\n")
    from_parquet = slopecli("compute", path, "-w", "1", "--json", "--summary").json()
    from_csv = slopecli("compute", str(csv), "-w", "1", "--json", "--summary").json()
    assert from_parquet == from_csv | {} and from_parquet["mse"] == ((1 - 0) ** 2 + (float(big) - 1) ** 2) / 2


def test_an_unreadable_parquet_page_is_one_line(slopecli, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "c.parquet"
    values = np.random.default_rng(1).normal(size=50_000)
    pq.write_table(pa.table({"a": values, "target": np.zeros(50_000)}), path, compression="zstd")
    start = pq.ParquetFile(path).metadata.row_group(0).column(0).data_page_offset + 100
    data = bytearray(path.read_bytes())
    data[start : start + 64] = bytes(b ^ 0xFF for b in data[start : start + 64])
    path.write_bytes(bytes(data))
    run = slopecli("compute", str(path), "-w", "1")
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr.startswith(
        f"slopecli: error: {path}: cannot read the Parquet file, from data row 1 on: "
    )
    assert run.stderr.count("\n") == 1


def test_a_symlink_loop_in_batch_fails_that_file_only(slopecli, tmp_path):
    (tmp_path / "a.csv").symlink_to(tmp_path / "b.csv")
    (tmp_path / "b.csv").symlink_to(tmp_path / "a.csv")
    run = slopecli("batch", str(tmp_path / "a.csv"), POINTS, "-w", "0,2,1", "--format", "jsonl")
    assert run.exit_code == 1
    lines = run.jsonl()
    assert lines[0]["error"] == f"{tmp_path / 'a.csv'}: cannot open it: Too many levels of symbolic links"
    assert lines[1]["ok"] is True
    assert run.stderr.splitlines()[-1] == "slopecli: error: batch: 1 of 2 files failed"


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_file_name_that_is_not_utf8_is_written_as_an_escape(tmp_path, fmt):
    name = os.fsencode(tmp_path) + b"/bad\xff.csv"
    with open(name, "wb") as fp:
        fp.write(b"a,target\n1,0\n")
    env = plain_env()
    done = subprocess.run(
        [installed_slopecli(), "batch", name, "-w", "2", "--format", fmt],
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    if fmt == "json":
        import json

        record = json.loads(done.stdout)["files"][0]
        assert os.fsencode(record["file"]) == name
    else:
        assert done.stdout.decode().splitlines()[1].startswith(f"{tmp_path}/bad\\udcff.csv,true,1,4,")


def test_dask_refuses_stdin_as_usage(slopecli):
    pytest.importorskip("distributed")
    run = slopecli(
        "compute", "-", "-w", "1", "--engine", "dask", "--scheduler", "synchronous", input="a,target\n1,2\n"
    )
    assert_fails(
        run, 2, "--engine dask reads files that its workers can open, not stdin; use the local engine"
    )


def test_save_weights_and_plot_on_one_path_is_a_usage_error(slopecli, tmp_path):
    same = tmp_path / "same.svg"
    run = slopecli(
        "descend", POINTS, "-w", "0,2,1", "--steps", "3", "--save-weights", str(same), "--plot", str(same)
    )
    assert_fails(run, 2, f"--save-weights and --plot: both name {same}; give each its own file")
    assert not same.exists()


def test_a_huge_but_finite_gradient_has_a_finite_norm(slopecli):
    run = slopecli("descend", "-x", "1e150", "-y", "0", "-w", "1", "--steps", "0", "--format", "csv")
    assert (run.exit_code, run.stderr) == (0, "")
    step = run.stdout.splitlines()[1].split(",")
    assert [float(v) for v in step] == pytest.approx([0.0, 1e300, 2e300, 1.0], rel=1e-15)


def test_a_diverging_descent_prints_one_line_and_no_table(slopecli):
    run = slopecli("descend", POINTS, "-w", "0,2,1", "--lr", "1", "--steps", "30")
    assert_fails(
        run,
        1,
        "diverged at step 5: the MSE grew for 5 steps in a row; try a smaller --learning-rate, e.g."
        " 0.0038: on this data, rates of 0.00761 and above do not converge",
    )


def test_a_descent_that_ends_above_its_start_fails_too(slopecli):
    # Too few steps for 5 rises in a row: it would have ended "done", 19 times worse than it began.
    run = slopecli("descend", POINTS, "-w", "0,2,1", "--steps", "3", "--json")
    assert_fails(
        run,
        1,
        "the MSE ended above where it started (349.723 at step 0, 6526.83 at step 3): a step overshot;"
        " try a smaller --learning-rate, e.g. 0.0038: on this data, rates of 0.00761 and above do not converge",
    )


def test_a_network_step_onto_a_flat_region_fails_rather_than_converges(slopecli):
    # 4 → 7744 → 49, 49, …: every ReLU off, the gradient zero; no run of rises, and a "converged"
    # network 12 times worse than the one it started from.
    network = str(SAMPLES / "course-network.json")
    run = slopecli("descend", "--network", network, "-x", "2,3", "-y", "7", "--lr", "0.5", "--steps", "20")
    assert_fails(
        run,
        1,
        "the loss ended above where it started (4 at step 0, 49 at step 20): a step overshot; try a"
        " smaller --learning-rate, e.g. 0.05",
    )
    done = slopecli("descend", "--network", network, "-x", "2,3", "-y", "7", "--lr", "0.01", "--steps", "20")
    assert done.exit_code == 0, done.stderr


@pytest.mark.process_coverage
@pytest.mark.parametrize("count", [1, 2])
def test_batch_reads_process_substitutions(count, tmp_path):
    """`batch <(cat a.csv)` once failed with "Illegal seek" (progress asked a pipe its position)."""
    data = tmp_path / "a.csv"
    data.write_text("a,target\n1,2\n")
    pipes = " ".join([f"<(cat {data})"] * count)
    env = plain_env()
    done = subprocess.run(
        ["bash", "-c", f"{installed_slopecli()} batch {pipes} -w 1 --format jsonl"],
        capture_output=True, text=True, env=env, timeout=60, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line.get("mse") for line in lines[:-1]] == [1.0] * count


def test_batch_refuses_stdin_before_writing_anything(slopecli):
    run = slopecli("batch", "-", "-w", "1", "--format", "csv", input="a,target\n1,2\n")
    assert_fails(
        run,
        2,
        "batch reads named files, not stdin: pipe one stream to 'slopecli compute -', or list paths with"
        " --files-from -",
    )


def test_a_warning_is_never_a_second_line_of_a_failure(slopecli, tmp_path):
    """The header-looks-like-data warning is said after a run that succeeded, never before an error."""
    data = tmp_path / "numbers.csv"
    data.write_text("1,2\n3,4\n")
    run = slopecli("compute", str(data), "-w", "1,1")
    assert_fails(run, 1, f"--weights: 2 weights, but {data} has 1 feature (1)")
    ok = slopecli("compute", str(data), "-w", "1", "--json")
    assert ok.exit_code == 0
    assert ok.stderr == (
        f"slopecli: warning: {data}:1: the header row looks like data (every field is a number); if the file"
        " has no header, add --no-header\n"
    )


def test_a_header_only_file_is_one_line_on_the_dask_engine(slopecli, tmp_path):
    pytest.importorskip("distributed")
    data = tmp_path / "h.csv"
    data.write_text("a,target\n")
    run = slopecli("compute", str(data), "-w", "1", "--engine", "dask", "--scheduler", "synchronous")
    assert_fails(run, 1, f"{data}: the file has a header but no data rows")


def test_a_parquet_column_name_with_spaces_around_it_is_read(slopecli, parquet):
    path = parquet("s.parquet", **{" a": [1.0, 2.0], "target ": [1.0, 2.0]})
    run = slopecli("compute", path, "-w", "1", "--json", "--summary")
    assert run.exit_code == 0, run.stderr
    assert (run.json()["features"], run.json()["mse"]) == (["a"], 0.0)


@pytest.mark.parametrize("space", ["\u00a0", "\u2003", "\v", "\f"])
def test_only_spaces_and_tabs_may_surround_a_number_on_flags_as_in_files(slopecli, space, tmp_path):
    run = slopecli("compute", "-w", "1", "-x", f"{space}1", "-y", "0")
    assert_fails(run, 2, f"--input 1: item 1 of {space + '1'!r}: {space + '1'!r} is not a number")
    data = tmp_path / "d.csv"
    data.write_text(f"a,target\n{space}1,0\n")
    run = slopecli("compute", str(data), "-w", "1")
    assert_fails(run, 1, f"{data}:2:1: column 'a': {space + '1'!r} is not a number")


def test_a_carriage_return_in_a_message_does_not_split_the_line(slopecli, tmp_path):
    data = tmp_path / "d.csv"
    data.write_bytes(b'"a\rb",target\n1,2\n')
    run = slopecli("compute", str(data), "-w", "1", "--features", "zz")
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr.count("\n") == 1 and "\r" not in run.stderr


def test_a_subnormal_check_tolerance_is_shown_not_divided_by_zero(slopecli):
    """Found by bench/fuzz.py: one significant digit of 5e-324 was computed through 10**-324 (0)."""
    run = slopecli("check", "-w", "0", "-x", "0", "-y", "-0.966", "--rtol", "5e-324", "--atol", "5e-324")
    assert (run.exit_code, run.stderr) == (0, "")
    assert "4.9e-324" in run.stdout


def test_a_parquet_column_name_that_is_not_utf8_is_one_line(slopecli, tmp_path):
    """Found by bench/fuzz.py: pyarrow decodes the names in the file's footer, and raised."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table({"zqzq": [1.0], "target": [2.0]}), buffer, store_schema=False)
    path = tmp_path / "names.parquet"
    path.write_bytes(buffer.getvalue().replace(b"zqzq", b"\xe5qzq"))  # same length: the footer holds
    run = slopecli("compute", str(path), "-w", "1")
    assert_fails(
        run,
        1,
        f"{path}: a column name is not UTF-8 (byte 0xe5); Parquet names columns in UTF-8: rewrite the file's schema",
    )


# A header name (or a name typed on a flag) may be megabytes long: a message quotes its first 40
# characters and says how long it is, and a list of names shows a few, each cut, and how many more.
HUGE = "n" * 1_000_000
QUOTED = f"{'n' * 40!r}… (1,000,000 characters)"
CUT = "n" * 40 + "…"


@pytest.mark.parametrize(
    ("text", "args", "code", "message"),
    [
        (f"{HUGE},{HUGE},target\n1,2,3\n", ("-w", "1,1"), 1,
         f"{{f}}:1: column name {QUOTED} appears more than once (columns 1 and 2)"),
        (f"{HUGE},b,target\n1,2,3\n", ("-w", "1,2,3"), 1, f"--weights: 3 weights, but {{f}} has 2 features ({CUT}, b)"),
        (f"{HUGE},b,target\n1,2,3\n", ("-w", "1", "--features", "zz"), 1,
         f"{{f}}: --features: no column named 'zz' (columns: {CUT}, b, target)"),
        (f"{HUGE},b,c\n1,2,3\n", ("-w", "1,1", "--target-column", "zz"), 1,
         f"{{f}}: --target-column: no column named 'zz' (columns: {CUT}, b, c)"),
        ("a,b,target\n1,2,3\n", ("-w", "1", "--features", HUGE), 1,
         f"{{f}}: --features: no column named {QUOTED} (columns: a, b, target)"),
        (f"{HUGE},target\nx,1\n", ("-w", "1"), 1,
         f"{{f}}:2:1: column {QUOTED}: 'x' is not a number; if {QUOTED} is not a feature, leave it out with --features"),
        (f"{HUGE}\n1\n", ("-w", "1"), 1, f"{{f}}: no feature columns: the file has only the target column {QUOTED}"),
        (f"{HUGE},b,target\n1,2,3\n", ("-w", "1,1", "--features", f"b,{HUGE}", "--target-column", HUGE), 1,
         f"{{f}}: --features: {QUOTED} is the target column, not a feature"),
        (",".join(f"c{i}" for i in range(1, 21)) + "\n" + "1," * 19 + "1\n", ("-w", "1", "--features", "zz"), 1,
         "{f}: --features: no column named 'zz' (columns: c1, c2, c3, c4, c5, c6, c7, c8, … and 12 more)"),
    ],
    ids=["duplicate", "weights count", "missing feature", "missing target", "long flag value", "a value's column",
         "only a target", "target as a feature", "many columns"],
)  # fmt: skip
def test_long_names_are_cut_in_messages(slopecli, tmp_path, text, args, code, message):
    data = tmp_path / "d.csv"
    data.write_text(text)
    run = slopecli("compute", str(data), *args)
    assert_fails(run, code, message.format(f=data))


def test_names_a_weights_file_was_saved_for_are_cut_in_messages(slopecli, tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("a,b,target\n1,2,3\n")
    weights = tmp_path / "w.json"
    weights.write_text(json.dumps({"weights": [1, 2], "features": [HUGE, "b"]}))
    run = slopecli("compute", str(data), "--weights-file", str(weights))
    assert_fails(
        run,
        1,
        f"{data}: features (a, b) differ from ({CUT}, b) that --weights-file {weights} was saved for;"
        " the weights follow features by name",
    )
    run = slopecli("compute", str(data), "--weights-file", str(weights), "--features", "a,b")
    assert_fails(
        run,
        2,
        f"--weights-file {weights}: saved for features ({CUT}, b), but --features names (a, b);"
        ' remove its "features" to apply them anyway',
    )


def test_a_long_parquet_column_name_is_cut_in_messages(slopecli, parquet):
    path = parquet("s.parquet", **{HUGE: ["x"], "target": [1.0]})
    assert_fails(
        slopecli("compute", path, "-w", "1"),
        1,
        f"{path}: column {QUOTED} holds string, not numbers; store it as integers, floats or decimals"
        " (pandas: df[column].astype(float)), or leave it out with --features",
    )


# ---------------------------------------------------------------------------------------------
# Third hostile review: flags that did nothing, a weights file's keys and order, standard input
# named twice, messages that named the wrong thing, and Parquet inside gzip.

NET = '{"layers": [{"weights": [[1, 2]]}]}'
FILE_ONLY = {
    "features": (("--features", "a"), "--features"),
    "target-column": (("--target-column", "t"), "--target-column"),
    "no-header": (("--no-header",), "--no-header"),
    "delimiter": (("-d", ";"), "--delimiter"),
}


def file_only(flag: str) -> str:
    return f"{flag}: applies to a data FILE only, but the rows come from --input/--target; drop it, or give a FILE"


FILE_ONLY_LINEAR = {k: v for k, v in FILE_ONLY.items() if k != "features"}


@pytest.mark.parametrize(("flags", "flag"), list(FILE_ONLY_LINEAR.values()), ids=list(FILE_ONLY_LINEAR))
@pytest.mark.parametrize("command", ["compute", "step", "descend", "check"])
def test_a_flag_for_files_is_refused_with_rows_typed_as_flags(slopecli, command, flags, flag):
    assert_fails(slopecli(command, "-w", "1", "-x", "1", "-y", "1", *flags), 2, file_only(flag))


def test_features_name_the_columns_of_rows_typed_as_flags_so_saved_weights_chain(slopecli, tmp_path):
    # A weights file saved from a file's columns is used on rows typed as flags: --features names
    # them (the review found 'compute -x … --weights-file w.json --features a,b' refused).
    weights = tmp_path / "w.json"
    weights.write_text('{"weights": [1, 2], "features": ["a", "b"]}')
    run = slopecli(
        "compute",
        "-x",
        "1,2",
        "-y",
        "3",
        "--weights-file",
        str(weights),
        "--features",
        "a,b",
        "--json",
        "--summary",
    )
    assert run.exit_code == 0, run.stderr
    assert json.loads(run.stdout)["features"] == ["a", "b"]
    wrong = slopecli("compute", "-x", "1,2", "-y", "3", "-w", "1,2", "--features", "a,b,c")
    assert_fails(wrong, 2, "--features names 3 columns, but --input has 2 values")


@pytest.mark.parametrize(("flags", "flag"), list(FILE_ONLY.values()), ids=list(FILE_ONLY))
@pytest.mark.parametrize("command", ["compute", "step", "descend", "check"])
def test_a_flag_for_files_is_refused_with_rows_typed_as_flags_for_a_network(
    slopecli, tmp_path, command, flags, flag
):
    network = tmp_path / "net.json"
    network.write_text(NET)
    run = slopecli(command, "--network", str(network), "-x", "1,2", "-y", "1", *flags)
    assert_fails(run, 2, file_only(flag))


def test_a_flag_for_files_is_still_read_with_a_file(slopecli, tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("a;b;t\n1;2;3\n")
    run = slopecli(
        "compute", str(data), "-w", "1", "--features", "b", "--target-column", "t", "-d", ";", "--json"
    )
    assert run.exit_code == 0, run.stderr
    assert run.json()["features"] == ["b"]


def test_a_weights_file_saved_for_another_order_is_applied_by_name(slopecli, tmp_path):
    weights = tmp_path / "w.json"
    weights.write_text('{"weights": [0, 2, 1], "features": ["age", "rooms", "size"]}')
    saved = slopecli("compute", POINTS, "--weights-file", str(weights), "--json", "--summary")
    assert saved.exit_code == 0, saved.stderr
    named = slopecli("compute", POINTS, "-w", "0,2,1", "--features", "age,rooms,size", "--json", "--summary")
    assert saved.json() == named.json()
    assert saved.json()["features"] == ["age", "rooms", "size"]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ('{"weights": [0, 2, 1], "extra": 1}', "unknown key 'extra'"),
        ('{"weights": [0, 2, 1], "feature": ["size", "rooms", "age"]}', "unknown key 'feature'"),
        ('{"weights": [0, 2, 1], "features": ["size", "rooms", "age"], "mse": 1}', "unknown key 'mse'"),
        ('{"weights": [0, 2, 1], "' + "k" * 100 + '": 1}', f"unknown key {'k' * 40!r}… (100 characters)"),
        ('{"weights": [0, 2, 1], "features": "size,rooms,age"}', '"features" must be a list of column names, as --save-weights writes it'),
        ('{"weights": [0, 2, 1], "features": ["size", 2, "age"]}', '"features" must be a list of column names, as --save-weights writes it'),
        ('{"weights": [0, 2, 1], "features": ["size", "rooms"]}', '"features" names 2 columns, but the file has 3 weights'),
    ],
    ids=["extra", "a typo", "beside features", "a long key", "features a string", "a name a number", "fewer names"],
)  # fmt: skip
def test_a_weights_file_refuses_what_it_would_ignore(slopecli, tmp_path, document, message):
    weights = tmp_path / "w.json"
    weights.write_text(document)
    run = slopecli("compute", POINTS, "--weights-file", str(weights))
    if "unknown key" in message:
        message += ' (a weights file has "weights" and "features")'
    assert_fails(run, 1, f"--weights-file {weights}: {message}")


def test_a_huge_integer_beside_the_weights_is_an_unknown_key_not_a_traceback(slopecli, tmp_path):
    weights = tmp_path / "w.json"
    weights.write_text('{"weights": [0, 2, 1], "note": 1' + "0" * 5000 + "}")
    run = slopecli("compute", POINTS, "--weights-file", str(weights))
    assert_fails(
        run,
        1,
        f'--weights-file {weights}: unknown key \'note\' (a weights file has "weights" and "features")',
    )


@pytest.mark.parametrize(("flag", "what"), [("--weights-file", "the weights"), ("--network", "the network")])
@pytest.mark.parametrize("data", [POINTS, "-"], ids=["a file", "stdin"])
def test_a_weights_or_network_file_is_not_read_from_dash(slopecli, flag, what, data):
    run = slopecli("compute", data, flag, "-", input="0,2,1\n")
    assert_fails(
        run, 2, f"{flag} -: give {what} as a file; '-' reads standard input only as the data (FILE -)"
    )


@pytest.mark.process_coverage
@pytest.mark.parametrize(("flag", "what"), [("--weights-file", "the weights"), ("--network", "the network")])
@pytest.mark.parametrize("stdin", ["a pipe", "a file"])
def test_a_weights_or_network_file_that_is_the_data_on_stdin_is_refused(tmp_path, flag, what, stdin):
    data = tmp_path / "points.csv"
    data.write_text("a,b,target\n1,2,3\n")
    for name in ("/dev/stdin", str(data)):
        with data.open("rb") as fp:
            source = {"input": fp.read()} if stdin == "a pipe" else {"stdin": fp}
            done = run_raw(
                "compute", "-", flag, name, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **source
            )
        if stdin == "a pipe" and name != "/dev/stdin":
            assert done.returncode == 1  # the data file named, the pipe its copy: not the same file
            continue
        assert (done.returncode, done.stdout) == (2, b"")
        assert done.stderr.decode() == (
            f"slopecli: error: {flag} {name}: it is the run's standard input, which holds the data"
            f" (FILE -); give {what} as a file of its own\n"
        )


def test_a_weights_file_on_stdin_is_read_when_the_data_is_a_file(tmp_path):
    done = run_raw(
        "compute", POINTS, "--weights-file", "/dev/stdin", "--json", "--summary",
        input=b"0,2,1\n", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["mse"] == 349.723


@pytest.mark.parametrize(
    ("command", "flag", "name"),
    [
        ("descend", "--plot", "'--plot'"),
        ("descend", "--save-weights", "'--save-weights'"),
        ("step", "--save-network", "'--save-network'"),
        ("compute", "--draw", "'--draw'"),
    ],
)
def test_an_empty_output_path_is_a_usage_error(slopecli, tmp_path, command, flag, name):
    network = tmp_path / "net.json"
    network.write_text(NET)
    model = (
        ("--network", str(network), "-x", "1,2", "-y", "1") if flag in ("--save-network", "--draw") else ()
    )
    data = () if model else (POINTS, "-w", "0,2,1")
    run = slopecli(command, *data, *model, flag, "")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        f"slopecli {command}: usage error: Invalid value for {name}: the path is empty; give a file name"
        f" (see 'slopecli {command} --help')\n"
    )


def test_an_empty_out_folder_is_a_usage_error(slopecli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # "" was "." there: the results landed in the working directory
    run = slopecli("batch", POINTS, "-w", "0,2,1", "--out", "")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        "slopecli batch: usage error: Invalid value for '--out': the path is empty; give a folder name"
        " (see 'slopecli batch --help')\n"
    )


NOT_FINITE = "is not finite; give a finite number"
UNDERFLOWS = "underflows to 0: it is too small for float64; give a number of magnitude 5e-324 or more"
OVERFLOWS = "overflows to infinity: it is too large for float64; give a number of magnitude below 1.8e308"


@pytest.mark.parametrize(
    ("args", "flag", "text", "why"),
    [
        (("step", "--lr", "inf"), "'--learning-rate' / '--lr'", "inf", NOT_FINITE),
        (("step", "--lr", "-Infinity"), "'--learning-rate' / '--lr'", "-Infinity", NOT_FINITE),
        (("descend", "--lr", "nan"), "'--learning-rate' / '--lr'", "nan", NOT_FINITE),
        (("step", "--lr", "1e-400"), "'--learning-rate' / '--lr'", "1e-400", UNDERFLOWS),
        (("step", "--lr", " 0.00001e-320"), "'--learning-rate' / '--lr'", " 0.00001e-320", UNDERFLOWS),
        (("step", "--lr", "1e400"), "'--learning-rate' / '--lr'", "1e400", OVERFLOWS),
        (("descend", "--tol", "1e-400"), "'--tol'", "1e-400", UNDERFLOWS),
        (("check", "--rtol", "inf"), "'--rtol'", "inf", NOT_FINITE),
        (("check", "--atol", "-1e-999"), "'--atol'", "-1e-999", UNDERFLOWS),
        (("compute", "--timeout", "inf"), "'--timeout'", "inf", NOT_FINITE),
    ],
    ids=["lr inf", "lr -Infinity", "lr nan", "lr underflow", "lr underflow spaced", "lr overflow", "tol underflow",
         "rtol inf", "atol underflow", "timeout inf"],
)  # fmt: skip
def test_a_number_flag_says_why_its_value_is_no_float64(slopecli, args, flag, text, why):
    command, *rest = args
    run = slopecli(command, "-w", "1", "-x", "1", "-y", "0", *rest)
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        f"slopecli {command}: usage error: Invalid value for {flag}: {text!r} {why} (see 'slopecli {command} --help')\n"
    )


@pytest.mark.parametrize("text", ["0", "0e-400", "-0.0", "5e-324", "1e-310"])
def test_zero_and_subnormal_flag_values_are_numbers(text):
    from slopecli.cli.options import number

    assert number(text) == float(text)


@pytest.mark.process_coverage
@pytest.mark.parametrize(
    ("codec", "tool"),
    [("gzip", "zcat"), ("bz2", "bzcat")],
)
@pytest.mark.parametrize("stdin", [False, True], ids=["a file", "stdin"])
def test_parquet_inside_compression_is_named(tmp_path, codec, tool, stdin):
    import bz2
    import gzip

    kind = {"gzip": "gzip", "bz2": "bzip2"}[codec]
    packed = (gzip if codec == "gzip" else bz2).compress((SAMPLES / "points.parquet").read_bytes())
    path = tmp_path / f"p.parquet.{codec}"
    path.write_bytes(packed)
    name = "<stdin>" if stdin else str(path)
    run = run_installed(
        "compute", "-" if stdin else str(path), "-w", "0,2,1", input=packed if stdin else None
    )
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr == (
        f"slopecli: error: {name}: a {kind}-compressed Parquet file, which slopecli does not read"
        f" (Parquet compresses its own pages); decompress it first: {tool} FILE > NEW.parquet\n"
    )


@pytest.mark.parametrize(
    ("args", "name"),
    [(("", "-w", "1"), "'FILE'"), ((POINTS, "--weights-file", ""), "'--weights-file'")],
    ids=["FILE", "weights-file"],
)
def test_an_empty_input_path_is_a_usage_error(slopecli, args, name):
    """Path("") is Path("."): FILE '' was reported as the current directory."""
    run = slopecli("compute", *args)
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        f"slopecli compute: usage error: Invalid value for {name}: the path is empty; give a file name"
        " (see 'slopecli compute --help')\n"
    )


def test_the_out_folder_reader_refuses_an_empty_path():
    import typer

    from slopecli.cli.options import output_folder

    with pytest.raises(typer.BadParameter, match=r"^the path is empty; give a folder name$"):
        output_folder("")
    assert str(output_folder("out/")) == "out"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("",), "FILES: an empty path; give a file, a folder or a pattern"),
        ((POINTS, ""), "FILES: an empty path; give a file, a folder or a pattern"),
        (("--files-from", ""), "--files-from: the path is empty; give a file name, or - for stdin"),
    ],
)
def test_an_empty_batch_path_is_a_usage_error_not_the_current_folder(
    slopecli, tmp_path, monkeypatch, args, message
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "here.csv").write_text("a,target\n1,2\n")
    run = slopecli("batch", *args, "-w", "0,2,1")
    assert (run.exit_code, run.stdout, run.stderr) == (2, "", f"slopecli: error: {message}\n")
