"""The monitor's own process (target/watch_process.py): real subprocesses, real /proc."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

from perfgate.config import MonitorConfig
from perfgate.target import WatchProcess, WatchTarget

SRC = Path(__file__).resolve().parents[1] / "src"
#: No health or metrics polls (nothing listens): the process sampler only.
QUIET = replace(MonitorConfig(), health_url=None, metrics_url=None, connections=False)


def _gone(pid: int) -> bool:
    """Exited (or a zombie nobody reaped: it runs nothing)."""
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "State:\tZ" in state


def _wait_gone(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _gone(pid):
            return True
        time.sleep(0.05)
    return _gone(pid)


def test_a_watcher_samples_the_process_it_is_given() -> None:
    target = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        watcher = WatchProcess()
        watcher.start(
            WatchTarget("http://127.0.0.1:9", replace(QUIET, sample_interval=0.1), target.pid,
                        None, time.monotonic())
        )  # fmt: skip
        time.sleep(0.6)
        record = watcher.stop()
    finally:
        target.kill()
        target.wait()
    rows = record["process"]
    assert isinstance(rows, list) and len(rows) >= 2
    assert all(row["rss_bytes"] > 0 for row in rows)
    assert record["available"] == {
        "process": True, "connections": False, "health": False, "metrics": False
    }  # fmt: skip


def test_a_watcher_never_given_a_target_ends_with_stop() -> None:
    watcher = WatchProcess()
    pid = watcher._proc.pid
    assert watcher.stop() == {}
    assert watcher._proc.returncode is not None and _gone(pid)


def test_a_watcher_that_cannot_start_is_a_runtime_error_and_ends() -> None:
    watcher = WatchProcess()
    watcher._proc.kill()  # as if it died while importing
    watcher._proc.wait()
    try:
        watcher.start(WatchTarget("http://127.0.0.1:9", QUIET, None, None, time.monotonic()))
    except RuntimeError as exc:
        assert "did not start" in str(exc)
    else:
        raise AssertionError("a dead watcher started")


def test_the_watcher_does_not_import_the_parents_main_script(tmp_path: Path) -> None:
    # multiprocessing's spawn re-imported the main script in every child: for a
    # study script or the `perfgate` console script, ~1.2 s per arm and launch
    marker = tmp_path / "imports"
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import time
            with open({str(marker)!r}, "a") as fh:
                fh.write("imported\\n")
            from perfgate.config import MonitorConfig
            from perfgate.target import WatchProcess, WatchTarget
            from dataclasses import replace

            if __name__ == "__main__":
                quiet = replace(MonitorConfig(), health_url=None, metrics_url=None,
                                connections=False)
                import os
                w = WatchProcess()
                w.start(WatchTarget("http://127.0.0.1:9", quiet, os.getpid(), None,
                                    time.monotonic()))
                print(sorted(w.stop()))
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "'process'" in out.stdout
    assert marker.read_text().splitlines() == ["imported"]


def test_an_idle_watcher_exits_when_its_parent_dies(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(
        "import os\n"
        "from perfgate.target.watch_process import WatchProcess\n"
        "w = WatchProcess()\n"
        "print(w._proc.pid, flush=True)\n"
        "os._exit(0)\n"  # no stop(): the child must notice on its own
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert _wait_gone(int(out.stdout.strip()))
