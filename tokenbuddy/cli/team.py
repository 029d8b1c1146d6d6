"""``tokenbuddy team init|add-member|remove-member|reset-password|join|sync|show|leave``.

Only daily aggregates leave the machine (see :mod:`tokenbuddy.team.sync`); the
member DSN is kept in the keyring and never printed except by ``add-member``,
whose last line is the new member's DSN, meant for that member only.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from tokenbuddy import clock
from tokenbuddy.errors import ConfigError, TeamError

if TYPE_CHECKING:
    import argparse
    from pathlib import Path
    from zoneinfo import ZoneInfo

    import psycopg

    from tokenbuddy.store.settings import Settings
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
        "init": _init,
        "add-member": _add_member,
        "remove-member": _remove_member,
        "reset-password": _reset_password,
        "join": _join,
        "sync": _sync,
        "show": _show,
        "leave": _leave,
    }
    return handlers[args.team_action](args)


def _state_file() -> Path:
    """This machine's team sync state file, its directory created."""
    from tokenbuddy.store.paths import app_paths
    from tokenbuddy.team.sync import state_path

    paths = app_paths()
    paths.ensure()
    return state_path(paths)


def _settings() -> Settings:
    from tokenbuddy.store.paths import app_paths
    from tokenbuddy.store.settings import load_settings

    settings, problems = load_settings(app_paths().config_file)
    for problem in problems:
        print(f"tokenbuddy: {problem}", file=sys.stderr)
    return settings


def _insecure(args: argparse.Namespace, settings: Settings) -> bool:
    return bool(getattr(args, "allow_insecure", False)) or settings.team.allow_insecure


def _zone(settings: Settings) -> ZoneInfo:
    from tokenbuddy.cli.report import resolve_zone

    return resolve_zone(settings.timezone)


def _init(args: argparse.Namespace) -> int:
    from tokenbuddy.team import _driver, admin, schema

    if args.budget is not None and args.budget <= 0:
        raise ConfigError("--budget must be a positive number of dollars")
    if args.print_sql:
        print(schema.migration_script(), end="")
        if args.budget is not None:
            print(f"UPDATE tokenbuddy.team_budget SET pooled_monthly_usd = {args.budget!r};")
        return 0
    if not args.dsn:
        raise ConfigError("team init needs the admin DSN (or --print-sql)")
    with _driver.connect(args.dsn, allow_insecure=_insecure(args, _settings())) as connection:
        result = admin.migrate(connection)
        if args.budget is not None:
            admin.set_pooled_budget(connection, args.budget)
    if result.before == result.after:
        print(f"team schema already at version {result.after}")
    else:
        print(f"team schema migrated from version {result.before} to {result.after}")
    return 0


def _add_member(args: argparse.Namespace) -> int:
    from tokenbuddy.team import admin, schema

    try:
        member = schema.NewMember(
            schema.check_role_name(args.name), args.alias, args.soft_limit, args.lead
        )
    except ValueError as error:
        raise ConfigError(str(error)) from None
    if args.soft_limit is not None and args.soft_limit <= 0:
        raise ConfigError("--soft-limit must be a positive number of dollars")
    if args.print_sql:
        print(admin.member_script(member, "<database>"), end="")
        return 0
    dsn = admin.add_member(args.dsn, member, allow_insecure=_insecure(args, _settings()))
    print(f"created member {member.name}; give them this DSN privately (it holds the password).")
    print(f"they run: tokenbuddy team join '<DSN>'{' --alias NAME' if not member.alias else ''}")
    print(dsn)
    return 0


def _remove_member(args: argparse.Namespace) -> int:
    from tokenbuddy.team import admin, schema

    try:
        name = schema.check_role_name(args.name)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    if args.print_sql:
        print(schema.remove_member_script(name, "<database>", keep_usage=args.keep_usage), end="")
        return 0
    machines, days = admin.remove_member(
        args.dsn, name, keep_usage=args.keep_usage, allow_insecure=_insecure(args, _settings())
    )
    if args.keep_usage:
        print(f"{name} can no longer connect; their {days} day(s) stay in the team's totals")
    else:
        print(f"removed {name}: role dropped, {machines} machine(s) and {days} day(s) deleted")
    return 0


def _reset_password(args: argparse.Namespace) -> int:
    from tokenbuddy.team import admin, schema

    try:
        name = schema.check_role_name(args.name)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    dsn = admin.reset_password(args.dsn, name, allow_insecure=_insecure(args, _settings()))
    print(f"new password for {name}; the old DSN no longer works. Give them this one privately.")
    print("they run: tokenbuddy team join '<DSN>'")
    print(dsn)
    return 0


def _join(args: argparse.Namespace) -> int:
    from tokenbuddy.team import _driver
    from tokenbuddy.team.credentials import store_dsn
    from tokenbuddy.team.state import SyncState
    from tokenbuddy.team.sync import check_server_version

    settings = _settings()
    alias = args.alias if args.alias is not None else _ask_alias()
    with _driver.connect(args.dsn, allow_insecure=_insecure(args, settings)) as connection:
        check_server_version(connection)
        shown = _claim_alias(connection, alias)
        database = connection.info.dbname
    store_dsn(args.dsn)
    with SyncState(_state_file()) as state:
        state.put(joined="1")
    print(f"joined the team in database {database} as {_printable(shown)}; sync is on")
    print("only daily aggregates are sent; `tokenbuddy team sync` pushes now")
    return 0


def _printable(text: str) -> str:
    from tokenbuddy.cli.table import clean

    return clean(text)


def _ask_alias() -> str | None:
    """Ask on a terminal for a display name; None keeps the current one (anonymous at first)."""
    if not sys.stdin.isatty():
        return None
    answer = input("Display name for the team (enter for anonymous): ").strip()
    return answer or None


def _claim_alias(connection: psycopg.Connection[Any], alias: str | None) -> str:
    """Set this member's alias (None: keep it); returns what the team sees."""
    from tokenbuddy.team import _driver

    driver = _driver.require_psycopg()
    try:
        row = connection.execute(
            "SELECT role_name FROM tokenbuddy.members WHERE role_name = current_user"
        ).fetchone()
        if row is None:
            raise TeamError(
                "this role is not a member of the team; ask the admin for a DSN from"
                " `tokenbuddy team add-member`"
            )
        if alias is not None:
            connection.execute(
                "UPDATE tokenbuddy.members SET alias = %s WHERE role_name = current_user",
                (alias[:64],),
            )
        shown = connection.execute(
            "SELECT alias FROM tokenbuddy.team_members WHERE is_me"
        ).fetchone()
    except driver.Error as error:
        raise _driver.translate(error, "join the team") from None
    return str(shown[0]) if shown else "anonymous"


def _sync(args: argparse.Namespace) -> int:
    from tokenbuddy.cli.session import open_session
    from tokenbuddy.team.state import SyncState
    from tokenbuddy.team.sync import SyncOptions, dsn_if_joined, state_path, sync_once

    session = open_session(settings=True)
    session.ledger.close()
    settings = session.settings
    assert settings is not None
    dsn = dsn_if_joined(state_path(session.paths))
    if dsn is None:
        raise TeamError("not joined to a team: run `tokenbuddy team join <dsn>` first")
    options = SyncOptions.from_settings(session.paths, settings, _zone(settings), dsn=dsn)
    if args.allow_insecure:
        options = replace(options, allow_insecure=True)
    if args.full:
        with SyncState(state_path(session.paths)) as state:
            state.forget_pushed()
    report = sync_once(options, now_ms=clock.now_ms(), force=True)
    if not report.ok:
        raise TeamError(f"{report.error} (will retry in the background)")
    if report.status == "up_to_date":
        print("team sync: already up to date")
    else:
        print(f"team sync: sent {report.days_sent} day(s), {report.rows_sent} row(s)")
    return 0


def _show(args: argparse.Namespace) -> int:
    import orjson

    from tokenbuddy.cli.report import parse_day
    from tokenbuddy.store.paths import app_paths
    from tokenbuddy.team.overview import load_team_overview
    from tokenbuddy.team.sync import dsn_if_joined, state_path

    settings = _settings()
    zone = _zone(settings)
    since, until = parse_day(args.since, "--since"), parse_day(args.until, "--until")
    if since and until and since > until:
        raise ConfigError("--since is after --until")
    dsn = args.dsn or dsn_if_joined(state_path(app_paths()))
    if dsn is None:
        raise TeamError("not joined to a team: run `tokenbuddy team join <dsn>` first")
    overview = load_team_overview(
        dsn,
        now_ms=clock.now_ms(),
        zone=zone,
        allow_insecure=_insecure(args, settings),
        since=since,
        until=until,
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
    from tokenbuddy.team.credentials import delete_dsn
    from tokenbuddy.team.state import SyncState

    forgot = delete_dsn()
    with SyncState(_state_file()) as state:
        state.put(joined=None)
        state.forget_pushed()
    print("left the team: DSN removed from the keyring" if forgot else "no team DSN was stored")
    return 0
