"""``run_gate``: the whole gate as one library call.

Load and validate everything → measure (A/B on one machine, or the
candidate alone for history mode) → SLO checks → comparisons → one verdict
→ store → reports where people look. Whatever happens after measuring
started — a crash, a Ctrl-C, a failing store — the results gathered so far
are reported.
"""

from __future__ import annotations

import hashlib
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perfgate import __version__
from perfgate.errors import ConfigError, PerfgateError, ServiceError
from perfgate.gate.ab.calibration import calibration_path, load_calibration
from perfgate.gate.ab.design import look_level
from perfgate.gate.compare import apply_holm
from perfgate.gate.console import Log
from perfgate.gate.decide import decide
from perfgate.gate.git import GitInfo, git_info
from perfgate.gate.metric_names import check_primary
from perfgate.gate.plan import PlannedSuite, plan_suites
from perfgate.gate.session import ArmSession
from perfgate.gate.slo import mark_pre_existing, slo_checks
from perfgate.result import RunResult
from perfgate.target import service_for
from perfgate.verdict import Verdict

if TYPE_CHECKING:
    from perfgate.config import ProjectConfig
    from perfgate.report import ReportFiles
    from perfgate.store import Store
    from perfgate.verdict import MetricComparison

__all__ = [
    "GateOptions",
    "GateOutcome",
    "Measured",
    "judge",
    "measure",
    "publish",
    "run_gate",
    "store_run",
]

EXIT_INTERRUPTED = 130


@dataclass
class GateOptions:
    config: Path
    profile: str = "pr"
    mode: str | None = None  # "ab" | "history" | "none"; default: the profile's
    base_ref: str | None = None
    same_tree_base: bool = False  # A/B of the checkout against itself (perfgate demo)
    update_baseline: bool = False
    strict: bool = False
    report_dir: Path | None = None
    store_path: Path | None = None
    comment: bool = True
    candidate_env: dict[str, str] = field(default_factory=dict)  # e.g. fault injection
    quiet: bool = False
    baseline_branch: str | None = None  # default: the store section's branch
    comment_on: str | None = (
        None  # always | change | regression | never; default: github.comment_on
    )
    alert_comment: bool | None = None  # commit comment on a regression on a push; default: config


@dataclass
class GateOutcome:
    verdict: Verdict
    run: RunResult
    base: RunResult | None = None
    report: ReportFiles | None = None
    markdown: str = ""
    exit_code: int = 0


def _record_failure_policy(cfg: ProjectConfig, *runs: RunResult | None) -> None:
    """Each suite records what a failed request was (its figures and reports count by it)."""
    policy = cfg.slo.failure_policy().to_dict()
    for run in runs:
        for suite in run.suites if run is not None else []:
            suite.extra["failure_policy"] = policy


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config_hash(cfg: ProjectConfig, planned: list[PlannedSuite], profile: str) -> str:
    """What must match for two runs to be comparable: the suites' files and the profile."""
    h = hashlib.sha256(profile.encode())
    for p in sorted(planned, key=lambda s: s.name):
        h.update(p.name.encode() + b"\0" + p.kind.encode() + b"\0")
        try:
            h.update(Path(p.config.path).read_bytes())
        except OSError:
            h.update(str(p.config.path).encode())
        h.update(
            repr((p.config.time_scale, p.config.slice_phase, p.config.max_duration_s)).encode()
        )
    h.update(repr(cfg.profiles.get(profile)).encode())
    return h.hexdigest()[:16]


def _new_run(cfg: ProjectConfig, info: GitInfo, profile: str, label: str, chash: str) -> RunResult:
    from perfgate.store import environment_fingerprint

    return RunResult(
        tool_version=__version__,
        commit=info.commit,
        branch=info.branch,
        pr=info.pr,
        profile=profile,
        label=label,
        environment=environment_fingerprint(),
        config_hash=chash,
    )


def _measure_alone(
    cfg: ProjectConfig,
    planned: list[PlannedSuite],
    run: RunResult,
    workdir: Path,
    opts: GateOptions,
    log: Log,
) -> tuple[list[str], bool]:
    """Measure the candidate alone; returns (errors, interrupted). Results land in ``run``."""
    spec = None
    if cfg.service is not None:
        spec = service_for(cfg, "candidate", _free_port(), workdir / "candidate")
        spec.env.update(opts.candidate_env)
    elif not cfg.target:
        raise ConfigError(
            "perfgate.yml needs 'service:' (an API to start) or 'target:' (a URL)",
            file=str(cfg.path),
        )
    session = ArmSession(
        "candidate", spec=spec, url=cfg.target, monitor_config=cfg.monitor, log=log
    )
    errors: list[str] = []
    interrupted = False
    try:
        session.start()
    except ServiceError as exc:
        return [f"the API under test did not start: {exc}"], False
    try:
        for p in planned:
            if session.crashed:
                errors.append(f"suite {p.name!r} not run: the API under test had died")
                continue
            log(f"[candidate] suite {p.name} ({p.kind})")
            result = session.run_suite(p)
            run.suites.append(result)
            if result.interrupted and not session.crashed:
                interrupted = True
                break
    except KeyboardInterrupt:
        interrupted = True
    finally:
        run.monitor = session.stop()
    if session.crash is not None:
        run.monitor["death"] = session.crash
    for w in session.warnings:
        log(f"warning: {w}")
    run.environment["ready_s"] = session.ready_s
    return errors, interrupted


def _history_store(cfg: ProjectConfig, opts: GateOptions, info: GitInfo, log: Log) -> Path:
    """The database to read history from and record runs in."""
    if opts.store_path is not None:
        return opts.store_path
    local = (cfg.root / cfg.store.path).resolve()
    if info.repo_dir is not None and not local.exists():
        from perfgate.store import fetch_baseline

        try:
            branch = opts.baseline_branch or cfg.store.branch
            fetched = fetch_baseline(info.repo_dir, branch, cfg.store.remote)
        except PerfgateError as exc:
            log(f"warning: could not fetch the baseline branch: {exc}")
            fetched = None
        if fetched is not None:
            return fetched
    return local


@dataclass
class Measured:
    """What measuring gave: the candidate's run (and the base's, in A/B) and what went wrong."""

    mode: str  # the comparison to make: "ab", "history" or "none" (A/B may fall back)
    run: RunResult
    base: RunResult | None = None
    comparisons: list[MetricComparison] = field(default_factory=list)  # A/B's, before Holm
    errors: list[str] = field(default_factory=list)
    inconclusive: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    interrupted: bool = False


def run_gate(opts: GateOptions, log: Log = print) -> GateOutcome:
    """Run the gate as ``opts`` says; never raises once measuring has started.

    measure -> judge -> store -> publish, each a function of what the one
    before returned.
    """
    from perfgate.config import load_project

    cfg = load_project(opts.config)
    for w in cfg.warnings:
        log(f"warning: {w}")
    planned = plan_suites(cfg, opts.profile)
    check_primary(cfg.compare, planned)
    calibration = calibration_path(cfg)
    if calibration is not None:
        load_calibration(calibration)  # a bad file is a config error before anything starts
    mode = opts.mode or cfg.profiles[opts.profile].compare
    if mode not in ("ab", "history", "none"):
        raise ConfigError(f"unknown mode {mode!r} (ab, history or none)")
    info = git_info(cfg.root)
    chash = config_hash(cfg, planned, opts.profile)
    _mask_secrets(cfg)

    measured = measure(cfg, planned, opts, info, chash, mode, log)
    store = _open_store(cfg, opts, info, measured.warnings, log)
    verdict = judge(cfg, measured, store, strict=opts.strict or cfg.profiles[opts.profile].strict)
    verdict.warnings += store_run(cfg, opts, info, measured, verdict, store, log)
    outcome = GateOutcome(
        verdict=verdict, run=measured.run, base=measured.base, exit_code=verdict.exit_code
    )
    publish(cfg, opts, outcome, log, planned, info)
    return outcome


def measure(
    cfg: ProjectConfig,
    planned: list[PlannedSuite],
    opts: GateOptions,
    info: GitInfo,
    chash: str,
    mode: str,
    log: Log,
) -> Measured:
    """Run the suites: both arms interleaved (A/B) or the candidate alone."""
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="perfgate-gate-"))
    measured = Measured(
        mode,
        _new_run(cfg, info, opts.profile, "candidate", chash),
        details={"profile": opts.profile, "config_hash": chash},
    )
    try:
        if mode == "ab" and cfg.service is None:
            measured.warnings.append(
                "A/B needs a 'service:' to start two copies; comparing against history instead"
            )
            measured.mode = "history"
        if measured.mode == "ab":
            measured = _measure_ab(cfg, planned, opts, info, workdir, chash, measured, log)
        else:
            errors, measured.interrupted = _measure_alone(
                cfg, planned, measured.run, workdir, opts, log
            )
            measured.errors += errors
    except KeyboardInterrupt:
        measured.interrupted = True
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    measured.details["measure_s"] = round(time.monotonic() - started, 1)
    _record_failure_policy(cfg, measured.run, measured.base)
    return measured


def judge(cfg: ProjectConfig, measured: Measured, store: Store | None, *, strict: bool) -> Verdict:
    """Comparisons (A/B's, or against the stored history), SLO checks, Holm: one verdict."""
    run, mode = measured.run, measured.mode
    comparisons = list(measured.comparisons)
    errors, inconclusive = list(measured.errors), list(measured.inconclusive)
    warnings = list(measured.warnings)
    if mode == "history" and store is not None and not errors:
        from perfgate.gate.history import history_comparisons

        history_points: dict[str, Any] = {}
        comparisons = history_comparisons(run, store, cfg.compare, history_points)
        measured.details["history"] = history_points  # the report draws each metric's history
        if not any(
            c.method == "history" and c.state not in ("new", "insufficient") for c in comparisons
        ):
            from perfgate.gate.history import history_mismatch

            inconclusive.append(
                f"not enough history on {cfg.compare.history_branch!r} "
                f"(needs {cfg.compare.history_min_points} matching runs): compared, cannot fail"
                + history_mismatch(run, store, cfg.compare)
            )
    checks = slo_checks(run, cfg.slo)
    warnings += [f"{c.name}: {c.detail}" for c in checks if c.status == "skipped" and c.detail]
    if measured.base is not None:
        mark_pre_existing(checks, slo_checks(measured.base, cfg.slo))
    # A/B may look twice (ab.extend_pairs): each look spends Pocock's share of alpha
    level = look_level(cfg.ab, cfg.compare.alpha) if mode == "ab" else cfg.compare.alpha
    inconclusive += apply_holm(comparisons, level)
    for s in run.suites:
        errors += [e for e in s.errors if "died" not in e]
        warnings += s.warnings
        if s.scheduler is not None and s.scheduler.generator_limited:
            inconclusive.append(
                f"{s.name}: the load generator could not keep up (generator-limited)"
            )
    if measured.interrupted:
        errors.append("interrupted (Ctrl-C): the report holds the results gathered so far")
    verdict = decide(
        mode,
        comparisons,
        checks,
        errors=errors,
        inconclusive=inconclusive,
        warnings=warnings,
        strict=strict,
    )
    verdict.details.update(measured.details)
    if measured.interrupted:
        verdict.exit_code = EXIT_INTERRUPTED
    run.verdict = verdict.to_dict()
    return verdict


def store_run(
    cfg: ProjectConfig,
    opts: GateOptions,
    info: GitInfo,
    measured: Measured,
    verdict: Verdict,
    store: Store | None,
    log: Log,
) -> list[str]:
    """Save the run (and push it to the baseline branch when asked); returns warnings."""
    warnings: list[str] = []
    if store is not None:
        try:
            store.save_run(measured.run)
        except PerfgateError as exc:
            warnings.append(f"the run was not stored: {exc}")
        finally:
            store.close()
    if opts.update_baseline and info.repo_dir is not None:
        unfit = baseline_unfit(verdict, measured.errors, measured.interrupted)
        if unfit:
            warnings.append(f"baseline not updated: {unfit}")
            log(f"warning: baseline not updated: {unfit}")
        else:
            branch = opts.baseline_branch or cfg.store.branch
            warnings += _push_baseline(cfg, info, measured.run, log, branch)
    return warnings


def _open_store(
    cfg: ProjectConfig, opts: GateOptions, info: GitInfo, warnings: list[str], log: Log
) -> Store | None:
    from perfgate.store import Store

    try:
        return Store(_history_store(cfg, opts, info, log))
    except PerfgateError as exc:
        warnings.append(f"results store unavailable: {exc}")
        return None


def baseline_unfit(verdict: Verdict, errors: list[str], interrupted: bool) -> str:
    """Why this run may not become a baseline ("" when it may): only clean, complete runs."""
    if interrupted:
        return "the run was interrupted"
    if errors or verdict.state == "error":
        return "the run ended with errors"
    return ""


def _measure_ab(
    cfg: ProjectConfig,
    planned: list[PlannedSuite],
    opts: GateOptions,
    info: GitInfo,
    workdir: Path,
    chash: str,
    measured: Measured,
    log: Log,
) -> Measured:
    """Both arms on this machine; the base from a worktree of the base ref."""
    from perfgate.gate.ab.run import run_ab
    from perfgate.gate.worktree import merge_base

    base_root: Path | None = cfg.root
    base_named: dict[str, str] = {"ref": "the same tree", "commit": info.commit or ""}
    cleanup: Callable[[], None] | None = None
    if not opts.same_tree_base:
        from perfgate.gate.worktree import prepare_base_worktree, remove_worktree

        base_ref = opts.base_ref or info.base_sha
        if not base_ref or info.repo_dir is None:
            raise ConfigError(
                "A/B mode needs a base: pass --base-ref REF (on pull requests the event gives it)"
            )
        dest = workdir / "base-tree"
        base_named["ref"] = base_ref
        try:
            base_named["commit"] = merge_base(info.repo_dir, base_ref)
            log(f"A/B: base {base_ref} at {base_named['commit'][:12]} (its merge base with HEAD)")
            tree = prepare_base_worktree(info.repo_dir, base_ref, dest)
        except PerfgateError as exc:
            measured.inconclusive.append(f"base {_base_name(base_named)} could not be built: {exc}")
            tree = None
        if tree is not None:
            rel = cfg.root.resolve().relative_to(info.repo_dir.resolve())
            base_root = tree / rel
            config_name = cfg.path.name if cfg.path else "perfgate.yml"
            if not (base_root / config_name).exists():
                measured.warnings.append(
                    f"the base {_base_name(base_named)} has no {rel / config_name}: it is "
                    "started and loaded as the candidate's perfgate.yml says"
                )
            repo_dir = info.repo_dir

            def cleanup() -> None:
                remove_worktree(repo_dir, dest)
        else:
            base_root = None
    try:
        base_spec = (
            service_for(cfg, "base", _free_port(), workdir / "base", root=base_root)
            if base_root
            else None
        )
        cand_spec = service_for(cfg, "candidate", _free_port(), workdir / "candidate")
        cand_spec.env.update(opts.candidate_env)
        outcome = run_ab(cfg, planned, base_spec=base_spec, candidate_spec=cand_spec, log=log)
    finally:
        if cleanup is not None:
            cleanup()
    for r in (outcome.candidate, outcome.base):
        r.commit, r.branch, r.pr, r.profile, r.config_hash = (
            info.commit,
            info.branch,
            info.pr,
            opts.profile,
            chash,
        )
    outcome.base.commit = base_named["commit"] or None  # the base's own commit, not HEAD's
    outcome.details["base"] = dict(base_named)
    outcome.inconclusive = [
        m.replace("base could not be built:", f"base {_base_name(base_named)} could not be built:")
        if m.startswith("base could not be built:")
        else m
        for m in outcome.inconclusive
    ]
    interrupted = bool(outcome.details.get("interrupted", False))
    base = outcome.base if outcome.base.suites else None
    errors = measured.errors + outcome.errors
    return Measured(
        # the base could not be built: fall back to history
        mode="history" if base is None and not errors else "ab",
        run=outcome.candidate,
        base=base,
        comparisons=list(outcome.comparisons),
        errors=errors,
        inconclusive=measured.inconclusive + outcome.inconclusive,
        warnings=measured.warnings + outcome.warnings,
        details={**measured.details, **outcome.details},
        interrupted=interrupted,
    )


def _base_name(base: dict[str, str]) -> str:
    commit = base.get("commit") or ""
    return f"{base['ref']} ({commit[:12]})" if commit else base["ref"]


def _mask_secrets(cfg: ProjectConfig) -> None:
    from perfgate.github import in_actions, mask_secrets

    if in_actions():
        mask_secrets([*cfg.secrets, cfg.github.token_env])


def _push_baseline(
    cfg: ProjectConfig, info: GitInfo, run: RunResult, log: Log, branch: str
) -> list[str]:
    """Push the run to the baseline branch; returns a warning when that failed."""
    from perfgate.store import push_run

    assert info.repo_dir is not None
    try:
        outcome = push_run(
            info.repo_dir,
            run,
            branch,
            cfg.store.remote,
            keep_runs=cfg.store.keep_runs,
            keep_days=cfg.store.keep_days,
            max_commits=cfg.store.max_commits,
        )
        log(f"baseline: run {run.run_id} pushed to {branch} ({outcome.attempts} attempt(s))")
    except PerfgateError as exc:
        log(f"warning: baseline not updated: {exc}")
        return [f"baseline not updated: {exc}"]
    return []


def publish(
    cfg: ProjectConfig,
    opts: GateOptions,
    outcome: GateOutcome,
    log: Log,
    planned: list[PlannedSuite] | None = None,
    info: GitInfo | None = None,
) -> None:
    """Reports where people look; a failing reporter never changes the verdict."""
    from perfgate.github import in_actions
    from perfgate.report import render_markdown

    run, verdict = outcome.run, outcome.verdict
    root = opts.report_dir or (cfg.root / cfg.report.dir)
    actions = in_actions()
    run_url = None
    try:
        from perfgate.github import load_context

        run_url = load_context().run_url or None  # GITHUB_SERVER_URL/_REPOSITORY/_RUN_ID
    except Exception:
        run_url = None
    try:
        from perfgate.report import write_report_directory

        outcome.report = write_report_directory(
            run, verdict, outcome.base, root=root, run_url=run_url
        )
        log(f"report: {outcome.report.directory}")
    except Exception as exc:  # the verdict stands without its report
        verdict.warnings.append(f"report not written: {exc}")
    outcome.markdown = render_markdown(run, verdict, outcome.base, run_url=run_url)
    if actions:
        url = _publish_on_github(cfg, opts, outcome, root, planned or [], info)
        if url:
            log(f"PR comment: {url}")


def _moved(verdict: Verdict) -> bool:
    """Something changed beyond noise, for ``comment-on: change``."""
    return any(c.state in ("regression", "improvement", "unresolved") for c in verdict.comparisons)


def _publish_on_github(
    cfg: ProjectConfig,
    opts: GateOptions,
    outcome: GateOutcome,
    root: Path,
    planned: list[PlannedSuite],
    info: GitInfo | None,
) -> str:
    from perfgate.github import PublishOptions, annotate, finding_annotations, publish_report

    verdict, report = outcome.verdict, outcome.report
    gh = cfg.github
    if gh.annotations:
        scripts = {p.name: p.script for p in planned if p.script is not None}
        repo_root = info.repo_dir if info is not None else None
        findings = finding_annotations(verdict.comparisons, verdict.slo_checks, scripts, repo_root)
        for a in findings:
            annotate("error", a.message, file=a.file, line=a.line, title=a.title)
    outputs = {
        "run-id": outcome.run.run_id,
        "report-dir": str(report.directory) if report else str(root),
        "html-report": str(report.html) if report else "",
        "markdown-report": str(report.markdown) if report else "",
        "junit-report": str(report.junit) if report else "",
    }
    publish = PublishOptions(
        comment=gh.comment,
        comment_on=opts.comment_on or gh.comment_on,
        summary=gh.summary,
        token_env=gh.token_env,
        api_url=gh.api_url,
        alert_commit_comment=opts.alert_comment
        if opts.alert_comment is not None
        else gh.alert_comment,
        outputs=outputs,
    )
    result = publish_report(
        outcome.markdown,
        verdict=verdict.state,
        exit_code=outcome.exit_code,
        report_dir=root,  # comment.md at the top, where the fork-safe workflow reads it
        comment=opts.comment,
        moved=_moved(verdict),
        options=publish,
    )
    return result.url
