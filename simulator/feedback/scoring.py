"""The score: the rubric score moved by the model through one named component, the interviewer adjustment.

Scores are computed in code. The rubric score is the base; the model moves it through one
named component only, the **interviewer adjustment**::

    ratings    = the model's 1-5 scores: one per rubric category it rated,
                 plus communication and trade-offs
    adjustment = clamp((mean(ratings) - 3) * 5, -10, +10)      # a 3 ("meets the bar") is 0
    final      = clamp(rule score + adjustment, 0, 100)

So the model can move the score by at most 10 points either way, and it never changes a
check's verdict (the report's ``passed`` flags are not touched).
"""
from __future__ import annotations

from collections.abc import Sequence

ADJUSTMENT_NAME = "interviewer adjustment"
ADJUSTMENT_LIMIT = 10.0          # points, either way
ADJUSTMENT_PER_POINT = 5.0       # points of score per point of mean rating away from 3


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def interviewer_adjustment(ratings: Sequence[int]) -> float:
    """clamp((mean rating - 3) * 5, -10, +10), rounded to 0.1; 0 without ratings."""
    if not ratings:
        return 0.0
    mean = sum(ratings) / len(ratings)
    return round(_clamp((mean - 3.0) * ADJUSTMENT_PER_POINT, -ADJUSTMENT_LIMIT, ADJUSTMENT_LIMIT), 1)


def final_score(rule_score: float, adjustment: float) -> float:
    adjustment = _clamp(adjustment, -ADJUSTMENT_LIMIT, ADJUSTMENT_LIMIT)
    return round(_clamp(rule_score + adjustment, 0.0, 100.0), 1)
