"""The ``tokenbuddy`` command: argument parsing and dispatch.

Imports stay lazy: ``report``, ``status`` and ``doctor`` must not pay for
Textual or Rich, and ``statusline`` (run after every Claude Code message) skips
even argparse.
"""

from __future__ import annotations

import sys

from tokenbuddy.errors import TokenBuddyError

TYPE_CHECKING = False  # not typing's: importing typing costs the status line 2-5 ms
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import NoReturn


def build_parser() -> argparse.ArgumentParser:
    """The full command-line grammar."""
    import argparse

    from tokenbuddy import __version__
    from tokenbuddy.core.records import SOURCES
    from tokenbuddy.core.report import REPORT_KINDS

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
        "report", help="usage and cost by day, week, month, session, model, agent or 5h block"
    )
    report.add_argument(
        "kind",
        choices=[*REPORT_KINDS, "blocks"],
        help="how to group the requests (blocks: Claude's 5-hour windows, Claude Code's "
        "requests unless --source names another agent)",
    )
    report.add_argument(
        "--json", action="store_true", help="print one JSON object instead of a table"
    )
    report.add_argument("--since", metavar="YYYY-MM-DD", help="first day to include (in --tz)")
    report.add_argument("--until", metavar="YYYY-MM-DD", help="last day to include (in --tz)")
    report.add_argument(
        "--tz",
        metavar="ZONE",
        help="IANA time zone for days (default: the timezone setting, else local)",
    )
    report.add_argument(
        "--source",
        choices=[*SOURCES, "all"],
        default="all",
        help="which agent's logs (default: all)",
    )
    report.add_argument(
        "--project", metavar="SUBSTRING", help="only projects whose path contains this"
    )
    report.add_argument(
        "--breakdown",
        action="store_true",
        help="daily, weekly, monthly: each period's rows per model under it",
    )
    report.add_argument(
        "--order",
        choices=("asc", "desc"),
        default="asc",
        help="daily, weekly, monthly, session: oldest first (asc, default) or latest first",
    )
    report.add_argument(
        "--wide",
        action="store_true",
        help="every column and exact numbers, however wide the terminal",
    )
    report.add_argument("--jobs", type=int, default=None, help=argparse.SUPPRESS)

    doctor = commands.add_parser("doctor", help="where tokenbuddy looks, what it read and skipped")
    doctor.add_argument("--json", action="store_true", help="print one JSON object")
    doctor.add_argument(
        "--repair",
        action="store_true",
        help="if the ledger fails its integrity check, move it aside, restore the newest "
        "sound backup and re-read the logs since",
    )

    config = commands.add_parser("config", help="find, show or edit the settings file")
    config.add_argument("action", choices=("path", "show", "edit"))

    status = commands.add_parser(
        "status", help="today, cycle, cap, projection, burn, cache, windows and warnings now"
    )
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.add_argument(
        "--format",
        choices=("text", "plain", "json", "tmux", "waybar"),
        default="text",
        help="text: a few lines (default); plain: one line for prompts and i3blocks; "
        "tmux: one line for status-right; waybar: a JSON module; json: as --json",
    )

    replay = commands.add_parser(
        "replay", help="run the runaway detectors over past logs, as if live, and print warnings"
    )
    replay.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="a Claude config dir, a projects/ dir, a Codex home, or .jsonl files",
    )
    replay.add_argument(
        "--json", action="store_true", help="one JSON object per warning (and guard decision)"
    )
    _add_replay_guard_options(replay)

    tips = commands.add_parser(
        "tips", help="what to change to spend less, with the dollars each change would save"
    )
    tips.add_argument("--json", action="store_true", help='print {"tips": [...]}')
    tips.add_argument(
        "--since",
        metavar="YYYY-MM-DD",
        help="first day of the window (default: 14 days before its end)",
    )
    tips.add_argument(
        "--until", metavar="YYYY-MM-DD", help="last day of the window (default: today)"
    )

    statusline = commands.add_parser(
        "statusline", help="one line for Claude Code's status line (reads its JSON on stdin)"
    )
    statusline.add_argument("--no-color", action="store_true", help="plain text, no colours")
    statusline.add_argument(
        "--install", action="store_true", help="add tokenbuddy to Claude Code's settings.json"
    )
    statusline.add_argument(
        "--uninstall", action="store_true", help="restore the status line you had before"
    )
    statusline.add_argument(
        "--force", action="store_true", help="with --install: replace another status line"
    )
    statusline.add_argument("--refresh", metavar="FILE", help=argparse.SUPPRESS)
    statusline.add_argument("--all", action="store_true", help=argparse.SUPPRESS)
    _add_guard_command(commands)
    _add_vendor_commands(commands)
    from tokenbuddy.cli.team import add_team_parser

    add_team_parser(commands)
    return parser


def _add_replay_guard_options(replay: argparse.ArgumentParser) -> None:
    """``replay --guard`` and the limits it may try instead of the configured ones."""
    guard = replay.add_argument_group(
        "guard", "what the guard would have stopped: [guard] from config.toml in block mode"
    )
    guard.add_argument(
        "--guard", action="store_true", help="print when the guard would have blocked"
    )
    for option, what in (
        ("--hard-cap", "the cycle's spend"),
        ("--daily-cap", "one local day's spend"),
        ("--scripted-limit", "one claude -p or Agent SDK session's spend"),
    ):
        guard.add_argument(
            option,
            type=_amount,
            metavar="USD",
            help=f"with --guard: a cap on {what} instead of config.toml's (0: none)",
        )
    guard.add_argument(
        "--refresh-lag",
        type=_amount,
        metavar="SECONDS",
        help="with --guard: how old the hook's figures get before it refreshes them "
        "(default 120, as the hook does; 0: always current)",
    )


def _amount(text: str) -> float:
    """An argparse type: a finite number of 0 or more."""
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def _add_guard_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``guard``: its state, ``--install`` / ``--uninstall``, and ``guard allow``."""
    guard = commands.add_parser(
        "guard",
        help="stop runaway Claude Code sessions with hooks ([guard] in config.toml): "
        "what it stops now and why",
    )
    guard.add_argument("--json", action="store_true", help="print one JSON object")
    guard.add_argument(
        "--install",
        action="store_true",
        help="add the guard's hooks to Claude Code's settings.json",
    )
    guard.add_argument("--uninstall", action="store_true", help="remove the guard's hooks")
    actions = guard.add_subparsers(dest="guard_action", metavar="allow")
    allow = actions.add_parser("allow", help="lift the guard's blocks for a while")
    allow.add_argument(
        "--for",
        dest="duration",
        default="30m",
        metavar="DURATION",
        help="how long, in minutes or hours: 30m (default), 2h, 1h30m",
    )
    allow.add_argument("--session", metavar="ID", help="only this Claude Code session")


def _add_vendor_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``auth``, ``vendors``, ``sources``, ``reconcile`` and ``import``: billed vendor usage."""
    auth = commands.add_parser("auth", help="vendor keys and tokens in the OS keyring")
    auth.add_argument("action", choices=("add", "remove", "list", "test"))
    auth.add_argument(
        "provider",
        nargs="?",
        metavar="PROVIDER",
        help="claude, anthropic, openai, cursor or cursor-team (optional for list)",
    )
    vendors = commands.add_parser("vendors", help="fetch vendor usage, costs and limits now")
    vendors.add_argument("vendors_action", choices=("pull",), metavar="pull")
    sources = commands.add_parser("sources", help="each vendor source's state and last error")
    sources.add_argument("--json", action="store_true", help='print {"sources": [...]}')
    reconcile = commands.add_parser(
        "reconcile", help="local estimate vs vendor-billed, per UTC day, provider and model"
    )
    reconcile.add_argument(
        "--json", action="store_true", help='print {"rows": [...], "totals": {...}}'
    )
    reconcile.add_argument("--since", metavar="YYYY-MM-DD", help="first UTC day to include")
    reconcile.add_argument("--until", metavar="YYYY-MM-DD", help="last UTC day to include")
    imports = commands.add_parser("import", help="billed usage from a vendor's export file")
    imports.add_argument(
        "action", choices=("cursor-csv",), help="cursor-csv: the Cursor dashboard's usage CSV"
    )
    imports.add_argument("files", nargs="+", metavar="FILE", help="exported files to read")


def run() -> NoReturn:
    """The ``tokenbuddy`` command and ``python -m tokenbuddy``: :func:`main`, then
    :func:`~tokenbuddy.services.process.exit_without_teardown`."""
    from tokenbuddy.services.process import exit_without_teardown

    exit_without_teardown(main())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["statusline"] and set(arguments[1:]) <= {"--no-color"}:
        # The hot path: Claude Code runs this after every message; skip argparse and friends.
        from tokenbuddy.cli.statusline import run_fast

        return run_fast(arguments[1:])
    if arguments[:1] == ["status"]:
        from tokenbuddy.cli.status_bar import bar_format, run_fast_status

        form = bar_format(arguments[1:])
        if form is not None and (code := run_fast_status(form)) is not None:
            return code
    parser = build_parser()
    args = parser.parse_args(arguments)
    if args.demo and args.command is not None:
        parser.error("--demo opens the dashboard on demo data; it takes no command")
    try:
        return _dispatch(args)
    except (TokenBuddyError, KeyboardInterrupt, OSError) as error:
        return _failed(error)


def _failed(error: BaseException) -> int:
    """Say what stopped the command in one line on stderr; returns the exit code."""
    if isinstance(error, KeyboardInterrupt):
        from tokenbuddy.cli.interrupt import say_interrupted

        say_interrupted()
        return 130
    if isinstance(error, BrokenPipeError):
        sys.stderr.close()
        return 1
    if isinstance(error, OSError):  # a full disk, a read-only or forbidden file
        where = f" {error.filename}" if error.filename else ""
        print(
            f"tokenbuddy: cannot write or read{where}: {error.strerror or error}", file=sys.stderr
        )
        return 1
    print(f"tokenbuddy: {error}", file=sys.stderr)
    return 1


COMMANDS = {
    "report": ("tokenbuddy.cli.report", "run_report"),
    "doctor": ("tokenbuddy.cli.doctor", "run_doctor"),
    "config": ("tokenbuddy.cli.config", "run_config"),
    "status": ("tokenbuddy.cli.status", "run_status"),
    "replay": ("tokenbuddy.cli.replay", "run_replay"),
    "tips": ("tokenbuddy.cli.tips", "run_tips"),
    "statusline": ("tokenbuddy.cli.statusline_command", "run_statusline"),
    "guard": ("tokenbuddy.cli.guard_command", "run_guard"),
    "auth": ("tokenbuddy.cli.auth", "run_auth"),
    "vendors": ("tokenbuddy.cli.vendors", "run_vendors"),
    "sources": ("tokenbuddy.cli.vendors", "run_sources"),
    "reconcile": ("tokenbuddy.cli.vendors", "run_reconcile"),
    "import": ("tokenbuddy.cli.imports", "run_import"),
    "team": ("tokenbuddy.cli.team", "run_team"),
}
"""Each command's module, imported only when that command runs."""


FILLS_THE_LEDGER = frozenset({"report", "status", "tips", "doctor", "guard"})
"""Commands that bring the ledger up to date first (a first run parses the whole backlog)."""

USES_THE_LEDGER = FILLS_THE_LEDGER | {"vendors", "sources", "reconcile", "import", "team"}
"""Commands that open the ledger: a damaged one is recovered before they run again."""


def _load_prices_early() -> None:
    """On a first run, load the price database in a helper process from the start."""
    from tokenbuddy.services import price_loader
    from tokenbuddy.store.paths import app_paths

    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return  # forking a process with other threads running is not safe
    try:
        price_loader.start_for_first_run(app_paths().ledger)
    except (OSError, TokenBuddyError):
        return


def _dispatch(args: argparse.Namespace) -> int:
    if args.command is None:
        from tokenbuddy.tui.launch import run_dashboard

        return run_dashboard(demo=args.demo)
    import importlib

    module_name, function = COMMANDS[args.command]

    def run() -> int:
        return int(getattr(importlib.import_module(module_name), function)(args))

    if args.command not in USES_THE_LEDGER:
        return run()
    from tokenbuddy.services.session import with_recovery

    if args.command not in FILLS_THE_LEDGER:
        return with_recovery(run)
    from tokenbuddy.cli.interrupt import bounded_interrupts
    from tokenbuddy.services import price_loader

    bounded_interrupts()
    _load_prices_early()
    try:
        return with_recovery(run)
    finally:
        price_loader.stop()
