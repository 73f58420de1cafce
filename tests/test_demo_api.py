"""`perfgate demo-api` as a real server: every endpoint, auth rules,
pagination, bad input, persistence, and the pure helpers behind them."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from conftest import DemoAPI, free_port
from perfgate.demo.auth import TokenError, TokenSigner, bearer_token, hash_password, verify_password
from perfgate.demo.db import SEED_BOUNTIES, open_db
from perfgate.demo.params import ApiError, decode_cursor, encode_cursor, parse_limit

USER = {"email": "test1@example.com", "password": "TestPassword123!"}
ADMIN = {"email": "admin@example.com", "password": "AdminPassword123!"}


def call(
    api: DemoAPI,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, dict[str, str]]:
    """One request; returns (status, parsed JSON body, headers)."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(api.url + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status, payload, hdrs = resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        status, payload, hdrs = err.code, err.read(), dict(err.headers)
    assert hdrs.get("Content-Type", "").startswith("application/json"), (path, hdrs, payload)
    return status, json.loads(payload), hdrs


def sign_in(api: DemoAPI, creds: dict[str, str]) -> str:
    status, body, _ = call(api, "POST", "/auth/sign-in", creds)
    assert status == 200, body
    return str(body["token"])


def db_rows(api: DemoAPI, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(api.db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def assert_error(result: tuple[int, Any, dict[str, str]], status: int) -> None:
    got, body, _ = result
    assert got == status, body
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"]


# -- health and metrics ------------------------------------------------------
def test_health_and_detailed(shared_demo_api: DemoAPI) -> None:
    assert call(shared_demo_api, "GET", "/health")[:2] == (200, {"status": "ok"})
    status, body, _ = call(shared_demo_api, "GET", "/health/detailed")
    assert status == 200
    assert body["checks"]["database"]["status"] == "ok"
    assert body["uptimeSeconds"] > 0


def test_metrics_json_shape(shared_demo_api: DemoAPI) -> None:
    for _ in range(3):
        call(shared_demo_api, "GET", "/health")
    call(shared_demo_api, "GET", "/no/such/route")
    status, body, _ = call(shared_demo_api, "GET", "/metrics/json")
    assert status == 200
    m = body["metrics"]
    assert m["requests"]["total"] >= 4
    assert m["requests"]["byRoute"]["/health"] >= 3
    assert m["requests"]["byStatus"]["404"] >= 1
    assert set(m["latency"]["/health"]) >= {"p50", "p95", "p99"}
    assert 0 < m["latency"]["/health"]["p50"] < 1000
    assert m["activeConnections"] >= 1  # this request's own connection
    assert m["memory"]["rssBytes"] > 10 * 2**20
    assert m["uptimeSeconds"] > 0


# -- auth ----------------------------------------------------------------------
@pytest.mark.parametrize("email", ["test1@example.com", "test2@example.com", "TEST3@example.com"])
def test_seeded_users_sign_in(shared_demo_api: DemoAPI, email: str) -> None:
    token = sign_in(shared_demo_api, {"email": email, "password": "TestPassword123!"})
    status, body, _ = call(shared_demo_api, "GET", "/api/profile", token=token)
    assert status == 200
    assert body["email"] == email.lower() and body["role"] == "user"


def test_sign_in_rejects_wrong_credentials(shared_demo_api: DemoAPI) -> None:
    wrong = {"email": "test1@example.com", "password": "nope"}
    assert_error(call(shared_demo_api, "POST", "/auth/sign-in", wrong), 401)
    ghost = {"email": "ghost@example.com", "password": "TestPassword123!"}
    assert_error(call(shared_demo_api, "POST", "/auth/sign-in", ghost), 401)


def test_passwords_are_stored_as_salted_scrypt(shared_demo_api: DemoAPI) -> None:
    hashes = [r[0] for r in db_rows(shared_demo_api, "SELECT password_hash FROM users")]
    assert len(hashes) == 4 and all(h.startswith("scrypt$") for h in hashes)
    assert "TestPassword123!" not in "".join(hashes)
    assert len(set(hashes)) == 4  # same password, different salts


def test_profile_requires_a_valid_token(shared_demo_api: DemoAPI) -> None:
    api = shared_demo_api
    token = sign_in(api, USER)
    assert_error(call(api, "GET", "/api/profile"), 401)
    assert_error(call(api, "GET", "/api/profile", token="undefined"), 401)
    assert_error(call(api, "GET", "/api/profile", token="garbage"), 401)
    assert_error(call(api, "GET", "/api/profile", token=token[:-2] + "AA"), 401)
    basic = {"Authorization": "Basic dGVzdDp0ZXN0"}
    assert_error(call(api, "GET", "/api/profile", headers=basic), 401)
    _, _, hdrs = call(api, "GET", "/api/profile")
    assert hdrs.get("WWW-Authenticate") == "Bearer"


def test_forged_and_expired_tokens_are_rejected(shared_demo_api: DemoAPI) -> None:
    api = shared_demo_api
    secret = bytes.fromhex(db_rows(api, "SELECT value FROM meta WHERE key='token_secret'")[0][0])
    expired = TokenSigner(secret).issue(1, "admin", now=time.time() - 7200)
    assert_error(call(api, "GET", "/api/profile", token=expired), 401)
    forged = TokenSigner(b"not the secret").issue(1, "admin")
    assert_error(call(api, "GET", "/admin/metrics", token=forged), 401)
    valid = TokenSigner(secret).issue(1, "user")
    assert call(api, "GET", "/api/profile", token=valid)[0] == 200


@pytest.mark.parametrize("path", ["/admin/metrics", "/admin/analytics/metrics"])
def test_admin_auth_rules(shared_demo_api: DemoAPI, path: str) -> None:
    api = shared_demo_api
    assert_error(call(api, "GET", path), 401)
    assert_error(call(api, "GET", path, token="undefined"), 401)
    assert_error(call(api, "GET", path, token="x.y"), 401)
    assert_error(call(api, "GET", path, token=sign_in(api, USER)), 403)
    status, body, _ = call(api, "GET", path, token=sign_in(api, ADMIN))
    assert status == 200
    by_status = body["bounties"]["byStatus"]
    assert sum(by_status.values()) >= 5000


# -- bounties ------------------------------------------------------------------
def test_bounty_list_defaults_and_limits(shared_demo_api: DemoAPI) -> None:
    api = shared_demo_api
    status, body, _ = call(api, "GET", "/api/bounties")
    assert status == 200 and len(body["bounties"]) == 20 and body["nextCursor"]
    assert len(call(api, "GET", "/api/bounties?limit=1")[1]["bounties"]) == 1
    assert len(call(api, "GET", "/api/bounties?limit=100")[1]["bounties"]) == 100
    for bad in ("0", "-1", "101", "1000000000000000000000", "abc", "1.5", "", "%20"):
        assert_error(call(api, "GET", f"/api/bounties?limit={bad}"), 400)


def test_bounty_status_filter(shared_demo_api: DemoAPI) -> None:
    api = shared_demo_api
    status, body, _ = call(api, "GET", "/api/bounties?limit=50&status=open")
    assert status == 200 and len(body["bounties"]) == 50
    assert {b["status"] for b in body["bounties"]} == {"open"}
    assert_error(call(api, "GET", "/api/bounties?status=opn"), 400)
    assert "did you mean 'open'" in call(api, "GET", "/api/bounties?status=opn")[1]["error"]


def test_cursor_walk_is_disjoint_and_complete(shared_demo_api: DemoAPI) -> None:
    api = shared_demo_api
    expected = db_rows(api, "SELECT count(*) FROM bounties WHERE status='completed'")[0][0]
    assert expected > 500
    seen: list[int] = []
    cursor = ""
    for _ in range(100):  # bounded: ~13 pages expected
        status, body, _ = call(
            api, "GET", f"/api/bounties?limit=100&status=completed&cursor={cursor}"
        )
        assert status == 200
        ids = [b["id"] for b in body["bounties"]]
        assert all(b["status"] == "completed" for b in body["bounties"])
        assert not set(ids) & set(seen)
        seen += ids
        if body["nextCursor"] is None:
            break
        cursor = body["nextCursor"]
    assert seen == sorted(seen)
    assert len(seen) == expected


@pytest.mark.parametrize("cursor", ["zzz", "!!!", encode_cursor(5)[:-1] + "@", "YzI6NQ", "YzE6LTM"])
def test_bad_cursor_is_400(shared_demo_api: DemoAPI, cursor: str) -> None:
    assert_error(call(shared_demo_api, "GET", f"/api/bounties?cursor={cursor}"), 400)


def test_bounty_by_id(shared_demo_api: DemoAPI) -> None:
    api = shared_demo_api
    status, body, _ = call(api, "GET", "/api/bounties/42")
    assert status == 200 and body["id"] == 42 and body["title"]
    for missing in ("k3j2h1", str(SEED_BOUNTIES + 1), "-1", "9" * 40, "%D9%A1", "0"):
        assert_error(call(api, "GET", f"/api/bounties/{missing}"), 404)


# -- payments, wallet, notifications --------------------------------------------
def test_create_payment_intent_is_stored(shared_demo_api: DemoAPI) -> None:
    api = shared_demo_api
    token = sign_in(api, USER)
    status, body, _ = call(api, "POST", "/api/payments/create-intent", {"amountCents": 5000}, token)
    assert status == 200 and body["id"].startswith("pi_") and body["amountCents"] == 5000
    rows = db_rows(
        api, "SELECT amount_cents, user_id FROM payment_intents WHERE public_id=?", (body["id"],)
    )
    assert rows == [(5000, 1)]
    assert_error(call(api, "POST", "/api/payments/create-intent", {"amountCents": 5000}), 401)


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"",
        b"[5000]",
        b'"text"',
        b"{}",
        b'{"amountCents": 0}',
        b'{"amountCents": -5}',
        b'{"amountCents": "5000"}',
        b'{"amountCents": 50.5}',
        b'{"amountCents": true}',
        b'{"amountCents": null}',
        b'{"amountCents": 1000000000000000000000000}',
        b'{"amountCents": 5000, "currency": 7}',
        b'{"amountCents": 5000, "currency": "dollars"}',
        b"\xff\xfe",
        b"[" * 100_000,
    ],
)
def test_create_payment_intent_bad_input_is_400(shared_demo_api: DemoAPI, raw: bytes) -> None:
    token = sign_in(shared_demo_api, USER)
    assert_error(
        call(shared_demo_api, "POST", "/api/payments/create-intent", token=token, raw=raw), 400
    )


def test_oversized_body_is_413_json(shared_demo_api: DemoAPI) -> None:
    raw = b'{"email": "' + b"a" * (2 * 2**20) + b'"}'
    assert_error(call(shared_demo_api, "POST", "/auth/sign-in", raw=raw), 413)


@pytest.mark.parametrize(
    "raw",
    [b"{bad", b"[]", b"null", b'{"email": 5, "password": "x"}', b'{"email": "a@b.c"}'],
)
def test_sign_in_bad_input_is_400(shared_demo_api: DemoAPI, raw: bytes) -> None:
    assert_error(call(shared_demo_api, "POST", "/auth/sign-in", raw=raw), 400)


def test_wallet_and_transactions(shared_demo_api: DemoAPI) -> None:
    api = shared_demo_api
    token = sign_in(api, USER)
    status, body, _ = call(api, "GET", "/wallet/balance", token=token)
    assert status == 200 and isinstance(body["balanceCents"], int) and body["currency"] == "usd"
    first = call(api, "GET", "/wallet/transactions?limit=25", token=token)[1]
    second = call(
        api, "GET", f"/wallet/transactions?limit=25&cursor={first['nextCursor']}", token=token
    )[1]
    ids1 = {t["id"] for t in first["transactions"]}
    ids2 = {t["id"] for t in second["transactions"]}
    assert len(ids1) == len(ids2) == 25 and not ids1 & ids2
    owned = {r[0] for r in db_rows(api, "SELECT id FROM transactions WHERE user_id=1")}
    assert ids1 | ids2 <= owned
    for path in ("/wallet/balance", "/wallet/transactions"):
        assert_error(call(api, "GET", path), 401)
    assert_error(call(api, "GET", "/wallet/transactions?limit=500", token=token), 400)


def test_notifications_and_unread_count(shared_demo_api: DemoAPI) -> None:
    api = shared_demo_api
    token = sign_in(api, {"email": "test2@example.com", "password": "TestPassword123!"})
    status, body, _ = call(api, "GET", "/notifications?limit=50", token=token)
    assert status == 200 and len(body["notifications"]) == 50
    assert len(call(api, "GET", "/notifications", token=token)[1]["notifications"]) == 20
    unread = db_rows(api, "SELECT count(*) FROM notifications WHERE user_id=2 AND read=0")[0][0]
    assert call(api, "GET", "/notifications/unread-count", token=token)[1] == {
        "unreadCount": unread
    }
    for bad in ("-3", "x", "101"):
        assert_error(call(api, "GET", f"/notifications?limit={bad}", token=token), 400)
    assert_error(call(api, "GET", "/notifications"), 401)
    assert_error(call(api, "GET", "/notifications/unread-count", token="undefined"), 401)


# -- routing errors --------------------------------------------------------------
def test_unknown_route_and_wrong_method(shared_demo_api: DemoAPI) -> None:
    api = shared_demo_api
    assert_error(call(api, "GET", "/nope"), 404)
    assert_error(call(api, "GET", "/api/bounties/1/extra"), 404)
    status, _, hdrs = call(api, "POST", "/health", {})
    assert status == 405 and "GET" in hdrs.get("Allow", "")
    assert_error(call(api, "GET", "/auth/sign-in"), 405)
    assert_error(call(api, "DELETE", "/api/bounties"), 405)


def test_bad_input_never_caused_a_500(shared_demo_api: DemoAPI) -> None:
    body = call(shared_demo_api, "GET", "/metrics/json")[1]
    assert "500" not in body["metrics"]["requests"]["byStatus"]
    assert shared_demo_api.proc.poll() is None


# -- process life: start line, persistence, signals, db failures -----------------
def test_restart_reuses_the_database(start_demo_api: Any, tmp_path: Path) -> None:
    db = tmp_path / "persist.sqlite"
    first = start_demo_api(db=db)
    token = sign_in(first, USER)
    call(first, "POST", "/api/payments/create-intent", {"amountCents": 777}, token)
    first.stop()
    assert first.proc.returncode == 0
    log1 = first.log.read_text()
    assert f"perfgate demo-api listening on {first.url} (db: {db})" in log1
    assert "seeded" in log1

    second = start_demo_api(db=db)
    assert "seeded" not in second.log.read_text()
    admin = sign_in(second, ADMIN)
    assert call(second, "GET", "/admin/metrics", token=admin)[1]["paymentIntents"] == 1
    # The signing secret persists with the file: the first run's token still works.
    assert call(second, "GET", "/api/profile", token=token)[0] == 200


def test_sigint_exits_zero(start_demo_api: Any) -> None:
    api = start_demo_api()
    api.proc.send_signal(signal.SIGINT)
    assert api.proc.wait(timeout=10) == 0


def test_health_detailed_503_when_database_is_gone(start_demo_api: Any, tmp_path: Path) -> None:
    api = start_demo_api(db=tmp_path / "gone.sqlite")
    assert call(api, "GET", "/health/detailed")[0] == 200
    for suffix in ("", "-wal", "-shm"):
        Path(str(api.db) + suffix).unlink(missing_ok=True)
    status, body, _ = call(api, "GET", "/health/detailed")
    assert status == 503 and body["checks"]["database"]["status"] == "error"
    assert call(api, "GET", "/health")[0] == 200


def _run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "perfgate", "demo-api", "--host", "127.0.0.1", *args]
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=30, env={**os.environ, **(env or {})}
    )


def test_not_a_demo_database_is_a_clean_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.sqlite"
    bogus.write_text("this is not sqlite\n" * 100)
    result = _run_cli("--port", str(free_port()), "--db", str(bogus))
    assert result.returncode == 2
    assert "cannot use demo database" in result.stderr and str(bogus) in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_fault_env_var_is_a_clean_error(tmp_path: Path) -> None:
    env = {"PERFGATE_DEMO_LATENCY_MS": "fast"}
    result = _run_cli("--port", str(free_port()), "--db", str(tmp_path / "x.sqlite"), env=env)
    assert result.returncode == 2 and "PERFGATE_DEMO_LATENCY_MS" in result.stderr
    result = _run_cli("--error-rate", "1.5", "--db", str(tmp_path / "x.sqlite"))
    assert result.returncode == 2 and "error_rate" in result.stderr
    assert "Traceback" not in result.stderr


def test_port_in_use_is_a_clean_error(shared_demo_api: DemoAPI, tmp_path: Path) -> None:
    result = _run_cli("--port", str(shared_demo_api.port), "--db", str(tmp_path / "x.sqlite"))
    assert result.returncode == 1
    assert "cannot listen" in result.stderr and "Traceback" not in result.stderr


# -- pure helpers ----------------------------------------------------------------
def test_seeding_is_fast_and_deterministic(tmp_path: Path) -> None:
    started = time.perf_counter()
    db, seeded = open_db(tmp_path / "a.sqlite", hash_password)
    elapsed = time.perf_counter() - started
    assert seeded and elapsed < 2.0
    assert db.count("bounties") == SEED_BOUNTIES
    other, _ = open_db(tmp_path / "b.sqlite", hash_password)
    assert [tuple(r) for r in db.bounties(100, 0, None)] == [
        tuple(r) for r in other.bounties(100, 0, None)
    ]
    db.close()
    other.close()
    again, seeded_again = open_db(tmp_path / "a.sqlite", hash_password)
    assert not seeded_again and again.count("bounties") == SEED_BOUNTIES
    again.close()


def test_password_hash_roundtrip() -> None:
    stored = hash_password("s3cret")
    assert verify_password("s3cret", stored)
    assert not verify_password("s3cret!", stored)
    assert not verify_password("s3cret", None)
    assert not verify_password("s3cret", "md5$x$y$z")
    assert not verify_password("s3cret", "garbage")


def test_token_signer() -> None:
    signer = TokenSigner(b"k" * 32, ttl_seconds=60)
    token = signer.issue(7, "admin", now=1000.0)
    claims = signer.verify(token, now=1030.0)
    assert (claims.user_id, claims.role, claims.expires_at) == (7, "admin", 1060)
    with pytest.raises(TokenError, match="expired"):
        signer.verify(token, now=1061.0)
    with pytest.raises(TokenError):
        TokenSigner(b"other").verify(token, now=1030.0)
    for header in (None, "", "Bearer", "Bearer undefined", "Token abc"):
        with pytest.raises(TokenError):
            bearer_token(header)
    assert bearer_token("bearer  abc ") == "abc"


def test_param_parsers() -> None:
    assert parse_limit({}) == 20 and parse_limit({"limit": "100"}) == 100
    for bad in ("0", "101", "x", "-1"):
        with pytest.raises(ApiError):
            parse_limit({"limit": bad})
    assert decode_cursor({"cursor": encode_cursor(1234)}) == 1234
    assert decode_cursor({}) == 0
