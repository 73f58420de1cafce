"""Which code a study run measured: the commit, ``-dirty`` when the measured paths differ."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import perfgate

#: What a run's figures depend on; appended results under studies/results do not count.
MEASURED = ("src", "studies", ":(exclude)studies/results")


def code_commit(paths: Sequence[str] = MEASURED) -> str:
    """The short commit of the perfgate checkout this process imports, ``-dirty`` when
    ``paths`` (pathspecs from its top) differ from it; ``unknown`` outside git."""
    here = Path(perfgate.__file__).resolve().parent

    def git(*argv: str) -> str:
        return subprocess.run(
            ["git", "-C", str(here), *argv], capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        sha = git("rev-parse", "--short", "HEAD")
        top = git("rev-parse", "--show-toplevel")
        dirty = git("-C", top, "status", "--porcelain", "--untracked-files=no", "--", *paths)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{sha}-dirty" if dirty else sha
