"""A small GitHub REST client over aiohttp: retries, pagination, rate limits.

Only what perfgate needs. 5xx answers and network errors are retried a
bounded number of times with exponential backoff; 403/429 with an exhausted
rate limit (``x-ratelimit-remaining: 0`` or ``retry-after``) are reported as
``rate_limited`` rather than waited out, so a gate never stalls on GitHub.
Pagination follows ``Link: <...>; rel="next"`` only on the API's own origin,
so the token is never sent elsewhere. The token never appears in an error
message (see :func:`redact`).
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal
from urllib.parse import urlsplit

import aiohttp

from perfgate.errors import GitHubError
from perfgate.github._context import DEFAULT_API_URL

__all__ = ["GitHubAPIError", "GitHubClient", "Response", "next_link", "redact"]

ErrorKind = Literal["forbidden", "rate_limited", "server", "network", "not_found", "client"]

_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


class GitHubAPIError(GitHubError):
    """A REST call failed; ``kind`` says how, so callers can degrade."""

    def __init__(
        self,
        message: str,
        *,
        kind: ErrorKind,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status)
        self.kind = kind
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    data: Any
    headers: Mapping[str, str]


def redact(text: str, *secrets: str | None) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def next_link(link_header: str | None) -> str | None:
    """The ``rel="next"`` URL of a Link header, or None (pure)."""
    if not link_header:
        return None
    for part in link_header.split(","):
        match = _LINK_NEXT.search(part)
        if match:
            return match.group(1).strip()
    return None


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    if value is not None:
        try:
            return max(0.0, float(value))
        except ValueError:
            return None
    return None


def _is_rate_limited(status: int, headers: Mapping[str, str]) -> bool:
    if status == 429:
        return True
    return status == 403 and (
        headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers
    )


class GitHubClient:
    """``async with GitHubClient(token, api_url=...) as gh: await gh.request(...)``."""

    def __init__(
        self,
        token: str,
        *,
        api_url: str = DEFAULT_API_URL,
        retries: int = 2,
        backoff: float = 0.5,
        max_backoff: float = 4.0,
        timeout: float = 15.0,
        user_agent: str = "perfgate",
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not token:
            raise GitHubError("no GitHub token (set GITHUB_TOKEN or the action's github-token)")
        self._token = token
        self.api_url = api_url.rstrip("/")
        self.retries = max(0, retries)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._user_agent = user_agent
        self._sleep = sleep
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> GitHubClient:
        self._session = aiohttp.ClientSession(
            timeout=self._timeout,
            headers={
                "Authorization": f"Bearer {self._token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": self._user_agent,
            },
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            if _origin(path) != _origin(self.api_url):
                raise GitHubAPIError(
                    f"refusing to send the token to another host: {urlsplit(path).netloc}",
                    kind="client",
                )
            return path
        return f"{self.api_url}/{path.lstrip('/')}"

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str | int] | None = None,
    ) -> Response:
        """One call with bounded retries on 5xx/network errors; raises GitHubAPIError."""
        if self._session is None:
            raise GitHubError("GitHubClient used outside 'async with'")
        url = self.url(path)
        last: GitHubAPIError | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                await self._sleep(min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))
            try:
                async with self._session.request(method, url, json=json, params=params) as resp:
                    headers = {k.lower(): v for k, v in resp.headers.items()}
                    body = await resp.read()
                    status = resp.status
            except (TimeoutError, aiohttp.ClientError) as exc:
                detail = redact(str(exc) or type(exc).__name__, self._token)
                last = GitHubAPIError(f"{method} {path}: {detail}", kind="network")
                continue
            data = _decode(body)
            if status < 400:
                return Response(status, data, headers)
            message = _message(data, status)
            where = f"{method} {urlsplit(url).path}"
            text = redact(f"{where}: HTTP {status}: {message}", self._token)
            if _is_rate_limited(status, headers):
                raise GitHubAPIError(
                    text, kind="rate_limited", status=status, retry_after=_retry_after(headers)
                )
            if status >= 500:
                last = GitHubAPIError(text, kind="server", status=status)
                continue
            kind: ErrorKind = (
                "forbidden" if status in (401, 403) else "not_found" if status == 404 else "client"
            )
            raise GitHubAPIError(text, kind=kind, status=status)
        assert last is not None
        raise last

    async def paginate(
        self, path: str, *, params: Mapping[str, str | int] | None = None, max_pages: int = 50
    ) -> list[Any]:
        """All items of a list endpoint, following Link rel=next (at most ``max_pages``)."""
        items: list[Any] = []
        url: str | None = path
        query: Mapping[str, str | int] | None = {"per_page": 100, **(params or {})}
        for _ in range(max_pages):
            if url is None:
                break
            resp = await self.request("GET", url, params=query)
            if isinstance(resp.data, list):
                items.extend(resp.data)
            url = next_link(resp.headers.get("link"))
            query = None  # the next link carries its own query string
        return items


def _decode(body: bytes) -> Any:
    if not body:
        return None
    try:
        return jsonlib.loads(body)
    except ValueError:
        return body.decode("utf-8", errors="replace")


def _message(data: Any, status: int) -> str:
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return data["message"][:200]
    if isinstance(data, str) and data.strip():
        return data.strip()[:200]
    return f"status {status}"
