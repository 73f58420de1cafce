"""Route handlers of the demo API: parse input, run one query, shape JSON."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from perfgate.demo.auth import Claims, TokenError, TokenSigner, bearer_token, verify_password_async
from perfgate.demo.db import BOUNTY_STATUSES, DemoDB, check_database
from perfgate.demo.params import (
    ApiError,
    decode_cursor,
    encode_cursor,
    parse_choice,
    parse_json_object,
    parse_limit,
)
from perfgate.demo.stats import ServerStats

__all__ = ["STATE", "DemoState", "add_routes"]

_MAX_AMOUNT_CENTS = 99_999_999  # Stripe's ceiling for one intent
_MAX_ID = 2**63 - 1
_HEALTH_BODY = b'{"status":"ok"}'


@dataclass
class DemoState:
    db: DemoDB
    signer: TokenSigner
    stats: ServerStats


STATE: web.AppKey[DemoState] = web.AppKey("perfgate_demo_state", DemoState)


def _state(request: web.Request) -> DemoState:
    return request.app[STATE]


def _claims(request: web.Request) -> Claims:
    try:
        return _state(request).signer.verify(bearer_token(request.headers.get("Authorization")))
    except TokenError as exc:
        raise ApiError(str(exc), status=401) from None


def _user(request: web.Request) -> sqlite3.Row:
    user = _state(request).db.user_by_id(_claims(request).user_id)
    if user is None:
        raise ApiError("token's user no longer exists", status=401)
    return user


def _require_admin(request: web.Request) -> Claims:
    claims = _claims(request)
    if claims.role != "admin":
        raise ApiError("admin role required", status=403)
    return claims


def _page(rows: list[sqlite3.Row], limit: int) -> str | None:
    return encode_cursor(int(rows[-1]["id"])) if len(rows) == limit else None


def _bounty(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": row["title"],
        "description": row["description"],
        "rewardCents": row["reward_cents"],
        "currency": row["currency"],
        "status": row["status"],
        "creatorId": row["creator_id"],
        "createdAt": row["created_at"],
    }


# -- health and metrics ------------------------------------------------------
async def health(request: web.Request) -> web.Response:
    return web.Response(body=_HEALTH_BODY, content_type="application/json")


async def health_detailed(request: web.Request) -> web.Response:
    state = _state(request)
    started = time.perf_counter()
    try:
        check_database(state.db.path)
        database: dict[str, Any] = {"status": "ok"}
    except sqlite3.Error as exc:
        database = {"status": "error", "error": str(exc)}
    database["latencyMs"] = round((time.perf_counter() - started) * 1000, 3)
    ok = database["status"] == "ok"
    body = {
        "status": "ok" if ok else "unavailable",
        "uptimeSeconds": round(state.stats.uptime(), 3),
        "checks": {"database": database},
    }
    return web.json_response(body, status=200 if ok else 503)


async def metrics_json(request: web.Request) -> web.Response:
    return web.json_response(_state(request).stats.snapshot())


# -- auth and profile ----------------------------------------------------------
async def sign_in(request: web.Request) -> web.Response:
    body = parse_json_object(await request.read())
    email, password = body.get("email"), body.get("password")
    if not isinstance(email, str) or not isinstance(password, str):
        raise ApiError("email and password must be strings")
    if len(password) > 1024 or len(email) > 320:
        raise ApiError("email or password too long")
    state = _state(request)
    user = state.db.user_by_email(email.strip())
    stored = None if user is None else str(user["password_hash"])
    if not await verify_password_async(password, stored) or user is None:
        raise ApiError("invalid email or password", status=401)
    state.stats.sign_ins += 1
    token = state.signer.issue(int(user["id"]), str(user["role"]))
    return web.json_response(
        {"token": token, "expiresIn": state.signer.ttl_seconds, "role": user["role"]}
    )


async def profile(request: web.Request) -> web.Response:
    user = _user(request)
    return web.json_response(
        {
            "id": user["id"],
            "email": user["email"],
            "name": user["name"],
            "role": user["role"],
            "createdAt": user["created_at"],
        }
    )


# -- bounties ----------------------------------------------------------------
async def list_bounties(request: web.Request) -> web.Response:
    limit = parse_limit(request.query)
    status = parse_choice(request.query, "status", BOUNTY_STATUSES)
    after = decode_cursor(request.query)
    rows = _state(request).db.bounties(limit, after, status)
    return web.json_response(
        {"bounties": [_bounty(r) for r in rows], "nextCursor": _page(rows, limit), "limit": limit}
    )


async def get_bounty(request: web.Request) -> web.Response:
    raw = request.match_info["id"]
    row = None
    if raw.isascii() and raw.isdigit() and int(raw) <= _MAX_ID:
        row = _state(request).db.bounty(int(raw))
    if row is None:
        raise ApiError(f"bounty {raw!r} not found", status=404)
    return web.json_response(_bounty(row))


# -- payments and wallet -----------------------------------------------------
async def create_payment_intent(request: web.Request) -> web.Response:
    user = _user(request)
    body = parse_json_object(await request.read())
    amount = body.get("amountCents")
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise ApiError("amountCents must be an integer number of cents")
    if not 0 < amount <= _MAX_AMOUNT_CENTS:
        raise ApiError(f"amountCents must be between 1 and {_MAX_AMOUNT_CENTS}")
    currency = body.get("currency", "usd")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise ApiError("currency must be a 3-letter ISO code such as 'usd'")
    intent = _state(request).db.create_payment_intent(int(user["id"]), amount, currency.lower())
    return web.json_response(intent)


async def wallet_balance(request: web.Request) -> web.Response:
    user = _user(request)
    wallet = _state(request).db.wallet(int(user["id"]))
    if wallet is None:
        raise ApiError("wallet not found", status=404)
    return web.json_response(
        {
            "balanceCents": wallet["balance_cents"],
            "currency": wallet["currency"],
            "updatedAt": wallet["updated_at"],
        }
    )


async def wallet_transactions(request: web.Request) -> web.Response:
    user = _user(request)
    limit = parse_limit(request.query)
    rows = _state(request).db.transactions(int(user["id"]), limit, decode_cursor(request.query))
    items = [
        {
            "id": r["id"],
            "amountCents": r["amount_cents"],
            "kind": r["kind"],
            "description": r["description"],
            "createdAt": r["created_at"],
        }
        for r in rows
    ]
    return web.json_response({"transactions": items, "nextCursor": _page(rows, limit)})


# -- notifications -----------------------------------------------------------
async def notifications(request: web.Request) -> web.Response:
    user = _user(request)
    limit = parse_limit(request.query)
    rows = _state(request).db.notifications(int(user["id"]), limit, decode_cursor(request.query))
    items = [
        {
            "id": r["id"],
            "message": r["message"],
            "read": bool(r["read"]),
            "createdAt": r["created_at"],
        }
        for r in rows
    ]
    return web.json_response({"notifications": items, "nextCursor": _page(rows, limit)})


async def unread_count(request: web.Request) -> web.Response:
    user = _user(request)
    return web.json_response({"unreadCount": _state(request).db.unread_count(int(user["id"]))})


# -- admin -------------------------------------------------------------------
async def admin_metrics(request: web.Request) -> web.Response:
    _require_admin(request)
    state = _state(request)
    by_status = state.db.bounty_counts()
    return web.json_response(
        {
            "users": state.db.count("users"),
            "bounties": {"total": sum(by_status.values()), "byStatus": by_status},
            "paymentIntents": state.db.count("payment_intents"),
            "requests": state.stats.total,
            "uptimeSeconds": round(state.stats.uptime(), 3),
        }
    )


async def admin_analytics(request: web.Request) -> web.Response:
    _require_admin(request)
    state = _state(request)
    return web.json_response(
        {
            "bounties": {
                "byStatus": state.db.bounty_counts(),
                "rewards": state.db.bounty_rewards(),
            },
            "signIns": state.stats.sign_ins,
            "paymentIntents": state.db.count("payment_intents"),
            "requestsByRoute": dict(sorted(state.stats.by_route.items())),
        }
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/health", health, allow_head=False)
    app.router.add_get("/health/detailed", health_detailed)
    app.router.add_get("/metrics/json", metrics_json)
    app.router.add_post("/auth/sign-in", sign_in)
    app.router.add_get("/api/profile", profile)
    app.router.add_get("/api/bounties", list_bounties)
    app.router.add_get("/api/bounties/{id}", get_bounty)
    app.router.add_post("/api/payments/create-intent", create_payment_intent)
    app.router.add_get("/wallet/balance", wallet_balance)
    app.router.add_get("/wallet/transactions", wallet_transactions)
    app.router.add_get("/notifications", notifications)
    app.router.add_get("/notifications/unread-count", unread_count)
    app.router.add_get("/admin/metrics", admin_metrics)
    app.router.add_get("/admin/analytics/metrics", admin_analytics)
