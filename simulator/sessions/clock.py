"""The session clock: phases, remaining time, expiry. Pure: every function takes ``now``."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


def utcnow() -> datetime:
    return datetime.now(UTC)


def deadline_for(started_at: datetime, minutes: int) -> datetime:
    return started_at + timedelta(minutes=minutes)


def remaining(deadline: datetime, now: datetime) -> float:
    """Seconds left (never negative)."""
    return max(0.0, (deadline - now).total_seconds())


def expired(deadline: datetime, now: datetime) -> bool:
    return now >= deadline


def clock(seconds: float) -> str:
    """mm:ss for a countdown (rounded up so 00:00 means really over)."""
    total = int(-(-seconds // 1))
    return f"{total // 60:02d}:{total % 60:02d}"


@dataclass(frozen=True)
class PhaseStatus:
    index: int
    name: str
    budget_s: int
    spent_s: float          # in the current phase so far
    over_s: float           # seconds over budget (0 when within)
    planned_index: int      # the phase the budgets say you should be in by now

    @property
    def over(self) -> bool:
        return self.over_s > 0


def phase_status(phases: Sequence, current: int, timings: dict[str, float], started_at: datetime,
                 now: datetime) -> PhaseStatus:
    """Where the candidate is: the phase they chose, time spent in it, and the plan's phase by elapsed time.

    ``timings`` holds seconds already spent per finished phase (by name); the current phase's time is
    the elapsed time minus everything already booked.
    """
    current = min(max(current, 0), len(phases) - 1)
    elapsed = max(0.0, (now - started_at).total_seconds())
    booked = sum(v for k, v in timings.items() if k != phases[current].name)
    spent = max(0.0, elapsed - booked)
    budget = phases[current].minutes * 60
    cumulative, planned = 0, len(phases) - 1
    for i, p in enumerate(phases):
        cumulative += p.minutes * 60
        if elapsed < cumulative:
            planned = i
            break
    return PhaseStatus(current, phases[current].name, budget, spent, max(0.0, spent - budget), planned)


def book_phase(phases: Sequence, current: int, timings: dict[str, float], started_at: datetime,
               now: datetime) -> dict[str, float]:
    """Timings after closing the current phase at ``now`` (adds its spent time)."""
    status = phase_status(phases, current, timings, started_at, now)
    out = dict(timings)
    out[status.name] = round(status.spent_s, 1)
    return out
