"""The rule interviewer: written feedback from the rubric report alone, offline, instant and deterministic.

``rule_feedback`` turns the rubric ``Report`` into an interviewer's notes: a summary, what
is strong (passed checks grouped by category, estimates within tolerance), what is missing
(failed checks with hint and evidence, estimates off the mark), follow-up questions and a
comment per category. Its LLM part is ``status="off"``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulator.feedback.feedback import Feedback
from simulator.feedback.scoring import final_score
from simulator.feedback.text import shorten
from simulator.grading.rubric import CheckResult, Report
from simulator.model.design import Design
from simulator.model.scenario import Scenario, estimate_grades

MAX_FOLLOW_UPS = 8


def _summary(design: Design, title: str, report: Report, failed: list[CheckResult], passed: list[CheckResult]) -> str:
    parts = [f"Rubric score {report.score:g}/100 on \"{title}\": {len(passed)} of {len(report.checks)} checks pass."]
    scored = [c for c in report.categories.values() if c.possible > 0]
    if scored:
        best = max(scored, key=lambda c: (c.score, c.weight))
        worst = min(scored, key=lambda c: (c.score, -c.weight))
        if best.score == worst.score:
            parts.append(f"Every category is at {best.score:g}/100.")
        else:
            parts.append(f"Strongest area: {best.title} ({best.score:g}); weakest: {worst.title} ({worst.score:g}).")
    if design.is_empty():
        parts.append("The design is empty: start with the request path from the client to the model.")
    elif failed:
        top = failed[0]
        parts.append(f"Start with \"{top.title}\" ({top.points} points): {top.hint}")
    else:
        parts.append("Every check passes: be ready to defend the trade-offs behind it.")
    if report.errors:
        parts.append(f"{len(report.errors)} check(s) could not be evaluated (see the report).")
    return " ".join(parts)


def _strengths(report: Report, passed: list[CheckResult]) -> list[str]:
    """Passed checks grouped by category."""
    strengths: list[str] = []
    for cat in report.categories.values():
        titles = [c.title for c in passed if c.category == cat.name]
        if titles:
            strengths.append(f"{cat.title}: " + "; ".join(titles))
    return strengths


def _gaps(failed: list[CheckResult]) -> list[dict[str, Any]]:
    """Failed checks with hint and evidence."""
    gaps: list[dict[str, Any]] = []
    for c in failed:
        tag = "could not be evaluated" if c.status == "error" else "missing"
        text = f"[{c.category}] {c.title} ({tag}, {c.points} pts). {c.hint}"
        if c.evidence:
            text += f" Evidence: {shorten(c.evidence, 300)}"
        gaps.append({"text": text, "node_ids": list(c.nodes), "check": c.id})
    return gaps


def _estimate_notes(scenario: Scenario, estimates: Mapping[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """The capacity estimates graded by the scenario's tolerance: (strengths, gaps)."""
    strengths: list[str] = []
    gaps: list[dict[str, Any]] = []
    for g in estimate_grades(scenario, dict(estimates)):
        if g["verdict"] == "within tolerance":
            strengths.append(f"Estimate \"{g['label']}\": {g['given']:g} {g['unit']} is within tolerance.")
        elif g["verdict"] in ("too low", "too high", "not a number"):
            given = f" ({g['given']:g} {g['unit']})" if g["given"] is not None else ""
            gaps.append({"text": f"Estimate \"{g['label']}\" is {g['verdict']}{given}. {g['explanation']}",
                         "node_ids": [], "check": f"estimate:{g['id']}"})
    return strengths, gaps


def _dedupe(items: list[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for item in items:
        key = item.strip().lower()
        if key and key not in seen:
            seen.add(key)
            out.append(item.strip())
    return out


def _follow_ups(scenario: Scenario | None, failed: list[CheckResult]) -> list[str]:
    """Up to 5 from failed checks (most points first), then the scenario's own."""
    from_checks = [c.follow_up for c in failed]
    from_scenario = list(scenario.spec.follow_ups) if scenario is not None else []
    questions = from_checks[:5] + from_scenario[:3] + from_checks[5:] + from_scenario[3:]
    return _dedupe(questions)[:MAX_FOLLOW_UPS]


def _category_comments(report: Report) -> list[dict[str, Any]]:
    categories = []
    for cat in report.categories.values():
        checks = [c for c in report.checks if c.category == cat.name]
        missing = [c.title for c in checks if not c.passed]
        if not checks:
            comment = "No checks in this category."
        elif not missing:
            comment = "Its check passes." if len(checks) == 1 else f"All {len(checks)} checks pass."
        else:
            comment = f"{cat.passed} of {cat.total} checks pass. Missing: " + "; ".join(missing) + "."
        categories.append({"category": cat.name, "title": cat.title, "rule_score": cat.score, "rating": None,
                           "comment": comment})
    return categories


def rule_feedback(design: Design, scenario: Scenario | None, report: Report,
                  notes: Mapping[str, str] | None = None, estimates: Mapping[str, Any] | None = None) -> Feedback:
    """Interviewer-style feedback from the rubric report alone: offline and deterministic."""
    failed = sorted(report.failed(), key=lambda c: (-c.points, c.id))
    passed = [c for c in report.checks if c.passed]
    title = scenario.spec.title if scenario is not None else report.scenario
    strengths = _strengths(report, passed)
    gaps = _gaps(failed)
    if scenario is not None and estimates:
        estimate_strengths, estimate_gaps = _estimate_notes(scenario, estimates)
        strengths += estimate_strengths
        gaps += estimate_gaps
    return Feedback(status="off", reason=None, grader="rules", model=None,
                    summary=_summary(design, title, report, failed, passed), strengths=strengths, gaps=gaps,
                    follow_up_questions=_follow_ups(scenario, failed), categories=_category_comments(report),
                    rule_score=report.score, adjustment=0.0, final_score=final_score(report.score, 0.0))
