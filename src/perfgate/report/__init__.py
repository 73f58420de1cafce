"""Reports: one table model (:func:`build_report`), several renderers.

``render_markdown`` / ``render_html`` / ``render_junit`` render a run (and its
verdict); ``write_report_directory`` writes them all; ``write_artillery_report``
writes Artillery's REPORT.json. Other packages import from here only.
"""

from perfgate.report._directory import ReportFiles, record_dir_name, write_report_directory
from perfgate.report._load import load_report_input, parse_report_input
from perfgate.report._model import build_report
from perfgate.report.artillery_json import artillery_report
from perfgate.report.artillery_json import write_report as write_artillery_report
from perfgate.report.html import render_html, report_html
from perfgate.report.junit import render_junit, report_junit
from perfgate.report.markdown import (
    DEFAULT_MARKER,
    GITHUB_COMMENT_LIMIT,
    render_markdown,
    report_markdown,
)

__all__ = [
    "DEFAULT_MARKER",
    "GITHUB_COMMENT_LIMIT",
    "ReportFiles",
    "artillery_report",
    "build_report",
    "load_report_input",
    "parse_report_input",
    "record_dir_name",
    "render_html",
    "render_junit",
    "render_markdown",
    "report_html",
    "report_junit",
    "report_markdown",
    "write_artillery_report",
    "write_report_directory",
]
