"""How the simulation writes figures in its notes, evidence and reports: numbers, percentages,
shortened lists of ids, and rounded JSON values."""
from __future__ import annotations


def num(value: float) -> str:
    """A figure for people: ``3,000``, ``2,114``, ``12.5``, ``0.125``."""
    value = float(value)
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.3g}" if abs(value) < 1 else f"{value:,.1f}"


def pct(share: float, digits: int = 0) -> str:
    """A share 0-1 as a percentage: ``pct(0.995, 1)`` is ``99.5 %``."""
    return f"{share * 100:.{digits}f} %"


def id_list(items: list[str], limit: int = 8) -> str:
    """Up to ``limit`` items joined by commas, then ``and N more``."""
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f" and {len(items) - limit} more"


def rounded(value: float, digits: int = 6) -> float:
    """A float for JSON, rounded to ``digits`` places, without a negative zero."""
    out = round(float(value), digits)
    return 0.0 if out == 0 else out

