"""``python -m slopecli``, and the console script's entry point.

The command line takes a few hundred milliseconds to import; a Ctrl-C in that time ends the run as
one later would, with one line and exit 130, not an import traceback.
"""

import gc
import os
import sys

GC_THRESHOLD = (100_000, 50, 100)
"""The collector's thresholds for a run (Python's defaults: 700, 10, 10). Importing numpy, pyarrow
and Typer makes some 200,000 objects, and with the defaults the collector walks them again and
again while they are made: a run from flags spends ~30 ms of its ~160 in it (bench/README.md).
Cycles are still collected, a hundred thousand allocations apart; a library user's interpreter
keeps its own settings."""


def main() -> None:
    """The console script ``slopecli``."""
    gc.set_threshold(*GC_THRESHOLD)
    try:
        from slopecli.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("slopecli: interrupted\n")
        sys.stderr.flush()
        os._exit(130)
    run()


if __name__ == "__main__":
    main()
