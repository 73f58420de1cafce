"""HTML report: structure, escaping, and headless Chromium rendering it."""

from __future__ import annotations

import html.parser
import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

import report_fixtures as fx
from perfgate.report import render_html
from perfgate.verdict import MetricComparison

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)


class _Collect(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(doc: str) -> list[tuple[str, dict[str, str | None]]]:
    p = _Collect()
    p.feed(doc)
    return p.tags


def test_self_contained_structure() -> None:
    doc = render_html(fx.candidate_run(), fx.regression_verdict())
    tags = _tags(doc)
    names = [t for t, _ in tags]
    assert "script" not in names and "link" not in names and "img" not in names
    # Nothing loads from elsewhere: no src or href at all (there are no links without a run URL).
    assert not [a for _, a in tags if "src" in a or "href" in a]
    charts = {a.get("data-chart") for t, a in tags if t == "svg"}
    assert {"latency", "throughput", "errors", "memory", "cpu"} <= charts
    series = [a for t, a in tags if t == "path" and a.get("class") == "series"]
    assert len(series) >= 7  # p50, p95, p99, req/s, errors/s, RSS, CPU
    assert all(a.get("d", "").startswith("M") for a in series)
    assert 'id="verdict"' in doc and "state-regression" in doc
    for heading in (
        "Issues discovered",
        "Endpoints",
        "Against the baseline",
        "Benchmarks",
        "System configuration",
    ):
        assert heading in doc
    assert "Content-Security-Policy" in doc


def test_escapes_untrusted_text() -> None:
    run = fx.candidate_run()
    run.environment["evil"] = '"><svg onload=alert(1)>'
    run.suites[0].warnings.append("<iframe src=javascript:alert(1)>")
    doc = render_html(run, fx.regression_verdict(), run_url='javascript:alert("x")')
    tags = _tags(doc)
    assert not [t for t, _ in tags if t in ("script", "iframe")]
    assert not [a for _, a in tags if any(k.startswith("on") for k in a)]
    assert "&lt;script&gt;alert(&#x27;pwn&#x27;)&lt;/script&gt;" in doc
    assert not [a for t, a in tags if t == "a" and "javascript" in (a.get("href") or "")]


def test_report_without_series_or_monitor_still_renders() -> None:
    run = fx.candidate_run()
    run.monitor = {}
    for s in run.suites:
        s.series = []
    doc = render_html(run)
    assert "<svg" not in doc
    assert "Endpoints" in doc


def _png_stats(path: Path) -> tuple[int, int, int, float]:
    """Width, height, distinct filtered byte values and non-zero share of the image data."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    nonzero = sum(1 for b in raw[::97] if b) / max(1, len(raw[::97]))
    return width, height, len(set(raw[::13])), nonzero


def _chromium(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}", *args,
    ]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.slow
def test_chromium_renders_charts_and_screenshot(tmp_path: Path) -> None:
    if CHROMIUM is None:
        pytest.skip(
            "chromium not installed (apt-get install chromium); the HTML screenshot test cannot run"
        )
    page = tmp_path / "report.html"
    page.write_text(render_html(fx.candidate_run(), fx.regression_verdict()), encoding="utf-8")
    dom = _chromium(["--dump-dom", page.as_uri()], tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count('class="series"') >= 7
    assert "Regression" in dom.stdout

    shot = tmp_path / "shot.png"
    res = _chromium([f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri()], tmp_path)
    assert shot.exists(), res.stderr[-2000:]
    width, height, distinct, nonzero = _png_stats(shot)
    assert (width, height) == (1280, 2000)
    assert shot.stat().st_size > 20_000

    # The same measure on a blank page: the report must look nothing like it.
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")
    blank_shot = tmp_path / "blank.png"
    _chromium([f"--screenshot={blank_shot}", "--window-size=1280,2000", blank.as_uri()], tmp_path)
    _, _, blank_distinct, blank_nonzero = _png_stats(blank_shot)
    assert distinct > 4 * max(blank_distinct, 1)
    assert nonzero > 10 * blank_nonzero + 0.01


# -- the A/B report's pictures -----------------------------------------------------------

ARTIFACTS = Path(
    os.environ.get("PERFGATE_TEST_ARTIFACTS", Path(__file__).parent.parent / "test-artifacts")
)


def _ab_doc() -> str:
    return render_html(fx.ab_run(), fx.ab_regression_verdict())


def _svgs(tags: list[tuple[str, dict[str, str | None]]]) -> dict[str, list[dict[str, str | None]]]:
    """Each chart's elements, by the chart's data-chart key."""
    out: dict[str, list[dict[str, str | None]]] = {}
    current: str | None = None
    for tag, attrs in tags:
        if tag == "svg":
            current = attrs.get("data-chart") or ""
            out.setdefault(current, [])
        elif current is not None:
            out[current].append({"tag": tag, **attrs})
    return out


def _assert_ab_pictures(doc: str) -> None:
    charts = _svgs(_tags(doc))
    # The decision: per primary metric with kept pairs, a dot per pair, the CI and the δ band.
    strip = charts["strip"]
    assert sum(a.get("class") == "pair-ratio" for a in strip) == 24  # 2 metrics × 12 pairs
    assert sum(a.get("class") == "ci" for a in strip) == 2
    assert sum(a.get("class") == "delta-band" for a in strip) == 2
    rows = [a for a in strip if a.get("class") == "strip-row"]
    assert {a.get("data-state") for a in rows} == {"regression", "within-noise"}
    # Latency percentiles over time: both arms, each percentile, the rounds shaded.
    lat = charts["ab-latency"]
    lines = {
        (a.get("data-arm"), a.get("data-label")) for a in lat if "series" in (a.get("class") or "")
    }
    assert {
        ("base", "base p50"),
        ("candidate", "candidate p50"),
        ("candidate", "candidate p99"),
    } <= lines
    assert sum("round-base" in (a.get("class") or "") for a in lat) == 24
    assert sum("round-candidate" in (a.get("class") or "") for a in lat) == 24
    for key in ("ab-throughput", "ab-errors", "ab-lag", "ab-memory", "ab-cpu"):
        arms = {a.get("data-arm") for a in charts[key] if "series" in (a.get("class") or "")}
        assert arms == {"base", "candidate"}, key
    # Base vs candidate latency ECDF, overall and for the route that moved.
    for key in ("ecdf", "ecdf-endpoint"):
        steps = [a for a in charts[key] if "ecdf" in (a.get("class") or "")]
        assert {a.get("data-arm") for a in steps} == {"base", "candidate"}
    assert doc.count('data-chart="ecdf-endpoint"') == 1  # only the moved endpoint
    # Every chart has a title, axis units and a legend.
    for key, elements in charts.items():
        texts = [a for a in elements if a.get("tag") == "text"]
        assert any(a.get("class") == "chart-title" for a in texts), key
        if key.startswith("ab-") or key.startswith("ecdf") or key == "strip":
            assert any(a.get("class") == "legend" for a in texts), key
            assert any(a.get("class") == "xlabel" for a in texts), key


def test_ab_report_draws_the_comparison() -> None:
    doc = _ab_doc()
    tags = _tags(doc)
    assert not [t for t, _ in tags if t in ("script", "link", "img")]
    _assert_ab_pictures(doc)
    assert "prefers-color-scheme:dark" in doc and "@media print" in doc
    assert "58.8 s (21.6 s measured per arm)" in doc  # the real duration, not the kept seconds
    assert "…/perf/artillery-load-test.yml" in doc and "/home/runner" not in doc


@pytest.mark.slow
def test_chromium_renders_the_ab_report(tmp_path: Path) -> None:
    if CHROMIUM is None:
        pytest.skip(
            "chromium not installed (apt-get install chromium); the A/B screenshot cannot run"
        )
    page = tmp_path / "ab-report.html"
    page.write_text(_ab_doc(), encoding="utf-8")
    dom = _chromium(["--dump-dom", page.as_uri()], tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    _assert_ab_pictures(dom.stdout)  # the DOM Chromium built holds every picture
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shots = {}
    for scheme, flags in (("light", []), ("dark", ["--force-dark-mode"])):
        shot = ARTIFACTS / f"ab-report-{scheme}.png"
        shot.unlink(missing_ok=True)
        res = _chromium(
            [*flags, f"--screenshot={shot}", "--window-size=1280,2400", page.as_uri()], tmp_path
        )
        assert shot.exists(), res.stderr[-2000:]
        width, height, distinct, nonzero = _png_stats(shot)
        assert (width, height) == (1280, 2400)
        assert distinct > 20 and nonzero > 0.01
        shots[scheme] = shot.read_bytes()
    assert shots["light"] != shots["dark"]


def test_stress_report_marks_the_breaking_point_and_recovery() -> None:
    run = fx.candidate_run()
    stress = fx.load_suite(name="stress")
    stress.kind = "stress"
    rows = []
    for t in range(90):  # a ramp to 600 req/s, over the SLO from t=50, load cut at t=70
        rate = 10.0 * t if t < 70 else 50.0
        p95 = 20.0 if t < 50 else (400.0 if t < 74 else 25.0)
        rows.append({"t": t, "rate": rate, "requests": rate, "responses": rate, "p95": p95})
    stress.series = rows
    stress.extra["stress"] = {
        "breaking_point": {"status": "found", "at_s": 50, "rate_at_break": 500.0,
                           "max_sustained_rate": 480.0},
        "recovery": {"status": "recovered", "drop_at_s": 70, "recovered_at_s": 74},
    }  # fmt: skip
    run.suites = [stress]
    charts = _svgs(_tags(render_html(run)))
    picture = charts["stress-rate-latency"]
    classes = [a.get("class") or "" for a in picture]
    assert "breaking-point" in classes and "sustained" in classes
    assert sum(c == "recovered" for c in classes) == 1
    for phase in ("second load", "second overload", "second recovery"):
        assert phase in classes


def test_history_mode_draws_the_metrics_history_band_and_this_run() -> None:
    verdict = fx.pass_verdict()
    verdict.state = "regression"
    verdict.comparisons = [
        MetricComparison(
            "api-load", "total.p95", "ms", "primary", base=10.0, candidate=311.8, change=30.18,
            ci_low=-0.189, ci_high=0.233, state="regression", method="history", samples=5,
        )
    ]  # fmt: skip
    verdict.details["history"] = {
        "api-load\ttotal.p95": [[f"2025-11-2{i}T10:00:00+00:00", 9.5 + i * 0.3] for i in range(5)]
    }
    doc = render_html(fx.candidate_run(), verdict)
    chart = _svgs(_tags(doc))["history"]
    classes = [a.get("class") for a in chart]
    assert classes.count("history-point") == 5 and classes.count("this-run") == 1
    assert "history-band" in classes
    assert "History band (95%)" in doc and "[-18.9%, +23.3%] band" in doc


def test_report_directory_keeps_the_ab_pictures_as_svg_files(tmp_path: Path) -> None:
    from perfgate.report._directory import write_report_directory

    files = write_report_directory(fx.ab_run(), fx.ab_regression_verdict(), root=tmp_path)
    names = {p.name for p in files.graphs}
    assert {"api-load-strip.svg", "api-load-ab-latency.svg", "api-load-ecdf.svg"} <= names
    assert {"target-ab-memory.svg", "target-ab-cpu.svg"} <= names
    assert "target-memory.svg" not in names  # the candidate's line alone would read as both arms
    for p in files.graphs:
        assert p.read_text(encoding="utf-8").startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    readme = files.readme.read_text(encoding="utf-8")
    assert (
        "![api-load: Latency percentiles per round, per arm](graphs/api-load-ab-latency.svg)"
        in readme
    )
