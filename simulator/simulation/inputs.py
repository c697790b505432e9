"""Checks on the numbers a caller hands the simulation: finite numbers, the peak and the load."""
from __future__ import annotations

import math
from typing import Any

from simulator.errors import SimulatorError


def finite_number(value: Any) -> float | None:
    """``value`` as a float when it is a finite int or float (not a bool); None otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def check_peak_and_load(peak_rps: float, load: float) -> None:
    """Raise SimulatorError unless the peak and the load multiplier are numbers >= 0."""
    for name, value in (("peak_rps", peak_rps), ("load", load)):
        if finite_number(value) is None or value < 0:
            raise SimulatorError(f"{name} must be a number >= 0, not {value!r}")
