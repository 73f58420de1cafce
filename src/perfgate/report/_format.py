"""Number formatting and escaping shared by every renderer.

Report content (endpoint names, check details, environment values) comes
from scripts, targets and artifacts, so it is untrusted: every renderer
escapes it through the helpers here.
"""

from __future__ import annotations

import html
import math
import re

from perfgate.verdict import ABSOLUTE_UNITS

__all__ = [
    "fmt_change",
    "fmt_count",
    "fmt_interval",
    "fmt_ms",
    "fmt_number",
    "fmt_rate",
    "fmt_rps",
    "fmt_value",
    "md_cell",
    "md_code",
    "md_text",
    "short_endpoint",
    "short_source",
    "strip_control",
]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Characters that start markdown constructs (links, emphasis, headings, code).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]()#!~>|{}])")


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_ms(value: float | None) -> str:
    """Milliseconds with sensible precision: 0.42, 12.3, 245."""
    if _missing(value):
        return "–"
    assert value is not None
    v = abs(value)
    if v < 1:
        return f"{value:.2f}"
    if v < 100:
        return f"{value:.1f}"
    return f"{value:,.0f}"


def fmt_number(value: float | None, digits: int = 1) -> str:
    if _missing(value):
        return "–"
    assert value is not None
    if float(value).is_integer() and abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def fmt_count(value: int | float | None) -> str:
    if _missing(value):
        return "–"
    assert value is not None
    return f"{int(value):,}"


def fmt_rps(value: float | None) -> str:
    if _missing(value):
        return "–"
    assert value is not None
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def fmt_rate(fraction: float | None) -> str:
    """An error rate given as a fraction (0.0123 -> '1.23%')."""
    if _missing(fraction):
        return "–"
    assert fraction is not None
    if fraction == 0:
        return "0%"
    pct = fraction * 100
    return f"{pct:.2f}%" if pct < 10 else f"{pct:.1f}%"


def fmt_value(value: float | None, unit: str) -> str:
    """A measured value with its unit, as comparisons and checks carry them."""
    if _missing(value):
        return "–"
    assert value is not None
    if unit == "ms":
        return f"{fmt_ms(value)} ms"
    if unit == "%":
        return f"{value:.2f}%"
    if unit == "ratio":  # a fraction (error rates): shown as a percentage
        return f"{value * 100:.2f}%"
    if unit == "req/s":
        return f"{fmt_rps(value)} req/s"
    if unit == "ms/req":
        return f"{value:.3f} ms/req" if abs(value) < 1 else f"{value:.2f} ms/req"
    if unit == "MB/min":
        return f"{value:.2f} MB/min"
    text = fmt_number(value, 2 if abs(value) < 10 else 1)
    return f"{text} {unit}".strip()


def fmt_change(change: float | None, unit: str) -> str:
    """A relative change (fraction) as a signed percentage; rates in points."""
    if _missing(change):
        return "–"
    assert change is not None
    if unit == "%":  # rates carry an absolute change in percentage points
        return f"{change:+.2f} pp"
    if unit == "ratio":  # fractions: the absolute change, in points
        return f"{change * 100:+.2f} pp"
    if unit in ABSOLUTE_UNITS:
        return f"{change:+.2f} {unit}"
    return f"{change * 100:+.1f}%"


def fmt_interval(low: float | None, high: float | None, unit: str) -> str:
    if _missing(low) or _missing(high):
        return "–"
    assert low is not None and high is not None
    if unit == "%":
        return f"[{low:+.2f}, {high:+.2f}] pp"
    if unit == "ratio":
        return f"[{low * 100:+.2f}, {high * 100:+.2f}] pp"
    if unit in ABSOLUTE_UNITS:
        return f"[{low:+.2f}, {high:+.2f}] {unit}"
    return f"[{low * 100:+.1f}%, {high * 100:+.1f}%]"


def strip_control(text: object) -> str:
    """Text without control characters (invalid in XML, confusing in tables)."""
    return _CONTROL.sub("", str(text))


def md_text(text: object) -> str:
    """Untrusted text made inert for GitHub markdown (no HTML, links, mentions)."""
    s = strip_control(text).replace("\r", " ").replace("\n", " ")
    s = html.escape(s, quote=False)  # quotes are inert; '&#x27;' would hold a '#'
    s = _MD_SPECIAL.sub(r"\\\1", s)
    # A zero-width joiner keeps "@user" and "#123" from notifying or linking.
    return s.replace("@", "@\u2060")


def md_cell(text: object) -> str:
    """Untrusted text for a table cell: md_text, pipes already escaped."""
    return md_text(text) or " "


def md_code(text: object) -> str:
    """Untrusted text as an inline code span (nothing inside is interpreted)."""
    s = strip_control(text).replace("`", "'").replace("\r", " ").replace("\n", " ")
    return f"`{s}`"


#: An endpoint name longer than this is shortened in tables (the HTML keeps it whole in a tooltip).
MAX_ENDPOINT_CHARS = 56
_TEMPLATE_EXPR = re.compile(r"\{\{\s*([^}]*?)\s*\}\}")
_SCHEME_HOST = re.compile(r"^(?P<method>[A-Z]+ )?[a-z][a-z0-9+.-]*://[^/\s]+")


def short_endpoint(name: str, limit: int = MAX_ENDPOINT_CHARS) -> str:
    """An unnamed request's URL template, readable in a table cell.

    The scheme and host go (every request has them), template expressions
    become ``{…}`` (``/bounties/{{ $randomNumber(1, 900) }}`` -> ``/bounties/{…}``,
    ``{{ id }}`` stays ``{id}``), and what is still too long keeps its start
    and its end around an ellipsis.
    """
    text = _SCHEME_HOST.sub(lambda m: m.group("method") or "", name.strip()) or name
    text = _TEMPLATE_EXPR.sub(
        lambda m: "{" + m.group(1) + "}" if re.fullmatch(r"[\w.]{1,16}", m.group(1)) else "{…}",
        text,
    )
    if len(text) <= limit:
        return text
    head = (limit - 1) * 2 // 3
    tail = limit - 1 - head
    return text[:head] + "…" + text[-tail:]


def short_source(path: str, cwd: str | None = None) -> str:
    """A suite's script path as the reader knows it: relative to the working
    directory (the checkout in CI) when under it, else its last two parts."""
    import os

    if not path or not os.path.isabs(path):
        return path
    root = cwd or os.environ.get("GITHUB_WORKSPACE") or os.getcwd()
    try:
        rel = os.path.relpath(path, root)
    except ValueError:
        rel = ""
    if rel and not rel.startswith(".."):
        return rel
    parts = [p for p in path.split(os.sep) if p]
    return os.path.join("…", *parts[-2:]) if len(parts) > 2 else path
