"""The smoke run: a few seconds proving the service starts and the script reaches it."""

from __future__ import annotations

import dataclasses
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

from perfgate.errors import PerfgateError, ServiceError

__all__ = ["SmokeResult", "smoke_run"]


@dataclass
class SmokeResult:
    ok: bool
    summary: str  # what happened, one line
    next_step: str = ""  # what to do when it failed (or looks wrong)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def smoke_run(config_path: Path, *, seconds: float = 5.0, rate: float = 4.0) -> SmokeResult:
    """Start the service of ``config_path``, run its first suite's script at ``rate``/s for
    ``seconds``, and say whether anything answered. Never raises for the API's faults."""
    from perfgate.config import load_project
    from perfgate.engine import run_script
    from perfgate.metrics import failures
    from perfgate.script import Phase, load_script
    from perfgate.target import Service, service_for

    cfg = load_project(config_path)
    suite = next((s for s in cfg.suites if s.kind in ("load", "stress")), None)
    if suite is None or cfg.service is None:
        return SmokeResult(True, "nothing to smoke-test (no service or no load script)")
    with tempfile.TemporaryDirectory(prefix="perfgate-init-") as work:
        spec = service_for(cfg, "candidate", _free_port(), Path(work))
        svc = Service(spec)
        try:
            svc.start()
            after = svc.wait_ready()
        except ServiceError as exc:
            svc.stop()
            return SmokeResult(
                False,
                f"the service did not start: {exc}",
                "check service.start in perfgate.yml — run the command by hand — or run "
                "`perfgate init --force --start 'CMD' --ready /health` with the right command",
            )
        try:
            script = load_script(suite.path, target=spec.base_url)
            phase = Phase(index=0, name="smoke", duration_s=seconds, arrival_rate=rate)
            result = run_script(
                dataclasses.replace(script, phases=[phase], ensure=None),
                workers=1,
                handle_sigint=False,
            )
        except PerfgateError as exc:
            return SmokeResult(
                False,
                f"the script could not run: {exc}",
                f"fix {suite.path.name} (perfgate run {suite.path} -t {spec.base_url} shows it)",
            )
        finally:
            svc.stop()
    counted = failures.count(result.aggregate)
    started = f"service ready after {after:.1f} s"
    if counted.requests == 0:
        return SmokeResult(
            False,
            f"{started}, but the script sent no request",
            f"check the scenarios of {suite.path}",
        )
    if counted.nothing_answered:
        return SmokeResult(
            False,
            f"{started}; {counted.no_answer_message()}",
            "check that the API listens on the port perfgate gives it ({{ port }} / PORT) "
            "and that the script's URLs are paths on it",
        )
    codes = sorted(
        (k.rsplit(".", 1)[-1], v)
        for k, v in result.aggregate.counters.items()
        if k.startswith("http.codes.")
    )
    answered = ", ".join(f"{c}: {n}" for c, n in codes)
    summary = f"{started}; {counted.requests} requests, answers {answered}; {counted.summary()}"
    if counted.failed or counted.status_4xx:
        return SmokeResult(
            True,
            summary,
            f"the API answered, but not always with 2xx/3xx: check the routes in {suite.path}",
        )
    return SmokeResult(True, summary)
