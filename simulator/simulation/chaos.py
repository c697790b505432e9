"""Chaos presets for a simulation: a load spike, a cache flush, the primary models down, a zone lost.

``Chaos.parse`` reads them from None, a mapping, or text such as ``"spike=3,cache_flush,zone_lost=eu-1a"``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simulator.errors import SimulatorError
from simulator.limits import MAX_MULTIPLIER
from simulator.simulation.formatting import num
from simulator.simulation.inputs import bounded_number
from simulator.suggest import did_you_mean

PRESETS = ("spike", "cache_flush", "primary_model_down", "zone_lost")


@dataclass(frozen=True)
class Chaos:
    """Combinable chaos presets: a load spike, a cache flush, the primary models down, a zone lost."""

    spike: float = 1.0
    cache_flush: bool = False
    primary_model_down: bool = False
    zone_lost: str | None = None

    def __post_init__(self):
        spike = bounded_number(self.spike, 0.0, MAX_MULTIPLIER)
        if spike is None or spike <= 0:
            raise SimulatorError(f"chaos spike must be a positive number up to {MAX_MULTIPLIER:g}, "
                                 f"not {self.spike!r}")
        if self.zone_lost is not None and not isinstance(self.zone_lost, str):
            object.__setattr__(self, "zone_lost", str(self.zone_lost))

    @classmethod
    def parse(cls, spec: Any) -> Chaos:
        """A Chaos from None, a Chaos, a mapping, or text such as ``"spike=3,cache_flush,zone_lost=eu-1a"``
        (a list of such items works too). Raises SimulatorError naming the unknown preset."""
        if spec is None:
            return cls()
        if isinstance(spec, Chaos):
            return spec
        values: dict[str, Any] = {}
        items: list[tuple[Any, Any]]
        if isinstance(spec, Mapping):
            items = list(spec.items())
        else:
            parts = spec.split(",") if isinstance(spec, str) else list(spec)
            items = []
            for part in parts:
                part = str(part).strip()
                if not part:
                    continue
                name, has_value, text = part.partition("=")
                items.append((name.strip(), text.strip() if has_value else True))
        for key, value in items:
            key = str(key).strip().lower().replace("-", "_")
            if key not in PRESETS:
                hint = did_you_mean(key, PRESETS, prefix="", cutoff=0.5)
                hint = f"{hint} " if hint else ""
                raise SimulatorError(f"unknown chaos preset '{key}'; {hint}presets: spike=N, cache_flush, "
                                     "primary_model_down, zone_lost=ZONE")
            if key == "spike":
                if value is True:
                    raise SimulatorError("chaos spike needs a multiplier, e.g. spike=3")
                try:
                    value = float(value)
                except (TypeError, ValueError):
                    raise SimulatorError(f"chaos spike must be a number, not {value!r}") from None
            elif key == "zone_lost":
                if value is True or value in (None, ""):
                    raise SimulatorError("chaos zone_lost needs a zone, e.g. zone_lost=us-east-1a")
                value = str(value)
            else:
                if isinstance(value, str):
                    low = value.lower()
                    if low not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                        raise SimulatorError(f"chaos {key} is on or off, not {value!r}")
                    value = low in ("true", "1", "yes", "on")
                value = bool(value)
            values[key] = value
        return cls(**values)

    def active(self) -> bool:
        return self != Chaos()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.spike != 1.0:
            out["spike"] = self.spike
        if self.cache_flush:
            out["cache_flush"] = True
        if self.primary_model_down:
            out["primary_model_down"] = True
        if self.zone_lost is not None:
            out["zone_lost"] = self.zone_lost
        return out

    def describe(self) -> str:
        parts = []
        if self.spike != 1.0:
            parts.append(f"spike x{num(self.spike)}")
        if self.cache_flush:
            parts.append("cache flush")
        if self.primary_model_down:
            parts.append("primary models down")
        if self.zone_lost is not None:
            parts.append(f"zone {self.zone_lost} lost")
        return ", ".join(parts) or "none"
