"""HTML report: structure, escaping, and headless Chromium rendering it."""

from __future__ import annotations

import html.parser
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

import report_fixtures as fx
from perfgate.report import render_html

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
