"""A local fake of the GitHub REST API perfgate uses: a real aiohttp server on 127.0.0.1.

Supports: GET /user, POST /graphql (``viewer { login }`` only),
GET /repos/{o}/{r}/pulls/{n}, GET|POST /repos/{o}/{r}/issues/{n}/comments
(paginated with Link headers), PATCH /repos/{o}/{r}/issues/comments/{id},
POST /repos/{o}/{r}/commits/{sha}/comments; all under an optional base path
(``/api/v3`` for GitHub Enterprise, GraphQL then at ``/api/graphql``). Records every call (never the token: only
whether it matched) and answers failures on demand with :meth:`FakeGitHub.fail`.

Use ``async with FakeGitHub(...) as gh`` inside a test's loop, or
``with FakeGitHub(...).running_in_thread() as gh`` for sync code and subprocesses.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import web


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    authorized: bool
    json: Any = None
    status: int = 0


@dataclass
class Failure:
    status: int
    times: int
    method: str | None
    path_contains: str | None
    headers: dict[str, str] = field(default_factory=dict)
    message: str = "fake failure"


class FakeGitHub:
    def __init__(
        self,
        *,
        token: str = "ghs_fake_token_0123456789",
        base_path: str = "",
        login: str | None = "github-actions[bot]",
        viewer: str | None = None,
        page_size_cap: int = 100,
    ) -> None:
        self.token = token
        self.base_path = base_path.rstrip("/")
        self.login = login  # None: GET /user answers 403 as for an Actions token
        self.viewer = viewer  # GraphQL viewer's login; None: 403 as for an Actions token
        # the account new comments are posted as
        self.author = login or viewer or "github-actions[bot]"
        self.commit_comments: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.page_size_cap = page_size_cap
        self.calls: list[Call] = []
        self.comments: dict[tuple[str, int], list[dict[str, Any]]] = {}
        self.pulls: dict[tuple[str, int], dict[str, Any]] = {}
        self.failures: list[Failure] = []
        self._next_id = 1000
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- state helpers -------------------------------------------------
    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.base_path}"

    def add_comment(
        self, repo: str, pr: int, body: str, *, login: str = "someone", bot: bool = False
    ) -> dict[str, Any]:
        self._next_id += 1
        comment = {
            "id": self._next_id,
            "body": body,
            "user": {"login": login, "type": "Bot" if bot else "User"},
            "html_url": f"https://github.example/{repo}/pull/{pr}#issuecomment-{self._next_id}",
        }
        self.comments.setdefault((repo, pr), []).append(comment)
        return comment

    def add_pull(
        self,
        repo: str,
        pr: int,
        head_sha: str,
        *,
        head_repo: str | None = None,
        head_ref: str = "feature",
        state: str = "open",
    ) -> None:
        self.pulls[(repo, pr)] = {
            "number": pr,
            "state": state,
            "head": {"sha": head_sha, "ref": head_ref, "repo": {"full_name": head_repo or repo}},
        }

    def fail(
        self,
        status: int,
        *,
        times: int = 1,
        method: str | None = None,
        path_contains: str | None = None,
        headers: dict[str, str] | None = None,
        message: str = "fake failure",
    ) -> None:
        """Answer the next ``times`` matching requests with ``status``."""
        self.failures.append(Failure(status, times, method, path_contains, headers or {}, message))

    def rate_limit(self, *, status: int = 403, retry_after: int = 60, times: int = 1) -> None:
        self.fail(
            status,
            times=times,
            headers={"x-ratelimit-remaining": "0", "retry-after": str(retry_after)},
            message="API rate limit exceeded",
        )

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    # -- server ---------------------------------------------------------
    def _app(self) -> web.Application:
        app = web.Application()
        p = self.base_path
        app.router.add_get(p + "/user", self._user)
        graphql = p[: -len("/v3")] + "/graphql" if p.endswith("/api/v3") else p + "/graphql"
        app.router.add_post(graphql, self._graphql)
        app.router.add_post(
            p + "/repos/{owner}/{name}/commits/{sha:[0-9a-f]{40}}/comments", self._commit_comment
        )
        app.router.add_get(p + "/repos/{owner}/{name}/pulls/{n:\\d+}", self._pull)
        app.router.add_get(p + "/repos/{owner}/{name}/issues/{n:\\d+}/comments", self._list)
        app.router.add_post(p + "/repos/{owner}/{name}/issues/{n:\\d+}/comments", self._create)
        app.router.add_patch(p + "/repos/{owner}/{name}/issues/comments/{id:\\d+}", self._update)
        app.middlewares.append(self._middleware)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = None
        if request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                body = None
        call = Call(
            request.method,
            request.path,
            dict(request.query),
            request.headers.get("Authorization") == f"Bearer {self.token}",
            body,
        )
        self.calls.append(call)
        response = self._injected(request) or (
            web.json_response({"message": "Bad credentials"}, status=401)
            if not call.authorized
            else None
        )
        if response is None:
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                response = exc
        call.status = response.status
        return response

    def _injected(self, request: web.Request) -> web.Response | None:
        for failure in self.failures:
            if failure.times <= 0:
                continue
            if failure.method and failure.method != request.method:
                continue
            if failure.path_contains and failure.path_contains not in request.path:
                continue
            failure.times -= 1
            return web.json_response(
                {"message": failure.message}, status=failure.status, headers=failure.headers
            )
        return None

    @staticmethod
    def _key(request: web.Request) -> tuple[str, int]:
        m = request.match_info
        return f"{m['owner']}/{m['name']}", int(m["n"])

    async def _user(self, request: web.Request) -> web.Response:
        if self.login is None:
            return web.json_response(
                {"message": "Resource not accessible by integration"}, status=403
            )
        return web.json_response({"login": self.login, "type": "Bot"})

    async def _graphql(self, request: web.Request) -> web.Response:
        data = await request.json()
        if "viewer" not in str(data.get("query", "")):
            return web.json_response({"errors": [{"message": "unsupported by the fake"}]})
        if self.viewer is None:
            return web.json_response(
                {"message": "Resource not accessible by integration"}, status=403
            )
        return web.json_response({"data": {"viewer": {"login": self.viewer}}})

    async def _commit_comment(self, request: web.Request) -> web.Response:
        m = request.match_info
        repo, sha = f"{m['owner']}/{m['name']}", m["sha"]
        data = await request.json()
        self._next_id += 1
        comment = {
            "id": self._next_id,
            "body": data["body"],
            "commit_id": sha,
            "user": {"login": self.author, "type": "Bot"},
            "html_url": f"https://github.example/{repo}/commit/{sha}#commitcomment-{self._next_id}",
        }
        self.commit_comments.setdefault((repo, sha), []).append(comment)
        return web.json_response(comment, status=201)

    async def _pull(self, request: web.Request) -> web.Response:
        pull = self.pulls.get(self._key(request))
        if pull is None:
            return web.json_response({"message": "Not Found"}, status=404)
        return web.json_response(pull)

    async def _list(self, request: web.Request) -> web.Response:
        repo, pr = self._key(request)
        items = self.comments.get((repo, pr), [])
        per_page = min(int(request.query.get("per_page", "30")), self.page_size_cap)
        page = int(request.query.get("page", "1"))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            url = request.url.with_query({"per_page": str(per_page), "page": str(page + 1)})
            last = request.url.with_query(
                {"per_page": str(per_page), "page": str(-(-len(items) // per_page))}
            )
            headers["Link"] = f'<{url}>; rel="next", <{last}>; rel="last"'
        return web.json_response(chunk, headers=headers)

    async def _create(self, request: web.Request) -> web.Response:
        repo, pr = self._key(request)
        data = await request.json()
        comment = self.add_comment(repo, pr, data["body"], login=self.author, bot=True)
        return web.json_response(comment, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        cid = int(request.match_info["id"])
        data = await request.json()
        for items in self.comments.values():
            for comment in items:
                if comment["id"] == cid:
                    comment["body"] = data["body"]
                    return web.json_response(comment)
        return web.json_response({"message": "Not Found"}, status=404)

    async def start(self) -> FakeGitHub:
        self._runner = web.AppRunner(self._app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeGitHub:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @contextmanager
    def running_in_thread(self) -> Iterator[FakeGitHub]:
        """Serve from a background thread's loop (for sync callers and subprocesses)."""
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        thread = threading.Thread(target=self._serve, args=(loop, ready), daemon=True)
        thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake GitHub did not start")
        try:
            yield self
        finally:
            asyncio.run_coroutine_threadsafe(self.stop(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()

    def _serve(self, loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(self.start())
        ready.set()
        loop.run_forever()
