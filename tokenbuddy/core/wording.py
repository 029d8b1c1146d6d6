"""Figures in plain words, as messages and summaries print them: counts with their noun
agreeing, and durations.

Plain f-strings and no imports beyond the units, so any layer can use them.
"""

from tokenbuddy.core.units import MINUTE_MS


def counted(number: int, noun: str) -> str:
    """``1 request``, ``2,431 requests``: a count with its noun agreeing."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def duration(ms: int) -> str:
    """``42 min`` below two hours, else ``3 h 05 min``."""
    minutes = round(ms / MINUTE_MS)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60:02d} min"
