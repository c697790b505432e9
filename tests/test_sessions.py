"""The practice use cases (simulator.sessions.attempts) on a real SQLite store and a clock the test moves."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from simulator.grading.library import load_library
from simulator.grading.rubric import evaluate, load_rubric_text
from simulator.model.notation import parse_dsl
from simulator.sessions.attempts import Attempts, Work
from simulator.store.repository import Store, StoreError

SID = "conversational-ai"
START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

# Two categories and three checks, small enough to score by hand.
RUBRIC = f"""
scenario: {SID}
categories:
  caching: {{title: Caching, weight: 60}}
  monitoring: {{title: Monitoring, weight: 40}}
checks:
  - id: has-cache
    category: caching
    points: 3
    title: A cache somewhere
    rule: {{present: {{kind: cache}}}}
    hint: Add a cache.
    follow_up: What is the key?
  - id: has-cdn
    category: caching
    points: 1
    title: A CDN in front
    rule: {{present: {{kind: cdn}}}}
    hint: Add a CDN.
    follow_up: What does it cache?
  - id: has-monitoring
    category: monitoring
    points: 2
    title: Monitoring
    rule: {{present: {{kind: monitoring}}}}
    hint: Add monitoring.
    follow_up: What do you alert on?
"""
# has-cache passes (3 of 4 caching points: 75), has-cdn fails, has-monitoring fails (0 of 2: 0).
# Coverage: (60 * 75 + 40 * 0) / (60 + 40) = 45; overall on the interview scale 13 + 0.87 * 45 = 52.15 -> 52.2.
DESIGN = "client -> chat -> redis\nchat: service x2\nchat -> llm\n"
EXPECTED_SCORE = 52.2
EXPECTED_CATEGORIES = {"caching": 75.0, "monitoring": 0.0}


class Clock:
    """A clock that stands still until the test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture()
def store(tmp_path) -> Iterator[Store]:
    db = Store(f"sqlite:///{tmp_path}/attempts.sqlite")
    yield db
    db.close()


@pytest.fixture()
def clock() -> Clock:
    return Clock(START)


@pytest.fixture()
def attempts(store, clock) -> Attempts:
    return Attempts(store, clock)


@pytest.fixture(scope="module")
def scenario():
    return load_library(check_references=False).get(SID)[0]


@pytest.fixture(scope="module")
def rubric():
    return load_rubric_text(RUBRIC)


def work_on(design: str, **kw) -> Work:
    return Work(design=parse_dsl(design), **kw)


def test_a_new_attempt_runs_for_the_scenario_duration_and_can_start_from_the_skeleton(attempts, scenario, rubric):
    blank = attempts.start(scenario, rubric, user="ana", mode="interview")
    assert blank.mode == "interview" and blank.user == "ana" and not blank.finished
    assert blank.started_at == START
    assert blank.deadline == START + timedelta(minutes=scenario.spec.duration_minutes)
    assert blank.design["nodes"] == []

    sketched = attempts.start(scenario, rubric, user="ana", mode="practice", from_skeleton=True)
    assert {n["id"] for n in sketched.design["nodes"]} == {n.id for n in parse_dsl(scenario.spec.skeleton).nodes}


def test_an_autosaved_design_and_notes_come_back_on_resume(attempts, clock, scenario, rubric):
    record = attempts.start(scenario, rubric, user="ana", mode="practice")
    clock.advance(minutes=3)
    attempts.autosave(record.id, work_on(DESIGN, notes={"requirements": "20 M messages a day", "tradeoffs": ""},
                                         estimates={"peak_qps": 3000.0, "tokens_per_second": None}))

    # a reload names no attempt: the open one of this user on this scenario comes back
    resumed = attempts.resume(SID, "ana")
    assert resumed is not None and resumed.id == record.id
    assert {n["id"] for n in resumed.design["nodes"]} == {"client", "chat", "redis", "llm"}
    assert resumed.notes["requirements"] == "20 M messages a day"
    assert resumed.estimates["peak_qps"] == 3000.0
    # another user has nothing to resume; an attempt named for another scenario is not shown
    assert attempts.resume(SID, "bo") is None
    assert attempts.resume("fraud-detection", "ana", attempt_id=record.id) is None


def test_submit_stores_the_score_the_rubric_gives(attempts, clock, scenario, rubric):
    record = attempts.start(scenario, rubric, user="ana", mode="practice")
    clock.advance(minutes=20)
    finished = attempts.submit(record, scenario, rubric, work_on(DESIGN, estimates={"peak_qps": 3000.0}))

    assert finished.end_reason == "submitted"
    assert finished.ended_at == START + timedelta(minutes=20)
    assert finished.overall_score == EXPECTED_SCORE
    assert finished.category_scores == EXPECTED_CATEGORIES
    assert finished.report is not None
    assert {c["id"]: c["passed"] for c in finished.report["checks"]} == {
        "has-cache": True, "has-cdn": False, "has-monitoring": False}
    grades = {g["id"]: g["verdict"] for g in finished.report["estimates"]}
    assert grades["peak_qps"] == "within tolerance"   # 3,000 req/s against the reference's 3,000
    assert grades["tokens_per_second"] == "missing"
    # the first phase is booked until the submit
    assert finished.phase_timings == {scenario.spec.phases[0].name: 20 * 60.0}


def test_next_phase_books_the_time_spent_and_is_saved(attempts, clock, scenario, rubric):
    record = attempts.start(scenario, rubric, user="ana", mode="practice")
    clock.advance(minutes=4)
    moved = attempts.next_phase(record, scenario, work_on(DESIGN))
    first = scenario.spec.phases[0].name
    assert moved.phase == 1 and moved.phase_timings == {first: 240.0}
    assert attempts.store.get(record.id).phase_timings == {first: 240.0}


def test_when_the_clock_runs_out_the_work_is_submitted_as_timed_out(attempts, clock, scenario, rubric):
    record = attempts.start(scenario, rubric, user="ana", mode="interview")
    clock.advance(minutes=scenario.spec.duration_minutes - 1)
    assert attempts.submit_if_expired(record, scenario, rubric, work_on(DESIGN)) is None
    assert not attempts.store.get(record.id).finished

    clock.advance(minutes=5)  # the page was closed past the deadline
    finished = attempts.submit_if_expired(record, scenario, rubric, work_on(DESIGN))
    assert finished is not None
    assert finished.end_reason == "timed_out"
    assert finished.ended_at == record.deadline   # not later than the deadline
    assert finished.overall_score == EXPECTED_SCORE
    assert attempts.resume(SID, "ana") is None   # nothing open is left to resume


def test_a_finished_attempt_cannot_be_autosaved_over(attempts, clock, scenario, rubric):
    record = attempts.start(scenario, rubric, user="ana", mode="practice")
    attempts.submit(record, scenario, rubric, work_on(DESIGN))
    with pytest.raises(StoreError, match="already finished"):
        attempts.autosave(record.id, work_on(""))
    assert {n["id"] for n in attempts.store.get(record.id).design["nodes"]} == {"client", "chat", "redis", "llm"}
    with pytest.raises(StoreError, match="already finished"):
        attempts.submit(record, scenario, rubric, work_on(""))


def test_a_design_graded_outside_a_session_is_stored_like_a_submit(attempts, scenario, rubric):
    design = parse_dsl(DESIGN)
    record = attempts.record_graded(scenario, rubric, design, evaluate(design, rubric, scenario.peak_traffic), user="ana",
                                    notes={"notes": "from the command line"})
    assert record.finished and record.end_reason == "submitted" and record.grader == "rules"
    assert record.started_at == record.ended_at == START
    assert record.overall_score == EXPECTED_SCORE
    assert record.category_scores == EXPECTED_CATEGORIES
    assert record.report is not None
    assert [g["verdict"] for g in record.report["estimates"]] == ["missing"] * len(scenario.spec.estimates)
    assert record.estimates == {e.id: None for e in scenario.spec.estimates}
    assert record.design["scenario"] == SID
    assert record.notes == {"notes": "from the command line"}
