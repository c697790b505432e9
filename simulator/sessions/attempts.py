"""Practice attempts, the use cases: start, resume, autosave, next phase, submit (also on expiry), and a
graded attempt recorded in one go (``python -m simulator grade --save``).

Pure: the store is passed in and time comes from an injected clock; no user interface here.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from simulator.errors import SimulatorError
from simulator.grading.rubric import Report, Rubric, evaluate
from simulator.model.design import Design, DesignError, design_from_dict
from simulator.model.notation import parse_dsl
from simulator.model.scenario import Scenario, ScenarioSpec, estimate_grades
from simulator.sessions.clock import book_phase, deadline_for, expired, utcnow
from simulator.store.records import AttemptRecord
from simulator.store.repository import Store

Clock = Callable[[], datetime]
RULE_GRADER = "rules"


@dataclass
class Work:
    """What the candidate has done so far in an open attempt."""

    design: Design
    notes: dict[str, str] = field(default_factory=dict)
    estimates: dict[str, float | None] = field(default_factory=dict)
    phase_timings: dict[str, float] = field(default_factory=dict)
    phase: int = 0          # index of the current phase (the phases before it are booked in phase_timings)


@dataclass(frozen=True)
class Resumed:
    """A stored attempt's work, ready to edit; ``problem`` says what of a damaged design could not be read."""

    work: Work
    problem: str | None = None


@dataclass(frozen=True)
class Verdict:
    """What grading adds to a finished attempt: the report (with the estimate grades) and its scores."""

    report: dict[str, Any]
    overall_score: float
    category_scores: dict[str, float]
    grader: str = RULE_GRADER


def blank_estimates(spec: ScenarioSpec) -> dict[str, float | None]:
    """One empty answer per estimate the scenario asks for."""
    return {est.id: None for est in spec.estimates}


def verdict(report: Report, scenario: Scenario, estimates: Mapping[str, float | None]) -> Verdict:
    """The stored verdict of a rule report, with the capacity estimates graded against the scenario."""
    data = report.to_dict()
    data["estimates"] = estimate_grades(scenario, dict(estimates))
    return Verdict(data, report.score, report.category_scores())


def resume_work(record: AttemptRecord, spec: ScenarioSpec) -> Resumed:
    """The work stored in an attempt (after a reload, a second tab or a visit to another page)."""
    problem = None
    try:
        design = design_from_dict(record.design or {})
    except DesignError as exc:   # an old or hand-edited row: keep what can be kept, never crash
        problem = f"The saved design could not be read in full: {exc}"
        design = parse_dsl("")
    estimates: dict[str, float | None] = {}
    for est in spec.estimates:
        value = record.estimates.get(est.id)
        estimates[est.id] = float(value) if value is not None else None
    work = Work(design=design,
                notes={"requirements": record.notes.get("requirements", ""),
                       "tradeoffs": record.notes.get("tradeoffs", "")},
                estimates=estimates,
                phase_timings=dict(record.phase_timings),
                phase=len([p for p in spec.phases if p.name in record.phase_timings]))
    return Resumed(work, problem)


class Attempts:
    """The use cases of a practice attempt, over one store and one clock."""

    def __init__(self, store: Store, clock: Clock = utcnow) -> None:
        self.store = store
        self.clock = clock

    def start(self, scenario: Scenario, rubric: Rubric, *, user: str, mode: str,
              from_skeleton: bool = False) -> AttemptRecord:
        """Start the clock on a new attempt, on a blank design or the scenario's skeleton."""
        spec = scenario.spec
        now = self.clock()
        design = parse_dsl(spec.skeleton) if (from_skeleton and spec.skeleton) else parse_dsl("")
        return self.store.start_attempt(spec.id, scenario.content_hash(rubric), mode=mode, user=user,
                                        started_at=now, deadline=deadline_for(now, spec.duration_minutes),
                                        design=design.to_dict())

    def resume(self, scenario_id: str, user: str, attempt_id: str | None = None) -> AttemptRecord | None:
        """The attempt to show: the one named (if it exists and is on this scenario), else the user's open one."""
        attempt = None
        if attempt_id:
            try:
                attempt = self.store.get(attempt_id)
            except SimulatorError:
                attempt = None
            if attempt is not None and attempt.scenario_id != scenario_id:
                attempt = None
        if attempt is None:
            attempt = self.store.latest_open(scenario_id, user)
        return attempt

    def autosave(self, attempt_id: str, work: Work) -> None:
        """Store the work as it is. Raises StoreError for an unknown or finished attempt (its work is final)."""
        self.store.save_work(attempt_id, design=work.design.to_dict(), notes=work.notes,
                             estimates=work.estimates, phase_timings=work.phase_timings)

    def next_phase(self, attempt: AttemptRecord, scenario: Scenario, work: Work) -> Work:
        """Close the current phase now (book its time) and move to the next one; the result is saved."""
        phases = scenario.spec.phases
        timings = book_phase(phases, work.phase, work.phase_timings, attempt.started_at, self.clock())
        moved = replace(work, phase_timings=timings, phase=min(work.phase + 1, len(phases) - 1))
        self.autosave(attempt.id, moved)
        return moved

    def is_expired(self, attempt: AttemptRecord) -> bool:
        return expired(attempt.deadline, self.clock())

    def submit(self, attempt: AttemptRecord, scenario: Scenario, rubric: Rubric, work: Work,
               reason: str = "submitted") -> AttemptRecord:
        """Grade the design with the rubric and the estimates, and store the finished attempt.

        The attempt ends now, or at its deadline if that has passed; the current phase is booked until then.
        """
        ended = min(self.clock(), attempt.deadline)
        timings = book_phase(scenario.spec.phases, work.phase, work.phase_timings, attempt.started_at, ended)
        graded = verdict(evaluate(work.design, rubric, scenario.peak_traffic), scenario, work.estimates)
        return self.store.finish(attempt.id, end_reason=reason, ended_at=ended, report=graded.report,
                                 overall_score=graded.overall_score, category_scores=graded.category_scores,
                                 grader=graded.grader, design=work.design.to_dict(), notes=work.notes,
                                 estimates=work.estimates, phase_timings=timings)

    def submit_if_expired(self, attempt: AttemptRecord, scenario: Scenario, rubric: Rubric,
                          work: Work) -> AttemptRecord | None:
        """When the clock has run out, submit the work as it is (end reason ``timed_out``)."""
        if attempt.finished or not self.is_expired(attempt):
            return None
        return self.submit(attempt, scenario, rubric, work, reason="timed_out")

    def record_graded(self, scenario: Scenario, rubric: Rubric, design: Design, report: Report, *,
                      user: str, notes: Mapping[str, str] | None = None,
                      estimates: Mapping[str, float | None] | None = None) -> AttemptRecord:
        """Store a design graded outside a session (``grade --save``) as a finished, submitted attempt.

        ``report`` is the rubric's report on ``design``; it is stored with the same fields as a submit,
        estimate grades included (every estimate is missing when none are given).
        """
        spec = scenario.spec
        answers = dict(estimates) if estimates is not None else blank_estimates(spec)
        graded = verdict(report, scenario, answers)
        now = self.clock()
        design.scenario = spec.id
        return self.store.add_graded(spec.id, scenario.content_hash(rubric), design=design.to_dict(),
                                     report=graded.report, overall_score=graded.overall_score,
                                     category_scores=graded.category_scores, notes=dict(notes or {}),
                                     estimates=answers, started_at=now, ended_at=now, deadline=now,
                                     mode="practice", user=user, end_reason="submitted", grader=graded.grader)
