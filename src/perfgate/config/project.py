"""perfgate.yml: the gate's one config file — model and strict loader.

```yaml
service:
  setup: pip install -e .
  start: [python, -m, myapi, --port, "{{ port }}", --db, "{{ workdir }}/api.sqlite"]
  ready: {url: /health, timeout: 30}
suites:
  - {name: load, script: perf/load.yml}
```
Every string of ``service:`` may use ``{{ port }}``, ``{{ workdir }}``,
``{{ arm }}``, ``{{ root }}`` and ``{{ env.NAME }}``; :func:`perfgate.target.service_for`
renders them per arm. Unknown keys anywhere are errors with a did-you-mean.
See docs/perfgate-yml.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from perfgate.config.placeholders import placeholders
from perfgate.config.reader import Fields
from perfgate.config.sections import (
    AbConfig,
    CompareConfig,
    GitHubConfig,
    MonitorConfig,
    ProfileConfig,
    ReportConfig,
    SloConfig,
    SloThresholds,
    StoreConfig,
    SuiteConfig,
    parse_ab,
    parse_compare,
    parse_github,
    parse_monitor,
    parse_profiles,
    parse_report,
    parse_slo,
    parse_store,
    parse_suites,
)
from perfgate.config.yaml import Located, child_path, load_yaml, load_yaml_text, suggest
from perfgate.errors import ConfigError

__all__ = [
    "TEMPLATE_VARIABLES",
    "AbConfig",
    "CompareConfig",
    "GitHubConfig",
    "MonitorConfig",
    "ProfileConfig",
    "ProjectConfig",
    "ReadyConfig",
    "ReportConfig",
    "ServiceConfig",
    "SloConfig",
    "SloThresholds",
    "StoreConfig",
    "SuiteConfig",
    "load_project",
    "load_project_text",
]

TEMPLATE_VARIABLES = ("port", "workdir", "arm", "root")
TOP_LEVEL_KEYS = (
    "service",
    "target",
    "suites",
    "profiles",
    "slo",
    "compare",
    "ab",
    "store",
    "monitor",
    "report",
    "github",
    "secrets",
    "mask",
)
SERVICE_KEYS = (
    "setup",
    "start",
    "cwd",
    "env",
    "ready",
    "setup_timeout",
    "stop_timeout",
    "cpus",
    "log",
    "port",
)


@dataclass
class ReadyConfig:
    url: str | None = None  # "/health" (on 127.0.0.1:port) or a full URL; templated
    port: str | None = None  # a number or "{{ port }}"; templated
    timeout: float = 30.0


@dataclass
class ServiceConfig:
    """The ``service:`` section as written (strings still templated)."""

    start: str | list[str]
    setup: str | list[str] | None = None
    cwd: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    ready: ReadyConfig = field(default_factory=ReadyConfig)
    setup_timeout: float = 600.0
    stop_timeout: float = 10.0
    cpus: list[int] | None = None
    log: str | None = None
    port: int | None = None  # fixed port for single-arm runs; None: perfgate picks a free one


@dataclass
class ProjectConfig:
    """A parsed, validated perfgate.yml."""

    root: Path  # the directory of perfgate.yml; relative paths resolve here
    path: Path | None = None
    service: ServiceConfig | None = None
    target: str | None = None  # URL of an API perfgate does not start
    suites: list[SuiteConfig] = field(default_factory=list)
    profiles: dict[str, ProfileConfig] = field(default_factory=dict)
    slo: SloConfig = field(default_factory=SloConfig)
    compare: CompareConfig = field(default_factory=CompareConfig)
    ab: AbConfig = field(default_factory=AbConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    monitor: MonitorConfig = field(default_factory=MonitorConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    github: GitHubConfig = field(default_factory=GitHubConfig)
    secrets: list[str] = field(default_factory=list)  # env var names whose values are masked
    warnings: list[str] = field(default_factory=list)

    def suites_for(self, profile: str) -> list[SuiteConfig]:
        return [s for s in self.suites if profile in s.profiles]

    def secret_values(self, env: dict[str, str] | None = None) -> list[str]:
        """The current values of the secret env vars (for masking)."""
        environ = os.environ if env is None else env
        names = [*self.secrets, self.github.token_env]
        return [environ[n] for n in names if environ.get(n)]


def load_project(path: str | Path) -> ProjectConfig:
    """Read and validate perfgate.yml; any problem is a ConfigError naming file, line and key."""
    p = Path(path)
    if p.is_dir():
        p = p / "perfgate.yml"
    if not p.exists():
        raise ConfigError(
            "file not found — run `perfgate init` in your repository to write one "
            "(it finds your Artillery scripts, guesses how to start the API, and checks it)",
            file=str(p),
        )
    doc = load_yaml(p)
    return _parse(doc, p.resolve().parent, p)


def load_project_text(text: str, root: Path, file: str = "perfgate.yml") -> ProjectConfig:
    """Parse perfgate.yml from a string (relative paths resolve against ``root``)."""
    return _parse(load_yaml_text(text, file), root.resolve(), None)


def _parse(doc: Located, root: Path, path: Path | None) -> ProjectConfig:
    if doc.data is None:
        doc.data = {}
    top = Fields(doc, doc.data, "")
    top.check_keys(TOP_LEVEL_KEYS)
    if top.has("service") and top.has("target"):
        raise top.error(
            "target",
            "use either 'service:' (perfgate starts the API) or 'target:' (it is already running)",
        )
    target = top.text("target", None)
    if target is not None and not target.startswith(("http://", "https://")):
        raise top.error("target", f"expected an http:// or https:// URL, got {target!r}")
    profiles = parse_profiles(top)
    return ProjectConfig(
        root=root,
        path=path,
        service=_parse_service(top.sub("service")) if top.has("service") else None,
        target=target,
        suites=parse_suites(top, root, list(profiles)),
        profiles=profiles,
        slo=parse_slo(top),
        compare=parse_compare(top),
        ab=parse_ab(top),
        store=parse_store(top),
        monitor=parse_monitor(top),
        report=parse_report(top),
        github=parse_github(top),
        secrets=[*top.texts("secrets"), *top.texts("mask")],
        warnings=doc.warnings,
    )


def _check_templates(f: Fields, key_path: str, text: str) -> None:
    for name in placeholders(text):
        if name.startswith("env.") and len(name) > 4:
            continue
        if name not in TEMPLATE_VARIABLES:
            raise f.doc.error(
                key_path,
                f"unknown template variable '{{{{ {name} }}}}' (known: {', '.join(TEMPLATE_VARIABLES)}, env.NAME)",
                suggest(name, TEMPLATE_VARIABLES),
            )


def _parse_service(f: Fields) -> ServiceConfig:
    f.check_keys(SERVICE_KEYS)
    start = f.command("start")
    if start is None:
        raise f.doc.error(
            f.path, "service.start is required: the command that starts the API under test"
        )
    setup = f.command("setup")
    for key, c in (("start", start), ("setup", setup)):
        if isinstance(c, str):
            _check_templates(f, f.at(key), c)
        elif c is not None:
            for i, arg in enumerate(c):
                _check_templates(f, child_path(f.at(key), i), arg)
    env = f.string_map("env")
    for k, v in env.items():
        _check_templates(f, child_path(f.at("env"), k), v)
    ready = _parse_ready(f.sub("ready"))
    cwd, log = f.text("cwd"), f.text("log")
    for key, text in (("cwd", cwd), ("log", log)):
        if text:
            _check_templates(f, f.at(key), text)
    port = f.integer("port", None, minimum=1)
    if port is not None and port > 65535:
        raise f.error("port", f"not a TCP port: {port}")
    return ServiceConfig(
        start=start,
        setup=setup,
        cwd=cwd,
        env=env,
        ready=ready,
        setup_timeout=f.number("setup_timeout", 600.0, minimum=0, exclusive_min=True) or 600.0,
        stop_timeout=f.number("stop_timeout", 10.0, minimum=0) or 0.0,
        cpus=f.integers("cpus"),
        log=log,
        port=port,
    )


def _parse_ready(f: Fields) -> ReadyConfig:
    f.check_keys(["url", "port", "timeout"])
    if f.has("url") and f.has("port"):
        raise f.error("port", "give either ready.url or ready.port, not both")
    url = f.text("url")
    if url is not None:
        _check_templates(f, f.at("url"), url)
        if not url.startswith(("/", "http://", "https://", "{{")):
            raise f.error("url", f"expected a path like /health or an http:// URL, got {url!r}")
    port = f.raw("port")
    port_text: str | None = None
    if port is not None:
        if isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536:
            port_text = str(port)
        elif isinstance(port, str) and placeholders(port):
            _check_templates(f, f.at("port"), port)
            port_text = port
        else:
            raise f.error("port", f"expected a port number or '{{{{ port }}}}', got {port!r}")
    timeout = f.number("timeout", 30.0, minimum=0, exclusive_min=True) or 30.0
    return ReadyConfig(url=url, port=port_text, timeout=timeout)
