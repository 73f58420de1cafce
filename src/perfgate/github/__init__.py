"""perfgate's GitHub layer: the runner's file protocol, annotations, event
context and the sticky PR comment, over aiohttp (no actions-toolkit).

Nothing here talks to GitHub at import time; outside Actions the runner
helpers are no-ops or plain prints.
"""

from perfgate.github._annotations import (
    add_mask,
    annotate,
    error,
    escape_data,
    escape_property,
    format_command,
    group,
    in_actions,
    mask_secrets,
    notice,
    warning,
)
from perfgate.github._api import GitHubAPIError, GitHubClient, redact
from perfgate.github._comment import (
    COMMENT_LIMIT,
    MARKER,
    CommentResult,
    cap_comment,
    sanitize_untrusted_markdown,
    upsert_comment,
    upsert_comment_async,
)
from perfgate.github._context import GitHubContext, load_context
from perfgate.github._files import (
    SUMMARY_LIMIT_BYTES,
    append_summary,
    export_env,
    parse_key_value_file,
    set_output,
)
from perfgate.github._publish import COMMENT_FILE, publish_report

__all__ = [
    "COMMENT_FILE",
    "COMMENT_LIMIT",
    "MARKER",
    "SUMMARY_LIMIT_BYTES",
    "CommentResult",
    "GitHubAPIError",
    "GitHubClient",
    "GitHubContext",
    "add_mask",
    "annotate",
    "append_summary",
    "cap_comment",
    "error",
    "escape_data",
    "escape_property",
    "export_env",
    "format_command",
    "group",
    "in_actions",
    "load_context",
    "mask_secrets",
    "notice",
    "parse_key_value_file",
    "publish_report",
    "redact",
    "sanitize_untrusted_markdown",
    "set_output",
    "upsert_comment",
    "upsert_comment_async",
    "warning",
]
