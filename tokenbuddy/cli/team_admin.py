"""What the team's admin runs: ``team init``, ``add-member``, ``remove-member`` and
``reset-password``.

``add-member`` and ``reset-password`` print the member's DSN last: it holds the
password and is meant for that member only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokenbuddy.errors import ConfigError

if TYPE_CHECKING:
    import argparse


def allow_insecure(args: argparse.Namespace) -> bool:
    """``--allow-insecure``, or the ``team.allow_insecure`` setting."""
    from tokenbuddy.cli.config import user_settings

    settings = user_settings()
    return bool(args.allow_insecure) or settings.team.allow_insecure


def _role_name(name: str) -> str:
    from tokenbuddy.team.schema import check_role_name

    try:
        return check_role_name(name)
    except ValueError as error:
        raise ConfigError(str(error)) from None


def run_init(args: argparse.Namespace) -> int:
    """``team init``: create or migrate the team schema (or print its SQL)."""
    from tokenbuddy.team import admin, schema

    if args.budget is not None and args.budget <= 0:
        raise ConfigError("--budget must be a positive number of dollars")
    if args.print_sql:
        print(schema.migration_script(), end="")
        if args.budget is not None:
            print(f"UPDATE tokenbuddy.team_budget SET pooled_monthly_usd = {args.budget!r};")
        return 0
    if not args.dsn:
        raise ConfigError("team init needs the admin DSN (or --print-sql)")
    result = admin.init_team(args.dsn, args.budget, allow_insecure=allow_insecure(args))
    if result.before == result.after:
        print(f"team schema already at version {result.after}")
    else:
        print(f"team schema migrated from version {result.before} to {result.after}")
    return 0


def run_add_member(args: argparse.Namespace) -> int:
    """``team add-member``: create a member's role; prints its DSN last."""
    from tokenbuddy.team import admin, schema

    member = schema.NewMember(_role_name(args.name), args.alias, args.soft_limit, args.lead)
    if args.soft_limit is not None and args.soft_limit <= 0:
        raise ConfigError("--soft-limit must be a positive number of dollars")
    if args.print_sql:
        print(admin.member_script(member, "<database>"), end="")
        return 0
    dsn = admin.add_member(args.dsn, member, allow_insecure=allow_insecure(args))
    print(f"created member {member.name}; give them this DSN privately (it holds the password).")
    print(f"they run: tokenbuddy team join '<DSN>'{' --alias NAME' if not member.alias else ''}")
    print(dsn)
    return 0


def run_remove_member(args: argparse.Namespace) -> int:
    """``team remove-member``: revoke a member's access, and delete their rows unless kept."""
    from tokenbuddy.team import admin, schema

    name = _role_name(args.name)
    if args.print_sql:
        print(schema.remove_member_script(name, "<database>", keep_usage=args.keep_usage), end="")
        return 0
    machines, days = admin.remove_member(
        args.dsn, name, keep_usage=args.keep_usage, allow_insecure=allow_insecure(args)
    )
    if args.keep_usage:
        print(f"{name} can no longer connect; their {days} day(s) stay in the team's totals")
    else:
        print(f"removed {name}: role dropped, {machines} machine(s) and {days} day(s) deleted")
    return 0


def run_reset_password(args: argparse.Namespace) -> int:
    """``team reset-password``: a new generated password; prints the member's new DSN last."""
    from tokenbuddy.team import admin

    name = _role_name(args.name)
    dsn = admin.reset_password(args.dsn, name, allow_insecure=allow_insecure(args))
    print(f"new password for {name}; the old DSN no longer works. Give them this one privately.")
    print("they run: tokenbuddy team join '<DSN>'")
    print(dsn)
    return 0
