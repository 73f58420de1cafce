"""The report directory: ``performance-reports/<YYYY-MM-DD>-<short sha>/``.

It holds every format (report.md, report.html, report.json, junit.xml), the
charts as SVG files, and a README that is the test record the seed asks for:
date and time, system configuration, test parameters, results with graphs,
issues discovered, and actions taken (for the team to fill in).
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from perfgate.errors import PerfgateError
from perfgate.report._format import fmt_count, fmt_ms, fmt_rate, fmt_rps, md_cell, md_text
from perfgate.report._model import Report, build_report
from perfgate.report._svg import svg_line_chart
from perfgate.report.html import report_html
from perfgate.report.junit import report_junit
from perfgate.report.markdown import report_markdown
from perfgate.result import RunResult
from perfgate.verdict import Verdict

__all__ = ["ReportFiles", "record_dir_name", "write_report_directory"]

_UNSAFE_FILE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class ReportFiles:
    directory: Path
    markdown: Path
    html: Path
    json: Path
    junit: Path
    readme: Path
    graphs: list[Path]


def _run_date(created_at: str) -> datetime:
    try:
        dt = datetime.fromisoformat(created_at)
    except (TypeError, ValueError):
        return datetime.now(UTC)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def record_dir_name(run: RunResult) -> str:
    """``<YYYY-MM-DD>-<short sha>`` ("local" when the run has no commit)."""
    sha = _UNSAFE_FILE.sub("", (run.commit or "")[:7]) or "local"
    return f"{_run_date(run.created_at).strftime('%Y-%m-%d')}-{sha}"


def _free_dir(root: Path, name: str, run_id: str) -> Path:
    """The record's directory; a second run on the same day and commit gets a suffix."""
    for i in range(1, 1000):
        path = root / (name if i == 1 else f"{name}-{i}")
        existing = path / "report.json"
        if not path.exists():
            return path
        try:
            if json.loads(existing.read_text(encoding="utf-8")).get("run_id") == run_id:
                return path  # the same run, written again
        except (OSError, ValueError, AttributeError):
            pass
    raise PerfgateError(f"too many report directories named {name!r} under {root}")


def _results_table(report: Report) -> list[str]:
    lines = [
        "| Suite | Kind | Requests | req/s | Errors | p50 (ms) | p95 (ms) | p99 (ms) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in report.suites:
        t = s.total
        if t is None:
            ops = f"{len(s.bench)} operations" if s.bench else "–"
            lines.append(f"| {md_cell(s.name)} | {md_cell(s.kind)} | {ops} | – | – | – | – | – |")
            continue
        lines.append(
            f"| {md_cell(s.name)} | {md_cell(s.kind)} | {fmt_count(t.requests)} | {fmt_rps(t.rps)} | "
            f"{fmt_rate(t.error_rate)} | {fmt_ms(t.p50)} | {fmt_ms(t.p95)} | {fmt_ms(t.p99)} |"
        )
    return lines


def _readme(report: Report, graphs: list[tuple[str, str]]) -> str:
    h = report.headline
    when = _run_date(report.created_at)
    out = [
        f"# Performance test record — {when.strftime('%Y-%m-%d')} {md_text((report.commit or 'local')[:7])}",
        "",
        f"**Verdict: {h.text}**"
        + (" — " + "; ".join(md_text(r) for r in h.reasons) if h.reasons else ""),
        "",
        "## Date and time",
        "",
        f"- Run {md_text(report.run_id)} recorded at {md_text(report.created_at)} ({when.strftime('%Y-%m-%d %H:%M:%S %Z')})",
    ]
    out.extend(
        f"- {md_text(s.name)} started {md_text(s.started_at)}, {s.duration_s:.1f} s"
        for s in report.suites
    )
    out += ["", "## System configuration", "", "| Key | Value |", "|---|---|"]
    out.extend(f"| {md_cell(k)} | {md_cell(v)} |" for k, v in report.environment)
    if not report.environment:
        out.append("| – | not recorded |")
    out += ["", "## Test parameters", "", "| Key | Value |", "|---|---|"]
    out.extend(f"| {md_cell(k)} | {md_cell(v)} |" for k, v in report.parameters)
    out += ["", "## Results", "", *_results_table(report), ""]
    out.append(
        "Full report: [report.html](report.html) · [report.md](report.md) · [report.json](report.json) · [junit.xml](junit.xml)"
    )
    out.append("")
    for title, rel in graphs:
        out += [f"![{md_text(title)}]({rel})", ""]
    out += ["## Issues discovered", ""]
    if report.issues:
        out.extend(f"- **{i.severity}:** {md_text(i.text)}" for i in report.issues)
    else:
        out.append("None.")
    out += [
        "",
        "## Actions taken",
        "",
        "<!-- For the team: what was changed or decided because of this run. -->",
        "- _None recorded yet._",
        "",
    ]
    return "\n".join(out)


_SECTION = re.compile(r'<section[^>]*\bid="(?:suite-)?([^"]+)"')
_PICTURE = re.compile(r'<svg [^>]*data-chart="([^"]+)"[^>]*aria-label="([^"]*)".*?</svg>', re.S)
#: The report page's own pictures (A/B, history, stress), also kept as files.
_PICTURE_KEYS = ("ab-", "strip", "ecdf", "history", "stress")


def _page_pictures(page: str) -> list[tuple[str, str, str, str]]:
    """(scope, unique key, title, svg) of each A/B, history and stress picture in the page."""
    out: list[tuple[str, str, str, str]] = []
    seen: dict[str, int] = {}
    sections = list(_SECTION.finditer(page))
    for m in _PICTURE.finditer(page):
        key = m.group(1)
        if not key.startswith(_PICTURE_KEYS):
            continue
        scope = next((s.group(1) for s in reversed(sections) if s.start() < m.start()), "report")
        n = seen[f"{scope}-{key}"] = seen.get(f"{scope}-{key}", 0) + 1
        title = html.unescape(m.group(2))
        out.append((scope, key if n == 1 else f"{key}-{n}", title, m.group(0)))
    return out


def write_report_directory(
    run: RunResult,
    verdict: Verdict | None = None,
    baseline: RunResult | None = None,
    *,
    root: str | Path = "performance-reports",
    run_url: str | None = None,
) -> ReportFiles:
    """Write the run's test record; returns the paths written."""
    report = build_report(run, verdict, baseline, run_url=run_url)
    directory = _free_dir(Path(root), record_dir_name(run), run.run_id)
    graphs_dir = directory / "graphs"
    try:
        graphs_dir.mkdir(parents=True, exist_ok=True)
        graphs: list[tuple[str, str]] = []
        graph_paths: list[Path] = []
        # A/B draws each arm's RSS/CPU on the page (below); the candidate's alone would mislead.
        target = [] if report.arm_process else report.charts
        scoped = [("target", c) for c in target] + [
            (s.name, c) for s in report.suites for c in s.charts
        ]
        for scope, chart in scoped:
            if not chart.has_data:
                continue
            fname = f"{_UNSAFE_FILE.sub('_', scope)}-{chart.key}.svg"
            (graphs_dir / fname).write_text(svg_line_chart(chart, 720, 280), encoding="utf-8")
            graph_paths.append(graphs_dir / fname)
            graphs.append((f"{scope}: {chart.title}", f"graphs/{fname}"))
        files = ReportFiles(
            directory=directory,
            markdown=directory / "report.md",
            html=directory / "report.html",
            json=directory / "report.json",
            junit=directory / "junit.xml",
            readme=directory / "README.md",
            graphs=graph_paths,
        )
        data = run.to_dict()
        if verdict is not None:
            data["verdict"] = verdict.to_dict()
        files.json.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
        files.markdown.write_text(
            report_markdown(report, marker="", max_chars=10_000_000, compact=False),
            encoding="utf-8",
        )
        page = report_html(report)
        files.html.write_text(page, encoding="utf-8")
        for scope, key, title, svg in _page_pictures(page):
            fname = f"{_UNSAFE_FILE.sub('_', scope)}-{_UNSAFE_FILE.sub('_', key)}.svg"
            (graphs_dir / fname).write_text(svg, encoding="utf-8")
            files.graphs.append(graphs_dir / fname)
            graphs.append((f"{scope}: {title}", f"graphs/{fname}"))
        files.junit.write_text(report_junit(report), encoding="utf-8")
        files.readme.write_text(_readme(report, graphs), encoding="utf-8")
    except OSError as exc:
        raise PerfgateError(f"cannot write the report directory {directory}: {exc}") from exc
    return files
