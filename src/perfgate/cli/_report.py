"""``perfgate report``: render a stored run as markdown, HTML, JSON or JUnit."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

_EPILOG = """\
examples:
  perfgate report run.json                                   # markdown on stdout
  perfgate report run.json --format html -o report.html      # self-contained, offline
  perfgate report run.json --format junit -o junit.xml       # verdicts as test cases
  perfgate report artillery-report.json --baseline base.json # plain deltas vs a baseline
  perfgate report run.json --record-dir performance-reports  # the seed's test record

REPORT.json is a perfgate RunResult JSON, or an Artillery-shaped report whose
"perfgate" key holds {"run": RunResult} (or a RunResult / SuiteResult).
Exit status: 0 rendered; 2 unreadable or unrecognised input.
"""

FORMATS = ("markdown", "html", "json", "junit")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "report",
        help="render a run as markdown, HTML, JSON or JUnit XML",
        description="Render a stored run (and its verdict, when it carries one) in one format.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "report", metavar="REPORT.json", help="RunResult JSON or Artillery-shaped report"
    )
    p.add_argument(
        "-f",
        "--format",
        choices=FORMATS,
        default="markdown",
        help="output format (default markdown)",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.add_argument(
        "--baseline",
        metavar="BASE.json",
        help="a baseline run: plain deltas when there is no verdict",
    )
    p.add_argument(
        "--max-chars",
        type=int,
        default=65_536,
        metavar="N",
        help="markdown size limit (default 65536, GitHub's)",
    )
    p.add_argument(
        "--marker", default="<!-- perfgate:comment -->", help="hidden marker line of the markdown"
    )
    p.add_argument("--no-charts", action="store_true", help="markdown without Mermaid charts")
    p.add_argument("--run-url", metavar="URL", help="link to the CI run, shown in the report")
    p.add_argument(
        "--record-dir",
        metavar="ROOT",
        help="also write the test record directory ROOT/<date>-<sha>/",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from perfgate.report import build_report, load_report_input

    result, verdict = load_report_input(args.report)
    baseline = load_report_input(args.baseline)[0] if args.baseline else None
    report = build_report(result, verdict, baseline, run_url=args.run_url)
    if args.format == "markdown":
        from perfgate.report import report_markdown

        text = report_markdown(
            report, marker=args.marker, max_chars=args.max_chars, charts=not args.no_charts
        )
    elif args.format == "html":
        from perfgate.report import report_html

        text = report_html(report)
    elif args.format == "junit":
        from perfgate.report import report_junit

        text = report_junit(report)
    else:
        import json

        data = result.to_dict()
        if verdict is not None:
            data["verdict"] = verdict.to_dict()
        text = json.dumps(data, indent=1, default=str) + "\n"
    if args.record_dir:
        from perfgate.report import write_report_directory

        files = write_report_directory(
            result, verdict, baseline, root=args.record_dir, run_url=args.run_url
        )
        print(f"perfgate: test record written to {files.directory}", file=sys.stderr)
    if args.output:
        from perfgate.errors import PerfgateError

        out = Path(args.output)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise PerfgateError(f"cannot write {out}: {exc.strerror or exc}") from exc
    else:
        sys.stdout.write(text)
    return 0
