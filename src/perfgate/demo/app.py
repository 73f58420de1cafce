"""The demo API application: middlewares, app factory and the server loop.

Middleware order, outermost first: stats (times everything the client
waits for, injected faults included) → faults → errors (every exception
becomes a JSON response, so faults and stats always see a response).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from perfgate.demo.auth import TokenSigner, hash_password
from perfgate.demo.db import DemoDB, open_db
from perfgate.demo.faults import FaultConfig, fault_middleware
from perfgate.demo.handlers import STATE, DemoState, add_routes
from perfgate.demo.params import ApiError
from perfgate.demo.stats import UNMATCHED_ROUTE, ServerStats

__all__ = ["create_app", "serve"]

log = logging.getLogger("perfgate.demo")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _stats_middleware(stats: ServerStats) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def record_stats(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else UNMATCHED_ROUTE
        stats.in_flight += 1
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        finally:
            stats.in_flight -= 1
            stats.record(route, status, (time.perf_counter() - started) * 1000.0)

    return record_stats


@web.middleware
async def _error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return web.json_response({"error": exc.message}, status=exc.status, headers=headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
        message = exc.reason
        if exc.status == 404:
            message = f"no route {request.method} {request.path}"
        elif exc.status == 405:
            message = f"method {request.method} not allowed on {request.path}"
        return web.json_response({"error": message}, status=exc.status, headers=headers)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return web.json_response({"error": "internal server error"}, status=500)


def create_app(db: DemoDB, faults: FaultConfig | None = None) -> web.Application:
    """The aiohttp application over an open demo database."""
    secret = db.meta("token_secret")
    if secret is None:
        raise ValueError("demo database has no token secret (not seeded)")
    stats = ServerStats()
    middlewares = [_stats_middleware(stats)]
    if faults is not None and faults.active:
        middlewares.append(fault_middleware(faults))
    middlewares.append(_error_middleware)
    app = web.Application(middlewares=middlewares)
    app[STATE] = DemoState(db=db, signer=TokenSigner(bytes.fromhex(secret)), stats=stats)
    add_routes(app)
    return app


async def serve(
    host: str,
    port: int,
    db_path: Path,
    faults: FaultConfig | None = None,
    announce: Callable[[str], None] = print,
) -> int:
    """Open (seeding if new) the database, serve until SIGTERM/SIGINT, return 0."""
    started = time.perf_counter()
    db, seeded = open_db(db_path, hash_password)
    if seeded:
        log.info("seeded %s in %.0f ms", db_path, (time.perf_counter() - started) * 1000)
    app = create_app(db, faults)
    # access_log=None: a log line per request would cost more than /health itself.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    stats = app[STATE].stats
    server = runner.server
    if server is not None:
        stats.connections = lambda: len(server.connections)
    site = web.TCPSite(runner, host, port, backlog=1024, shutdown_timeout=2.0)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        db.close()
        log.error("cannot listen on %s:%d: %s", host, port, exc.strerror or exc)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    actual_port = port
    sockets = getattr(site._server, "sockets", None) or []  # port 0: the one bound
    if sockets:
        actual_port = int(sockets[0].getsockname()[1])
    announce(f"perfgate demo-api listening on http://{host}:{actual_port} (db: {db_path})")
    if faults is not None and faults.active:
        announce(f"perfgate demo-api fault switches: {faults.describe()}")
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await runner.cleanup()
        db.close()
    log.info("stopped after %d requests", stats.total)
    return 0
