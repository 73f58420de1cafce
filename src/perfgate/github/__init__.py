"""perfgate's GitHub layer: the runner's file protocol, annotations, event
context and the sticky PR comment, over aiohttp (no actions-toolkit).

Nothing here talks to GitHub at import time; outside Actions the runner
helpers are no-ops or plain prints.
"""

from perfgate.github._alert import is_alert, post_commit_comment
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
    ACTIONS_BOT,
    COMMENT_LIMIT,
    COMMENT_ON,
    MARKER,
    CommentResult,
    cap_comment,
    sanitize_untrusted_markdown,
    upsert_comment,
    upsert_comment_async,
    wants_new_comment,
)
from perfgate.github._context import GitHubContext, load_context
from perfgate.github._files import (
    SUMMARY_LIMIT_BYTES,
    append_summary,
    export_env,
    parse_key_value_file,
    set_output,
)
from perfgate.github._publish import COMMENT_FILE, PublishOptions, publish_report
from perfgate.github._script_lines import finding_annotations

__all__ = [
    "ACTIONS_BOT",
    "COMMENT_FILE",
    "COMMENT_LIMIT",
    "COMMENT_ON",
    "MARKER",
    "SUMMARY_LIMIT_BYTES",
    "CommentResult",
    "GitHubAPIError",
    "GitHubClient",
    "GitHubContext",
    "PublishOptions",
    "add_mask",
    "annotate",
    "append_summary",
    "cap_comment",
    "error",
    "escape_data",
    "escape_property",
    "export_env",
    "finding_annotations",
    "format_command",
    "group",
    "in_actions",
    "is_alert",
    "load_context",
    "mask_secrets",
    "notice",
    "parse_key_value_file",
    "post_commit_comment",
    "publish_report",
    "redact",
    "sanitize_untrusted_markdown",
    "set_output",
    "upsert_comment",
    "upsert_comment_async",
    "wants_new_comment",
    "warning",
]
