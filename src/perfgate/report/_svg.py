"""Inline SVG line charts, generated in Python (no JavaScript, no CDN).

Every text that reaches the SVG goes through ``html.escape``; numbers are
formatted by us. Each plotted series is a ``<path class="series">`` so tests
(and people) can find it.
"""

from __future__ import annotations

import html
import math

from perfgate.report._series import Chart, downsample

__all__ = ["PALETTE", "svg_line_chart"]

PALETTE = ("#1f77b4", "#d62728", "#9467bd", "#2ca02c", "#ff7f0e", "#8c564b")
MAX_SVG_POINTS = 400


def nice_step(span: float, ticks: int = 5) -> float:
    """A round axis step (1, 2, 2.5, 5 × 10^k) giving about ``ticks`` ticks over ``span``."""
    raw = span / max(ticks, 1)
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def tick_label(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 1:
        return f"{v:.3g}"
    return f"{v:.2g}"


def svg_line_chart(chart: Chart, width: int = 560, height: int = 240) -> str:
    """One chart as an ``<svg>`` element: axes, grid, a legend, a path per line."""
    c = downsample(chart, MAX_SVG_POINTS)
    left, right, top, bottom = 56, 12, 28, 36
    pw, ph = width - left - right, height - top - bottom
    values = [v for ln in c.lines for v in ln.values if v is not None]
    title = html.escape(f"{c.title} ({c.unit})")
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{html.escape(c.key)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{title}">'
        f'<text x="{left}" y="16" class="chart-title">{title}</text>'
    )
    if not values or len(c.t) < 2:
        return head + f'<text x="{left}" y="{top + ph / 2:.0f}" class="empty">no data</text></svg>'
    t0, t1 = c.t[0], c.t[-1]
    tspan = (t1 - t0) or 1.0
    vmax = max(values)
    ystep = nice_step(vmax if vmax > 0 else 1.0)
    ymax = ystep * math.ceil((vmax if vmax > 0 else 1.0) / ystep)

    def x(t: float) -> float:
        return left + (t - t0) / tspan * pw

    def y(v: float) -> float:
        return top + ph - (v / ymax) * ph

    parts = [head]
    k = 0
    while k * ystep <= ymax + 1e-9:
        yy = y(k * ystep)
        parts.append(
            f'<line x1="{left}" y1="{yy:.1f}" x2="{left + pw}" y2="{yy:.1f}" class="grid"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{yy + 4:.1f}" class="ytick">{tick_label(k * ystep)}</text>'
        )
        k += 1
    xstep = nice_step(tspan, 6)
    k = 0
    while k * xstep <= tspan + 1e-9:
        xx = x(t0 + k * xstep)
        parts.append(
            f'<text x="{xx:.1f}" y="{top + ph + 16}" class="xtick">{tick_label(k * xstep)}</text>'
        )
        k += 1
    parts.append(f'<text x="{left + pw}" y="{height - 4}" class="xlabel">seconds</text>')
    parts.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" class="frame"/>')
    for i, line in enumerate(c.lines):
        colour = PALETTE[i % len(PALETTE)]
        d: list[str] = []
        pen_up = True
        for t, v in zip(c.t, line.values, strict=True):
            if v is None:
                pen_up = True
                continue
            d.append(f"{'M' if pen_up else 'L'}{x(t):.1f},{y(v):.1f}")
            pen_up = False
        if d:
            parts.append(
                f'<path class="series" data-label="{html.escape(line.label)}" d="{" ".join(d)}" '
                f'stroke="{colour}" fill="none" stroke-width="1.6"/>'
            )
        lx = left + pw - 70 * (len(c.lines) - i)
        parts.append(f'<rect x="{lx}" y="8" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{lx + 14}" y="17" class="legend">{html.escape(line.label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
