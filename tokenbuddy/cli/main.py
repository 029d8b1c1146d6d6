"""The ``tokenbuddy`` command: argument parsing and dispatch.

Imports stay lazy: ``report``, ``doctor`` and (later) ``statusline`` must not
pay for Textual or Rich, and a warm report has a quarter of a second in all.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from tokenbuddy import __version__
from tokenbuddy.core.records import SOURCES
from tokenbuddy.core.report import REPORT_KINDS
from tokenbuddy.errors import TokenBuddyError

if TYPE_CHECKING:
    from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    """The full command-line grammar."""
    parser = argparse.ArgumentParser(
        prog="tokenbuddy",
        description="Token spend of your AI coding agents: live dashboard, reports and warnings.",
    )
    parser.add_argument("--version", action="version", version=f"tokenbuddy {__version__}")
    parser.add_argument(
        "--demo", action="store_true", help="open the dashboard on a generated demo history"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    report = commands.add_parser(
        "report", help="usage and cost by day, week, month, session or model"
    )
    report.add_argument("kind", choices=REPORT_KINDS, help="how to group the requests")
    report.add_argument(
        "--json", action="store_true", help="print one JSON object instead of a table"
    )
    report.add_argument("--since", metavar="YYYY-MM-DD", help="first day to include (in --tz)")
    report.add_argument("--until", metavar="YYYY-MM-DD", help="last day to include (in --tz)")
    report.add_argument("--tz", metavar="ZONE", help="IANA time zone for days (default: local)")
    report.add_argument(
        "--source",
        choices=[*SOURCES, "all"],
        default="all",
        help="which agent's logs (default: all)",
    )
    report.add_argument(
        "--project", metavar="SUBSTRING", help="only projects whose path contains this"
    )
    report.add_argument("--jobs", type=int, default=None, help=argparse.SUPPRESS)

    doctor = commands.add_parser("doctor", help="where tokenbuddy looks, what it read and skipped")
    doctor.add_argument("--json", action="store_true", help="print one JSON object")

    config = commands.add_parser("config", help="find, show or edit the settings file")
    config.add_argument("action", choices=("path", "show", "edit"))

    status = commands.add_parser(
        "status", help="today, cycle, cap, projection, burn, cache, windows and warnings now"
    )
    status.add_argument("--json", action="store_true", help="print one JSON object")

    replay = commands.add_parser(
        "replay", help="run the runaway detectors over past logs, as if live, and print warnings"
    )
    replay.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="a Claude config dir, a projects/ dir, a Codex home, or .jsonl files",
    )
    replay.add_argument("--json", action="store_true", help="one JSON object per warning")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except TokenBuddyError as error:
        print(f"tokenbuddy: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "report":
        from tokenbuddy.cli.report import run_report

        return run_report(args)
    if args.command == "doctor":
        from tokenbuddy.cli.doctor import run_doctor

        return run_doctor(args)
    if args.command == "config":
        from tokenbuddy.cli.config import run_config

        return run_config(args)
    if args.command == "status":
        from tokenbuddy.cli.status import run_status

        return run_status(args)
    if args.command == "replay":
        from tokenbuddy.cli.replay import run_replay

        return run_replay(args)
    from tokenbuddy.cli.dashboard import run_dashboard

    return run_dashboard(demo=args.demo)
