"""The budget settings every cycle figure depends on: the cap, the cycle's first day, the
soft limit. The snapshot and the monitor both read them; neither owns them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tokenbuddy.store.settings import Settings


@dataclass(frozen=True, slots=True)
class BudgetSettings:
    """The settings a snapshot depends on."""

    monthly_cap_usd: float | None = None
    cycle_start_day: int = 1
    soft_limit_ratio: float = 0.8
    """Share of the cap that is the soft limit (warn, never stop)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> BudgetSettings:
        """The budget part of the validated ``config.toml``."""
        return cls(settings.monthly_cap_usd, settings.cycle_start_day, settings.soft_limit_ratio)
