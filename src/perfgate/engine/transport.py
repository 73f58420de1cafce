"""A lean HTTP/1.1 client on asyncio Protocols, with the timings perfgate reports.

Why not aiohttp's client: on one core it tops out at a fraction of the
request rate a load generator must reach (measured in studies/throughput.py);
the per-request machinery (session, connector, tracing, streams) costs more
than the request. This client does only what load generation needs:
keep-alive, Content-Length / chunked / close-delimited bodies, HEAD, 1xx,
204 and 304, TLS via ``ssl`` contexts, and a timeout per request.

Timings (``time.perf_counter_ns``) per request:

* ``pool_wait``   waiting for a free connection in a shared pool;
* ``connect``     DNS + TCP (+ TLS), when a new connection was opened, and
  its three phases apart (Artillery's ``http.dns``/``http.tcp``/``http.tls``
  under ``extendedMetrics``);
* ``response_time`` (Artillery's ``http.response_time``): request fully
  written -> first response byte;
* ``total``       request start -> last body byte (perfgate's own figure).

Failures never raise out of :meth:`Pool.request` / :meth:`Connection.send`
as anything but :class:`RequestFailed`, whose ``code`` is a Node-style
error code (``ETIMEDOUT``, ``ECONNREFUSED``, ``ECONNRESET``...).
"""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl
from collections import deque
from dataclasses import dataclass
from time import perf_counter_ns
from typing import Any
from urllib.parse import urlsplit

from perfgate.errors import TransportError

__all__ = [
    "Connection",
    "Origin",
    "Pool",
    "RawResponse",
    "RequestFailed",
    "error_code_for",
    "origin_of",
]

_CRLF2 = b"\r\n\r\n"


class RequestFailed(TransportError):
    """A request got no (complete) response; ``code`` is Node-style."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


_ERRNO_CODES = {
    errno.ECONNREFUSED: "ECONNREFUSED",
    errno.ECONNRESET: "ECONNRESET",
    errno.EPIPE: "EPIPE",
    errno.ETIMEDOUT: "ETIMEDOUT",
    errno.EHOSTUNREACH: "EHOSTUNREACH",
    errno.ENETUNREACH: "ENETUNREACH",
    errno.ECONNABORTED: "ECONNABORTED",
    errno.EADDRNOTAVAIL: "EADDRNOTAVAIL",
    errno.EMFILE: "EMFILE",
}


def error_code_for(exc: BaseException) -> str:
    """Map a Python exception to the error code Node (and Artillery) would report."""
    if isinstance(exc, RequestFailed):
        return exc.code
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "ETIMEDOUT"
    if isinstance(exc, socket.gaierror):
        return (
            "ENOTFOUND"
            if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5))
            else "EAI_AGAIN"
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        text = str(exc).lower()
        if "self-signed" in text or "self signed" in text:
            return "DEPTH_ZERO_SELF_SIGNED_CERT"
        if "expired" in text:
            return "CERT_HAS_EXPIRED"
        if "hostname" in text:
            return "ERR_TLS_CERT_ALTNAME_INVALID"
        return "UNABLE_TO_VERIFY_LEAF_SIGNATURE"
    if isinstance(exc, ssl.SSLError):
        return "EPROTO"
    if isinstance(exc, ConnectionRefusedError):
        return "ECONNREFUSED"
    if isinstance(exc, ConnectionResetError):
        return "ECONNRESET"
    if isinstance(exc, BrokenPipeError):
        return "EPIPE"
    if isinstance(exc, OSError) and exc.errno in _ERRNO_CODES:
        return _ERRNO_CODES[exc.errno]
    if isinstance(exc, OSError):
        return "ECONNREFUSED" if "refused" in str(exc).lower() else "ESOCKET"
    return type(exc).__name__


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str
    port: int

    @property
    def tls(self) -> bool:
        return self.scheme == "https"

    @property
    def host_header(self) -> str:
        default = 443 if self.tls else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"


def origin_of(url: str) -> tuple[Origin, str]:
    """Split an absolute URL into its origin and the request target (path?query)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return Origin(parts.scheme, parts.hostname, port), target


@dataclass(slots=True)
class RawResponse:
    status: int
    head: bytes  # the header block, without the status line
    body: bytes
    response_time_ns: int  # written -> first byte
    total_ns: int  # request start -> last byte
    connect_ns: int  # 0 when an open connection was reused
    pool_wait_ns: int
    wire_bytes: int  # bytes received for this response
    dns_ns: int = 0  # the phases of connect_ns (0 on a reused connection)
    tcp_ns: int = 0
    tls_ns: int = 0

    def header_pairs(self) -> list[tuple[str, str]]:
        out = []
        for line in self.head.split(b"\r\n"):
            name, sep, value = line.partition(b":")
            if sep:
                out.append((name.strip().decode("latin-1"), value.strip().decode("latin-1")))
        return out


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request at a time."""

    __slots__ = (
        "_body_left",
        "_buf",
        "_chunked",
        "_head",
        "_head_only",
        "_keep",
        "_status",
        "_t_first",
        "_waiter",
        "_wire",
        "closed",
        "origin",
        "phases",
        "transport",
        "uses",
    )

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.uses = 0
        self.phases = (0, 0, 0)  # dns, tcp, tls (ns) of opening it
        self._buf = bytearray()
        self._waiter: asyncio.Future[None] | None = None
        self._reset()

    def _reset(self) -> None:
        self._buf.clear()
        self._status = 0
        self._head = b""
        self._head_only = False
        self._body_left = -1  # -1: unknown (read to close); -2: chunked
        self._chunked = False
        self._keep = True
        self._t_first = 0
        self._wire = 0

    # -- asyncio.Protocol ---------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        w = self._waiter
        if w is not None and not w.done():
            if self._status and self._body_left == -1 and not self._chunked:
                w.set_result(None)  # close-delimited body: complete
            else:
                w.set_exception(exc or RequestFailed("ECONNRESET", "socket hang up"))

    def data_received(self, data: bytes) -> None:
        if not self._t_first:
            self._t_first = perf_counter_ns()
        self._wire += len(data)
        self._buf += data
        if self._waiter is None:
            return
        try:
            if self._parse():
                w = self._waiter
                if not w.done():
                    w.set_result(None)
        except RequestFailed as exc:
            if not self._waiter.done():
                self._waiter.set_exception(exc)
            self.close()

    # -- parsing --------------------------------------------------------------
    def _parse(self) -> bool:
        buf = self._buf
        if not self._status:
            end = buf.find(_CRLF2)
            if end < 0:
                if len(buf) > 65536:
                    raise RequestFailed("HPE_HEADER_OVERFLOW")
                return False
            line_end = buf.find(b"\r\n")
            line = bytes(buf[:line_end])
            if not line.startswith(b"HTTP/1."):
                raise RequestFailed("HPE_INVALID_CONSTANT", "not an HTTP/1.x response")
            try:
                status = int(line[9:12])
            except ValueError:
                raise RequestFailed("HPE_INVALID_STATUS") from None
            head = bytes(buf[line_end + 2 : end + 2])
            del buf[: end + 4]
            if status < 200:  # 1xx: skip, wait for the real response
                return self._parse() if buf else False
            self._status = status
            self._head = head
            lower = head.lower()
            if line.startswith(b"HTTP/1.0"):
                self._keep = b"connection: keep-alive" in lower
            elif b"connection: close" in lower:
                self._keep = False
            if self._head_only or status in (204, 304):
                self._body_left = 0
            elif b"transfer-encoding: chunked" in lower:
                self._chunked = True
            else:
                i = lower.find(b"content-length:")
                if i >= 0:
                    j = lower.find(b"\r\n", i)
                    self._body_left = int(lower[i + 15 : j if j >= 0 else None])
                else:
                    self._body_left = -1
                    self._keep = False
        if self._chunked:
            return self._chunks_complete()
        if self._body_left >= 0:
            return len(buf) >= self._body_left
        return False  # read until close

    def _chunks_complete(self) -> bool:
        # The body stays raw in the buffer until complete; decode once.
        buf = self._buf
        pos = 0
        while True:
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                return False
            size_text = bytes(buf[pos:eol]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise RequestFailed("HPE_INVALID_CHUNK_SIZE") from None
            if size == 0:
                # "0\r\n" then optional trailers, then an empty line.
                return buf[eol + 2 : eol + 4] == b"\r\n" or buf.find(_CRLF2, eol) >= 0
            pos = eol + 2 + size + 2
            if pos > len(buf):
                return False

    def _decoded_chunks(self) -> bytes:
        buf = self._buf
        out = bytearray()
        pos = 0
        while True:
            eol = buf.find(b"\r\n", pos)
            size = int(bytes(buf[pos:eol]).split(b";", 1)[0].strip(), 16)
            if size == 0:
                return bytes(out)
            out += buf[eol + 2 : eol + 2 + size]
            pos = eol + 2 + size + 2

    # -- requests ------------------------------------------------------------
    async def send(
        self, data: bytes, *, head_only: bool, timeout_s: float, t_start: int
    ) -> RawResponse:
        """Write one request and wait for its whole response."""
        transport = self.transport
        if transport is None or self.closed:
            raise RequestFailed("ECONNRESET", "connection closed")
        self._reset()
        self._head_only = head_only
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = loop.call_later(timeout_s, self._on_timeout, waiter)
        self.uses += 1
        transport.write(data)
        t_written = perf_counter_ns()
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None
        t_end = perf_counter_ns()
        if self._chunked:
            body = self._decoded_chunks()
        elif self._body_left >= 0:
            body = bytes(self._buf[: self._body_left])
        else:
            body = bytes(self._buf)
        t_first = self._t_first or t_end
        resp = RawResponse(
            status=self._status,
            head=self._head,
            body=body,
            response_time_ns=max(0, t_first - t_written),
            total_ns=t_end - t_start,
            connect_ns=0,
            pool_wait_ns=0,
            wire_bytes=self._wire,
        )
        if not self._keep:
            self.close()
        return resp

    def _on_timeout(self, waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            waiter.set_exception(RequestFailed("ETIMEDOUT", "request timed out"))
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


async def open_connection(
    origin: Origin, *, timeout_s: float, ssl_context: ssl.SSLContext | None
) -> tuple[Connection, int]:
    """Open a connection; returns it and the connect time (ns).

    Resolve, connect and (https) handshake are timed apart into
    ``conn.phases``, as Artillery's ``http.dns``, ``http.tcp``, ``http.tls``.
    """
    loop = asyncio.get_running_loop()
    t0 = perf_counter_ns()
    try:
        async with asyncio.timeout(timeout_s):
            infos = _literal_address(origin) or await loop.getaddrinfo(
                origin.host, origin.port, type=socket.SOCK_STREAM
            )
            if not infos:
                raise socket.gaierror(socket.EAI_NONAME, f"no address for {origin.host}")
            t_dns = perf_counter_ns()
            transport, conn = await _connect_any(loop, origin, infos)
            t_tcp = perf_counter_ns()
            t_tls = t_tcp
            if origin.tls:
                try:
                    tls = await loop.start_tls(
                        transport,
                        conn,
                        ssl_context or ssl.create_default_context(),
                        server_hostname=origin.host,
                    )
                except BaseException:
                    transport.close()
                    raise
                if tls is None:
                    raise ConnectionResetError("TLS handshake: connection closed")
                conn.transport = tls
                t_tls = perf_counter_ns()
            conn.phases = (t_dns - t0, t_tcp - t_dns, t_tls - t_tcp)
    except BaseException as exc:
        if isinstance(exc, asyncio.CancelledError):
            raise
        raise RequestFailed(error_code_for(exc), str(exc)) from None
    sock = conn.transport.get_extra_info("socket") if conn.transport else None
    if sock is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
    return conn, perf_counter_ns() - t0


def _literal_address(origin: Origin) -> list[Any] | None:
    """An IP-literal host needs no lookup (and no executor thread): its address."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, origin.host)
        except (OSError, ValueError):
            continue
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (origin.host, origin.port))]
    return None


async def _connect_any(
    loop: asyncio.AbstractEventLoop, origin: Origin, infos: list[Any]
) -> tuple[asyncio.Transport, Connection]:
    """Connect to the first resolved address that accepts (as create_connection does)."""
    error: OSError | None = None
    for family, _, proto, _, address in infos:
        try:
            transport, conn = await loop.create_connection(
                lambda: Connection(origin), address[0], address[1], family=family, proto=proto
            )
            return transport, conn
        except OSError as exc:
            error = exc
    assert error is not None
    raise error


def make_ssl_context(reject_unauthorized: bool) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if not reject_unauthorized:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Pool:
    """Connections to any origin: one per virtual user, or a shared capped pool.

    ``max_per_origin=None`` is Artillery's default: the caller owns its
    connection (see :class:`VUConnections`). With ``http.pool: N`` all
    virtual users share at most N connections per origin, and waiting for
    one is measured as pool wait.
    """

    def __init__(
        self, *, max_per_origin: int, timeout_s: float, ssl_context: ssl.SSLContext | None
    ) -> None:
        self.max_per_origin = max_per_origin
        self.timeout_s = timeout_s
        self.ssl_context = ssl_context
        self._idle: dict[Origin, deque[Connection]] = {}
        self._open: dict[Origin, int] = {}
        self._waiters: dict[Origin, deque[asyncio.Future[Connection | None]]] = {}
        self.opened = 0

    async def acquire(self, origin: Origin) -> tuple[Connection | None, int]:
        """A free idle connection or None (caller opens one); and wait ns."""
        idle = self._idle.get(origin)
        while idle:
            conn = idle.pop()
            if not conn.closed:
                return conn, 0
            self._open[origin] -= 1
        if self._open.get(origin, 0) < self.max_per_origin:
            self._open[origin] = self._open.get(origin, 0) + 1
            return None, 0
        t0 = perf_counter_ns()
        fut: asyncio.Future[Connection | None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(origin, deque()).append(fut)
        try:
            got = await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release(origin, fut.result())
            raise
        return got, perf_counter_ns() - t0

    def release(self, origin: Origin, conn: Connection | None) -> None:
        """Give a connection back (None or a closed one frees its slot)."""
        waiters = self._waiters.get(origin)
        if conn is not None and conn.closed:
            conn = None
        while waiters:
            fut = waiters.popleft()
            if not fut.done():
                fut.set_result(conn)  # None: the waiter opens a new one in this slot
                return
        if conn is None:
            self._open[origin] = self._open.get(origin, 1) - 1
        else:
            self._idle.setdefault(origin, deque()).append(conn)

    def close(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()


async def request(
    conn_source: Any,
    origin: Origin,
    data: bytes,
    *,
    head_only: bool,
    timeout_s: float,
    ssl_context: ssl.SSLContext | None,
) -> RawResponse:
    """Send one request over a pooled or per-VU connection (see vuser.py).

    ``conn_source`` is a :class:`Pool` or a :class:`VUConnections`.
    """
    t_start = perf_counter_ns()
    conn, wait_ns = await conn_source.acquire(origin)
    connect_ns = 0
    try:
        reused = conn is not None
        if conn is None:
            conn, connect_ns = await open_connection(
                origin, timeout_s=timeout_s, ssl_context=ssl_context
            )
        try:
            resp = await conn.send(data, head_only=head_only, timeout_s=timeout_s, t_start=t_start)
        except (RequestFailed, OSError) as exc:
            code = error_code_for(exc)
            # A kept-alive connection the server closed while idle: retry once, fresh.
            if not (reused and code in ("ECONNRESET", "EPIPE") and conn._wire == 0):
                conn.close()
                raise RequestFailed(code, str(exc)) from None
            conn.close()
            conn, connect_ns = await open_connection(
                origin, timeout_s=timeout_s, ssl_context=ssl_context
            )
            try:
                resp = await conn.send(
                    data, head_only=head_only, timeout_s=timeout_s, t_start=t_start
                )
            except (RequestFailed, OSError) as exc2:
                conn.close()
                raise RequestFailed(error_code_for(exc2), str(exc2)) from None
    except BaseException:
        conn_source.release(origin, None if conn is None or conn.closed else conn)
        raise
    conn_source.release(origin, conn)
    resp.connect_ns = connect_ns
    resp.pool_wait_ns = wait_ns
    if connect_ns:
        resp.dns_ns, resp.tcp_ns, resp.tls_ns = conn.phases
    return resp


class VUConnections:
    """A virtual user's own keep-alive connections (one per origin)."""

    __slots__ = ("_conns",)

    def __init__(self) -> None:
        self._conns: dict[Origin, Connection] = {}

    async def acquire(self, origin: Origin) -> tuple[Connection | None, int]:
        conn = self._conns.pop(origin, None)
        if conn is not None and conn.closed:
            conn = None
        return conn, 0

    def release(self, origin: Origin, conn: Connection | None) -> None:
        if conn is not None and not conn.closed:
            self._conns[origin] = conn

    def close(self) -> None:
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()
