"""Inline SVG pictures of an A/B run (no JavaScript, no CDN).

- :func:`svg_strip_plot`: per primary metric, each round pair's candidate/base
  as a dot, the 95% interval as a bar, the minimum effect (δ) as a band;
- :func:`svg_arm_chart`: figures over time, a colour per arm, each round
  shaded where it ran (in its arm's colour), the warm-up marked;
- :func:`svg_ecdf`: base and candidate latency ECDFs on a log axis.

Every chart has a title, units on its axes and a legend; every text is
escaped. Colours come from CSS classes (dark mode restyles them) with inline
fallbacks, so the same SVG also stands alone as a file.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

from perfgate.report._ab_data import ArmSeries, Distribution, RoundSpan
from perfgate.report._format import short_endpoint
from perfgate.report._svg import nice_step, tick_label

__all__ = [
    "ARM_COLOURS",
    "StripRow",
    "svg_arm_chart",
    "svg_ecdf",
    "svg_history",
    "svg_rate_latency",
    "svg_strip_plot",
]

#: Colour-blind-safe (Okabe–Ito): blue for the base, vermillion for the candidate.
ARM_COLOURS = {"base": "#0072b2", "candidate": "#d55e00"}
_DASHES = {"p50": "", "p95": "6 3", "p99": "2 3"}
_FG = "#1b1f24"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


@dataclass
class _Frame:
    """A plot area with linear (or log-x) scales, and the SVG parts drawn so far."""

    key: str
    title: str
    x_label: str
    y_label: str
    x0: float
    x1: float
    y0: float
    y1: float
    width: int = 560
    height: int = 250
    log_x: bool = False
    left: int = 60
    right: int = 14
    top: int = 44
    bottom: int = 38
    parts: list[str] = field(default_factory=list)
    legend: list[tuple[str, str, str]] = field(default_factory=list)  # label, colour, dash

    @property
    def pw(self) -> float:
        return self.width - self.left - self.right

    @property
    def ph(self) -> float:
        return self.height - self.top - self.bottom

    def x(self, v: float) -> float:
        if self.log_x:
            lo, hi = math.log10(self.x0), math.log10(self.x1)
            v = math.log10(max(v, self.x0))
            return self.left + (v - lo) / ((hi - lo) or 1.0) * self.pw
        return self.left + (v - self.x0) / ((self.x1 - self.x0) or 1.0) * self.pw

    def y(self, v: float) -> float:
        return self.top + self.ph - (v - self.y0) / ((self.y1 - self.y0) or 1.0) * self.ph

    def axes(self, y_ticks: list[float] | None = None, y_fmt: str = "") -> None:
        step = nice_step(self.y1 - self.y0)
        ticks = y_ticks
        if ticks is None:
            start = math.ceil(self.y0 / step - 1e-9)
            ticks = [k * step for k in range(start, start + 12) if k * step <= self.y1 + 1e-9]
        for v in ticks:
            yy = self.y(v)
            self.parts.append(
                f'<line x1="{self.left}" y1="{yy:.1f}" x2="{self.left + self.pw:.1f}" '
                f'y2="{yy:.1f}" class="grid" stroke="#e1e4e8"/>'
                f'<text x="{self.left - 6}" y="{yy + 4:.1f}" class="ytick">'
                f"{_e(tick_label(v) + y_fmt)}</text>"
            )
        if self.log_x:
            k = math.floor(math.log10(self.x0))
            while 10**k <= self.x1 * 1.0001:
                for m in (1, 2, 5):
                    v = m * 10**k
                    if self.x0 <= v <= self.x1:
                        self.parts.append(
                            f'<text x="{self.x(v):.1f}" y="{self.top + self.ph + 16:.1f}" '
                            f'class="xtick">{_e(tick_label(v))}</text>'
                        )
                k += 1
        else:
            xs = nice_step(self.x1 - self.x0, 6)
            k = math.ceil(self.x0 / xs - 1e-9)
            while k * xs <= self.x1 + 1e-9:
                self.parts.append(
                    f'<text x="{self.x(k * xs):.1f}" y="{self.top + self.ph + 16:.1f}" '
                    f'class="xtick">{_e(tick_label(k * xs))}</text>'
                )
                k += 1
        self.parts.append(
            f'<text x="{self.left + self.pw:.1f}" y="{self.height - 4}" class="xlabel">'
            f"{_e(self.x_label)}</text>"
            f'<text x="12" y="{self.top + self.ph / 2:.1f}" class="ylabel" '
            f'transform="rotate(-90 12 {self.top + self.ph / 2:.1f})">{_e(self.y_label)}</text>'
            f'<rect x="{self.left}" y="{self.top}" width="{self.pw:.1f}" height="{self.ph:.1f}" '
            f'class="frame" fill="none" stroke="#d0d7de"/>'
        )

    def svg(self) -> str:
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{_e(self.key)}" '
            f'width="{self.width}" height="{self.height}" viewBox="0 0 {self.width} {self.height}" '
            f'role="img" aria-label="{_e(self.title)}">'
            f"<title>{_e(self.title)}</title>"
            f'<text x="{min(self.left, 24)}" y="16" class="chart-title">{_e(self.title)}</text>'
        )
        legend = []
        x = float(min(self.left, 24))
        for label, colour, dash in self.legend:
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            if colour == _FG:  # follows the page's text colour (dark mode)
                dash_attr += f' style="stroke:var(--fg,{_FG})"'
            legend.append(
                f'<g class="legend-item" data-label="{_e(label)}">'
                f'<line x1="{x}" y1="30" x2="{x + 18}" y2="30" stroke="{colour}" stroke-width="2.2"'
                f"{dash_attr}/>"
                f'<text x="{x + 22}" y="34" class="legend">{_e(label)}</text></g>'
            )
            x += 28 + 5.9 * len(label)
        return head + "".join(self.parts) + "".join(legend) + "</svg>"


def _path(frame: _Frame, points: list[tuple[float, float | None]]) -> str:
    d: list[str] = []
    pen_up = True
    for t, v in points:
        if v is None:
            pen_up = True
            continue
        d.append(f"{'M' if pen_up else 'L'}{frame.x(t):.1f},{frame.y(v):.1f}")
        pen_up = False
    return " ".join(d)


def _empty(key: str, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{_e(key)}" '
        f'width="560" height="80" viewBox="0 0 560 80" role="img" aria-label="{_e(title)}">'
        f'<text x="60" y="16" class="chart-title">{_e(title)}</text>'
        f'<text x="60" y="50" class="empty">no data</text></svg>'
    )


def svg_arm_chart(
    key: str,
    title: str,
    unit: str,
    lines: dict[str, dict[str, tuple[list[float], list[float | None]]]],
    spans: list[RoundSpan] | None = None,
    warmup: tuple[float, float] | None = None,
    x_label: str = "seconds since the A/B started",
) -> str:
    """Figures over time per arm: ``lines[arm][label] = (t, values)``; rounds shaded."""
    values = [v for arm in lines.values() for _, vs in arm.values() for v in vs if v is not None]
    times = [t for arm in lines.values() for ts, _ in arm.values() for t in ts]
    times += [s.t1 for s in spans or []] + [s.t0 for s in spans or []]
    if warmup:
        times += list(warmup)
    if not values or len(times) < 2:
        return _empty(key, title)
    vmax = max(values) or 1.0
    step = nice_step(vmax)
    frame = _Frame(
        key, title, x_label, unit, min(times), max(times), 0.0, step * math.ceil(vmax / step)
    )
    if warmup:
        x0, x1 = frame.x(warmup[0]), frame.x(warmup[1])
        frame.parts.append(
            f'<rect x="{x0:.1f}" y="{frame.top}" width="{max(0.5, x1 - x0):.1f}" '
            f'height="{frame.ph:.1f}" class="warmup" fill="#8c959f" fill-opacity="0.12">'
            f"<title>warm-up</title></rect>"
        )
    for s in spans or []:
        x0, x1 = frame.x(s.t0), frame.x(s.t1)
        cls = f"round round-{_e(s.arm)}" + (" dropped" if s.dropped else "")
        frame.parts.append(
            f'<rect x="{x0:.1f}" y="{frame.top}" width="{max(0.5, x1 - x0):.1f}" '
            f'height="{frame.ph:.1f}" class="{cls}" fill="{ARM_COLOURS.get(s.arm, "#888")}" '
            f'fill-opacity="{0.05 if s.dropped else 0.1}"/>'
        )
    frame.axes()
    for arm, by_label in lines.items():
        colour = ARM_COLOURS.get(arm, "#888")
        for label, (ts, vs) in by_label.items():
            d = _path(frame, list(zip(ts, vs, strict=True)))
            if not d:
                continue
            dash = _DASHES.get(label, "")
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            name = f"{arm} {label}" if label else arm
            frame.parts.append(
                f'<path class="series arm-{_e(arm)}" data-arm="{_e(arm)}" data-label="{_e(name)}" '
                f'd="{d}" stroke="{colour}" fill="none" stroke-width="1.6"{dash_attr}/>'
            )
            frame.legend.append((name, colour, dash))
    if spans:
        frame.legend.append(("rounds", "#8c959f", ""))
    return frame.svg()


def arm_series_lines(
    arms: dict[str, ArmSeries], fields: tuple[str, ...]
) -> dict[str, dict[str, tuple[list[float], list[float | None]]]]:
    """``{arm: {field: (t, values)}}`` for :func:`svg_arm_chart`."""
    out: dict[str, dict[str, tuple[list[float], list[float | None]]]] = {}
    for arm, s in arms.items():
        out[arm] = {f: (s.t, list(getattr(s, f))) for f in fields}
        if len(fields) == 1:
            out[arm] = {"": out[arm][fields[0]]}
    return out


@dataclass
class StripRow:
    label: str
    ratios: list[float]
    change: float | None
    ci_low: float | None
    ci_high: float | None
    min_effect: float
    state: str


def _pct(change: float) -> str:
    pct = change * 100
    return f"{pct:+,.0f}%" if abs(pct) >= 100 else f"{pct:+.3g}%"


def _row_ticks(lo: float, hi: float, delta: float, px: float, gap: float = 36) -> list[float]:
    """A row's own tick values: no change, ±δ, then the ends, none closer than ``gap`` pixels
    (``px``: pixels per unit of change)."""
    placed: list[float] = []
    for v in (0.0, delta, -delta, lo, hi):
        if lo <= v <= hi and all(abs(v - p) * px >= gap for p in placed):
            placed.append(v)
    return sorted(placed)


def svg_strip_plot(rows: list[StripRow], width: int = 760) -> str:
    """Per metric: each round pair's candidate/base − 1 as a dot, the 95% CI, the δ band.

    Each metric has its own scale (a +700% route beside a +1% CPU figure would
    otherwise flatten the one that matters less visibly); the ticks under each
    row name its ends, no change and ±δ.
    """
    title = "Round pairs: candidate / base per primary metric (each row its own scale)"
    rows = [r for r in rows if r.ratios]
    if not rows:
        return _empty("strip", title)
    row_h = 46
    label_w = 240
    frame = _Frame(
        "strip",
        title,
        "candidate / base − 1 (%): dots one per round pair, bar the 95% CI, shaded ±δ",
        "",
        0.0,
        1.0,
        0.0,
        float(len(rows)),
        width=width,
        height=48 + row_h * len(rows) + 26,
        left=label_w,
        top=48,
        bottom=26,
    )
    for i, row in enumerate(rows):
        values = [r - 1 for r in row.ratios] + [row.min_effect, -row.min_effect, 0.0]
        values += [v for v in (row.ci_low, row.ci_high, row.change) if v is not None]
        lo, hi = min(values), max(values)
        pad = (hi - lo) * 0.06 or 0.01
        lo, hi = lo - pad, hi + pad

        def x(v: float, lo: float = lo, hi: float = hi) -> float:
            return frame.left + (v - lo) / (hi - lo) * frame.pw

        top = frame.top + row_h * i
        cy = top + (row_h - 14) / 2
        y0, y1 = top + 3, top + row_h - 14
        dx0, dx1 = x(-row.min_effect), x(row.min_effect)
        frame.parts.append(
            f'<g class="strip-row" data-metric="{_e(row.label)}" data-state="{_e(row.state)}">'
            f'<line x1="{frame.left}" y1="{top + row_h:.1f}" x2="{frame.left + frame.pw:.1f}" '
            f'y2="{top + row_h:.1f}" class="grid" stroke="#e1e4e8"/>'
            f'<rect x="{dx0:.1f}" y="{y0:.1f}" width="{dx1 - dx0:.1f}" height="{y1 - y0:.1f}" '
            f'class="delta-band" fill="#8c959f" fill-opacity="0.18">'
            f"<title>± {row.min_effect:.0%} minimum effect</title></rect>"
            f'<line x1="{dx1:.1f}" y1="{y0:.1f}" x2="{dx1:.1f}" y2="{y1:.1f}" '
            f'class="delta-line" stroke="#cf222e" stroke-dasharray="4 2"/>'
            f'<line x1="{x(0.0):.1f}" y1="{y0:.1f}" x2="{x(0.0):.1f}" y2="{y1:.1f}" class="zero" '
            f'stroke="#57606a"/>'
            f'<text x="{label_w - 8}" y="{cy + 4:.1f}" class="ytick">{_e(row.label[:36])}</text>'
        )
        for v in _row_ticks(lo + pad, hi - pad, row.min_effect, frame.pw / (hi - lo)):
            frame.parts.append(
                f'<text x="{x(v):.1f}" y="{y1 + 11:.1f}" class="xtick">{_pct(v)}</text>'
            )
        n = len(row.ratios)
        for j, r in enumerate(row.ratios):
            jitter = ((j * 7) % 11 - 5) / 5 * ((y1 - y0) / 2 - 4) if n > 1 else 0.0
            frame.parts.append(
                f'<circle cx="{x(r - 1):.1f}" cy="{cy + jitter:.1f}" r="3" class="pair-ratio" '
                f'fill="{ARM_COLOURS["candidate"]}" fill-opacity="0.65"><title>pair {j + 1}: '
                f"{(r - 1) * 100:+.1f}%</title></circle>"
            )
        if row.ci_low is not None and row.ci_high is not None:
            frame.parts.append(
                f'<line x1="{x(row.ci_low):.1f}" y1="{cy:.1f}" x2="{x(row.ci_high):.1f}" '
                f'y2="{cy:.1f}" class="ci" stroke="{_FG}" stroke-width="3"/>'
            )
        if row.change is not None:
            cx = x(row.change)
            frame.parts.append(
                f'<line x1="{cx:.1f}" y1="{cy - 8:.1f}" x2="{cx:.1f}" y2="{cy + 8:.1f}" '
                f'class="estimate" stroke="{_FG}" stroke-width="2"/>'
            )
        frame.parts.append("</g>")
    frame.parts.append(
        f'<rect x="{frame.left}" y="{frame.top}" width="{frame.pw:.1f}" height="{frame.ph:.1f}" '
        f'class="frame" fill="none" stroke="#d0d7de"/>'
        f'<text x="{frame.left + frame.pw:.1f}" y="{frame.height - 6}" class="xlabel">'
        f"{_e(frame.x_label)}</text>"
    )
    frame.legend = [
        ("round pair", ARM_COLOURS["candidate"], ""),
        ("95% CI and estimate", _FG, ""),
        ("+δ (minimum effect)", "#cf222e", "4 2"),
        ("no change", "#57606a", ""),
    ]
    return frame.svg()


def svg_ecdf(dist: Distribution, key: str = "ecdf") -> str:
    """Base and candidate latency ECDFs (x log scale): the share of requests at most x ms."""
    title = f"Latency distribution, base vs candidate: {short_endpoint(dist.title, 44)}"
    values = [v for vs in dist.arms.values() for v in vs if v > 0]
    if not values:
        return _empty(key, title)
    lo, hi = min(values), max(values)
    x0 = 10 ** math.floor(math.log10(lo))
    x1 = 10 ** math.ceil(math.log10(hi)) if hi > lo else x0 * 10
    frame = _Frame(
        key,
        title,
        "latency (ms, log scale)",
        "share of requests ≤ x",
        x0,
        x1,
        0.0,
        1.0,
        log_x=True,
    )
    frame.axes(y_ticks=[0.0, 0.25, 0.5, 0.75, 1.0])
    for arm, vs in dist.arms.items():
        colour = ARM_COLOURS.get(arm, "#888")
        points: list[str] = []
        prev_q = 0.0
        for q, v in zip(dist.q, vs, strict=True):
            xx = frame.x(max(v, x0))
            points.append(f"{'M' if not points else 'L'}{xx:.1f},{frame.y(prev_q):.1f}")
            points.append(f"L{xx:.1f},{frame.y(q):.1f}")
            prev_q = q
        frame.parts.append(
            f'<path class="series ecdf arm-{_e(arm)}" data-arm="{_e(arm)}" data-label="{_e(arm)}" '
            f'd="{" ".join(points)}" stroke="{colour}" fill="none" stroke-width="1.8"/>'
        )
        n = dist.counts.get(arm)
        frame.legend.append((f"{arm} (n={n:,})" if n else arm, colour, ""))
    return frame.svg()


_PHASE_COLOURS = {"load": "#0072b2", "overload": "#d55e00", "recovery": "#009e73"}


def svg_rate_latency(
    points: list[tuple[float, float, float]],
    *,
    break_at_s: float | None,
    break_rate: float | None,
    sustained_rate: float | None,
    drop_at_s: float | None,
    recovered_at_s: float | None,
) -> str:
    """Stress: each second's request rate against its p95, the breaking point and recovery marked.

    ``points``: ``(t, requests/s, p95 ms)``. Seconds before the break are
    "load", from the break until the load drops "overload", after the drop
    "recovery"; the second the API recovered is ringed.
    """
    title = "Stress: request rate vs p95 latency, per second"
    points = [p for p in points if p[1] > 0 and p[2] > 0]
    if len(points) < 2:
        return _empty("stress-rate-latency", title)
    rmax = max([p[1] for p in points] + [break_rate or 0.0, sustained_rate or 0.0])
    lmax = max(p[2] for p in points)
    xs, ys = nice_step(rmax), nice_step(lmax)
    frame = _Frame(
        "stress-rate-latency",
        title,
        "requests per second",
        "p95 latency (ms)",
        0.0,
        xs * math.ceil(rmax / xs),
        0.0,
        ys * math.ceil(lmax / ys),
        width=720,
        height=300,
    )
    frame.axes()

    def phase(t: float) -> str:
        if drop_at_s is not None and t >= drop_at_s:
            return "recovery"
        if break_at_s is not None and t >= break_at_s:
            return "overload"
        return "load"

    for t, rate, p95 in points:
        ph = phase(t)
        frame.parts.append(
            f'<circle cx="{frame.x(rate):.1f}" cy="{frame.y(p95):.1f}" r="2.6" class="second {ph}" '
            f'fill="{_PHASE_COLOURS[ph]}" fill-opacity="0.7"><title>t={t:g} s: {rate:g} req/s, '
            f"p95 {p95:.1f} ms</title></circle>"
        )
        if recovered_at_s is not None and t == recovered_at_s:
            frame.parts.append(
                f'<circle cx="{frame.x(rate):.1f}" cy="{frame.y(p95):.1f}" r="7" class="recovered" '
                f'fill="none" stroke="{_PHASE_COLOURS["recovery"]}" stroke-width="2"><title>'
                f"recovered at t={t:g} s</title></circle>"
            )
    for marked, label, cls, colour in (
        (break_rate, "breaking point", "breaking-point", "#cf222e"),
        (sustained_rate, "max sustained", "sustained", "#57606a"),
    ):
        if marked is None:
            continue
        rate = marked
        xx = frame.x(rate)
        frame.parts.append(
            f'<line x1="{xx:.1f}" y1="{frame.top}" x2="{xx:.1f}" y2="{frame.top + frame.ph:.1f}" '
            f'class="{cls}" stroke="{colour}" stroke-dasharray="5 3" stroke-width="1.5"/>'
            f'<text x="{xx + 3:.1f}" y="{frame.top + 12}" class="marker-label">'
            f"{_e(label)} {rate:g}/s</text>"
        )
        frame.legend.append((f"{label} ({rate:g} req/s)", colour, "5 3"))
    frame.legend = [
        ("before the break", _PHASE_COLOURS["load"], ""),
        ("overloaded", _PHASE_COLOURS["overload"], ""),
        ("after the load drop" + (" (ring: recovered)" if recovered_at_s is not None else ""),
         _PHASE_COLOURS["recovery"], ""),
        *frame.legend,
    ]  # fmt: skip
    return frame.svg()


def svg_history(
    label: str,
    unit: str,
    history: list[tuple[str, float]],
    current: float | None,
    band: tuple[float, float] | None,
    centre: float | None,
    state: str,
) -> str:
    """History mode: the metric's stored runs (the segment the band came from), the
    band where the next value was expected, and this run's point."""
    title = f"History: {label} ({unit})"
    values = [v for _, v in history] + ([current] if current is not None else [])
    values += list(band or ())
    if len(values) < 2:
        return _empty("history", title)
    n = len(history)
    vmax = max(values)
    vmin = min(values)
    pad = (vmax - vmin) * 0.1 or vmax * 0.1 or 1.0
    frame = _Frame(
        "history",
        title,
        f"stored runs, oldest first ({history[0][0][:10]} … {history[-1][0][:10]}); last: this run"
        if history
        else "this run",
        unit,
        -0.5,
        n + 0.5,
        max(0.0, vmin - pad),
        vmax + pad,
    )
    if band is not None:
        y0, y1 = frame.y(band[1]), frame.y(band[0])
        frame.parts.append(
            f'<rect x="{frame.x(-0.5):.1f}" y="{y0:.1f}" width="{frame.x(n - 0.5) - frame.x(-0.5):.1f}" '
            f'height="{max(0.5, y1 - y0):.1f}" class="history-band" fill="{ARM_COLOURS["base"]}" '
            f'fill-opacity="0.15"><title>95% band of the next value</title></rect>'
        )
        frame.legend.append(("expected band (95%)", ARM_COLOURS["base"], ""))
    frame.axes()
    if centre is not None:
        yy = frame.y(centre)
        frame.parts.append(
            f'<line x1="{frame.x(-0.5):.1f}" y1="{yy:.1f}" x2="{frame.x(n - 0.5):.1f}" y2="{yy:.1f}" '
            f'class="history-centre" stroke="{ARM_COLOURS["base"]}" stroke-dasharray="4 3"/>'
        )
    d = _path(frame, [(float(i), v) for i, (_, v) in enumerate(history)])
    if d:
        frame.parts.append(
            f'<path class="series history-points" data-label="history" d="{d}" '
            f'stroke="{ARM_COLOURS["base"]}" fill="none" stroke-width="1.4"/>'
        )
        frame.parts.extend(
            f'<circle cx="{frame.x(float(i)):.1f}" cy="{frame.y(v):.1f}" r="2.5" class="history-point" '
            f'fill="{ARM_COLOURS["base"]}"><title>{_e(when)}: {v:.4g} {_e(unit)}</title></circle>'
            for i, (when, v) in enumerate(history)
        )
        frame.legend.append(("stored runs", ARM_COLOURS["base"], ""))
    if current is not None:
        colour = "#cf222e" if state == "regression" else ARM_COLOURS["candidate"]
        frame.parts.append(
            f'<circle cx="{frame.x(float(n)):.1f}" cy="{frame.y(current):.1f}" r="5" class="this-run" '
            f'fill="{colour}"><title>this run: {current:.4g} {_e(unit)}</title></circle>'
        )
        frame.legend.append(("this run", colour, ""))
    return frame.svg()
