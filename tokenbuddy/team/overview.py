"""The team view: pooled budget, members against their soft limits, projection, models.

Read through the schema's views, so a member sees sums by alias only. Members
are listed by alias, never ranked by spend: this is a budget view, not a
leaderboard. The over-limit alert names a member only to that member and to
team leads (and the admin); everyone else sees just how many are over.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tokenbuddy.core.metrics import budget_cycle
from tokenbuddy.core.projection import HISTORY_DAYS, project_cycle
from tokenbuddy.core.totals import Totals
from tokenbuddy.team import _driver

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    import psycopg

_SUMS = (
    "COALESCE(sum(input_tokens), 0), COALESCE(sum(output_tokens), 0),"
    " COALESCE(sum(cache_write_tokens), 0), COALESCE(sum(cache_read_tokens), 0),"
    " COALESCE(sum(cost_usd), 0), COALESCE(sum(requests), 0)"
)


@dataclass(frozen=True, slots=True)
class MemberSpend:
    """One member's spend in the period and this month, against their soft limit."""

    alias: str
    member_ref: str
    """A stable anonymous id (not the role name)."""
    is_me: bool
    team_lead: bool
    soft_limit_usd: float | None
    month_to_date_usd: float
    totals: Totals

    @property
    def over_soft_limit(self) -> bool:
        """True once this month's spend reached the member's soft limit."""
        return self.soft_limit_usd is not None and self.month_to_date_usd >= self.soft_limit_usd


@dataclass(frozen=True, slots=True)
class ModelSpend:
    """The team's spend on one model in the period."""

    source: str
    model: str
    totals: Totals


@dataclass(frozen=True, slots=True)
class TeamOverview:
    """Everything ``team show`` and the dashboard's Team screen display."""

    since: date
    until: date
    members: list[MemberSpend]
    """In alias order: never ranked by spend."""
    totals: Totals
    by_model: list[ModelSpend]
    pooled_budget_usd: float | None
    month_to_date_usd: float
    projected_month_end_usd: float
    viewer_is_lead: bool
    over_soft_limit: list[str] = field(default_factory=list)
    """Aliases over their soft limit that this viewer may be alerted about."""
    others_over_soft_limit: int = 0
    """How many more are over (not named to this viewer)."""

    @property
    def budget_used_ratio(self) -> float | None:
        """This month's share of the pooled budget; None without one."""
        if not self.pooled_budget_usd:
            return None
        return self.month_to_date_usd / self.pooled_budget_usd

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of ``team show --json``."""
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "members": [
                {
                    "alias": m.alias,
                    "member_ref": m.member_ref,
                    "is_me": m.is_me,
                    "team_lead": m.team_lead,
                    "soft_limit_usd": m.soft_limit_usd,
                    "month_to_date_usd": round(m.month_to_date_usd, 6),
                    "over_soft_limit": m.over_soft_limit,
                    **_rounded(asdict(m.totals)),
                }
                for m in self.members
            ],
            "totals": _rounded(asdict(self.totals)),
            "by_model": [
                {"source": s.source, "model": s.model, **_rounded(asdict(s.totals))}
                for s in self.by_model
            ],
            "budget": {
                "pooled_monthly_usd": self.pooled_budget_usd,
                "month_to_date_usd": round(self.month_to_date_usd, 6),
                "projected_month_end_usd": round(self.projected_month_end_usd, 6),
                "used_ratio": self.budget_used_ratio,
            },
            "over_soft_limit": self.over_soft_limit,
            "others_over_soft_limit": self.others_over_soft_limit,
        }


def _rounded(values: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in values.items()}


def team_overview(
    connection: psycopg.Connection[Any],
    *,
    now_ms: int,
    zone: ZoneInfo,
    since: date | None = None,
    until: date | None = None,
) -> TeamOverview:
    """The team view for [since, until] (default: this month so far), read as this role."""
    psycopg = _driver.require_psycopg()
    now = datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(zone)
    today = now.date()
    month_start = today.replace(day=1)
    since, until = since or month_start, until or today
    try:
        return _read(connection, now, since, until)
    except psycopg.Error as error:
        raise _driver.translate(error, "read the team view") from None


def load_team_overview(
    dsn: str,
    *,
    now_ms: int,
    zone: ZoneInfo,
    allow_insecure: bool = False,
    since: date | None = None,
    until: date | None = None,
) -> TeamOverview:
    """Connect, check the schema version, and read the team view (for thread workers)."""
    from tokenbuddy.team.push import check_server_version

    with _driver.connect(dsn, allow_insecure=allow_insecure) as connection:
        check_server_version(connection)
        return team_overview(connection, now_ms=now_ms, zone=zone, since=since, until=until)


def _read(
    connection: psycopg.Connection[Any], now: datetime, since: date, until: date
) -> TeamOverview:
    today = now.date()
    month_start = today.replace(day=1)
    period = _member_sums(connection, since, until)
    month = _member_sums(connection, month_start, today)
    members = [
        MemberSpend(
            alias=row[0],
            member_ref=row[1],
            is_me=bool(row[2]),
            team_lead=bool(row[3]),
            soft_limit_usd=None if row[4] is None else float(row[4]),
            month_to_date_usd=month.get(row[1], Totals()).cost_usd,
            totals=period.get(row[1], Totals()),
        )
        for row in connection.execute(
            "SELECT alias, member_ref, is_me, team_lead, soft_limit_usd"
            " FROM tokenbuddy.team_members ORDER BY lower(alias), member_ref"
        )
    ]
    budget_row = connection.execute(
        "SELECT pooled_monthly_usd FROM tokenbuddy.team_budget_view"
    ).fetchone()
    budget = float(budget_row[0]) if budget_row and budget_row[0] is not None else None
    daily = _daily_cost(connection, month_start - timedelta(days=HISTORY_DAYS), today)
    projection = project_cycle(budget, 1.0, budget_cycle(now, 1), now, daily)
    return _assemble(
        connection,
        members,
        since=since,
        until=until,
        budget=budget,
        month_to_date=projection.spent_usd,
        projected=projection.projected_usd,
    )


def _assemble(
    connection: psycopg.Connection[Any],
    members: list[MemberSpend],
    *,
    since: date,
    until: date,
    budget: float | None,
    month_to_date: float,
    projected: float,
) -> TeamOverview:
    viewer = next((m for m in members if m.is_me), None)
    is_lead = viewer.team_lead if viewer is not None else True
    over = [m for m in members if m.over_soft_limit]
    visible = [m.alias for m in over if is_lead or m.is_me]
    totals = Totals.from_row(
        _one(
            connection,
            f"SELECT {_SUMS} FROM tokenbuddy.team_model_days WHERE day BETWEEN %s AND %s",
            (since, until),
        )
    )
    return TeamOverview(
        since=since,
        until=until,
        members=members,
        totals=totals,
        by_model=_model_sums(connection, since, until),
        pooled_budget_usd=budget,
        month_to_date_usd=month_to_date,
        projected_month_end_usd=projected,
        viewer_is_lead=is_lead,
        over_soft_limit=visible,
        others_over_soft_limit=len(over) - len(visible),
    )


def _one(
    connection: psycopg.Connection[Any], query: str, params: tuple[Any, ...]
) -> tuple[Any, ...]:
    row = connection.execute(query, params).fetchone()
    assert row is not None
    return tuple(row)


def _member_sums(
    connection: psycopg.Connection[Any], since: date, until: date
) -> dict[str, Totals]:
    rows = connection.execute(
        f"SELECT member_ref, {_SUMS} FROM tokenbuddy.team_member_days"
        " WHERE day BETWEEN %s AND %s GROUP BY member_ref",
        (since, until),
    )
    return {row[0]: Totals.from_row(row[1:]) for row in rows}


def _model_sums(connection: psycopg.Connection[Any], since: date, until: date) -> list[ModelSpend]:
    rows = connection.execute(
        f"SELECT source, model, {_SUMS} FROM tokenbuddy.team_model_days"
        " WHERE day BETWEEN %s AND %s GROUP BY source, model"
        " ORDER BY sum(cost_usd) DESC, model",
        (since, until),
    )
    return [ModelSpend(row[0], row[1], Totals.from_row(row[2:])) for row in rows]


def _daily_cost(connection: psycopg.Connection[Any], since: date, until: date) -> dict[date, float]:
    rows = connection.execute(
        "SELECT day, sum(cost_usd) FROM tokenbuddy.team_model_days"
        " WHERE day BETWEEN %s AND %s GROUP BY day",
        (since, until),
    )
    return {row[0]: float(row[1]) for row in rows}
