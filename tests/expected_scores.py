"""Expected scores worked out by hand from a rubric file's numbers, not by the grader under test.

A category scores 100 x (points of its passed checks) / (points of all its checks), rounded to one
decimal; the overall score is the weight-averaged category scores, rounded to one decimal (the rule
in docs/authoring.md). Given the rubric YAML and the ids of the checks a design is known to fail,
``hand_scores`` does that arithmetic on the raw YAML numbers, then tells the coverage on the interview
scale (13 + 0.87 x coverage, the figures docs/authoring.md gives).
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import yaml

RUBRICS = Path(__file__).resolve().parent.parent / "rubrics"

# tests/examples/realtime-llm-application.yaml graded as conversational-ai. The checks it fails, read
# off the example by hand: no alerting node, no evaluation or feedback loop, no conversation memory, no
# router between its two models, and no document pipeline feeding the vector DB (retrieval is on the
# request path: two of the three parts of rag-retrieval hold). Its gateway and load balancer are
# managed (no replicas written) and the primary model has a fallback model: no single point of failure.
REALTIME_FAILS = {"slo-alerting", "answer-quality-monitoring", "conversation-memory", "model-routing",
                  "rag-retrieval"}
REALTIME_PARTLY = {"rag-retrieval": 2 / 3}
# From rubrics/conversational-ai.yaml: ml_core earns 5.33 + 6 (guardrails) of 30 points (37.8), monitoring
# 6 of 10 (60.0), the rest 100; weights ml_core 30, fallback 16, caching 12, reliability 14, monitoring 12,
# scaling 10, safety 6: (30 x 37.8 + 16 x 100 + 12 x 100 + 14 x 100 + 12 x 60 + 10 x 100 + 6 x 100) / 100
# = 76.5 coverage; on the interview scale 13 + 0.87 x 76.5 = 79.6
REALTIME_SCORE = 79.6


def hand_scores(scenario: str, failing: set[str], partly: dict[str, float] | None = None
                ) -> tuple[float, dict[str, float]]:
    """(overall, {category: score}) for a design that fails exactly ``failing`` of the scenario's checks,
    of which those in ``partly`` are partly there: {check id: share of its points earned}."""
    raw = yaml.safe_load((RUBRICS / f"{scenario}.yaml").read_text())
    ids = {c["id"] for c in raw["checks"]}
    partly = partly or {}
    assert failing <= ids, f"not checks of {scenario}: {failing - ids}"
    assert set(partly) <= failing, "a partly-there check is a failing check"
    categories: dict[str, float] = {}
    for name in raw["categories"]:
        earned = [(c["points"], 0.0 if c["id"] not in failing else partly.get(c["id"], 0.0) - 1.0)
                  for c in raw["checks"] if c["category"] == name]
        possible = sum(p for p, _ in earned)
        got = sum(round(p * (1.0 + lost), 2) for p, lost in earned)
        categories[name] = round(100.0 * got / possible, 1)
    weights = {name: cat["weight"] for name, cat in raw["categories"].items()}
    coverage = round(sum(weights[n] * s for n, s in categories.items()) / sum(weights.values()), 1)
    # the interview scale of docs/authoring.md ("How scores are computed"): 13 + 0.87 x coverage, 0 for none
    overall = _half_up(13 + 0.87 * coverage) if coverage > 0 else 0.0
    return overall, categories


def _half_up(value: float) -> float:
    """One decimal, halves up (52.15 -> 52.2), as docs/authoring.md rounds."""
    return float(Decimal(repr(round(value, 6))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
