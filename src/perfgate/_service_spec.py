"""ServiceSpec (how to run the API under test) and its tiny ``{{ name }}`` substitution.

The substitution is deliberately minimal — ``{{ port }}``, ``{{ workdir }}``,
``{{ arm }}``, ``{{ root }}`` and ``{{ env.NAME }}`` — so that two copies of
a service (A/B arms) get their own ports, databases and temp dirs.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["RUNNER_CREDENTIALS", "ServiceSpec", "mask_text", "placeholders", "substitute"]

#: The runner's own credentials: never inherited by the API under test (the
#: pull request's code), only passed when ``service.env`` names one explicitly.
RUNNER_CREDENTIALS = (
    "GITHUB_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_RUNTIME_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_CACHE_URL",
    "ACTIONS_RESULTS_URL",
    "PERFGATE_INPUT_GITHUB_TOKEN",
)

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")


def placeholders(text: str) -> list[str]:
    """The variable names used in ``text`` (``{{ port }}`` -> ``port``)."""
    return [m.group(1) for m in _PLACEHOLDER.finditer(text)]


def substitute(
    text: str, variables: Mapping[str, object], env: Mapping[str, str] | None = None
) -> str:
    """Replace ``{{ name }}`` by ``variables[name]`` and ``{{ env.NAME }}`` by ``env[NAME]``.

    An unknown name raises KeyError naming it (an unset env var renders as "").
    """
    environ = os.environ if env is None else env

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("env."):
            return environ.get(name[4:], "")
        if name not in variables:
            raise KeyError(name)
        return str(variables[name])

    return _PLACEHOLDER.sub(replace, text)


def mask_text(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret value (of 4+ characters) in ``text`` with ``***``."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


@dataclass
class ServiceSpec:
    """Everything needed to run one copy of the API under test (already templated)."""

    start: str | list[str]  # argv list, or a shell string run by /bin/sh -c
    setup: str | list[str] | None = None
    cwd: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    ready_url: str | None = None  # full URL, or a path like "/health" on 127.0.0.1:port
    ready_port: int | None = None  # TCP readiness when there is no URL
    ready_timeout: float = 30.0
    setup_timeout: float = 600.0
    stop_timeout: float = 10.0  # grace between SIGTERM and SIGKILL
    cpus: list[int] | None = None
    log: Path | None = None
    port: int | None = None  # the port the service listens on
    workdir: Path | None = None  # per-arm scratch dir; TMPDIR=workdir/tmp
    name: str = "service"
    mask: list[str] = field(default_factory=list)  # secret values hidden in logs
    inherit_env: bool = True
    # inherited variables the service must not see (the GitHub token's
    # variable, e.g. github.token_env); RUNNER_CREDENTIALS always
    withhold_env: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.start or (isinstance(self.start, list) and not all(self.start)):
            raise ValueError("ServiceSpec.start must be a non-empty command")
        if self.ready_url is None and self.ready_port is None and self.port is None:
            raise ValueError("ServiceSpec needs ready_url, ready_port or port")
        if self.ready_url and self.ready_url.startswith("/") and self.port is None:
            raise ValueError("a ready_url path needs ServiceSpec.port")

    @property
    def ready_url_resolved(self) -> str | None:
        if self.ready_url and self.ready_url.startswith("/"):
            return f"http://127.0.0.1:{self.port}{self.ready_url}"
        return self.ready_url

    @property
    def ready_host(self) -> str:
        url = self.ready_url_resolved
        return (urlsplit(url).hostname or "127.0.0.1") if url else "127.0.0.1"

    @property
    def listen_port(self) -> int | None:
        """The port whose listener must belong to this service."""
        if self.ready_port is not None:
            return self.ready_port
        url = self.ready_url_resolved
        if url:
            parts = urlsplit(url)
            if parts.port is not None:
                return parts.port
            return 443 if parts.scheme == "https" else 80
        return self.port

    @property
    def base_url(self) -> str:
        """Where the load goes: http://127.0.0.1:PORT (or the ready URL's origin)."""
        if self.port is not None:
            return f"http://127.0.0.1:{self.port}"
        url = self.ready_url_resolved
        if url:
            parts = urlsplit(url)
            return f"{parts.scheme}://{parts.netloc}"
        return f"http://127.0.0.1:{self.ready_port}"

    def resolved_log(self) -> Path:
        if self.log is not None:
            return self.log
        if self.workdir is not None:
            return self.workdir / f"{self.name}.log"
        return Path(tempfile.gettempdir()) / f"perfgate-{self.name}-{uuid.uuid4().hex[:8]}.log"

    def full_env(self) -> dict[str, str]:
        """The service's environment: ours (unless not inherited) less the runner's
        credentials, then defaults, then ``env`` (which may pass one back explicitly)."""
        env = (
            dict(os.environ)
            if self.inherit_env
            else {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        )
        for name in (*RUNNER_CREDENTIALS, *self.withhold_env):
            env.pop(name, None)
        env.setdefault(
            "PYTHONUNBUFFERED", "1"
        )  # so a crashing Python service's last words reach the log
        if self.workdir is not None:
            env["TMPDIR"] = str(self.workdir / "tmp")
        env.update(self.env)
        return env
