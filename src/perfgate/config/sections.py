"""perfgate.yml sections other than ``service:``: typed, validated, with defaults.

Each section is a dataclass plus a ``parse_*`` function over :class:`Fields`.
Their content is consumed by the gate, A/B, stress and report modules; to add
a key, add the field, read it in the parser and list it in the known keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from perfgate.config.reader import Fields
from perfgate.config.yaml import child_path
from perfgate.metrics import FailurePolicy

__all__ = [
    "AbConfig",
    "CompareConfig",
    "GitHubConfig",
    "MonitorConfig",
    "ProfileConfig",
    "ReportConfig",
    "SloConfig",
    "SloThresholds",
    "StoreConfig",
    "SuiteConfig",
]

SuiteKind = Literal["load", "bench", "stress"]
CompareMode = Literal["ab", "history", "none"]
SUITE_KINDS = ("load", "bench", "stress")
COMPARE_MODES = ("ab", "history", "none")
REPORT_FORMATS = ("markdown", "html", "json", "junit", "artillery-json")


@dataclass
class SuiteConfig:
    """One suite: an Artillery script (load/stress) or a bench suite."""

    name: str
    kind: SuiteKind
    path: Path  # the script or suite file, resolved against perfgate.yml's directory
    profiles: list[str] = field(default_factory=lambda: ["pr", "full"])
    time_scale: float | None = None  # multiply phase durations (e.g. 0.1 in pr)
    max_duration_s: float | None = None  # cap on measured time
    slice_phase: str | int | None = None  # pr: run only this (steady) phase, by name or index
    workers: int | None = None
    options: dict[str, Any] = field(
        default_factory=dict
    )  # kind-specific, read by the suite's owner


@dataclass
class ProfileConfig:
    name: str
    budget_s: float | None = None  # measurement budget (setup/build reported apart)
    compare: CompareMode = "history"
    strict: bool = False  # inconclusive -> exit 3


DEFAULT_PROFILES = {
    "pr": ProfileConfig("pr", budget_s=60.0, compare="ab"),
    "full": ProfileConfig("full", budget_s=None, compare="history"),
}


@dataclass
class SloThresholds:
    """Absolute limits; None means not checked."""

    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    error_rate: float | None = None  # fraction
    completed_ratio: float | None = None  # offered arrivals completed without error
    max_lag_ms: float | None = None  # scheduler lag bound for the throughput check
    # 4xx answers that count as failed requests (True: all; a set: those); None: not declared
    fail_on_4xx: bool | frozenset[int] | None = None
    # the keys perfgate.yml wrote itself: a default percentile SLO that lacks
    # samples is "not evaluated", one the user asked for is inconclusive
    configured: frozenset[str] = frozenset()


@dataclass
class SloConfig:
    # The seed's "acceptable performance".
    default: SloThresholds = field(
        default_factory=lambda: SloThresholds(
            p50_ms=100.0,
            p95_ms=200.0,
            p99_ms=500.0,
            error_rate=0.01,
            completed_ratio=0.99,
            max_lag_ms=50.0,
        )
    )
    endpoints: dict[str, SloThresholds] = field(
        default_factory=dict
    )  # "GET /api/bounties" -> limits

    def failure_policy(self) -> FailurePolicy:
        """What a failed request is under this config (see ``metrics.failures``)."""
        return FailurePolicy(
            fail_on_4xx=self.default.fail_on_4xx or False,
            endpoints={
                ep: t.fail_on_4xx for ep, t in self.endpoints.items() if t.fail_on_4xx is not None
            },
        )


@dataclass
class CompareConfig:
    min_effect: dict[str, float] = field(
        default_factory=lambda: {
            "median": 0.05,
            "p95": 0.15,
            "p99": 0.15,
            "cpu_per_request": 0.05,
            "error_rate_pp": 0.005,
            # A/B only: the share of candidate requests above the base's p95/p99
            # (percentage points), saturated time per arrival, RSS growth (KiB per
            # request), peak RSS per launch
            "tail_share_pp": 0.01,
            "capacity": 0.10,
            "rss_kib_per_request": 0.5,
            "peak_rss": 0.10,
        }
    )
    primary: list[str] = field(default_factory=list)  # empty: the gate's default family
    # "extend": declared metrics join the default core; "replace": they are the core
    primary_mode: str = "extend"
    # where each primary name was written (file, line), for errors found at plan time
    primary_at: list[tuple[str, int | None]] = field(default_factory=list)
    alpha: float = 0.05
    history_runs: int = 20
    history_min_points: int = 10
    history_branch: str = "main"


@dataclass
class AbConfig:
    rate: float | None = None  # arrivals/s; None: the script's sustained rate, capped
    capacity_fraction: float = 0.6
    pairs: int = 12
    # pairs added once when the first look cannot decide (0: never); both looks
    # then test at Pocock's level, so the run's false-alarm rate stays alpha
    extend_pairs: int = 12
    # each arm's process is started this many times (a fresh pair of processes
    # per launch, pairs split between them): the launch-level offset is then
    # measured, not only assumed (perfgate.stats.clustered)
    launches: int = 2
    # paired closed-loop chunks (both arms saturated in turn), split between
    # the launches: the capacity comparison; 0 skips it
    capacity_pairs: int = 12
    round_s: float = 2.0
    slices: int = 4  # each round is cut into slices that alternate between the arms
    warmup_s: float = 5.0
    warmup_requests: int = 2000
    discard_fraction: float = 0.1
    max_lag_ms: float = 1.0
    # pairs dropped for scheduler lag are run again in their launch, up to this many
    # in the run (0: never): one more pair (~4 s) instead of a second look (~50 s)
    replace_dropped: int = 6
    # bench suites: rounds per arm, interleaved in ABBA/BAAB pairs (raised when
    # Holm over the run's secondary family needs more; docs/ab.md)
    bench_rounds: int = 12
    # this API's launch-level SDs (`perfgate calibrate`), relative to the config
    # file; None: the built-in priors measured on the demo
    calibration: str | None = None
    seed: int | None = None
    generator_cpus: list[int] = field(default_factory=lambda: [0])
    arm_cpus: list[int] = field(default_factory=lambda: [1])


@dataclass
class StoreConfig:
    path: str = "baselines/perfgate.sqlite"  # local database (CI: perfgate.sqlite on the branch)
    branch: str = "perfgate-baselines"
    remote: str = "origin"
    # the branch's prune policy, applied on every push: the newest keep_runs
    # runs stay, older ones go once older than keep_days (None: by count only)
    keep_runs: int = 500
    keep_days: float | None = None
    # the branch keeps at most this many commits: past it, the push is one
    # squashed commit (fetches are shallow to this depth)
    max_commits: int = 50


@dataclass
class MonitorConfig:
    enabled: bool = True
    health_url: str | None = "/health/detailed"  # path on the target, or a full URL; null disables
    metrics_url: str | None = "/metrics/json"
    interval: float = 2.0
    timeout: float = 2.0
    sample_interval: float = 0.5  # process RSS/CPU
    connections: bool = True


@dataclass
class ReportConfig:
    dir: str = "performance-reports"
    formats: list[str] = field(default_factory=lambda: ["markdown", "html", "json", "junit"])


COMMENT_ON = ("always", "change", "regression", "never")


@dataclass
class GitHubConfig:
    comment: bool = True  # the sticky PR comment at all
    comment_on: str = "change"  # when a new comment is posted (COMMENT_ON)
    annotations: bool = True  # ::error:: on the script line of each regression/SLO failure
    summary: bool = True  # the job summary
    token_env: str = "GITHUB_TOKEN"  # the variable holding the token (never passed to the service)
    api_url: str | None = None  # GitHub Enterprise; default: the runner's GITHUB_API_URL
    alert_comment: bool = False  # on a push, a commit comment when the run regressed


# -- parsers ----------------------------------------------------------------


def parse_suites(f: Fields, root: Path, known_profiles: list[str]) -> list[SuiteConfig]:
    items = f.doc.expect_list(f.data.get("suites"), f.at("suites"))
    suites: list[SuiteConfig] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        s = Fields(f.doc, item, child_path(f.at("suites"), i))
        s.check_keys(
            [
                "name",
                "kind",
                "script",
                "suite",
                "profiles",
                "time_scale",
                "max_duration",
                "slice_phase",
                "workers",
                "options",
            ]
        )
        kind = s.text("kind", None, choices=SUITE_KINDS)
        if kind is None:
            kind = "bench" if s.has("suite") else "load"
        key = "suite" if kind == "bench" else "script"
        other = "script" if key == "suite" else "suite"
        if s.has(other):
            raise s.error(other, f"a {kind} suite takes '{key}:', not '{other}:'", key)
        rel = s.required_text(key)
        path = (root / rel).resolve()
        if not path.is_file():
            raise s.error(key, f"file not found: {path}")
        name = s.text("name", None) or Path(rel).stem
        if name in seen:
            raise s.error("name", f"duplicate suite name {name!r}")
        seen.add(name)
        default_profiles = ["full"] if kind == "stress" else ["pr", "full"]
        profiles = s.texts("profiles", default_profiles)
        for j, p in enumerate(profiles):
            if p not in known_profiles:
                from perfgate.config.yaml import suggest

                raise f.doc.error(
                    child_path(s.at("profiles"), j),
                    f"unknown profile {p!r}",
                    suggest(p, known_profiles),
                )
        slice_raw = s.raw("slice_phase")
        if slice_raw is not None and (
            isinstance(slice_raw, bool) or not isinstance(slice_raw, str | int)
        ):
            raise s.error("slice_phase", "expected a phase name or index")
        workers = s.integer("workers", None, minimum=1)
        suites.append(
            SuiteConfig(
                name=name,
                kind=kind,  # type: ignore[arg-type]
                path=path,
                profiles=profiles,
                time_scale=s.number("time_scale", None, minimum=0, exclusive_min=True),
                max_duration_s=s.number("max_duration", None, minimum=0, exclusive_min=True),
                slice_phase=slice_raw,
                workers=workers,
                options=f.doc.expect_mapping(s.raw("options"), s.at("options")),
            )
        )
    return suites


def parse_profiles(f: Fields) -> dict[str, ProfileConfig]:
    profiles = {
        k: ProfileConfig(v.name, v.budget_s, v.compare, v.strict)
        for k, v in DEFAULT_PROFILES.items()
    }
    mapping = f.doc.expect_mapping(f.data.get("profiles"), f.at("profiles"))
    for name in mapping:
        p = Fields(f.doc, mapping[name], child_path(f.at("profiles"), name))
        p.check_keys(["budget", "compare", "strict"])
        base = profiles.get(name, ProfileConfig(name))
        profiles[name] = ProfileConfig(
            name=name,
            budget_s=p.number("budget", base.budget_s, minimum=0, exclusive_min=True),
            compare=p.text("compare", base.compare, choices=COMPARE_MODES),  # type: ignore[arg-type]
            strict=p.flag("strict", base.strict),
        )
    return profiles


_SLO_KEYS = ["p50", "p95", "p99", "error_rate", "completed_ratio", "max_lag", "fail_on_4xx"]


def _fail_on_4xx(f: Fields, default: bool | frozenset[int] | None) -> bool | frozenset[int] | None:
    """``fail_on_4xx: true`` or a list of 4xx statuses (``[401, 404]``)."""
    value = f.data.get("fail_on_4xx")
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        value = [value]
    items = f.doc.expect_list(value, f.at("fail_on_4xx"))
    for i, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, int) or not 400 <= item <= 499:
            raise f.doc.error(
                child_path(f.at("fail_on_4xx"), i),
                f"expected a 4xx status (400-499), got {item!r}; "
                "fail_on_4xx: true counts every 4xx, a list names the statuses that fail",
            )
    return frozenset(items)


def _thresholds(f: Fields, base: SloThresholds) -> SloThresholds:
    """Limits over ``base``; an explicit ``null`` switches a limit off."""

    def off(key: str) -> bool:
        return key in f.data and f.data[key] is None

    return SloThresholds(
        p50_ms=None if off("p50") else f.number("p50", base.p50_ms, minimum=0, exclusive_min=True),
        p95_ms=None if off("p95") else f.number("p95", base.p95_ms, minimum=0, exclusive_min=True),
        p99_ms=None if off("p99") else f.number("p99", base.p99_ms, minimum=0, exclusive_min=True),
        error_rate=None if off("error_rate") else f.ratio("error_rate", base.error_rate),
        completed_ratio=None
        if off("completed_ratio")
        else f.ratio("completed_ratio", base.completed_ratio),
        max_lag_ms=None if off("max_lag") else f.number("max_lag", base.max_lag_ms, minimum=0),
        fail_on_4xx=_fail_on_4xx(f, base.fail_on_4xx),
        configured=base.configured
        | frozenset(k for k in ("p50", "p95", "p99") if f.data.get(k) is not None),
    )


def parse_slo(f: Fields) -> SloConfig:
    s = f.sub("slo")
    s.check_keys([*_SLO_KEYS, "endpoints"])
    default = _thresholds(s, SloConfig().default)
    endpoints = {}
    mapping = s.doc.expect_mapping(s.data.get("endpoints"), s.at("endpoints"))
    for route in mapping:
        e = Fields(s.doc, mapping[route], child_path(s.at("endpoints"), route))
        e.check_keys(_SLO_KEYS)
        endpoints[str(route)] = _thresholds(e, SloThresholds())
    return SloConfig(default=default, endpoints=endpoints)


def parse_compare(f: Fields) -> CompareConfig:
    c = f.sub("compare")
    c.check_keys(["min_effect", "primary", "primary_mode", "alpha", "history"])
    out = CompareConfig()
    m = c.sub("min_effect")
    m.check_keys(list(out.min_effect))
    for key in out.min_effect:
        if key == "rss_kib_per_request":  # KiB, not a fraction
            value = m.number(key, out.min_effect[key], minimum=0)
        else:
            value = m.ratio(key, out.min_effect[key])
        out.min_effect[key] = value or 0.0
    out.primary = c.texts("primary", [])
    out.primary_at = [
        (c.doc.file, c.doc.line_of(child_path(c.at("primary"), i))) for i in range(len(out.primary))
    ]
    out.primary_mode = (
        c.text("primary_mode", out.primary_mode, choices=("extend", "replace")) or out.primary_mode
    )
    out.alpha = (
        c.number("alpha", out.alpha, minimum=0, maximum=0.5, exclusive_min=True) or out.alpha
    )
    h = c.sub("history")
    h.check_keys(["runs", "min_points", "branch"])
    out.history_runs = h.integer("runs", out.history_runs, minimum=1) or out.history_runs
    out.history_min_points = (
        h.integer("min_points", out.history_min_points, minimum=2) or out.history_min_points
    )
    out.history_branch = h.text("branch", out.history_branch) or out.history_branch
    return out


def parse_ab(f: Fields) -> AbConfig:
    a = f.sub("ab")
    d = AbConfig()
    a.check_keys(
        [
            "rate",
            "capacity_fraction",
            "pairs",
            "extend_pairs",
            "launches",
            "capacity_pairs",
            "round",
            "slices",
            "warmup",
            "warmup_requests",
            "discard",
            "max_lag",
            "replace_dropped",
            "bench_rounds",
            "calibration",
            "seed",
            "cpus",
        ]
    )
    cpus = a.sub("cpus")
    cpus.check_keys(["generator", "arms"])
    return AbConfig(
        rate=a.number("rate", None, minimum=0, exclusive_min=True),
        capacity_fraction=a.ratio("capacity_fraction", d.capacity_fraction) or d.capacity_fraction,
        # an exact Wilcoxon p-value of n pairs is at least 2**-n: Holm over ~6
        # primary metrics needs n >= 8 before any regression can be significant
        pairs=a.integer("pairs", d.pairs, minimum=8) or d.pairs,
        extend_pairs=a.integer("extend_pairs", d.extend_pairs, minimum=0) or 0,
        launches=a.integer("launches", d.launches, minimum=1) or d.launches,
        capacity_pairs=a.integer("capacity_pairs", d.capacity_pairs, minimum=0) or 0,
        round_s=a.number("round", d.round_s, minimum=0, exclusive_min=True) or d.round_s,
        slices=a.integer("slices", d.slices, minimum=1) or d.slices,
        warmup_s=a.number("warmup", d.warmup_s, minimum=0) or 0.0,
        warmup_requests=a.integer("warmup_requests", d.warmup_requests, minimum=0) or 0,
        discard_fraction=a.ratio("discard", d.discard_fraction) or 0.0,
        max_lag_ms=a.number("max_lag", d.max_lag_ms, minimum=0) or d.max_lag_ms,
        replace_dropped=a.integer("replace_dropped", d.replace_dropped, minimum=0) or 0,
        # one median per operation per round: the round pairs are the sample, as for load
        bench_rounds=a.integer("bench_rounds", d.bench_rounds, minimum=8) or d.bench_rounds,
        calibration=a.text("calibration", None),
        seed=a.integer("seed", None),
        generator_cpus=cpus.integers("generator") or d.generator_cpus,
        arm_cpus=cpus.integers("arms") or d.arm_cpus,
    )


def parse_store(f: Fields) -> StoreConfig:
    s = f.sub("store")
    s.check_keys(["path", "branch", "remote", "keep_runs", "keep_days", "max_commits"])
    d = StoreConfig()
    keep_runs = s.integer("keep_runs", d.keep_runs, minimum=1)
    max_commits = s.integer("max_commits", d.max_commits, minimum=1)
    return StoreConfig(
        path=s.text("path", d.path) or d.path,
        branch=s.text("branch", d.branch) or d.branch,
        remote=s.text("remote", d.remote) or d.remote,
        keep_runs=d.keep_runs if keep_runs is None else keep_runs,
        keep_days=s.number("keep_days", None, minimum=0, exclusive_min=True),
        max_commits=d.max_commits if max_commits is None else max_commits,
    )


def parse_monitor(f: Fields) -> MonitorConfig:
    m = f.sub("monitor")
    m.check_keys(
        [
            "enabled",
            "health_url",
            "metrics_url",
            "interval",
            "timeout",
            "sample_interval",
            "connections",
        ]
    )
    d = MonitorConfig()
    # An explicit `health_url: null` disables that poll; absence keeps the default.
    health = m.text("health_url", None) if "health_url" in m.data else d.health_url
    metrics = m.text("metrics_url", None) if "metrics_url" in m.data else d.metrics_url
    interval = m.number("interval", d.interval, minimum=0.1, maximum=60) or d.interval
    timeout = m.number("timeout", d.timeout, minimum=0.05, maximum=60) or d.timeout
    return MonitorConfig(
        enabled=m.flag("enabled", d.enabled),
        health_url=health,
        metrics_url=metrics,
        interval=interval,
        timeout=timeout,
        sample_interval=m.number("sample_interval", d.sample_interval, minimum=0.05, maximum=60)
        or d.sample_interval,
        connections=m.flag("connections", d.connections),
    )


def parse_report(f: Fields) -> ReportConfig:
    r = f.sub("report")
    r.check_keys(["dir", "formats"])
    d = ReportConfig()
    formats = r.texts("formats", d.formats)
    for i, fmt in enumerate(formats):
        if fmt not in REPORT_FORMATS:
            from perfgate.config.yaml import suggest

            raise f.doc.error(
                child_path(r.at("formats"), i),
                f"unknown report format {fmt!r} (known: {', '.join(REPORT_FORMATS)})",
                suggest(fmt, REPORT_FORMATS),
            )
    return ReportConfig(dir=r.text("dir", d.dir) or d.dir, formats=formats)


def parse_github(f: Fields) -> GitHubConfig:
    g = f.sub("github")
    g.check_keys(
        ["comment", "comment_on", "annotations", "summary", "token_env", "api_url", "alert_comment"]
    )
    d = GitHubConfig()
    api_url = g.text("api_url", None)
    if api_url is not None and not api_url.startswith(("https://", "http://")):
        raise g.error(
            "api_url", f"expected the REST API's URL (https://HOST/api/v3), got {api_url!r}"
        )
    token_env = g.text("token_env", d.token_env) or d.token_env
    if not token_env.replace("_", "").isalnum():
        raise g.error("token_env", f"expected an environment variable's name, got {token_env!r}")
    return GitHubConfig(
        comment=g.flag("comment", d.comment),
        comment_on=g.text("comment_on", d.comment_on, choices=COMMENT_ON) or d.comment_on,
        annotations=g.flag("annotations", d.annotations),
        summary=g.flag("summary", d.summary),
        token_env=token_env,
        api_url=api_url.rstrip("/") if api_url else None,
        alert_comment=g.flag("alert_comment", d.alert_comment),
    )
