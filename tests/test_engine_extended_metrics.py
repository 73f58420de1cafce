"""``config.http.extendedMetrics``: http.dns / http.tcp / http.tls apart, over
real http and https servers on 127.0.0.1 (https with a throwaway self-signed
certificate made by the openssl CLI)."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from tests.conftest import free_port

from perfgate.engine import run_script
from perfgate.metrics import names
from perfgate.script import load_script_text

pytestmark = pytest.mark.timeout(90)


class Site:
    def __init__(self, ssl_context: ssl.SSLContext | None) -> None:
        self.port = free_port()
        scheme = "https" if ssl_context else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.hits = 0
        self._ssl = ssl_context
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _handle(self, request: web.Request) -> web.Response:
        self.hits += 1
        return web.json_response({"ok": True})

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", self.port, ssl_context=self._ssl)
        self._loop.run_until_complete(site.start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())

    def __enter__(self) -> Site:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture
def server_tls(tmp_path: Path) -> Iterator[ssl.SSLContext]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not available")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    yield ctx


def _run(url: str, *, users: int = 3) -> dict[str, int]:
    script = load_script_text(
        f"""
config:
  target: "{url}"
  tls: {{rejectUnauthorized: false}}
  http: {{extendedMetrics: true}}
  phases: [{{duration: 1, arrivalCount: {users}}}]
scenarios:
  - flow:
      - get: {{url: "/a"}}
      - get: {{url: "/b"}}
""",
        file="x.yml",
    )
    agg = run_script(script, workers=1, handle_sigint=False).aggregate
    h = agg.histograms
    return {
        "requests": agg.counter(names.HTTP_REQUESTS),
        "codes": agg.counter("http.codes.200"),
        **{
            n: h[n].count if n in h else 0 for n in (names.HTTP_DNS, names.HTTP_TCP, names.HTTP_TLS)
        },
        "total": h[names.HTTP_TOTAL].count if names.HTTP_TOTAL in h else 0,
    }


def test_plain_http_records_dns_and_tcp_per_new_connection() -> None:
    with Site(None) as site:
        got = _run(site.url)
    assert site.hits == 6
    # one connection per virtual user (keep-alive): phases once per user, total per response
    assert got == {"requests": 6, "codes": 6, names.HTTP_DNS: 3, names.HTTP_TCP: 3,
                   names.HTTP_TLS: 0, "total": 6}  # fmt: skip


def test_https_adds_the_tls_handshake(server_tls: ssl.SSLContext) -> None:
    with Site(server_tls) as site:
        got = _run(site.url)
    assert site.hits == 6
    assert got[names.HTTP_TLS] == 3 and got[names.HTTP_TCP] == 3 and got["codes"] == 6


def test_a_host_name_is_resolved_and_every_address_tried() -> None:
    # "localhost" may resolve to ::1 first; the site listens on 127.0.0.1 only.
    with Site(None) as site:
        got = _run(f"http://localhost:{site.port}")
    assert site.hits == 6 and got["codes"] == 6 and got[names.HTTP_DNS] == 3
