"""``python -m slopecli``, and the console script's entry point.

The command line takes a few hundred milliseconds to import; a Ctrl-C in that time ends the run as
one later would, with one line and exit 130, not an import traceback.
"""

import os
import sys


def main() -> None:
    """The console script ``slopecli``."""
    try:
        from slopecli.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("slopecli: interrupted\n")
        sys.stderr.flush()
        os._exit(130)
    run()


if __name__ == "__main__":
    main()
