"""Output files that appear whole or not at all.

Per-row results are written to an unnamed file (Linux ``O_TMPFILE``) that is linked into place
(``linkat``) only when complete: a run interrupted by Ctrl-C, ``kill`` or even ``kill -9`` leaves nothing
behind. Where unnamed files are not supported, a hidden ``.NAME.part`` file is renamed instead
(and removed on any error). A worker process whose run has been killed publishes nothing either
(:func:`slopecli.lifetime.require_parent`). A device or a named pipe (``/dev/null``, a FIFO) is
written into, as the shell's ``>`` writes: replacing it with a file would break it for everyone.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from slopecli.errors import OutputExists
from slopecli.lifetime import require_parent
from slopecli.readers.layout import data_name

OUTPUT_SUFFIX = ".slopes.csv"


def output_path_for(source: Path, out_dir: Path) -> Path:
    """``data/part-1.csv`` (or ``part-1.csv.gz``) -> ``OUT/part-1.slopes.csv``."""
    return out_dir / (Path(data_name(source.name)).stem + OUTPUT_SUFFIX)


class AtomicFile:
    """A binary file that appears at ``path`` only when the ``with`` block succeeds.

    Args:
        path: where the finished file goes.
        overwrite: replace an existing file; otherwise :class:`OutputExists` is raised, before
            anything is written and again if the file appeared meanwhile.
    """

    def __init__(self, path: Path, overwrite: bool = False) -> None:
        self.path = path
        self.overwrite = overwrite
        self._fp: IO[bytes] | None = None
        self._named: str | None = None
        self._direct = False
        # A symlink is written through, as the shell's > writes through it: the file it names is
        # replaced, and the link stays (a loop, which names no file, is replaced itself).
        self._target = _through_links(path)

    def __enter__(self) -> IO[bytes]:
        if not self.overwrite and self._target.exists():
            raise OutputExists(str(self.path))
        if _special(self._target):
            self._direct = True
            self._fp = open(self._target, "wb")  # closed in __exit__
            return self._fp
        directory = self._target.parent
        fd = _unnamed_file(directory)
        if fd is None:
            import tempfile  # here: every run imports this module, few write a file

            fd, self._named = tempfile.mkstemp(dir=directory, prefix=f".{self._target.name}.", suffix=".part")
        self._fp = os.fdopen(fd, "wb", buffering=1 << 20)
        return self._fp

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        fp = self._fp
        if fp is None:
            return
        try:
            if exc_type is None and not self._direct:
                fp.flush()
                self._publish(fp.fileno())
        finally:
            fp.close()
            if self._named is not None and os.path.exists(self._named):
                os.unlink(self._named)

    def _publish(self, fd: int) -> None:
        # Last thing before the link: a file that appears after the user saw its run die would be
        # taken for that run's output. (Raising here leaves __exit__ to discard the file.)
        require_parent()

        def link(target: Path) -> None:
            if self._named is not None:
                os.link(self._named, target)
            else:
                _link_unnamed(fd, target)

        if not self.overwrite:
            # A link never replaces: a file that appeared meanwhile is not clobbered.
            try:
                link(self._target)
            except FileExistsError:
                raise OutputExists(str(self.path)) from None
            return
        with contextlib.suppress(FileNotFoundError):
            # The shell's > keeps a file's permissions: a private file stays private. (The target
            # is the file a link names; a link that names no file, a loop, has none to keep.)
            status = os.lstat(self._target)
            if stat.S_ISREG(status.st_mode):
                os.fchmod(fd, stat.S_IMODE(status.st_mode))
        staging = self._target.with_name(f".{self._target.name}.{os.getpid()}.part")
        link(staging)
        try:
            os.replace(staging, self._target)
        except BaseException:
            os.unlink(staging)  # a replace refused (another's file in a sticky folder) leaves no copy
            raise


def can_create_in(directory: Path) -> None:
    """Make and drop a file in ``directory``: the one sure test that outputs can be made there
    (``os.access`` says yes to root everywhere, /proc and read-only mounts included).

    Raises:
        OSError: no file can be made there, with the system's reason.
    """
    fd = _unnamed_file(directory)
    if fd is not None:
        os.close(fd)  # never linked: it is gone with its descriptor
        return
    import tempfile

    fd, name = tempfile.mkstemp(dir=directory, prefix=".slopecli-", suffix=".part")
    os.close(fd)
    os.unlink(name)


def is_stdin(file: Path | int) -> bool:
    """``file`` (a path, or an open descriptor) is the run's standard input: the same file, not
    the same name, so that ``/dev/stdin``, ``/proc/self/fd/0`` and the file redirected with ``<``
    all count. An output there would destroy the data; a second input there would read it again.
    """
    return _same_file(0, file)


def is_stdout(file: Path) -> bool:
    """``file`` is the run's standard output (``/dev/stdout``, or the file redirected with ``>``)
    and a file or a pipe: an output file there would replace the results written to it, or mix
    with them for the reader. A terminal or ``/dev/null`` (a device) has nothing to lose."""
    try:
        return _same_file(1, file) and not stat.S_ISCHR(os.fstat(1).st_mode)
    except OSError:
        return False


def _same_file(fd: int, file: Path | int) -> bool:
    try:
        here, there = os.fstat(fd), os.stat(file)
    except (OSError, ValueError):
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _special(path: Path) -> bool:
    """``path`` is a device, a named pipe or a socket (after its symlinks)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _through_links(path: Path) -> Path:
    """The file that ``path`` names once its symlinks are followed; ``path`` itself if it is not
    a symlink or they loop."""
    try:
        if not path.is_symlink():
            return path
        target = Path(os.path.realpath(path))  # Path.resolve raises on a loop
        return path if target.is_symlink() else target
    except OSError:  # a name too long: writing fails later, and says so
        return path


_AT_FDCWD = -100
_AT_SYMLINK_FOLLOW = 0x400


def _unnamed_file(directory: Path) -> int | None:
    """An ``O_TMPFILE`` descriptor in ``directory``, or None where the system has none."""
    if _linkat() is None:
        return None
    try:
        return os.open(directory, os.O_TMPFILE | os.O_WRONLY, 0o666)
    except (AttributeError, OSError):
        return None


def _linkat() -> Any:
    # os.link() cannot name an unnamed file: it links the /proc symlink itself (EXDEV) because
    # it does not pass AT_SYMLINK_FOLLOW. libc's linkat does.
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.linkat
    except (OSError, AttributeError):
        return None


def _link_unnamed(fd: int, target: Path) -> None:
    import ctypes

    source = f"/proc/self/fd/{fd}".encode()
    if _linkat()(_AT_FDCWD, source, _AT_FDCWD, os.fsencode(target), _AT_SYMLINK_FOLLOW) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno), str(target))
