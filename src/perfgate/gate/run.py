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
from perfgate.gate.ab.design import look_level
from perfgate.gate.compare import apply_holm
from perfgate.gate.decide import decide
from perfgate.gate.git import GitInfo, git_info
from perfgate.gate.plan import PlannedSuite, plan_suites
from perfgate.gate.session import ArmSession
from perfgate.gate.slo import mark_pre_existing, slo_checks
from perfgate.result import RunResult
from perfgate.target import service_for
from perfgate.verdict import Verdict

if TYPE_CHECKING:
    from perfgate.config import ProjectConfig
    from perfgate.report import ReportFiles
    from perfgate.verdict import MetricComparison

__all__ = ["GateOptions", "GateOutcome", "run_gate"]

Log = Callable[[str], None]
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


@dataclass
class GateOutcome:
    verdict: Verdict
    run: RunResult
    base: RunResult | None = None
    report: ReportFiles | None = None
    markdown: str = ""
    exit_code: int = 0


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


def run_gate(opts: GateOptions, log: Log = print) -> GateOutcome:
    """Run the gate as ``opts`` says; never raises once measuring has started."""
    from perfgate.config import load_project

    cfg = load_project(opts.config)
    for w in cfg.warnings:
        log(f"warning: {w}")
    profile = opts.profile
    planned = plan_suites(cfg, profile)
    mode = opts.mode or cfg.profiles[profile].compare
    if mode not in ("ab", "history", "none"):
        raise ConfigError(f"unknown mode {mode!r} (ab, history or none)")
    strict = opts.strict or cfg.profiles[profile].strict
    info = git_info(cfg.root)
    chash = config_hash(cfg, planned, profile)
    _mask_secrets(cfg)

    workdir = Path(tempfile.mkdtemp(prefix="perfgate-gate-"))
    base_run: RunResult | None = None
    comparisons: list[MetricComparison] = []
    errors: list[str] = []
    inconclusive: list[str] = []
    warnings: list[str] = []
    details: dict[str, Any] = {"profile": profile, "config_hash": chash}
    interrupted = False
    started = time.monotonic()
    run = _new_run(cfg, info, profile, "candidate", chash)
    try:
        if mode == "ab" and cfg.service is None:
            warnings.append(
                "A/B needs a 'service:' to start two copies; comparing against history instead"
            )
            mode = "history"
        if mode == "ab":
            run, base_run, ab_details = _measure_ab(
                cfg,
                planned,
                opts,
                info,
                workdir,
                chash,
                log,
                errors,
                inconclusive,
                warnings,
                comparisons,
            )
            details.update(ab_details)
            interrupted = bool(ab_details.pop("interrupted", False))
            if base_run is None and not errors:
                mode = "history"  # the base could not be built: fall back
        else:
            errs, interrupted = _measure_alone(cfg, planned, run, workdir, opts, log)
            errors += errs
    except KeyboardInterrupt:
        interrupted = True
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    details["measure_s"] = round(time.monotonic() - started, 1)

    store_path = _history_store(cfg, opts, info, log)
    store = None
    try:
        from perfgate.store import Store

        store = Store(store_path)
    except PerfgateError as exc:
        warnings.append(f"results store unavailable: {exc}")
    if mode == "history" and store is not None and not errors:
        from perfgate.gate.history import history_comparisons

        comparisons = history_comparisons(run, store, cfg.compare)
        if not any(
            c.method == "history" and c.state not in ("new", "insufficient") for c in comparisons
        ):
            inconclusive.append(
                f"not enough history on {cfg.compare.history_branch!r} "
                f"(needs {cfg.compare.history_min_points} matching runs): compared, cannot fail"
            )
    checks = slo_checks(run, cfg.slo)
    if base_run is not None:
        mark_pre_existing(checks, slo_checks(base_run, cfg.slo))
    # A/B may look twice (ab.extend_pairs): each look spends Pocock's share of alpha
    level = look_level(cfg) if mode == "ab" else cfg.compare.alpha
    inconclusive += apply_holm(comparisons, level)
    for s in run.suites:
        errors += [e for e in s.errors if "died" not in e]
        warnings += s.warnings
        if s.scheduler is not None and s.scheduler.generator_limited:
            inconclusive.append(
                f"{s.name}: the load generator could not keep up (generator-limited)"
            )
    if interrupted:
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
    verdict.details.update(details)
    if interrupted:
        verdict.exit_code = EXIT_INTERRUPTED
    run.verdict = verdict.to_dict()

    if store is not None:
        try:
            store.save_run(run)
        except PerfgateError as exc:
            verdict.warnings.append(f"the run was not stored: {exc}")
        finally:
            store.close()
    if opts.update_baseline and info.repo_dir is not None and not interrupted:
        _push_baseline(cfg, info, run, verdict, log, opts.baseline_branch or cfg.store.branch)

    outcome = GateOutcome(verdict=verdict, run=run, base=base_run, exit_code=verdict.exit_code)
    _report(cfg, opts, outcome, log)
    return outcome


def _measure_ab(
    cfg: ProjectConfig,
    planned: list[PlannedSuite],
    opts: GateOptions,
    info: GitInfo,
    workdir: Path,
    chash: str,
    log: Log,
    errors: list[str],
    inconclusive: list[str],
    warnings: list[str],
    comparisons: list[MetricComparison],
) -> tuple[RunResult, RunResult | None, dict[str, Any]]:
    from perfgate.gate.ab.run import run_ab

    base_root: Path | None = cfg.root
    cleanup: Callable[[], None] | None = None
    if not opts.same_tree_base:
        from perfgate.gate.worktree import prepare_base_worktree, remove_worktree

        base_ref = opts.base_ref or info.base_sha
        if not base_ref or info.repo_dir is None:
            raise ConfigError(
                "A/B mode needs a base: pass --base-ref REF (on pull requests the event gives it)"
            )
        dest = workdir / "base-tree"
        try:
            tree = prepare_base_worktree(info.repo_dir, base_ref, dest)
        except PerfgateError as exc:
            inconclusive.append(f"base could not be built: {exc}")
            tree = None
        if tree is not None:
            rel = cfg.root.resolve().relative_to(info.repo_dir.resolve())
            base_root = tree / rel
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
    errors += outcome.errors
    inconclusive += outcome.inconclusive
    warnings += outcome.warnings
    comparisons += outcome.comparisons
    base = outcome.base if outcome.base.suites else None
    return outcome.candidate, base, outcome.details


def _mask_secrets(cfg: ProjectConfig) -> None:
    import os

    if os.environ.get("GITHUB_ACTIONS") == "true":
        from perfgate.github import mask_secrets

        mask_secrets([*cfg.secrets, cfg.github.token_env])


def _push_baseline(
    cfg: ProjectConfig, info: GitInfo, run: RunResult, verdict: Verdict, log: Log, branch: str
) -> None:
    from perfgate.store import push_run

    assert info.repo_dir is not None
    try:
        outcome = push_run(info.repo_dir, run, branch, cfg.store.remote)
        log(f"baseline: run {run.run_id} pushed to {branch} ({outcome.attempts} attempt(s))")
    except PerfgateError as exc:
        verdict.warnings.append(f"baseline not updated: {exc}")
        log(f"warning: baseline not updated: {exc}")


def _report(cfg: ProjectConfig, opts: GateOptions, outcome: GateOutcome, log: Log) -> None:
    """Reports where people look; a failing reporter never changes the verdict."""
    import os

    from perfgate.report import render_markdown

    run, verdict = outcome.run, outcome.verdict
    root = opts.report_dir or (cfg.root / cfg.report.dir)
    run_url = None
    try:
        from perfgate.github import load_context

        ctx = load_context()
        run_url = ctx.run_url if os.environ.get("GITHUB_ACTIONS") == "true" else None
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
    if os.environ.get("GITHUB_ACTIONS") == "true":
        from perfgate.github import publish_report

        result = publish_report(
            outcome.markdown,
            verdict=verdict.state,
            exit_code=outcome.exit_code,
            report_dir=root,  # comment.md at the top, where the fork-safe workflow reads it
            comment=opts.comment and cfg.github.comment,
        )
        if result.url:
            log(f"PR comment: {result.url}")
