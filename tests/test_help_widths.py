"""Help at any width: Typer's Rich panels from 80 columns, where they crop nothing, and plain
text below, where Rich would crop option names and numbers (``--wei…``, ``0.01,0…``)."""

from __future__ import annotations

import re

import pytest
from typer.main import get_command

from slopecli.cli import app

from conftest import invoke

GROUP = get_command(app)
COMMANDS = [(), *((name,) for name in GROUP.commands)]  # type: ignore[attr-defined]
NUMBER = re.compile(r"-?\d[\d.,]*")


def help_at(monkeypatch: pytest.MonkeyPatch, width: int, command: tuple[str, ...]) -> str:
    monkeypatch.setenv("COLUMNS", str(width))
    run = invoke(*command, "--help")
    assert run.exit_code == 0, run.stderr
    assert run.stderr == ""
    return run.stdout


def elided(text: str) -> set[str]:
    return {word for word in text.split() if "…" in word}


def long_options(command: tuple[str, ...]) -> set[str]:
    target = GROUP.commands[command[0]] if command else GROUP  # type: ignore[attr-defined]
    return {
        opt for param in target.params for opt in (*param.opts, *param.secondary_opts) if opt.startswith("--")
    }


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0] if c else "slopecli")
@pytest.mark.parametrize("width", [80, 100])
def test_rich_help_crops_nothing_from_80_columns(monkeypatch, command, width):
    text = help_at(monkeypatch, width, command)
    assert "─" in text  # Typer's panels
    assert "<bool>" not in text  # a flag takes no value: Typer 0.29 shows its type all the same
    # Every "…" is one the help itself writes (X1,X2,…), none a cell Rich cropped.
    assert elided(text) <= elided(help_at(monkeypatch, 200, command))


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0] if c else "slopecli")
@pytest.mark.parametrize("width", [30, 40, 60, 79])
def test_below_80_columns_the_help_is_plain_text_that_crops_and_splits_nothing(monkeypatch, command, width):
    text = help_at(monkeypatch, width, command)
    assert "─" not in text
    lines = text.splitlines()
    # Lines fit, unless they hold one word that does not (it is left whole, not cut).
    assert all(len(line) <= width or " " not in line.strip() for line in lines), text
    assert elided(text) <= elided(help_at(monkeypatch, 200, command))
    words = set(text.split())
    assert long_options(command) <= {word.rstrip(",") for word in words}
    # Every number of the help (0,2,1, 0.01,0.99, 127.0.0.1) is whole on one line.
    wide = " ".join(help_at(monkeypatch, 200, command).split())
    numbers = {number for number in NUMBER.findall(wide) if len(number) > 1}
    assert numbers <= set(NUMBER.findall(text))
    assert "\\[" not in text  # Rich's escapes are Rich's


def test_below_80_columns_a_command_alone_shows_its_help_as_before(monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    run = invoke()
    assert run.exit_code == 2
    assert run.stdout.startswith("Usage: slopecli [OPTIONS] COMMAND")
    assert "  compute\n      Compute preds, error and slope" in run.stdout
    assert run.stderr == ""
