"""One request's HTTP/1.1 bytes, built from rendered step values (no I/O)."""

from __future__ import annotations

import base64
import json as jsonlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from perfgate.engine import transport

__all__ = ["build_request"]


def build_request(
    method: str,
    url: str,
    *,
    base_url: str,
    qs: Mapping[str, Any] | None,
    headers: Mapping[str, str],
    json: Any,
    body: Any,
    form: Mapping[str, Any] | None,
    cookies: Mapping[str, str] | None,
    auth: Mapping[str, Any] | None,
) -> tuple[transport.Origin, str, bytes]:
    """Serialise one request: (origin, absolute url, HTTP/1.1 bytes)."""
    full = url if "://" in url else base_url + (url if url.startswith("/") else "/" + url)
    if qs:
        full += ("&" if "?" in full else "?") + urlencode(
            {k: _qs_text(v) for k, v in qs.items()}, doseq=True
        )
    origin, target = transport.origin_of(full)
    payload = b""
    content_type = None
    if json is not None:
        payload = jsonlib.dumps(json, separators=(",", ":"), ensure_ascii=False).encode()
        content_type = "application/json"
    elif form is not None:
        payload = urlencode({k: _qs_text(v) for k, v in form.items()}).encode()
        content_type = "application/x-www-form-urlencoded"
    elif body is not None:
        payload = body if isinstance(body, bytes) else str(body).encode()
    lines = [f"{method} {target} HTTP/1.1", f"Host: {origin.host_header}"]
    lower = {k.lower() for k in headers}
    if "user-agent" not in lower:
        lines.append("User-Agent: perfgate")
    if "accept" not in lower:
        lines.append("Accept: */*")
    if content_type and "content-type" not in lower:
        lines.append(f"Content-Type: {content_type}")
    if auth and "authorization" not in lower:
        token = f"{auth.get('user', '')}:{auth.get('pass', '')}".encode()
        lines.append("Authorization: Basic " + base64.b64encode(token).decode())
    if cookies:
        lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items()))
    for k, v in headers.items():
        if k.lower() not in ("host", "content-length"):
            lines.append(f"{k}: {_header_text(v)}")
    if payload or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(payload)}")
    return origin, full, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace") + payload


def _qs_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [_qs_text(v) for v in value]
    return value


def _header_text(value: str) -> str:
    # Header injection guard: a rendered value never spans lines.
    return value.replace("\r", " ").replace("\n", " ")
