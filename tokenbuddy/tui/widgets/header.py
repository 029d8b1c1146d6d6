"""The header strip: today, the cycle against the cap, burn rates, cache, windows and pace."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Label, ProgressBar

from tokenbuddy.core.model_ids import model_label
from tokenbuddy.tui.formatting import ago, dollars, percent, safe, tokens

if TYPE_CHECKING:
    from tokenbuddy.core.blocks import ActiveBlock
    from tokenbuddy.core.dashboard import DashboardSnapshot, WindowStatus


class HeaderStrip(Vertical):
    """Today, the cycle against the cap, burn rates, cache and windows, and the pace."""

    snapshot: reactive[DashboardSnapshot | None] = reactive(None, always_update=True)
    """The figures to show; None until the first snapshot is built."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="spend-line"):
            yield Label(id="today")
            yield ProgressBar(total=100, show_eta=False, id="cap-bar")
            yield Label(id="cap")
        yield Label(id="burn")
        yield Label(id="cache")
        yield Label(id="pace")
        yield Label(id="top-tip")

    def watch_snapshot(self, snapshot: DashboardSnapshot | None) -> None:
        if snapshot is None:
            self.query_one("#today", Label).update("Reading your agent logs…")
            self.query_one("#cap-bar", ProgressBar).display = False
            return
        self.query_one("#today", Label).update(today_text(snapshot))
        bar = self.query_one("#cap-bar", ProgressBar)
        cap_usd = snapshot.projection.cap_usd
        bar.display = cap_usd is not None
        if cap_usd is not None:
            bar.update(total=cap_usd, progress=min(snapshot.projection.spent_usd, cap_usd))
        self.query_one("#cap", Label).update(cap_text(snapshot))
        self.query_one("#burn", Label).update(burn_text(snapshot))
        self.query_one("#cache", Label).update(cache_text(snapshot))
        self.query_one("#pace", Label).update(pace_text(snapshot))


def today_text(snapshot: DashboardSnapshot) -> Text:
    """``Today $12.34  Cycle $123.45``."""
    text = Text()
    text.append("Today ", style="dim")
    text.append(dollars(snapshot.today.cost_usd), style="bold")
    text.append("  Cycle ", style="dim")
    text.append(dollars(snapshot.cycle_totals.cost_usd), style="bold")
    if snapshot.projection.cap_usd is not None:
        text.append(f" / {dollars(snapshot.projection.cap_usd)}", style="dim")
    return text


def cap_text(snapshot: DashboardSnapshot) -> Text:
    """When the cap is reached at the recent pace, or how to set one."""
    cap = snapshot.cap
    if cap is None:
        return Text("no cap set: monthly_cap_usd in config.toml", style="dim")
    text = Text()
    if cap.days_to_cap is None:
        text.append("under cap", style="green")
    elif cap.days_to_cap <= 0:
        text.append("cap reached", style="bold red")
    else:
        days = cap.days_to_cap
        style = "bold red" if days < 3 else "yellow" if days < 7 else "green"
        text.append(f"cap in {days:.1f} days", style=style)
    return text


def pace_text(snapshot: DashboardSnapshot) -> Text:
    """Projected spend at the cycle end, and the recent rates it extrapolates."""
    projection = snapshot.projection
    end = projection.cycle_end - timedelta(days=1)
    text = Text()
    text.append("Pace ", style="dim")
    text.append(f"{dollars(projection.projected_usd)} by {end:%b} {end.day}", style="bold")
    if projection.cap_usd is not None and projection.projected_usd > projection.cap_usd:
        text.stylize("bold red", 5)
    text.append(f"  {projection.basis.describe()}", style="dim")
    return text


def burn_text(snapshot: DashboardSnapshot) -> Text:
    """Burn over the last 5 minutes and hour, in $/h and tokens/min."""
    text = Text()
    text.append("Burn ", style="dim")
    for label, burn in (("5m", snapshot.burn_5m), ("1h", snapshot.burn_1h)):
        text.append(f"{label} ", style="dim")
        text.append(f"{dollars(burn.usd_per_hour)}/h", style="bold")
        text.append(f" {tokens(burn.tokens_per_minute)} tok/min  ")
    return text


def cache_text(snapshot: DashboardSnapshot) -> Text:
    """Cache hit ratio today and in the active session, then the subscription windows."""
    text = Text()
    text.append("Cache hit ", style="dim")
    text.append(f"today {percent(snapshot.today.cache_hit_ratio)}")
    text.append(f"  session {percent(snapshot.active_session_cache_ratio)}")
    for window in snapshot.windows:
        text.append("  ")
        text.append_text(window_text(window, snapshot.now_ms))
    if snapshot.block is not None:
        text.append("  ")
        text.append_text(block_text(snapshot.block, snapshot.now_ms))
    if snapshot.unpriced_models:
        text.append("  unpriced: ", style="dim")
        text.append_text(safe(", ".join(sorted(map(model_label, snapshot.unpriced_models)))))
    return text


def block_text(block: ActiveBlock, now_ms: int) -> Text:
    """``Claude 5h block $4.20, 2h left → $9.80``: the active block from the logs, when
    Claude's own percentage is not known."""
    text = Text("Claude 5h block ", style="dim")
    text.append(dollars(block.cost_usd), style="bold")
    text.append(f", {ago(block.end_ms, now_ms)} left", style="dim")
    if block.usd_per_hour is not None:
        text.append(f" → {dollars(block.projected_cost_usd)}", style="dim")
    return text


def window_text(window: WindowStatus, now_ms: int) -> Text:
    """``Codex 5h 41%`` (red with the time it fills up, when it fills before resetting)."""
    projection = window.projection
    used = projection.used_percent
    style = "bold red" if used >= 90 else "yellow" if used >= 70 else ""
    text = Text(f"{window.label} ", style="dim")
    text.append(f"{used:.0f}%", style=style)
    if projection.full_at_ms is not None:
        text.append(f" full in {ago(projection.full_at_ms, now_ms)}", style="bold red")
    return text
