"""``tokenbuddy team init|add-member|remove-member|reset-password|join|sync|show|leave``.

Only daily aggregates leave the machine (see :mod:`tokenbuddy.services.team_sync`);
the member DSN is kept in the keyring and never printed except by ``add-member`` and
``reset-password`` (:mod:`tokenbuddy.cli.team_admin`), whose last line is the
member's DSN, meant for that member only.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from tokenbuddy.cli import team_admin
from tokenbuddy.errors import ConfigError, TeamError

if TYPE_CHECKING:
    import argparse

    from tokenbuddy.team.overview import TeamOverview

ACTIONS = ("init", "add-member", "remove-member", "reset-password", "join", "sync", "show", "leave")


def add_team_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``team`` command and its actions."""
    team = commands.add_parser("team", help="optional team sync of daily aggregates (PostgreSQL)")
    actions = team.add_subparsers(dest="team_action", metavar="ACTION", required=True)
    init = actions.add_parser("init", help="(admin) create or migrate the team schema")
    init.add_argument("dsn", nargs="?", metavar="ADMIN_DSN", help="the admin's connection string")
    init.add_argument("--print-sql", action="store_true", help="print the SQL, run nothing")
    init.add_argument("--budget", type=float, metavar="USD", help="pooled monthly budget")
    add = actions.add_parser("add-member", help="(admin) create a member; prints its DSN last")
    add.add_argument("dsn", metavar="ADMIN_DSN")
    add.add_argument("name", metavar="NAME", help="role name: lower-case letters, digits, _")
    add.add_argument("--alias", default="", help="display name (default: anonymous)")
    add.add_argument("--soft-limit", type=float, metavar="USD", help="monthly soft limit")
    add.add_argument("--lead", action="store_true", help="team lead: sees every over-limit alert")
    add.add_argument("--print-sql", action="store_true", help="print the SQL, run nothing")
    remove = actions.add_parser(
        "remove-member", help="(admin) remove a member: no more access, its rows deleted"
    )
    remove.add_argument("dsn", metavar="ADMIN_DSN")
    remove.add_argument("name", metavar="NAME")
    remove.add_argument(
        "--keep-usage",
        action="store_true",
        help="only revoke access; keep the member's days in the team's totals",
    )
    remove.add_argument("--print-sql", action="store_true", help="print the SQL, run nothing")
    reset = actions.add_parser(
        "reset-password", help="(admin) give a member a new password; prints the new DSN last"
    )
    reset.add_argument("dsn", metavar="ADMIN_DSN")
    reset.add_argument("name", metavar="NAME")
    join = actions.add_parser("join", help="store the member DSN in the keyring; sync on")
    join.add_argument("dsn", metavar="DSN")
    join.add_argument("--alias", help="display name for the team (default: anonymous)")
    sync = actions.add_parser("sync", help="push this machine's daily aggregates now")
    sync.add_argument("--full", action="store_true", help="re-send every day in the window")
    show = actions.add_parser("show", help="pooled budget, members vs soft limits, models")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.add_argument("--since", metavar="YYYY-MM-DD", help="first day (default: 1st of month)")
    show.add_argument("--until", metavar="YYYY-MM-DD", help="last day (default: today)")
    show.add_argument("--dsn", help="read with this DSN instead of the stored one (admin)")
    actions.add_parser("leave", help="forget the stored DSN and stop syncing")
    for parser in (init, add, remove, reset, join, sync, show):
        parser.add_argument(
            "--allow-insecure", action="store_true", help="allow a non-loopback server without TLS"
        )


def run_team(args: argparse.Namespace) -> int:
    """Dispatch one ``team`` action."""
    handlers = {
        "init": team_admin.run_init,
        "add-member": team_admin.run_add_member,
        "remove-member": team_admin.run_remove_member,
        "reset-password": team_admin.run_reset_password,
        "join": _join,
        "sync": _sync,
        "show": _show,
        "leave": _leave,
    }
    return handlers[args.team_action](args)


def _join(args: argparse.Namespace) -> int:
    from tokenbuddy.cli.table import clean
    from tokenbuddy.services.team_membership import join_team

    insecure = team_admin.allow_insecure(args)
    alias = args.alias if args.alias is not None else _ask_alias()
    database, shown = join_team(args.dsn, alias, allow_insecure=insecure)
    print(f"joined the team in database {database} as {clean(shown)}; sync is on")
    print("only daily aggregates are sent; `tokenbuddy team sync` pushes now")
    return 0


def _ask_alias() -> str | None:
    """Ask on a terminal for a display name; None keeps the current one (anonymous at first)."""
    if not sys.stdin.isatty():
        return None
    answer = input("Display name for the team (enter for anonymous): ").strip()
    return answer or None


def _sync(args: argparse.Namespace) -> int:
    from tokenbuddy.cli.progress import terminal_progress
    from tokenbuddy.services.team_sync import push_now

    with terminal_progress() as progress:
        report = push_now(full=args.full, allow_insecure=args.allow_insecure, progress=progress)
    if not report.ok:
        raise TeamError(f"{report.error} (will retry in the background)")
    if report.status == "up_to_date":
        print("team sync: already up to date")
    else:
        print(f"team sync: sent {report.days_sent} day(s), {report.rows_sent} row(s)")
    return 0


def _show(args: argparse.Namespace) -> int:
    import orjson

    from tokenbuddy.cli.config import user_settings
    from tokenbuddy.cli.report import parse_day
    from tokenbuddy.services.team_membership import team_view

    settings = user_settings()
    since, until = parse_day(args.since, "--since"), parse_day(args.until, "--until")
    if since and until and since > until:
        raise ConfigError("--since is after --until")
    overview = team_view(
        settings, dsn=args.dsn, since=since, until=until, allow_insecure=args.allow_insecure
    )
    if args.json:
        sys.stdout.write(orjson.dumps(overview.as_dict()).decode() + "\n")
    else:
        print(format_overview(overview))
    return 0


def format_overview(overview: TeamOverview) -> str:
    """The text ``team show`` prints: budget line, members, models, alerts."""
    from tokenbuddy.cli.table import clean, render_table, tokens
    from tokenbuddy.core.money import dollars

    lines = [f"Team spend {overview.since.isoformat()} to {overview.until.isoformat()}"]
    lines.append(_budget_line(overview))
    rows = [
        [
            clean(m.alias) + (" (you)" if m.is_me else "") + (" [lead]" if m.team_lead else ""),
            dollars(m.totals.cost_usd),
            dollars(m.month_to_date_usd),
            dollars(m.soft_limit_usd) if m.soft_limit_usd is not None else "-",
            _limit_status(m.soft_limit_usd, m.over_soft_limit),
        ]
        for m in overview.members
    ]
    rows.append(
        ["total", dollars(overview.totals.cost_usd), dollars(overview.month_to_date_usd), "", ""]
    )
    lines += ["", render_table(["member", "period", "this month", "soft limit", "status"], rows)]
    models = [
        [
            clean(s.model),
            clean(s.source),
            tokens(s.totals.output_tokens),
            dollars(s.totals.cost_usd),
        ]
        for s in overview.by_model
    ]
    models.append(
        ["total", "", tokens(overview.totals.output_tokens), dollars(overview.totals.cost_usd)]
    )
    lines += ["", render_table(["model", "source", "output", "cost"], models, numeric_from=2)]
    lines += _alert_lines(overview)
    return "\n".join(lines)


def _limit_status(soft_limit_usd: float | None, over: bool) -> str:
    if soft_limit_usd is None:
        return "-"
    return "over" if over else "under"


def _budget_line(overview: TeamOverview) -> str:
    from tokenbuddy.core.money import dollars

    spent = dollars(overview.month_to_date_usd)
    projected = dollars(overview.projected_month_end_usd)
    if overview.pooled_budget_usd is None:
        return f"This month: {spent} spent, {projected} projected by month-end (no pooled budget)"
    ratio = overview.budget_used_ratio or 0.0
    return (
        f"Pooled budget {dollars(overview.pooled_budget_usd)}/month: {spent} spent"
        f" ({ratio:.0%}), {projected} projected by month-end"
    )


def _alert_lines(overview: TeamOverview) -> list[str]:
    from tokenbuddy.cli.table import clean

    lines = []
    if overview.over_soft_limit:
        names = ", ".join(clean(alias) for alias in overview.over_soft_limit)
        lines.append(f"\n! over their monthly soft limit: {names}")
    if overview.others_over_soft_limit:
        lines.append(f"{overview.others_over_soft_limit} other member(s) over their soft limit")
    return lines


def _leave(args: argparse.Namespace) -> int:
    from tokenbuddy.services.team_membership import leave_team

    forgot = leave_team()
    print("left the team: DSN removed from the keyring" if forgot else "no team DSN was stored")
    return 0
