"""Output files appear whole or not at all, and a symlink is written through, as the shell's ``>``
writes through it: the file it names is replaced, the link stays."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from slopecli.errors import OutputExists
from slopecli.outfiles import AtomicFile

from conftest import invoke, run_installed


def write(path, text: str, overwrite: bool = True) -> None:
    with AtomicFile(path, overwrite=overwrite) as fp:
        fp.write(text.encode())


def test_a_symlink_to_a_file_elsewhere_is_written_through(tmp_path):
    (tmp_path / "shared").mkdir()
    target = tmp_path / "shared" / "weights.json"
    target.write_text("old")
    link = tmp_path / "weights.json"
    link.symlink_to(target)
    write(link, "new")
    assert (link.is_symlink(), target.read_text(), sorted(p.name for p in tmp_path.iterdir())) == (
        True,
        "new",
        ["shared", "weights.json"],
    )
    assert [p.name for p in (tmp_path / "shared").iterdir()] == ["weights.json"]  # no .part left


def test_a_dangling_symlink_makes_the_file_it_names(tmp_path):
    link = tmp_path / "out.csv"
    link.symlink_to("real.csv")
    write(link, "rows", overwrite=False)
    assert (link.is_symlink(), (tmp_path / "real.csv").read_text()) == (True, "rows")


def test_without_overwrite_a_symlink_to_an_existing_file_is_refused_by_its_own_name(tmp_path):
    (tmp_path / "real.csv").write_text("kept")
    link = tmp_path / "out.csv"
    link.symlink_to("real.csv")
    with pytest.raises(OutputExists, match=r"out\.csv"):
        write(link, "rows", overwrite=False)
    assert (tmp_path / "real.csv").read_text() == "kept"


def test_a_symlink_loop_names_no_file_and_is_replaced(tmp_path):
    loop = tmp_path / "loop.json"
    loop.symlink_to(loop)
    write(loop, "new")
    assert (loop.is_symlink(), loop.read_text()) == (False, "new")


def test_save_weights_through_a_symlink_updates_the_file_it_names(tmp_path):
    (tmp_path / "shared").mkdir()
    target = tmp_path / "shared" / "w.json"
    link = tmp_path / "w.json"
    link.symlink_to(target)
    run = invoke("descend", "-x", "1,2,3", "-y", "0", "-w", "0,2,1", "--lr", "0.01", "--steps", "3",
                 "--json", "--save-weights", str(link))  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert link.is_symlink()
    assert json.loads(target.read_text())["weights"] == run.json()["weights_final"]


# Devices, pipes and the input itself: what the shell's > would do, or a refusal before the run.

DESCEND = ("descend", "-w", "0,0,0", "--lr", "0.01", "--steps", "3")


def _points(tmp_path):
    data = tmp_path / "points.csv"
    data.write_text("x1,x2,x3,target\n1,2,3,0\n2,1,0,4\n")
    return data


def test_a_fifo_is_written_into_not_replaced(tmp_path):
    import os
    import stat
    import threading

    fifo = tmp_path / "weights.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    run = run_installed(*DESCEND, str(_points(tmp_path)), "--json", "--save-weights", str(fifo))
    reader.join(timeout=10)
    if reader.is_alive() and stat.S_ISFIFO(fifo.lstat().st_mode):
        with open(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK), "wb"):  # a reader still waiting is let go
            pass
    assert run.exit_code == 0, run.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert json.loads(got[0])["weights"] == json.loads(run.stdout)["weights_final"]


def test_a_character_device_is_written_into_not_replaced(tmp_path):
    import os
    import stat

    null = tmp_path / "null"
    try:
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        null.write_bytes(b"probe")  # a file system mounted nodev refuses to open it
    except OSError:
        pytest.skip("cannot make a /dev/null here (needs root and a file system without nodev)")
    run = invoke(*DESCEND, str(_points(tmp_path)), "--json", "--save-weights", str(null))
    assert run.exit_code == 0, run.stderr
    assert stat.S_ISCHR(null.lstat().st_mode)


@pytest.mark.process_coverage
@pytest.mark.parametrize("name", ["the file", "/dev/stdin"])
def test_saving_over_the_file_that_is_stdin_is_refused(tmp_path, name):
    import subprocess

    from conftest import installed_slopecli

    data = _points(tmp_path)
    before = data.read_bytes()
    target = str(data) if name == "the file" else name
    with data.open("rb") as stdin:
        done = subprocess.run(
            [installed_slopecli(), *DESCEND, "-", "--json", "--save-weights", target],
            stdin=stdin, capture_output=True, timeout=60, check=False,
        )  # fmt: skip
    assert (done.returncode, done.stdout) == (2, b"")
    assert done.stderr.decode().splitlines() == [
        f"slopecli: error: --save-weights: {target} is an input of this run (standard input); choose another file"
    ]
    assert data.read_bytes() == before


@pytest.mark.process_coverage
@pytest.mark.parametrize(
    ("stdout", "name"), [("a file", "the file"), ("a file", "/dev/stdout"), ("a pipe", "/dev/stdout")]
)
def test_saving_over_the_run_s_own_stdout_is_refused(tmp_path, stdout, name):
    # Into the file stdout was redirected to, the saved weights replaced the run's results (exit
    # 0, the JSON lost); into its pipe they would mix with them.
    import subprocess

    from conftest import installed_slopecli

    out = tmp_path / "out.txt"
    target = str(out) if name == "the file" else name
    argv = [installed_slopecli(), *DESCEND, str(_points(tmp_path)), "--json", "--save-weights", target]
    if stdout == "a file":
        with out.open("wb") as sink:
            done = subprocess.run(argv, stdout=sink, stderr=subprocess.PIPE, timeout=60, check=False)
        written = out.read_bytes()
    else:
        done = subprocess.run(argv, capture_output=True, timeout=60, check=False)
        written = done.stdout
    assert (done.returncode, written) == (2, b"")
    assert done.stderr.decode().splitlines() == [
        f"slopecli: error: --save-weights: {target} is this run's standard output, where its results go;"
        " choose another file"
    ]


@pytest.mark.process_coverage
def test_batch_results_over_the_run_s_own_stdout_are_refused(tmp_path):
    # batch --out DIR --force > DIR/a.slopes.csv: the results file would replace what stdout wrote.
    import subprocess

    from conftest import installed_slopecli

    data, out = tmp_path / "data", tmp_path / "out"
    data.mkdir()
    out.mkdir()
    _points(data).rename(data / "a.csv")
    target = out / "a.slopes.csv"
    argv = [
        installed_slopecli(),
        "batch",
        str(data),
        "-w",
        "0,2,1",
        "--out",
        str(out),
        "--force",
        "--format",
        "csv",
    ]
    with target.open("wb") as sink:
        done = subprocess.run(argv, stdout=sink, stderr=subprocess.PIPE, timeout=60, check=False)
    assert (done.returncode, target.read_bytes()) == (2, b"")
    assert done.stderr.decode().splitlines() == [
        f"slopecli: error: --out: the results of {data / 'a.csv'} would replace {target}, this run's"
        " standard output; choose another --out"
    ]


def test_saving_to_dev_null_beside_a_stdout_there_is_fine(tmp_path):
    import subprocess

    from conftest import installed_slopecli

    argv = [installed_slopecli(), *DESCEND, str(_points(tmp_path)), "--json", "--save-weights", os.devnull]
    with open(os.devnull, "wb") as sink:
        assert subprocess.run(argv, stdout=sink, timeout=60, check=False).returncode == 0


needs_proc = pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")


@needs_proc
@pytest.mark.parametrize("flag", ["--plot", "--save-weights"])
def test_a_folder_where_no_file_can_be_made_fails_before_the_run(tmp_path, flag):
    # /proc takes no new files, whatever the permissions say (root may "write" everywhere).
    name = "/proc/slopecli-test.svg" if flag == "--plot" else "/proc/slopecli-test.json"
    run = invoke(*DESCEND, str(_points(tmp_path)), "--format", "jsonl", flag, name)
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr.splitlines() == [
        f"slopecli: error: {flag}: {name}: cannot write it: No such file or directory"
    ]


@needs_proc
def test_batch_out_in_a_folder_where_no_file_can_be_made_fails_before_the_run(tmp_path):
    run = invoke("batch", str(_points(tmp_path)), "-w", "0,2,1", "--out", "/proc")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr.splitlines() == [
        "slopecli: error: --out: /proc: cannot write in it: No such file or directory; choose a directory you can write"
    ]


@needs_proc
def test_a_symlink_into_a_folder_that_takes_no_files_fails_before_the_run(tmp_path):
    link = tmp_path / "w.json"
    link.symlink_to("/proc/slopecli-test.json")
    run = invoke(*DESCEND, str(_points(tmp_path)), "--format", "jsonl", "--save-weights", str(link))
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr.splitlines() == [
        f"slopecli: error: --save-weights: {link}: cannot write it: No such file or directory"
    ]


def test_a_replace_that_fails_leaves_no_staging_copy(tmp_path, monkeypatch):
    import os

    target = tmp_path / "w.json"
    target.write_text("old")

    def refuse(src, dst):
        raise PermissionError(1, "Operation not permitted", str(dst))

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(PermissionError):
        write(target, "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.json"]
    assert target.read_text() == "old"


# Path() drops a trailing slash (and a trailing "/."), so "w.json/" once wrote the file w.json.
NETWORK = ("--network", "NET", "-x", "1,2", "-y", "3")


@pytest.mark.parametrize("ending", ["/", "/."])
@pytest.mark.parametrize(
    ("command", "flag", "name"),
    [
        (DESCEND, "--save-weights", "w.json"),
        (DESCEND, "--plot", "p.svg"),
        (("step", *NETWORK), "--save-network", "n.json"),
        (("compute", *NETWORK), "--draw", "n.svg"),
    ],
    ids=["save-weights", "plot", "save-network", "draw"],
)
def test_an_output_path_that_ends_with_a_slash_names_a_folder(tmp_path, command, flag, name, ending):
    net = tmp_path / "net.json"
    net.write_text('{"layers": [{"weights": [[1, 2]]}]}')
    args = [str(net) if arg == "NET" else arg for arg in command]
    path = f"{tmp_path / name}{ending}"
    if "--network" not in args:
        args.append(str(_points(tmp_path)))
    run = invoke(*args, flag, path)
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        f"slopecli {command[0]}: usage error: Invalid value for '{flag}': {path!r} ends with {ending!r},"
        f" so it names a folder; give a file name (see 'slopecli {command[0]} --help')\n"
    )
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664])
def test_a_file_written_over_keeps_its_permissions(tmp_path, mode):
    # As the shell's > keeps them: a private file must not become readable by everyone.
    path = tmp_path / "w.json"
    path.write_text("old")
    path.chmod(mode)
    write(path, "new")
    assert (path.read_text(), path.stat().st_mode & 0o777) == ("new", mode)


def test_a_file_that_cannot_be_written_is_refused_before_the_run(tmp_path, monkeypatch):
    # The user's own permissions decide, as for the shell's >; (root may write anything, so the
    # refusal is shown through os.access).
    import os

    saved = tmp_path / "w.json"
    saved.write_text("keep")
    saved.chmod(0o444)
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, m, **k: False if Path(p) == saved else real(p, m, **k))
    run = invoke(*DESCEND, str(_points(tmp_path)), "--json", "--save-weights", str(saved))
    assert (run.exit_code, run.stdout, saved.read_text()) == (2, "", "keep")
    assert run.stderr.splitlines() == [
        f"slopecli: error: --save-weights: {saved}: cannot write it: permission denied (the file is"
        " read-only, as the shell's > would find it)"
    ]
