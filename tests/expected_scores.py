"""Expected scores worked out by hand from a rubric file's numbers, not by the grader under test.

A category scores 100 x (points of its passed checks) / (points of all its checks), rounded to one
decimal; the overall score is the weight-averaged category scores, rounded to one decimal (the rule
in docs/authoring.md). Given the rubric YAML and the ids of the checks a design is known to fail,
``hand_scores`` does that arithmetic on the raw YAML numbers.
"""
from __future__ import annotations

from pathlib import Path

import yaml

RUBRICS = Path(__file__).resolve().parent.parent / "rubrics"

# tests/examples/realtime-llm-application.yaml graded as conversational-ai. The checks it fails, read
# off the example by hand: no alerting node, no logging node, a gateway and a load balancer with one replica on the only path to the model,
# one primary model deployment for the 3,000 req/s peak, and no document pipeline feeding the vector DB.
REALTIME_FAILS = {"slo-alerting", "answer-quality-monitoring", "no-spof-to-model", "serves-peak-load",
                  "survives-model-loss", "index-freshness"}
# From rubrics/conversational-ai.yaml: monitoring fails 4 + 5 of 15 points (40.0), reliability all 20 (0.0),
# retrieval 6 of 15 (60.0), the rest 100; weights 15 except safety 10:
# (15 x 100 x 3 + 15 x 40 + 15 x 0 + 10 x 100 + 15 x 60) / 100 = 70.0
REALTIME_SCORE = 70.0


def hand_scores(scenario: str, failing: set[str]) -> tuple[float, dict[str, float]]:
    """(overall, {category: score}) for a design that fails exactly ``failing`` of the scenario's checks."""
    raw = yaml.safe_load((RUBRICS / f"{scenario}.yaml").read_text())
    ids = {c["id"] for c in raw["checks"]}
    assert failing <= ids, f"not checks of {scenario}: {failing - ids}"
    categories: dict[str, float] = {}
    for name in raw["categories"]:
        points = [(c["points"], c["id"] not in failing) for c in raw["checks"] if c["category"] == name]
        possible = sum(p for p, _ in points)
        categories[name] = round(100.0 * sum(p for p, ok in points if ok) / possible, 1)
    weights = {name: cat["weight"] for name, cat in raw["categories"].items()}
    overall = round(sum(weights[n] * s for n, s in categories.items()) / sum(weights.values()), 1)
    return overall, categories
