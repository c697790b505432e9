"""How the simulation writes figures in its notes, evidence and reports: numbers, percentages,
shortened lists of ids, and rounded JSON values."""
from __future__ import annotations


def num(value: float) -> str:
    value = float(value)
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.3g}" if abs(value) < 1 else f"{value:,.1f}"


def pct(share: float, digits: int = 0) -> str:
    return f"{share * 100:.{digits}f} %"


def id_list(items: list[str], limit: int = 8) -> str:
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f" and {len(items) - limit} more"


def rounded(value: float, digits: int = 6) -> float:
    out = round(float(value), digits)
    return 0.0 if out == 0 else out

