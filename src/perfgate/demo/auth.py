"""Password hashing and bearer tokens for the demo API.

DEMO-ONLY COST: passwords are hashed with scrypt at n=2^10 (about 1.5-4 ms
per hash on a CI core) instead of a production cost like n=2^14 (30-60 ms),
which would eat both cores of a runner at the seed's ~80 sign-ins/s and
turn every load test into a KDF benchmark. It is still a real salted KDF
run on a thread (hashlib.scrypt releases the GIL), so sign-in costs what a
real sign-in costs in shape, off the event loop.

Tokens are ``base64url(json payload) "." base64url(HMAC-SHA256)``; the
payload carries the user id, role and expiry. The signing secret lives in
the database, so tokens survive a restart of the same database file.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import os
import time
from dataclasses import dataclass

__all__ = [
    "SCRYPT_N",
    "TOKEN_TTL_SECONDS",
    "Claims",
    "TokenError",
    "TokenSigner",
    "bearer_token",
    "hash_password",
    "verify_password",
    "verify_password_async",
]

SCRYPT_N = 2**10
_SCRYPT_R = 8
_SCRYPT_P = 1
_DKLEN = 32
TOKEN_TTL_SECONDS = 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, n: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=_SCRYPT_R, p=_SCRYPT_P, dklen=_DKLEN
    )


def hash_password(password: str, *, n: int = SCRYPT_N) -> str:
    """``scrypt$n$salt$hash`` with a fresh 16-byte salt."""
    salt = os.urandom(16)
    return f"scrypt${n}${_b64(salt)}${_b64(_scrypt(password, salt, n))}"


# Verifying against this when the email is unknown keeps the response time of
# "no such user" equal to "wrong password" (no account enumeration by timing).
_DUMMY_HASH = f"scrypt${SCRYPT_N}${_b64(b'0' * 16)}${_b64(b'0' * _DKLEN)}"


def verify_password(password: str, stored: str | None) -> bool:
    """Constant-time check of ``password`` against a stored hash (None: dummy)."""
    try:
        scheme, n_text, salt_text, hash_text = (stored or _DUMMY_HASH).split("$")
        n = int(n_text)
        salt, expected = _unb64(salt_text), _unb64(hash_text)
    except (ValueError, binascii.Error):
        return False
    if scheme != "scrypt":
        return False
    ok = hmac.compare_digest(_scrypt(password, salt, n), expected)
    return ok and stored is not None


async def verify_password_async(password: str, stored: str | None) -> bool:
    """verify_password on the default thread pool, off the event loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, verify_password, password, stored)


class TokenError(Exception):
    """A bearer token is missing, malformed, forged or expired."""


@dataclass(frozen=True)
class Claims:
    user_id: int
    role: str
    expires_at: int


class TokenSigner:
    """Issues and verifies HMAC-SHA256 signed tokens."""

    def __init__(self, secret: bytes, ttl_seconds: int = TOKEN_TTL_SECONDS) -> None:
        self._secret = secret
        self.ttl_seconds = ttl_seconds

    def _sign(self, body: str) -> str:
        return _b64(
            hmac.new(self._secret, body.encode("utf-8", "replace"), hashlib.sha256).digest()
        )

    def issue(self, user_id: int, role: str, now: float | None = None) -> str:
        exp = int((time.time() if now is None else now) + self.ttl_seconds)
        payload = json.dumps({"sub": user_id, "role": role, "exp": exp}, separators=(",", ":"))
        body = _b64(payload.encode("utf-8"))
        return f"{body}.{self._sign(body)}"

    def verify(self, token: str, now: float | None = None) -> Claims:
        body, dot, signature = token.partition(".")
        if not dot or not body or not signature:
            raise TokenError("malformed token")
        if not hmac.compare_digest(self._sign(body), signature):
            raise TokenError("invalid token signature")
        try:
            payload = json.loads(_unb64(body))
            claims = Claims(int(payload["sub"]), str(payload["role"]), int(payload["exp"]))
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise TokenError("malformed token payload") from exc
        if claims.expires_at <= (time.time() if now is None else now):
            raise TokenError("token expired")
        return claims


def bearer_token(header: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header, or TokenError."""
    if not header:
        raise TokenError("missing Authorization header")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise TokenError("expected 'Authorization: Bearer <token>'")
    if token in {"undefined", "null"}:  # what a client sends when capture failed
        raise TokenError("no token (got the literal 'undefined')")
    return token
