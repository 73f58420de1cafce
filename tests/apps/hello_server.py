"""The smallest API an A/B test can start: ``GET /hello`` and ``GET /health`` on aiohttp.

:func:`hello_server` returns the server's source, to be written as the
service's ``server.py`` (argv[1]: the port); each test picks its own cost.
"""

from __future__ import annotations

_SOURCE = """\
import asyncio
import sys

from aiohttp import web

DELAY_S = {delay_s!r}
WORK = {work!r}


async def hello(request: web.Request) -> web.Response:
    if DELAY_S:
        await asyncio.sleep(DELAY_S)
    return web.json_response({{"ok": sum(range(WORK))}})


async def health(request: web.Request) -> web.Response:
    return web.Response(text="ok")


app = web.Application()
app.router.add_get("/hello", hello)
app.router.add_get("/health", health)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


def hello_server(*, delay_s: float = 0.0, work: int = 0) -> str:
    """The source of a server whose ``/hello`` waits ``delay_s`` seconds (an await:
    latency without CPU) and sums ``range(work)`` (CPU without a wait)."""
    return _SOURCE.format(delay_s=float(delay_s), work=int(work))
