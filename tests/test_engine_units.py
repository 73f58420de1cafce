"""Pure parts of the engine: error codes, request bytes, endpoint names, ensure, report shape."""

from __future__ import annotations

import errno
import socket
from typing import Any

import pytest

from perfgate.engine import build_request
from perfgate.engine.ensure import evaluate_ensure
from perfgate.engine.recorder import EndpointNames, Recorder
from perfgate.engine.transport import RequestFailed, error_code_for, origin_of
from perfgate.metrics import MetricSet
from perfgate.report import artillery_report
from perfgate.result import SuiteResult
from perfgate.script import EnsureSpec, compile_condition, endpoint_name


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (TimeoutError(), "ETIMEDOUT"),
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), "ECONNREFUSED"),
        (ConnectionResetError(errno.ECONNRESET, "reset"), "ECONNRESET"),
        (BrokenPipeError(errno.EPIPE, "pipe"), "EPIPE"),
        (OSError(errno.EHOSTUNREACH, "x"), "EHOSTUNREACH"),
        (socket.gaierror(socket.EAI_NONAME, "no"), "ENOTFOUND"),
        (RequestFailed("ECONNRESET", "socket hang up"), "ECONNRESET"),
    ],
)
def test_node_style_error_codes(exc: BaseException, code: str) -> None:
    assert error_code_for(exc) == code


def test_origin_and_target() -> None:
    origin, target = origin_of("http://127.0.0.1:8080/a/b?x=1")
    assert (origin.host, origin.port, origin.tls, target) == ("127.0.0.1", 8080, False, "/a/b?x=1")
    assert origin.host_header == "127.0.0.1:8080"
    with pytest.raises(ValueError):
        origin_of("ftp://x/")


def test_build_request_bytes() -> None:
    _, url, data = build_request(
        "POST",
        "/auth/sign-in",
        base_url="http://127.0.0.1:3001",
        qs={"limit": 20, "open": True},
        headers={"Authorization": "Bearer x\r\nEvil: 1"},
        json={"email": "a@b"},
        body=None,
        form=None,
        cookies={"sid": "1"},
        auth=None,
    )
    head, _, body = data.partition(b"\r\n\r\n")
    assert url == "http://127.0.0.1:3001/auth/sign-in?limit=20&open=true"
    assert head.startswith(
        b"POST /auth/sign-in?limit=20&open=true HTTP/1.1\r\nHost: 127.0.0.1:3001"
    )
    assert b"Content-Type: application/json" in head
    assert b"Content-Length: 15" in head and body == b'{"email":"a@b"}'
    assert b"Cookie: sid=1" in head
    assert b"\r\nEvil: 1" not in head  # no header injection


def test_endpoint_names_group_dynamic_urls() -> None:
    kw: dict[str, Any] = {
        "strip_query_string": True,
        "use_only_request_names": False,
        "group_dynamic_urls": True,
    }
    assert (
        endpoint_name("/api/bounties/{{ $randomString() }}", name=None, **kw)
        == "/api/bounties/{{ $randomString() }}"
    )
    assert endpoint_name("/a?x=1", name=None, **kw) == "/a"
    assert endpoint_name("http://h:1/p?q", name=None, **kw) == "/p"
    assert endpoint_name("/a", name="A", **kw) == "/a (A)"
    assert endpoint_name("/a", name="A", **{**kw, "use_only_request_names": True}) == "A"
    dyn = {**kw, "group_dynamic_urls": False}
    assert endpoint_name("/b/{{ id }}", name=None, rendered_url="/b/7", **dyn) == "/b/7"


def _aggregate() -> MetricSet:
    clock = iter(range(1_000_000, 2_000_000, 1000))
    rec = Recorder(start_epoch_ms=0, wall=lambda: float(next(clock)))
    ep = EndpointNames.of("/x")
    for i in range(100):
        rec.request_sent()
        rec.response(
            ep, "perfgate.scenario.total.s", 200 if i < 90 else 500, response_time_ms=float(i + 1), total_ms=float(i + 2),
            connect_ms=0.0, pool_wait_ms=0.0, downloaded=10,
        )  # fmt: skip
    rec.count("vusers.created", 10)
    rec.count("vusers.failed", 1)
    rec.count("vusers.completed", 9)
    rec.finish()
    windows, _ = rec.drain()
    return MetricSet.merged(windows)


def test_ensure_thresholds_conditions_and_error_rate() -> None:
    agg = _aggregate()
    spec = EnsureSpec(
        thresholds=[("http.response_time.p95", 200.0), ("http.response_time.max", 50.0)],
        conditions=[("http.response_time.p99 < 1000 and http.codes.500 < 5", True)],
        max_error_rate=5.0,
        compiled=[compile_condition("http.response_time.p99 < 1000 and http.codes.500 < 5")],
    )
    checks = {c.name: c for c in evaluate_ensure(spec, agg)}
    assert checks["http.response_time.p95"].status == "pass"
    assert checks["http.response_time.max"].status == "fail"
    assert (
        checks["http.response_time.p99 < 1000 and http.codes.500 < 5"].status == "fail"
    )  # 10 x 500
    assert checks["maxErrorRate"].status == "fail" and checks["maxErrorRate"].measured == 10.0


def test_ensure_threshold_fails_at_equality_and_error_rate_uses_completed() -> None:
    """Issue 24 item 2. artillery-plugin-ensure turns `m: L` into `m < L`: with 2
    virtual users, `vusers.created: 2` fails (Artillery 2.0.21 exit 1) and
    `vusers.created: 3` passes; `http.response_time.max: 100` fails when the max
    is exactly 100. maxErrorRate is `(created - completed) / created * 100 <= L`."""
    agg = _aggregate()  # response times 1..100 ms, 10 created, 9 completed
    spec = EnsureSpec(
        thresholds=[("vusers.created", 10.0), ("vusers.created", 11.0),
                    ("http.response_time.max", 100.0)],
        max_error_rate=10.0,
    )  # fmt: skip
    checks = evaluate_ensure(spec, agg)
    assert [c.status for c in checks] == ["fail", "pass", "fail", "pass"]
    assert checks[0].detail == "vusers.created < 10 (got 10)"


def test_report_has_artillerys_shape() -> None:
    agg = _aggregate()
    result = SuiteResult(name="x", kind="load", aggregate=agg, intermediate=[agg], duration_s=1.0)
    report = artillery_report(result)
    for part in (report["aggregate"], report["intermediate"][0]):
        assert set(part) >= {
            "counters",
            "rates",
            "summaries",
            "histograms",
            "firstCounterAt",
            "lastCounterAt",
            "period",
        }
        rt = part["summaries"]["http.response_time"]
        assert rt["count"] == 100 and rt["min"] == 1.0 and rt["max"] == 100.0
        assert part["summaries"]["plugins.metrics-by-endpoint.response_time./x"]["count"] == 100
        assert part["counters"]["http.codes.500"] == 10
        assert part["counters"]["plugins.metrics-by-endpoint./x.codes.200"] == 90
    assert "http.request_rate" in report["aggregate"]["rates"]
    assert report["perfgate"]["suite"]["kind"] == "load"
