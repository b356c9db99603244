"""The environment a benchmark's commands run in: slopecli's bytecode cached, as a user's is.

pip compiles a wheel's modules when it installs them, and an editable install writes its
``__pycache__`` on the first run. Under ``PYTHONDONTWRITEBYTECODE`` (set in some shells and CI
images) an editable slopecli would instead be compiled from source on every run, 30-60 ms that no
user pays, while DuckDB and polars, installed as wheels, read their compiled code. So the variable
is dropped, and every command's bytecode goes under one ``PYTHONPYCACHEPREFIX`` of the run's own,
filled by the warm-up runs: nothing is written into the source tree.
"""

from __future__ import annotations

import os
import tempfile

_PYCACHE = tempfile.mkdtemp(prefix="bench-pycache-")


def compiled(**extra: str) -> dict[str, str]:
    """``os.environ`` with bytecode cached under the run's own prefix, plus ``extra``."""
    dropped = ("PYTHONDONTWRITEBYTECODE", "PYTHONPROFILEIMPORTTIME")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env["PYTHONPYCACHEPREFIX"] = _PYCACHE
    return {**env, **extra}
