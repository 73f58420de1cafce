"""perfgate's exception tree.

Every error perfgate raises on purpose derives from :class:`PerfgateError`;
third-party exceptions (aiohttp, sqlite3, yaml, OSError) are converted at the
module boundary that meets them, so callers catch one base class.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "GitHubError",
    "PerfgateError",
    "ServiceError",
    "StoreError",
    "TransportError",
]


class PerfgateError(Exception):
    """Base class of every error perfgate raises on purpose."""

    exit_code: int = 2


class ConfigError(PerfgateError):
    """A config file (Artillery script, bench suite, perfgate.yml) is wrong.

    Carries where: the file, the 1-based line and the key path
    (``scenarios[1].flow[2].post.capture[0]``), and a did-you-mean suggestion.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        key_path: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.key_path = key_path
        self.suggestion = suggestion
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        path = f"{self.key_path}: " if self.key_path else ""
        hint = f" (did you mean '{self.suggestion}'?)" if self.suggestion else ""
        return f"{where}{path}{self.message}{hint}"


class ServiceError(PerfgateError):
    """The API under test did not start, died, or misbehaved.

    ``log_tail`` holds the last lines of the service's output for the report.
    """

    def __init__(
        self,
        message: str,
        *,
        log_tail: str = "",
        exit_code: int | None = None,
        signal: int | None = None,
    ) -> None:
        self.message = message
        self.log_tail = log_tail
        self.returncode = exit_code
        self.signal = signal
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if not self.log_tail:
            return self.message
        return f"{self.message}\n--- service log (last lines) ---\n{self.log_tail}"


class TransportError(PerfgateError):
    """An HTTP request got no (complete) response.

    The engine raises its subclass ``RequestFailed`` (with a Node-style code,
    ``ECONNRESET``) and counts it as a failed request; it never leaves a run.
    """


class StoreError(PerfgateError):
    """The results database could not be read or written."""


class GitHubError(PerfgateError):
    """A GitHub API call or runner-protocol write failed."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)
