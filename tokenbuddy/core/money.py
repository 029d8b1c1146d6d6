"""Dollar amounts as text, for every table, screen, message and status line that shows one.

Plain f-strings and no imports, so the status line's fast path can use it too.
"""


def dollars(usd: float, *, whole_from: float | None = None) -> str:
    """``$1,234.56``: to the cent, with thousands separators; from ``whole_from`` on,
    whole dollars (``$1,234``), where the cents would only be noise."""
    if whole_from is not None and usd >= whole_from:
        return f"${usd:,.0f}"
    return f"${usd:,.2f}"


def unit_dollars(usd: float) -> str:
    """A price per unit: to the cent from a cent on, else to three significant figures
    (``$0.004``, ``$0.000125``), so a sub-cent price never reads ``$0.00``."""
    if usd >= 0.01 or usd == 0:
        return dollars(usd)
    return f"${usd:.3g}" if usd >= 1e-4 else f"${usd:.2e}"


def brief_dollars(usd: float) -> str:
    """``$3.42``, ``$12.8``, ``$128``: three significant figures below $1,000, short
    enough for a status line."""
    if usd < 10:
        return f"${usd:.2f}"
    if usd < 100:
        return f"${usd:.1f}"
    return f"${usd:,.0f}"
