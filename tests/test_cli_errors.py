"""Bad input: one line on stderr naming what and where, a documented exit code, empty stdout."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import SAMPLES, invoke, run_installed

W3 = ("-w", "0,2,1")
# Paths that do not exist, named from the repository rather than the current directory, so that no
# file the caller happens to have there can change the outcome.
NOPE = SAMPLES / "nope.csv"
NONE_JSON = SAMPLES / "none.json"

# (case id, file contents or None, extra args, exit code, expected stderr line; {f} is the file)
# fmt: off
FILE_CASES = [
    ("non-number", "a,b,target\n1,2,3\n1,x,3\n", ("-w", "1,2"), 1, "{f}:3:2: column 'b': 'x' is not a number"),
    ("empty value", "a,b,target\n1,2,3\n1,,3\n", ("-w", "1,2"), 1, "{f}:3:2: column 'b': empty value"),
    ("nan", "a,b,target\n1,2,nan\n", ("-w", "1,2"), 1, "{f}:2:3: column 'target': 'nan' is not a finite number"),
    ("infinity", "a,b,target\n1,-inf,3\n", ("-w", "1,2"), 1, "{f}:2:2: column 'b': '-inf' is not a finite number"),
    ("empty file", "", ("-w", "1,2"), 1, "{f}: the file is empty"),
    ("blank lines only", "\n\n", ("-w", "1,2"), 1, "{f}: the file is empty"),
    ("header only", "a,b,target\n", ("-w", "1,2"), 1, "{f}: the file has a header but no data rows"),
    ("ragged long", "a,b,target\n1,2,3\n1,2,3,4\n", ("-w", "1,2"), 1, "{f}:3: expected 3 fields, found 4"),
    ("ragged short", "a,b,target\n1,2,3\n4,5\n", ("-w", "1,2"), 1, "{f}:3: expected 3 fields, found 2"),
    ("missing target column", "a,b,c\n1,2,3\n", ("-w", "1,2", "--target-column", "y"), 1,
     "{f}: --target-column: no column named 'y' (columns: a, b, c)"),
    ("missing feature column", "a,b,c\n1,2,3\n", ("-w", "1", "--features", "q"), 1,
     "{f}: --features: no column named 'q' (columns: a, b, c)"),
    ("duplicate column", "a,a,target\n1,2,3\n", ("-w", "1,2"), 1,
     "{f}:1: column name 'a' appears more than once (columns 1 and 2)"),
    ("binary garbage", b"\x7fELF\x02\x01\x01\x00\x00\x00garbage", ("-w", "1,2"), 1,
     "{f}: not a CSV text file (a NUL byte at offset 7)"),
    ("utf-16", "a,b,target\n1,2,3\n".encode("utf-16"), ("-w", "1,2"), 1,
     "{f}: not a CSV text file (a NUL byte at offset 3); it looks like UTF-16 text: convert it,"
     " e.g. iconv -f utf-16 -t utf-8 FILE > NEW.csv"),
    # Without a byte-order mark iconv reads the machine's byte order: the hint names the file's.
    ("utf-16le", "a,b,target\n1,2,3\n".encode("utf-16-le"), ("-w", "1,2"), 1,
     "{f}: not a CSV text file (a NUL byte at offset 1); it looks like UTF-16LE text: convert it,"
     " e.g. iconv -f utf-16le -t utf-8 FILE > NEW.csv"),
    ("utf-16be", "a,b,target\n1,2,3\n".encode("utf-16-be"), ("-w", "1,2"), 1,
     "{f}: not a CSV text file (a NUL byte at offset 0); it looks like UTF-16BE text: convert it,"
     " e.g. iconv -f utf-16be -t utf-8 FILE > NEW.csv"),
    # A UTF-16 mark alone (or before text with no ASCII in it) has no NUL to go by.
    ("utf-16 mark alone", b"\xff\xfe", ("-w", "1,2"), 1,
     "{f}: not a CSV text file (it starts with a byte-order mark); it looks like UTF-16 text:"
     " convert it, e.g. iconv -f utf-16 -t utf-8 FILE > NEW.csv"),
    ("utf-32", "a,b,target\n1,2,3\n".encode("utf-32"), ("-w", "1,2"), 1,
     "{f}: not a CSV text file (a NUL byte at offset 2); it looks like UTF-32 text: convert it,"
     " e.g. iconv -f utf-32 -t utf-8 FILE > NEW.csv"),
    ("utf-32 big-endian", b"\0\0\xfe\xff" + "a,b,target\n1,2,3\n".encode("utf-32-be"), ("-w", "1,2"), 1,
     "{f}: not a CSV text file (a NUL byte at offset 0); it looks like UTF-32 text: convert it,"
     " e.g. iconv -f utf-32 -t utf-8 FILE > NEW.csv"),
    ("utf-32le", "a,b,target\n1,2,3\n".encode("utf-32-le"), ("-w", "1,2"), 1,
     "{f}: not a CSV text file (a NUL byte at offset 1); it looks like UTF-32LE text: convert it,"
     " e.g. iconv -f utf-32le -t utf-8 FILE > NEW.csv"),
    ("utf-32be", "a,b,target\n1,2,3\n".encode("utf-32-be"), ("-w", "1,2"), 1,
     "{f}: not a CSV text file (a NUL byte at offset 0); it looks like UTF-32BE text: convert it,"
     " e.g. iconv -f utf-32be -t utf-8 FILE > NEW.csv"),
    ("not utf-8", b"a,b,target\n1,2,3\n\xff,2,3\n", ("-w", "1,2"), 1, "{f}:3:1: a value is not UTF-8 text (byte 0xff at offset 0 in the line); convert the file to UTF-8, e.g. iconv -f latin1 -t utf-8 FILE > NEW.csv"),
    ("weights count", "a,b,target\n1,2,3\n", W3, 1, "--weights: 3 weights, but {f} has 2 features (a, b)"),
    # A column that is no feature (an id, a name): --features leaves it out.
    ("a column more", "id,a,target\n7,1,2\n", ("-w", "1"), 1,
     "--weights: 1 weight, but {f} has 2 features (id, a); --features names the columns the weights are for"),
    ("a column of names", "id,a,target\nA,1,2\n", ("-w", "1,1"), 1,
     "{f}:2:1: column 'id': 'A' is not a number; if 'id' is not a feature, leave it out with --features"),
    ("a word later", "id,a,target\n1,1,2\nA,1,2\n", ("-w", "1,1"), 1, "{f}:3:1: column 'id': 'A' is not a number"),
    ("a missing mark", "a,b,target\nNA,1,2\n", ("-w", "1,1"), 1, "{f}:2:1: column 'a': 'NA' is not a number"),
    ("a word in the target", "a,target\n1,yes\n", ("-w", "1"), 1, "{f}:2:2: column 'target': 'yes' is not a number"),
    ("overflow", "a,b,target\n1e300,1e300,0\n", ("-w", "1e300,1"), 1,
     "{f}: data row 1: the error overflows float64; the values are too large"),
    ("target only", "target\n1\n", ("-w", "1"), 1, "{f}: no feature columns: the file has only the target column 'target'"),
]
# fmt: on


def _check(run, code: int, line: str) -> None:
    assert run.exit_code == code, run.stderr
    assert run.stdout == ""
    assert run.stderr == f"slopecli: error: {line}\n"
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("content", "args", "code", "line"), [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES]
)
def test_bad_file(tmp_path, content, args, code, line):
    path = tmp_path / "data.csv"
    if isinstance(content, str):
        path.write_text(content)
    else:
        path.write_bytes(content)
    _check(invoke("compute", str(path), *args), code, line.format(f=path))


@pytest.mark.parametrize(
    ("content", "args", "code", "line"), [c[1:] for c in FILE_CASES[:3]], ids=[c[0] for c in FILE_CASES[:3]]
)
def test_bad_stdin_through_the_installed_command(content, args, code, line):
    _check(run_installed("compute", "-", *args, input=content), code, line.format(f="<stdin>"))


# fmt: off
FLAG_CASES = [
    ("weights not a number", ("compute", "-w", "0,two,1", "-x", "1,2,3", "-y", "0"), 2,
     "--weights: item 2 of '0,two,1': 'two' is not a number"),
    ("weights empty item", ("compute", "-w", "0,,1", "-x", "1,2,3", "-y", "0"), 2,
     "--weights: item 2 of '0,,1': expected a number, got an empty value"),
    ("weights empty", ("compute", "-w", "", "-x", "1,2,3", "-y", "0"), 2,
     "--weights: expected comma-separated numbers, got an empty value"),
    ("input nan", ("compute", "-w", "0,2,1", "-x", "1,nan,3", "-y", "0"), 2,
     "--input 1: item 2 of '1,nan,3': 'nan' is not a finite number"),
    ("target inf", ("compute", "-w", "0,2,1", "-x", "1,2,3", "-y", "inf"), 2, "--target 1: 'inf' is not a finite number"),
    ("target overflow", ("compute", "-w", "1", "-x", "1", "-y", "1e999"), 2, "--target 1: '1e999' is not a finite number"),
    ("count mismatch", ("compute", "-w", "0,2", "-x", "1,2,3", "-y", "0"), 1,
     "--weights: 2 weights, but --input has 3 features (x1, x2, x3)"),
    ("unpaired target", ("compute", "-w", "0,2,1", "-x", "1,2,3", "-y", "0", "-x", "1,2,3"), 2,
     "2 --input but 1 --target: give one --target per --input"),
    ("ragged inputs", ("compute", "-w", "0,2,1", "-x", "1,2,3", "-y", "0", "-x", "1,2", "-y", "0"), 2,
     "--input 2: 2 values, but --input 1 has 3"),
    ("no weights", ("compute", "-x", "1,2,3", "-y", "0"), 2, "missing weights: give --weights 0,2,1 or --weights-file FILE"),
    ("no data", ("compute", "-w", "1"), 2, "no data: give a CSV FILE (or - for stdin), or --input and --target"),
    ("file and flags", ("compute", str(SAMPLES / "course.csv"), "-w", "0,2,1", "-x", "1", "-y", "0"), 2,
     "give either a FILE or --input/--target, not both"),
    ("missing file", ("compute", str(NOPE), "-w", "1"), 1, f"{NOPE}: cannot open it: No such file or directory"),
    ("pattern matching nothing", ("compute", f"{SAMPLES}/nothing*.csv", "-w", "1"), 1,
     f"{SAMPLES}/nothing*.csv: cannot open it: No such file or directory; as a pattern it matches no file"
     " either: check its spelling and its folder"),
    ("quoted pattern", ("compute", f"{SAMPLES}/shards/*.csv", "-w", "1"), 1,
     f"{SAMPLES}/shards/*.csv: cannot open it: No such file or directory; if it is a pattern, slopecli batch"
     f" '{SAMPLES}/shards/*.csv' (add --combine for one result) or compute '{SAMPLES}/shards/*.csv'"
     " --engine dask read the files it matches"),
    ("directory", ("compute", str(SAMPLES), "-w", "1"), 1,
     f"{SAMPLES}: is a directory; give a file in it, or run slopecli batch {SAMPLES} (add --combine for one"
     f" result) or compute {SAMPLES} --engine dask, which read every file in it"),
    ("bad delimiter", ("compute", str(SAMPLES / "course.csv"), "-w", "1", "--delimiter", ";;"), 2,
     "--delimiter: expected one character (or 'tab'), got ';;'"),
    ("json contradicts csv", ("compute", *W3, "-x", "1,2,3", "-y", "0", "--json", "--format", "csv"), 2,
     "--json contradicts --format csv: give one of them"),
    # A table asked for by name is a contradiction too, not the default that --json replaces.
    ("json contradicts table", ("step", *W3, "-x", "1,2,3", "-y", "0", "--json", "-f", "table"), 2,
     "--json contradicts --format table: give one of them"),
    ("weights file missing", ("compute", str(SAMPLES / "course.csv"), "--weights-file", str(NONE_JSON)), 1,
     f"--weights-file: {NONE_JSON}: cannot open it: No such file or directory"),
]
# fmt: on


@pytest.mark.parametrize(
    ("args", "code", "line"), [c[1:] for c in FLAG_CASES], ids=[c[0] for c in FLAG_CASES]
)
def test_bad_flags(args, code, line):
    _check(invoke(*args), code, line)


# fmt: off
WEIGHTS_FILE_CASES = [
    ("no weights key", '{"features": ["x1", "x2", "x3"]}', '--weights-file {f}: the JSON object has no "weights" key'),
    ("unknown key", '{"w": [1, 2]}', '--weights-file {f}: unknown key \'w\' (a weights file has "weights" and "features")'),
    ("nested", "[[0, 2, 1]]", "--weights-file {f}: weight 1 is [0.0, 2.0, 1.0], not a number"),
    ("string", '["a"]', '--weights-file {f}: weight 1 is "a", not a number'),
    ("empty array", "[]", "--weights-file {f}: weights must be a non-empty JSON array of numbers"),
    ("bad json", "[0, 2,", "--weights-file {f}:1:7: not valid JSON: Expecting value"),
    ("two lines", "0,2\n1\n", "--weights-file {f}: expected one line of comma-separated weights, found 2 lines"),
    ("wrong count", "[1, 2]",
     "--weights-file: 2 weights, but {c} has 3 features (x1, x2, x3); --features names the columns the weights are for"),
    ("a key twice", '{"weights": [0, 2, 1], "weights": [1, 1, 1]}',
     "--weights-file {f}: the key 'weights' is given twice in one object; keep one"),
]
# fmt: on


@pytest.mark.parametrize(
    ("content", "line"), [c[1:] for c in WEIGHTS_FILE_CASES], ids=[c[0] for c in WEIGHTS_FILE_CASES]
)
def test_bad_weights_file(tmp_path, content, line):
    path = tmp_path / "w.json"
    path.write_text(content)
    course = SAMPLES / "course.csv"
    _check(invoke("compute", str(course), "--weights-file", str(path)), 1, line.format(f=path, c=course))


def test_usage_errors_are_one_line_with_exit_2(slopecli):
    run = slopecli("compute", "--bogus")
    assert run.exit_code == 2
    assert run.stdout == ""
    assert (
        run.stderr
        == "slopecli compute: usage error: No such option: --bogus (Possible options: --bias) (see 'slopecli compute --help')\n"
    )
    run = slopecli("compute", "-w", "1", "--format", "xml")
    assert run.exit_code == 2
    assert run.stderr == (
        "slopecli compute: usage error: Invalid value for '--format' / '-f': 'xml' is not one of"
        " 'table', 'json', 'jsonl', 'csv'. (see 'slopecli compute --help')\n"
    )
    assert run.stderr.count("\n") == 1


@pytest.mark.release
def test_a_failing_read_never_crashes_at_exit():
    """Arrow reads ahead on a thread; a run that fails mid-file must stop it before exiting.

    Before the reader was closed, about one run in forty ended with a C++ abort
    ("terminate called without an active exception") after the error line; after it, about one
    in a few hundred under load, until the console script stopped tearing down the interpreter.
    The 40 runs go 4 at a time on the 2 cores: load is what widens the race, and it takes about
    half the time of one run after another. Slow all the same (seconds), so `pytest -m slow`.
    """
    bad = SAMPLES / "bad.csv"
    expected = (1, f"slopecli: error: {bad}:4:2: column 'rooms': 'abc' is not a number\n")
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(pool.map(lambda _: run_installed("compute", str(bad), "-w", "0,2,1"), range(40)))
    assert [(run.exit_code, run.stderr) for run in runs] == [expected] * 40


def test_check_names_the_file_whose_values_overflow(tmp_path):
    data = tmp_path / "points.csv"
    data.write_text("a,b,c,target\n1,2,3,4\n5,6,7,8\n")
    _check(
        invoke("check", str(data), "-w", "1e200,2,1"),
        1,
        f"{data}: data row 1: the squared error overflows float64; the values are too large",
    )


@pytest.mark.parametrize("command", [("descend", "--steps", "3"), ("step",)], ids=["descend", "step"])
def test_descend_and_step_name_the_file_whose_starting_values_overflow(tmp_path, command):
    """As check does: the starting weights are the user's, not a step gone wrong, so no divergence."""
    data = tmp_path / "points.csv"
    data.write_text("a,b,c,target\n1,2,3,4\n5,6,7,8\n")
    _check(
        invoke(*command, str(data), "-w", "1e200,2,1"),
        1,
        f"{data}: data row 1: the squared error overflows float64; the values are too large",
    )


@pytest.mark.parametrize("command", [("descend", "--steps", "3"), ("step",)], ids=["descend", "step"])
def test_a_network_descend_and_step_name_the_file_whose_starting_values_overflow(tmp_path, command):
    network = tmp_path / "net.json"
    network.write_text('{"layers": [{"weights": [[1e200, 1e200]]}]}')
    data = tmp_path / "points.csv"
    data.write_text("a,b,target\n1e200,2,4\n")
    _check(
        invoke(*command, str(data), "--network", str(network)),
        1,
        f"{data}: data row 1: the z of layers[0] overflows float64; the values are too large",
    )


def test_running_out_of_memory_is_one_line_and_exit_1(monkeypatch):
    # Under ulimit -v, a long descend's report could not be built: a traceback before.
    import slopecli.descent

    def out_of_memory(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(slopecli.descent, "run_descent", out_of_memory)
    run = invoke("descend", "-w", "1,2", "-x", "1,2", "-y", "3", "--json")
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr == (
        "slopecli: error: out of memory: the run needs more than this process may use; give it fewer"
        " rows, steps or features, or more memory\n"
    )


@pytest.mark.parametrize("command", ["compute", "step", "batch"])
def test_a_feature_named_twice_in_features_is_a_usage_error_before_any_file_is_read(command, tmp_path):
    # The flag's own fault, whatever the file: exit 2, and the file need not even exist.
    run = invoke(command, str(tmp_path / "nowhere.csv"), "-w", "1,1", "--features", "size, size", "--json")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == "slopecli: error: --features: 'size' is named more than once\n"
