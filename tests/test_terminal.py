"""The terminal's size as every screen layout reads it: COLUMNS and LINES first, then the first
of stdin, stdout and stderr that is a terminal, then 80 × 25."""

from __future__ import annotations

import os

import pytest

from slopecli.terminal import DEFAULT_SIZE, environment_size, terminal_size


def sizes(found: dict[int, tuple[int, int]]):
    def get_terminal_size(fd: int) -> os.terminal_size:
        if fd not in found:
            raise OSError(25, "Inappropriate ioctl for device")
        return os.terminal_size(found[fd])

    return get_terminal_size


@pytest.mark.parametrize(
    ("terminals", "size"),
    [
        ({}, DEFAULT_SIZE),
        ({1: (40, 12)}, (40, 12)),
        ({2: (50, 30)}, (50, 30)),
        ({0: (120, 40), 1: (40, 12)}, (120, 40)),  # stdin first, as Rich reads it
        ({1: (0, 0)}, DEFAULT_SIZE),  # a pseudo-terminal that says 0 × 0
    ],
)
def test_the_first_standard_stream_that_is_a_terminal_gives_the_size(monkeypatch, terminals, size):
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
    monkeypatch.setattr(os, "get_terminal_size", sizes(terminals))
    assert terminal_size() == size


def test_columns_and_lines_win_over_the_terminal(monkeypatch):
    monkeypatch.setattr(os, "get_terminal_size", sizes({1: (100, 50)}))
    monkeypatch.setenv("COLUMNS", "33")
    monkeypatch.delenv("LINES", raising=False)
    assert terminal_size() == (33, 50)
    monkeypatch.setenv("LINES", "7")
    assert terminal_size() == (33, 7)


@pytest.mark.parametrize(
    ("value", "size"),
    [("40", 40), ("0", None), ("-3", None), ("4x", None), ("٣", None), ("²", None), ("", None)],
)
def test_only_a_positive_whole_number_in_ascii_digits_is_a_size(monkeypatch, value, size):
    monkeypatch.setenv("COLUMNS", value)
    assert environment_size("COLUMNS") == size
