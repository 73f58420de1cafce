"""A read-only view of one HTTP response, for captures, expectations and hooks."""

from __future__ import annotations

import json as _json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy

__all__ = ["ResponseView"]

_UNSET: Any = object()


@dataclass
class ResponseView:
    """Status, case-insensitive headers, raw body and final URL of a response.

    ``text()`` and ``json()`` decode once and cache; ``json()`` raises
    ``ValueError`` when the body is not JSON. Plain dict headers are wrapped
    case-insensitively.
    """

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str = ""
    _text: str | None = field(default=None, repr=False, compare=False)
    _json: Any = field(default=_UNSET, repr=False, compare=False)
    _json_error: str | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.headers, CIMultiDictProxy | CIMultiDict):
            self.headers = CIMultiDictProxy(CIMultiDict(self.headers))

    @property
    def status_code(self) -> int:
        """Artillery's name for ``status`` (what JS hooks call it)."""
        return self.status

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def text(self) -> str:
        if self._text is None:
            self._text = self.body.decode(_charset(self.content_type), errors="replace")
        return self._text

    def json(self) -> Any:
        if self._json is _UNSET and self._json_error is None:
            try:
                self._json = _json.loads(self.text())
            except (ValueError, RecursionError) as exc:
                self._json_error = f"response body is not JSON: {exc}"
        if self._json_error is not None:
            raise ValueError(self._json_error)
        return self._json


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            name = value.strip().strip('"')
            try:
                "".encode(name)
                return name
            except LookupError:
                break
    return "utf-8"
