"""What a failed request is: one definition for every check, comparison and report.

A request **failed** when it got no response (a timeout, a reset, a refused
connection — any transport error code) or when it was answered with a 5xx.
4xx answers are the client's business (a 404 on purpose, a 401 a test asks
for): they are counted apart and fail only where declared — all of them
(``fail_on_4xx: true``) or a list of statuses, globally or per endpoint.

The SLO checks, the stress verdicts (breaking point, recovery, the limit
search), the A/B and history comparisons of error rates and every report
count through :func:`count`, :func:`count_endpoint` or :func:`count_second`,
so "error rate" means one thing everywhere. A run records the policy it was
judged under in each suite's ``extra["failure_policy"]`` (:func:`policy_of`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from perfgate.metrics import names
from perfgate.metrics.metricset import EndpointView, MetricSet

__all__ = [
    "DEFAULT_POLICY",
    "FailurePolicy",
    "Failures",
    "StatusShift",
    "count",
    "count_endpoint",
    "count_second",
    "declaration",
    "policy_of",
    "status_mix_shifts",
]

#: ``True`` (every 4xx fails), ``False`` (none does) or the 4xx statuses that fail.
Declaration = bool | frozenset[int]

#: Per-second series keys (the engine's rows; see ``engine.recorder.series_row``).
ROW_NO_RESPONSE = "no_response"
ROW_5XX = "status_5xx"
ROW_4XX = "status_4xx"
ROW_4XX_CODE_PREFIX = "status_4xx."
ROW_FAILED = "failed"


def declaration(value: object) -> Declaration:
    """``True``/``False`` or an iterable of 4xx statuses -> a declaration (ValueError otherwise)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping):
        codes = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, int) or not 400 <= item <= 499:
                raise ValueError(f"{item!r} is not a 4xx status")
            codes.append(item)
        return frozenset(codes)
    raise ValueError("expected true, false or a list of 4xx statuses")


def _fails_4xx(decl: Declaration, status: int) -> bool:
    return decl is True or (isinstance(decl, frozenset) and status in decl)


def _describe_decl(decl: Declaration) -> str:
    if decl is True:
        return "every 4xx"
    if isinstance(decl, frozenset) and decl:
        return ", ".join(str(c) for c in sorted(decl))
    return "no 4xx"


@dataclass(frozen=True)
class FailurePolicy:
    """Which answers fail beyond "no response or 5xx": 4xx declared globally or per endpoint."""

    fail_on_4xx: Declaration = False
    endpoints: Mapping[str, Declaration] = field(default_factory=dict)

    def declared(self, endpoint: str | None = None) -> Declaration:
        if endpoint is not None and endpoint in self.endpoints:
            return self.endpoints[endpoint]
        return self.fail_on_4xx

    def fails(self, status: int, endpoint: str | None = None) -> bool:
        """Is an answer with ``status`` (on ``endpoint``) a failed request?"""
        if status >= 500:
            return True
        return 400 <= status < 500 and _fails_4xx(self.declared(endpoint), status)

    @property
    def counts_4xx(self) -> bool:
        return bool(self.fail_on_4xx) or any(bool(d) for d in self.endpoints.values())

    def describe(self) -> str:
        """``5xx or no response`` (+ the declared 4xx)."""
        out = "5xx or no response"
        if self.fail_on_4xx:
            out += f", and {_describe_decl(self.fail_on_4xx)}"
        for ep, decl in sorted(self.endpoints.items()):
            if decl != self.fail_on_4xx:
                out += f"; on {ep}: {_describe_decl(decl)}"
        return out

    def to_dict(self) -> dict[str, Any]:
        def enc(d: Declaration) -> bool | list[int]:
            return sorted(d) if isinstance(d, frozenset) else d

        return {
            "fail_on_4xx": enc(self.fail_on_4xx),
            "endpoints": {k: enc(v) for k, v in self.endpoints.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FailurePolicy:
        try:
            return cls(
                declaration(data.get("fail_on_4xx", False)),
                {str(k): declaration(v) for k, v in dict(data.get("endpoints", {})).items()},
            )
        except (ValueError, TypeError):
            return DEFAULT_POLICY


DEFAULT_POLICY = FailurePolicy()


def policy_of(suite: Any) -> FailurePolicy:
    """The policy a suite was judged under (the default when it records none)."""
    extra = getattr(suite, "extra", None)
    data = extra.get("failure_policy") if isinstance(extra, dict) else None
    return FailurePolicy.from_dict(data) if isinstance(data, Mapping) else DEFAULT_POLICY


@dataclass(frozen=True)
class Failures:
    """Requests and how they ended, under one policy."""

    requests: int
    no_response: int = 0
    status_5xx: int = 0
    status_4xx: int = 0  # every 4xx answer (failed or not)
    declared_4xx: int = 0  # the 4xx answers the policy counts as failed
    no_response_codes: Mapping[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        return self.no_response + self.status_5xx + self.declared_4xx

    @property
    def answered(self) -> int:
        return max(0, self.requests - self.no_response)

    @property
    def rate(self) -> float | None:
        return self.failed / self.requests if self.requests else None

    @property
    def nothing_answered(self) -> bool:
        """Requests were sent and not one got an HTTP answer."""
        return self.requests > 0 and self.no_response >= self.requests

    def summary(self, policy: FailurePolicy | None = None) -> str:
        """``error rate 5.0%: 25 of 500 failed (25 5xx); failed = 5xx or no response``."""
        rate = "n/a" if self.rate is None else f"{self.rate:.1%}"
        what = (policy or DEFAULT_POLICY).describe()
        return f"error rate {rate}: {self.detail()}; failed = {what}"

    def no_answer_message(self) -> str:
        """What to say when not one request got an answer (see :attr:`nothing_answered`)."""
        codes = ", ".join(f"{c} {n}" for c, n in sorted(self.no_response_codes.items()))
        return (
            f"no request got an answer: all {self.requests} failed without a response"
            + (f" ({codes})" if codes else "")
            + " — is the target running, and is the script's target URL right?"
        )

    def detail(self) -> str:
        """``12 of 1000 failed (10 5xx, 2 no response); 3 other 4xx counted apart``."""
        parts = []
        if self.status_5xx:
            parts.append(f"{self.status_5xx} 5xx")
        if self.declared_4xx:
            parts.append(f"{self.declared_4xx} declared 4xx")
        if self.no_response:
            codes = ", ".join(f"{c} {n}" for c, n in sorted(self.no_response_codes.items()))
            parts.append(f"{self.no_response} no response" + (f": {codes}" if codes else ""))
        out = f"{self.failed} of {self.requests} failed"
        out += f" ({'; '.join(parts)})" if parts else " (5xx or no response)"
        apart = self.status_4xx - self.declared_4xx
        if apart:
            out += f"; {apart} 4xx counted apart"
        return out


def _code_counts(counters: Mapping[str, int], prefix: str) -> dict[int, int]:
    out: dict[int, int] = {}
    for k, v in counters.items():
        if k.startswith(prefix):
            code = k[len(prefix) :]
            if code.isdigit():
                out[int(code)] = out.get(int(code), 0) + v
    return out


def count(metrics: MetricSet, policy: FailurePolicy = DEFAULT_POLICY) -> Failures:
    """The failures of a metric set (a window or a whole suite)."""
    codes = _code_counts(metrics.counters, names.HTTP_CODES_PREFIX)
    no_codes = {
        k[len(names.ERRORS_PREFIX) :]: v
        for k, v in metrics.counters.items()
        if k.startswith(names.ERRORS_PREFIX) and v
    }
    no_response = sum(no_codes.values())
    responses = sum(codes.values())
    requests = max(metrics.counter(names.HTTP_REQUESTS), responses + no_response)
    s5 = sum(n for c, n in codes.items() if c >= 500)
    s4 = sum(n for c, n in codes.items() if 400 <= c < 500)
    declared = sum(n for c, n in codes.items() if 400 <= c < 500 and policy.fails(c))
    if policy.endpoints:  # an endpoint's own declaration replaces the global one for its answers
        for ep in metrics.endpoints():
            if ep.name not in policy.endpoints:
                continue
            for c, n in _int_codes(ep.codes).items():
                if 400 <= c < 500:
                    declared += n * (int(policy.fails(c, ep.name)) - int(policy.fails(c)))
    return Failures(requests, no_response, s5, s4, max(0, declared), no_codes)


def _int_codes(codes: Mapping[str, int]) -> dict[int, int]:
    return {int(c): n for c, n in codes.items() if c.isdigit()}


def count_endpoint(view: EndpointView, policy: FailurePolicy = DEFAULT_POLICY) -> Failures:
    """The failures of one endpoint."""
    codes = _int_codes(view.codes)
    no_response = sum(view.errors.values())
    return Failures(
        requests=view.responses + no_response,
        no_response=no_response,
        status_5xx=sum(n for c, n in codes.items() if c >= 500),
        status_4xx=sum(n for c, n in codes.items() if 400 <= c < 500),
        declared_4xx=sum(
            n for c, n in codes.items() if 400 <= c < 500 and policy.fails(c, view.name)
        ),
        no_response_codes={k: v for k, v in view.errors.items() if v},
    )


def count_second(row: Mapping[str, float], policy: FailurePolicy = DEFAULT_POLICY) -> Failures:
    """The failures of one per-second series row.

    Rows carry no endpoint, so a per-endpoint 4xx declaration does not reach
    them (the global one does). Rows stored before this module kept only
    ``errors`` (no response).
    """
    no_response = int(row.get(ROW_NO_RESPONSE, row.get("errors", 0)))
    codes4 = {
        int(k[len(ROW_4XX_CODE_PREFIX) :]): int(v)
        for k, v in row.items()
        if k.startswith(ROW_4XX_CODE_PREFIX) and k[len(ROW_4XX_CODE_PREFIX) :].isdigit()
    }
    s4 = int(row.get(ROW_4XX, sum(codes4.values())))
    if policy.fail_on_4xx is True:
        declared = s4
    else:
        declared = sum(n for c, n in codes4.items() if policy.fails(c))
    return Failures(
        requests=int(row.get("requests", 0)),
        no_response=no_response,
        status_5xx=int(row.get(ROW_5XX, 0)),
        status_4xx=s4,
        declared_4xx=declared,
    )


@dataclass(frozen=True)
class StatusShift:
    """An endpoint whose mix of status classes moved between two runs."""

    endpoint: str
    base: Mapping[str, float]  # status class ("2xx", "4xx", "5xx", "none") -> share
    candidate: Mapping[str, float]
    largest: str  # the class that moved most
    change_pp: float  # its change, in percentage points

    def describe(self) -> str:
        def mix(m: Mapping[str, float]) -> str:
            return " ".join(f"{k} {v:.1%}" for k, v in sorted(m.items()) if v)

        return (
            f"{self.endpoint}: {self.largest} {self.change_pp:+.1f} pp "
            f"(base {mix(self.base)} -> candidate {mix(self.candidate)})"
        )


def _mix(view: EndpointView) -> tuple[dict[str, float], int]:
    counts: dict[str, int] = {}
    for c, n in view.codes.items():
        key = f"{c[0]}xx" if c.isdigit() and len(c) == 3 else "other"
        counts[key] = counts.get(key, 0) + n
    none = sum(view.errors.values())
    if none:
        counts["none"] = none
    total = sum(counts.values())
    return ({k: v / total for k, v in counts.items()} if total else {}), total


def status_mix_shifts(
    base: MetricSet,
    candidate: MetricSet,
    *,
    min_change_pp: float = 1.0,
    min_requests: int = 50,
) -> list[StatusShift]:
    """Endpoints whose status-class shares moved by ``min_change_pp`` or more.

    Both sides need ``min_requests`` on the endpoint: a share of a handful of
    requests moves by chance.
    """
    base_views = {v.name: v for v in base.endpoints()}
    out = []
    for view in candidate.endpoints():
        other = base_views.get(view.name)
        if other is None:
            continue
        (mb, nb), (mc, nc) = _mix(other), _mix(view)
        if nb < min_requests or nc < min_requests:
            continue
        moved = {k: 100.0 * (mc.get(k, 0.0) - mb.get(k, 0.0)) for k in set(mb) | set(mc)}
        key = max(moved, key=lambda k: (abs(moved[k]), k))
        if abs(moved[key]) >= min_change_pp:
            out.append(StatusShift(view.name, mb, mc, key, round(moved[key], 2)))
    return out
