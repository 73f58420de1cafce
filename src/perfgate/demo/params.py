"""Request input validation for the demo API: pure functions, no I/O.

Each parser returns a value or raises ApiError (a 400 with a JSON
``{"error": ...}`` body), so no bad input reaches a query or becomes a 500.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import json
from collections.abc import Mapping
from typing import Any

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "ApiError",
    "decode_cursor",
    "encode_cursor",
    "parse_choice",
    "parse_json_object",
    "parse_limit",
]

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class ApiError(Exception):
    """An HTTP error: becomes ``{"error": message}`` with ``status``."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def parse_limit(query: Mapping[str, str], default: int = DEFAULT_LIMIT) -> int:
    raw = query.get("limit")
    if raw is None:
        return default
    try:
        limit = int(raw.strip())
    except ValueError:
        raise ApiError(f"limit must be an integer between 1 and {MAX_LIMIT}") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    return limit


def parse_choice(query: Mapping[str, str], key: str, choices: tuple[str, ...]) -> str | None:
    raw = query.get(key)
    if raw is None:
        return None
    if raw in choices:
        return raw
    close = difflib.get_close_matches(raw, choices, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise ApiError(f"{key} must be one of {', '.join(choices)}{hint}")


# Cursors are opaque to clients: base64url of "c1:<last id>".
def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"c1:{last_id}".encode()).decode("ascii").rstrip("=")


def decode_cursor(query: Mapping[str, str]) -> int:
    """The id after which the page starts (0: first page)."""
    raw = query.get("cursor")
    if raw is None or raw == "":
        return 0
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
        prefix, _, number = text.partition(":")
        last_id = int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError("cursor is not valid (use nextCursor from a previous page)") from None
    if prefix != "c1" or last_id < 0:
        raise ApiError("cursor is not valid (use nextCursor from a previous page)")
    return last_id


def parse_json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        raise ApiError("request body must be a JSON object")
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        raise ApiError("request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise ApiError(f"request body must be a JSON object, got {type(value).__name__}")
    return value
