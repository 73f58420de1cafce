"""The environment fingerprint a run is recorded (and matched) with."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

__all__ = ["MATCH_KEYS", "environment_fingerprint"]

#: The fields history comparison matches on. Runner names are recorded only:
#: hosted runners are a fresh VM per job, so the name never repeats.
MATCH_KEYS = ("cpu_model", "cores", "os")


def _cpu_model() -> str:
    try:
        for line in (
            Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines()
        ):
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return f"{platform.system()} {platform.release()}".strip()


def environment_fingerprint() -> dict[str, Any]:
    """CPU model, cores, memory, OS, Python and perfgate versions, runner name."""
    import psutil

    from perfgate import __version__

    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count() or 0,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": _os_name(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "perfgate_version": __version__,
        "runner_name": os.environ.get("RUNNER_NAME"),
    }
