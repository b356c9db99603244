"""Output files appear whole or not at all, and a symlink is written through, as the shell's ``>``
writes through it: the file it names is replaced, the link stays."""

from __future__ import annotations

import json

import pytest

from slopecli.errors import OutputExists
from slopecli.outfiles import AtomicFile

from conftest import invoke


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
