"""The session detail screen and the help screen."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Label, Sparkline, Static

from tokenbuddy.core.units import MINUTE_MS
from tokenbuddy.tui.formatting import (
    ago,
    clock_time,
    day_clock_time,
    day_time,
    dollars,
    local_date,
    percent,
    safe,
    short_model,
    tokens,
)

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from textual.app import ComposeResult

    from tokenbuddy.core.dashboard import SessionDetail
    from tokenbuddy.services.dashboard import VendorsView
    from tokenbuddy.store.vendors import ReconciliationRow, SourceState
    from tokenbuddy.team import MemberSpend, TeamOverview


class SessionScreen(Screen[None]):
    """One session: its per-request timeline, cache ratio over time and subagents."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace", "app.pop_screen", "Back"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, detail: SessionDetail, zone: ZoneInfo) -> None:
        super().__init__()
        self.detail = detail
        self.zone = zone

    def compose(self) -> ComposeResult:
        with Vertical(id="session-head"):
            yield Label(self._title(), id="session-title")
            yield Label(self._figures(), id="session-figures")
            yield Label(self._cache_scale(), id="session-cache-scale")
            yield Sparkline(list(self.detail.cache_ratio_series), id="session-cache")
        yield DataTable(id="timeline", cursor_type="row", zebra_stripes=True)
        yield Static(self._subagents(), id="subagents")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#timeline", DataTable)
        # Cost comes second so it stays on screen in an 80-column pane.
        for column in ("Time", "Cost", "Model", "Agent", "Input", "Cache wr", "Cache rd", "Output"):
            table.add_column(column)
        self._fill(follow=True)

    def show(self, detail: SessionDetail) -> None:
        """Replace the detail with a fresher read (new requests arrived while open)."""
        table = self.query_one("#timeline", DataTable)
        at_end = table.cursor_row >= table.row_count - 1
        self.detail = detail
        self.query_one("#session-figures", Label).update(self._figures())
        self.query_one("#session-cache-scale", Label).update(self._cache_scale())
        self.query_one("#session-cache", Sparkline).data = list(detail.cache_ratio_series)
        self.query_one("#subagents", Static).update(self._subagents())
        self._fill(follow=at_end)

    def _fill(self, *, follow: bool) -> None:
        """The timeline's rows; the cursor follows the newest request if it was there."""
        table = self.query_one("#timeline", DataTable)
        cursor = table.cursor_row
        table.clear()
        moment = day_clock_time if self._spans_days() else clock_time
        for line in self.detail.requests:
            table.add_row(
                Text(moment(line.ts_ms, self.zone)),
                Text("unpriced" if line.cost_usd is None else dollars(line.cost_usd)),
                safe(short_model(line.model)),
                safe((line.agent or "main")[:12]),
                Text(tokens(line.input_tokens)),
                Text(tokens(line.cache_write_tokens)),
                Text(tokens(line.cache_read_tokens)),
                Text(tokens(line.output_tokens)),
            )
        last = max(table.row_count - 1, 0)
        table.move_cursor(row=last if follow else min(cursor, last))

    def _spans_days(self) -> bool:
        """True when the session's requests fall on more than one local day."""
        summary = self.detail.summary
        return local_date(summary.first_ms, self.zone) != local_date(summary.last_ms, self.zone)

    def _title(self) -> Text:
        summary = self.detail.summary
        text = Text()
        text.append_text(safe(("⚙ " if summary.scripted else "") + summary.project))
        text.append("  ")
        text.append_text(safe(summary.session_id))
        origin = safe(f"  ({', '.join(filter(None, (summary.source, summary.entrypoint)))})")
        origin.stylize("dim")
        text.append_text(origin)
        text.stylize("bold")
        return text

    def _cache_scale(self) -> Text:
        """The sparkline scales to its data, so say what its bottom and top are."""
        series = self.detail.cache_ratio_series
        text = Text("Cache hit ratio, request by request", style="dim")
        if series:
            text.append(f"  (low {percent(min(series))}, high {percent(max(series))})", style="dim")
        return text

    def _figures(self) -> Text:
        summary = self.detail.summary
        cost = dollars(summary.cost_usd)
        rate = dollars(summary.usd_per_hour)
        first, last = (day_time(ms, self.zone) for ms in (summary.first_ms, summary.last_ms))
        if first[:10] == last[:10]:
            last = last[11:]
        return Text(
            f"{first} to {last} · {cost} over {summary.requests:,} requests · "
            f"{rate}/h · cache {percent(summary.cache_hit_ratio)} · "
            f"subagents {percent(summary.subagent_share)} of cost"
        )

    def _subagents(self) -> Text:
        if not self.detail.subagents:
            return Text("No subagents in this session.", style="dim")
        text = Text("Subagents: ", style="bold")
        parts = [
            f"{kind} {count} req {dollars(cost)}" for kind, count, cost in self.detail.subagents
        ]
        text.append_text(safe("  ·  ".join(parts)))
        return text


SOURCE_LABEL = {
    "claude": "Claude subscription",
    "anthropic": "Anthropic Admin API",
    "openai": "OpenAI Admin API",
    "cursor": "Cursor (you)",
    "cursor-team": "Cursor (team)",
}
DIFF_FLAG_USD = 0.50
DIFF_FLAG_RATIO = 0.05
"""A reconciliation difference above both of these is highlighted."""


class VendorsScreen(Screen[None]):
    """Each vendor source's state, and the local estimate against what the vendor billed."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace,v", "app.pop_screen", "Back"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, vendors: VendorsView, zone: ZoneInfo) -> None:
        super().__init__()
        self.vendors = vendors
        self.zone = zone

    def compose(self) -> ComposeResult:
        yield Label(Text("Vendor sources", style="bold"), id="sources-title")
        if self.vendors.notice:
            yield Static(safe(self.vendors.notice), id="sources-notice")
        yield DataTable(id="sources", cursor_type="row", zebra_stripes=True)
        errors = self._errors()
        if errors.plain:
            yield Static(errors, id="source-errors")
        yield Label(self._reconcile_title(), id="reconcile-title")
        yield DataTable(id="reconcile", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        sources = self.query_one("#sources", DataTable)
        for column in ("Source", "Credential", "State", "Last success", "Next poll", "Last error"):
            sources.add_column(column)
        now_ms = self.vendors.now_ms
        for state in self.vendors.states:
            sources.add_row(*self._source_cells(state, now_ms))
        table = self.query_one("#reconcile", DataTable)
        for column in ("Day (UTC)", "Provider", "Model", "Local", "Billed", "Billed − local"):
            table.add_column(column)
        for row in self.vendors.reconciliation.rows:
            table.add_row(*reconcile_cells(row))

    def _source_cells(self, state: SourceState, now_ms: int) -> list[Text]:
        configured = self.vendors.credentials.get(state.provider, "")
        colour = {"ok": "green", "error": "bold red"}.get(state.status, "dim")
        return [
            Text(SOURCE_LABEL.get(state.provider, state.provider)),
            safe(configured) if configured else Text("not configured", style="dim"),
            Text(state.status, style=colour),
            Text(_age(now_ms, state.last_success_ms)),
            Text(_until(now_ms, state.next_poll_ms)),
            safe(state.last_error) if state.last_error else Text("–", style="dim"),
        ]

    def _errors(self) -> Text:
        """Each source's last error in full (the table's column cuts long ones)."""
        text = Text()
        for state in self.vendors.states:
            if state.last_error:
                if text.plain:
                    text.append("\n")
                text.append(f"{SOURCE_LABEL.get(state.provider, state.provider)}: ", style="bold")
                text.append_text(safe(state.last_error))
        return text

    def _reconcile_title(self) -> Text:
        totals = self.vendors.reconciliation.totals
        text = Text("Local estimate vs vendor-billed, last 30 days  ", style="bold")
        if not self.vendors.reconciliation.rows:
            hint = (
                "(nothing billed: no keyring, see above)"
                if self.vendors.notice
                else "(nothing billed yet: tokenbuddy auth add anthropic|openai)"
            )
            text.append(hint, style="dim")
            return text
        local = dollars(totals["local_usd"])
        billed = dollars(totals["billed_usd"])
        text.append(
            f"local {local} · billed {billed} · difference {signed_dollars(totals['diff_usd'])}",
            style="dim",
        )
        return text


def reconcile_cells(row: ReconciliationRow) -> list[Text]:
    """One reconciliation row; a difference that matters is highlighted."""
    diff = row.diff_usd
    base = max(row.local_usd, row.billed_usd, 0.01)
    flagged = abs(diff) >= DIFF_FLAG_USD and abs(diff) / base >= DIFF_FLAG_RATIO
    return [
        Text(row.date),
        safe(row.provider),
        safe(row.model or "(unattributed)"),
        Text(dollars(row.local_usd)),
        Text(dollars(row.billed_usd)),
        Text(signed_dollars(diff), style="bold red" if flagged else ""),
    ]


def signed_dollars(value: float) -> str:
    """``+$1.20`` / ``-$0.35``."""
    return ("+" if value >= 0 else "-") + dollars(abs(value))


def _age(now_ms: int, then_ms: int | None) -> str:
    if then_ms is None:
        return "never"
    return f"{ago(now_ms, then_ms)} ago" if now_ms - then_ms >= MINUTE_MS else "just now"


def _until(now_ms: int, then_ms: int | None) -> str:
    if then_ms is None:
        return "–"
    if then_ms <= now_ms:
        return "due"
    return "in <1m" if then_ms - now_ms < MINUTE_MS else f"in {ago(then_ms, now_ms)}"


class TeamScreen(Screen[None]):
    """The team's pooled budget, each member against their soft limit (by alias, never
    ranked), the projected month-end, and spend by model."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace,m", "app.pop_screen", "Back"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, overview: TeamOverview, last_sync: str) -> None:
        super().__init__()
        self.overview = overview
        self.last_sync = last_sync

    def compose(self) -> ComposeResult:
        yield Label(self._budget(), id="team-budget")
        yield DataTable(id="team-members", cursor_type="row", zebra_stripes=True)
        yield Label(Text("Spend by model", style="bold"), id="team-models-title")
        yield DataTable(id="team-models", cursor_type="row", zebra_stripes=True)
        yield Static(self._alerts(), id="team-alerts")
        yield Footer()

    def on_mount(self) -> None:
        members = self.query_one("#team-members", DataTable)
        for column in ("Member", "Period", "This month", "Soft limit", ""):
            members.add_column(column)
        for member in self.overview.members:
            members.add_row(*member_cells(member))
        models = self.query_one("#team-models", DataTable)
        for column in ("Model", "Source", "Requests", "Cost"):
            models.add_column(column)
        for spend in self.overview.by_model:
            models.add_row(
                safe(short_model(spend.model)),
                safe(spend.source),
                Text(f"{spend.totals.requests:,}"),
                Text(dollars(spend.totals.cost_usd)),
            )

    def _budget(self) -> Text:
        view = self.overview
        text = Text(f"Team {view.since.isoformat()} to {view.until.isoformat()}  ", style="bold")
        text.append(f"this month {dollars(view.month_to_date_usd)}")
        if view.pooled_budget_usd:
            ratio = view.budget_used_ratio or 0.0
            text.append(f" of the pooled {dollars(view.pooled_budget_usd)} ({ratio:.0%})")
        projected = view.projected_month_end_usd
        over = bool(view.pooled_budget_usd) and projected > (view.pooled_budget_usd or 0.0)
        text.append("  · month-end at this pace ")
        text.append(dollars(projected), style="bold red" if over else "bold")
        text.append(f"  · last sync {self.last_sync}", style="dim")
        return text

    def _alerts(self) -> Text:
        view = self.overview
        if not view.over_soft_limit and not view.others_over_soft_limit:
            return Text("No one is over their soft limit.", style="dim")
        text = Text("Over their soft limit: ", style="bold yellow")
        text.append_text(safe(", ".join(view.over_soft_limit) or "–"))
        if view.others_over_soft_limit:
            text.append(f" (and {view.others_over_soft_limit} more)", style="dim")
        return text


def member_cells(member: MemberSpend) -> list[Text]:
    """One member: alias (you, lead), spend, soft limit and whether they are over it."""
    name = safe(member.alias)
    if member.is_me:
        name.append(" (you)", style="bold")
    if member.team_lead:
        name.append(" [lead]", style="dim")
    limit = member.soft_limit_usd
    status = Text("")
    if limit is not None:
        status = Text("over", style="bold red") if member.over_soft_limit else Text("under")
    return [
        name,
        Text(dollars(member.totals.cost_usd)),
        Text(dollars(member.month_to_date_usd)),
        Text(dollars(limit) if limit is not None else "–"),
        status,
    ]


HELP = """\
tokenbuddy follows your agents' logs and shows what they spend, live.

Keys
  enter     open the highlighted session (or a warning's session)
  s         back to the sessions tab
  w         jump to the warnings (shown only while there are some)
  c         period of the chart and tips: 24 h, 7/30/90 days,
            cycle, all time
  h         history: any date range and project, page by
            page (n/p); enter opens a session
  b         breakdown period: today / cycle / all time
  t         conservation tips, with the saving of each per month
  v         vendor sources, and local vs billed spend
  m         the team, once joined: pooled budget, soft limits
  tab       move between panels
  r         re-scan every log now
  g         lift the guard's blocks for 30 minutes
  ctrl+p    command palette (themes and more)
  ?         this help (escape closes it)
  escape    back
  q         quit (closes this help)
  ctrl+c    quit, from any screen

Figures
  Today     list-price cost of today's requests
  Cycle     the same for this budget cycle, against the cap
  Burn      spend rate over the last 5 minutes and hour;
            tok/min counts every token, cache reads included
  Cache hit cache reads / all input tokens (higher is cheaper)
  Pace      spend expected by the cycle end, from recent
            weekday and weekend rates (shown after it)
  $/h       a session's cost over its length
  Sub       share of a session's cost spent by subagents
  Last      time since the session's latest request
  ●         a session active in the last 15 minutes
  ⚙         a scripted run (claude -p, an SDK, codex exec);
            with "N runs", a loop of them (enter lists them)
  ~         a Cursor estimate (billed figures replace it)

Warnings
  cache collapse, spend spike, unattended loop, cap,
  subscription window; a new critical one also rings the
  bell and notifies the desktop.

Settings live in config.toml (tokenbuddy config path).
"""


class HelpScreen(ModalScreen[None]):
    """The key bindings and what the figures mean."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "app.pop_screen", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(Text(HELP))
        yield Footer()
