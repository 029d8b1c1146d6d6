"""Time spans in the units the code counts in: milliseconds, as epoch-ms timestamps are,
and seconds, as the wall clock and the settings are.

Plain integers with no imports, so every layer can use them, the status line's fast
path included.
"""

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

MINUTE_S = 60
HOUR_S = 60 * MINUTE_S
DAY_S = 24 * HOUR_S
