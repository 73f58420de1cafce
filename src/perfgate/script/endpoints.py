"""Which endpoint a request step counts under: the metrics-by-endpoint plugin's names.

The engine records by these names, the gate plans and checks ``compare.primary``
by them, and the GitHub layer finds a step's script line by them: one rule,
here with the language it reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit

from perfgate.script.model import LoopStep, RequestStep, Script, Step

__all__ = ["endpoint_name", "endpoint_of", "request_steps"]

_TEMPLATE = re.compile(r"\{\{.*?\}\}")


def endpoint_name(
    url_template: str,
    *,
    name: str | None,
    strip_query_string: bool,
    use_only_request_names: bool,
    group_dynamic_urls: bool,
    rendered_url: str | None = None,
    target: str | None = None,
) -> str:
    """The metrics-by-endpoint name of a request step.

    With ``groupDynamicURLs`` (the default) the URL *template* names the
    endpoint, so ``/api/bounties/{{ $randomString() }}`` is one endpoint, not
    one per random string; otherwise the rendered URL does. As the plugin
    does, an absolute URL to another host than ``target`` keeps its host (and
    its port when that differs): ``other.example:8080/x``.
    """
    if use_only_request_names and name:
        return name
    url = url_template if group_dynamic_urls or rendered_url is None else rendered_url
    if "://" in url and not _TEMPLATE.match(url):
        parts = urlsplit(url)
        prefix = ""
        if target is not None:
            base = urlsplit(target)
            if parts.hostname and parts.hostname != base.hostname:
                prefix += parts.hostname
            if parts.port and parts.port != base.port:
                prefix += f":{parts.port}"
        url = prefix + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if strip_query_string:
        url = url.split("?", 1)[0]
    return f"{url} ({name})" if name else url


def request_steps(steps: Iterable[Step]) -> Iterator[RequestStep]:
    """Every request step of a flow, loops included, in order."""
    for step in steps:
        if isinstance(step, LoopStep):
            yield from request_steps(step.steps)
        elif isinstance(step, RequestStep):
            yield step


def endpoint_of(script: Script, step: RequestStep, target: str | None = None) -> str:
    """The endpoint ``step`` counts under, with the script's metrics-by-endpoint settings."""
    s = script.metrics_by_endpoint
    return endpoint_name(
        step.url,
        name=step.name,
        strip_query_string=s.strip_query_string,
        use_only_request_names=s.use_only_request_names,
        group_dynamic_urls=s.group_dynamic_urls,
        target=script.target if target is None else target,
    )
