"""Checks on the numbers a caller hands the simulation: the peak, the load, the spike, entry rates and
node properties. Each must be a finite number within the bounds of ``simulator.limits``, so that no
load, utilisation, latency or cost the simulation computes can overflow to inf or nan."""
from __future__ import annotations

import math
from typing import Any

from simulator.errors import SimulatorError
from simulator.limits import (
    MAX_CAPACITY,
    MAX_COST_PER_HOUR,
    MAX_LATENCY_MS,
    MAX_MULTIPLIER,
    MAX_REPLICAS,
    MAX_RPS,
    MIN_CAPACITY,
)


def finite_number(value: Any) -> float | None:
    """``value`` as a float when it is a finite int or float (not a bool); None otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:   # an int too large for a float
        return None
    return number if math.isfinite(number) else None


def bounded_number(value: Any, lo: float, hi: float) -> float | None:
    """``value`` as a float when it is a finite number with lo <= value <= hi; None otherwise."""
    number = finite_number(value)
    if number is None or not lo <= number <= hi:
        return None
    return number


def check_number(name: str, value: Any, lo: float, hi: float, unit: str = "") -> float:
    """``value`` as a float, or SimulatorError naming ``name`` and the bounds it must lie within."""
    number = bounded_number(value, lo, hi)
    if number is None:
        unit = f" {unit}" if unit else ""
        raise SimulatorError(f"{name} must be a number from {lo:g} to {hi:g}{unit}, not {value!r}")
    return number


def check_peak_and_load(peak_rps: float, load: float) -> None:
    """Raise SimulatorError unless the peak (req/s) and the load multiplier are within their bounds."""
    check_number("peak_rps", peak_rps, 0.0, MAX_RPS, "req/s")
    check_number("load", load, 0.0, MAX_MULTIPLIER)


# Hard bounds of the numeric node properties: (smallest positive value, largest value, unit). A value
# outside them (or inf/nan) is refused with a message; a negative or otherwise unusable value is
# ignored with a note, as docs/simulation.md says.
PROPERTY_LIMITS: dict[str, tuple[float, float, str]] = {
    "capacity": (MIN_CAPACITY, MAX_CAPACITY, "req/s per replica"),
    "latency_ms": (0.0, MAX_LATENCY_MS, "ms"),
    "cost_per_hour": (0.0, MAX_COST_PER_HOUR, "USD per replica-hour"),
    "hit_rate": (0.0, math.inf, ""),
    "max_replicas": (0.0, float(MAX_REPLICAS), "replicas"),
}


def property_beyond_limits(node_id: str, name: str, raw: Any) -> str | None:
    """Why the number ``raw`` of property ``name`` cannot be simulated at all (inf, nan, absurdly large,
    or a positive capacity too small to divide by), or None. Values that are not numbers pass here."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or name not in PROPERTY_LIMITS:
        return None
    smallest, largest, unit = PROPERTY_LIMITS[name]
    value = finite_number(raw)
    unit = f" {unit}" if unit else ""
    if value is None:
        return f"node '{node_id}': {name} must be a finite number, not {raw!r}"
    if value > largest:
        return f"node '{node_id}': {name}={raw!r} is above the limit of {largest:g}{unit}"
    if 0 < value < smallest:
        return f"node '{node_id}': {name}={raw!r} is below the smallest usable value, {smallest:g}{unit}"
    return None
