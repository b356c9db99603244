"""Shared plumbing of ``step``, ``descend`` and ``check``: validated numbers and output files."""

from __future__ import annotations

import math
import os
from pathlib import Path

from slopecli.errors import UsageError


def positive(value: float, flag: str) -> float:
    if not (math.isfinite(value) and value > 0):
        msg = f"{flag}: expected a positive number, got {value:g}"
        raise UsageError(msg)
    return value


def refuse_inputs(flag: str, target: Path | None, *inputs: Path | None) -> None:
    """An output named by ``flag`` may not be one of the inputs (it would destroy the data), nor
    the run's standard output (it would replace the results written there, or mix with them)."""
    from slopecli.outfiles import is_stdin, is_stdout

    if target is None:
        return
    _nameable(flag, target)
    if is_stdout(target):
        msg = f"{flag}: {target} is this run's standard output, where its results go; choose another file"
        raise UsageError(msg)
    for source in inputs:
        if source is None:
            continue
        if str(source) == "-":
            # Standard input may be a file (< data.csv), which /dev/stdin names as well.
            if is_stdin(target):
                msg = f"{flag}: {target} is an input of this run (standard input); choose another file"
                raise UsageError(msg)
            continue
        if source.exists() and target.exists():
            same = os.path.samefile(source, target)
        else:  # an output that does not exist yet is the same file when its path resolves the same
            same = os.path.realpath(source) == os.path.realpath(target)
        if same:
            msg = f"{flag}: {target} is an input of this run; choose another file"
            raise UsageError(msg)


def writable(flag: str, target: Path | None) -> None:
    """An output file can be made at ``target``: its folder exists and takes new files, and it is
    not itself a folder (a device or a pipe there is written into, if it may be).

    Raises:
        UsageError: it cannot, with the reason.
    """
    from slopecli.outfiles import can_create_in

    if target is None:
        return
    _nameable(flag, target)
    shown = target
    if target.is_symlink():  # written through (outfiles.AtomicFile): its folder is the one to test
        target = Path(os.path.realpath(target))
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        why = "it is a directory; name a file in it"
    elif not folder.is_dir():
        why = f"there is no directory {folder}"
    elif target.exists() and not target.is_file():
        if os.access(target, os.W_OK):
            return
        why = "permission denied"
    elif target.is_file() and not os.access(target, os.W_OK):
        why = "permission denied (the file is read-only, as the shell's > would find it)"
    elif not os.access(folder, os.W_OK | os.X_OK):
        why = f"the directory {folder} cannot be written"
    else:
        try:
            can_create_in(folder)
        except OSError as exc:
            why = exc.strerror or str(exc)
        else:
            return
    msg = f"{flag}: {shown}: cannot write it: {why}"
    raise UsageError(msg)


def _nameable(flag: str, target: Path) -> None:
    """The name fits the file system (else even asking whether the file exists fails)."""
    folder = target.parent if str(target.parent) else Path(".")
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    if len(os.fsencode(target.name)) > limit:
        msg = f"{flag}: {target}: cannot write it: the name is longer than the file system's {limit} bytes"
        raise UsageError(msg)


def write_atomically(path: Path, text: str, flag: str) -> None:
    """A small output file (weights, a plot) that appears whole or not at all."""
    from slopecli.outfiles import AtomicFile

    try:
        with AtomicFile(path, overwrite=True) as fp:
            fp.write(text.encode())
    except OSError as exc:
        msg = f"{flag}: {path}: cannot write it: {exc.strerror or exc}"
        raise UsageError(msg) from None
