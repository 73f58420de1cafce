"""Readiness probes: one bounded HTTP GET or TCP connect, never raising."""

from __future__ import annotations

import http.client
import socket
import ssl
from urllib.parse import urlsplit

__all__ = ["probe_http", "probe_tcp"]


def probe_http(url: str, timeout: float) -> tuple[bool, str]:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        # A readiness probe, not a security check: local services often use self-signed certs.
        ctx = ssl._create_unverified_context()
        conn = http.client.HTTPSConnection(host, parts.port, timeout=timeout, context=ctx)
    else:
        conn = http.client.HTTPConnection(host, parts.port, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request("GET", path, headers={"User-Agent": "perfgate-ready"})
        resp = conn.getresponse()
        resp.read(64 * 1024)
        if 200 <= resp.status < 300:
            return True, f"{url} answered {resp.status}"
        return False, f"{url} answered {resp.status}"
    except (OSError, http.client.HTTPException) as exc:
        return False, f"{url}: {type(exc).__name__}: {exc}"
    finally:
        conn.close()


def probe_tcp(host: str, port: int, timeout: float) -> tuple[bool, str]:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True, f"port {port} open"
    except OSError as exc:
        return False, f"port {port}: {exc.strerror or exc}"
