"""The History page in Streamlit's AppTest, on a SQLite database seeded with really graded attempts."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from simulator.grading.library import load_library
from simulator.grading.rubric import evaluate
from simulator.model.design import Design, design_from_dict
from simulator.model.scenario import estimate_grades
from simulator.store.repository import Store
from ui.navigation import HISTORY

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime.now(UTC).replace(microsecond=0)


def weakened(design: Design, kinds: set[str]) -> Design:
    """The design without its components of these kinds (and their arrows)."""
    copy = design.copy()
    gone = {n.id for n in copy.nodes if n.kind in kinds}
    copy.nodes = [n for n in copy.nodes if n.id not in gone]
    copy.edges = [e for e in copy.edges if e.source not in gone and e.target not in gone]
    return design_from_dict(copy.to_dict())


def add_graded(store: Store, lib, sid: str, design: Design, *, days_ago: float, mode: str = "practice",
               scenario_id: str | None = None):
    """Grade ``design`` as the Practice page does and store it as a finished attempt."""
    scenario, rubric = lib.get(sid)
    report = evaluate(design, rubric, scenario.peak_traffic)
    data = report.to_dict()
    answers = {e.id: e.value for e in scenario.spec.estimates}
    data["estimates"] = estimate_grades(scenario, answers)
    started = NOW - timedelta(days=days_ago)
    return store.add_graded(
        scenario_id or sid, scenario.content_hash(rubric), design=design.to_dict(), report=data,
        overall_score=report.score, category_scores=report.category_scores(),
        notes={"requirements": "p99 under 100 ms", "tradeoffs": "cache the hot entities"}, estimates=answers,
        phase_timings={p.name: p.minutes * 60.0 for p in scenario.spec.phases}, mode=mode,
        started_at=started, ended_at=started + timedelta(minutes=40), deadline=started + timedelta(minutes=45),
    )


@pytest.fixture(scope="module")
def lib():
    return load_library()


@pytest.fixture()
def db_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/attempts.sqlite"
    monkeypatch.setenv("SIMULATOR_DATABASE_URL", url)
    monkeypatch.delenv("SIMULATOR_USER", raising=False)
    return url


@pytest.fixture()
def seeded(db_url, lib):
    """Four graded attempts on two scenarios (a reference and a weakened design each), one open
    attempt, one on a scenario that is no longer in the library."""
    fraud, chat = lib.scenarios["fraud-detection"], lib.scenarios["conversational-ai"]
    no_cache = {"cache", "monitoring", "alerting"}
    with Store(db_url) as store:
        out = {
            "fraud_weak": add_graded(store, lib, "fraud-detection", weakened(fraud.reference, no_cache), days_ago=20),
            "fraud_ref": add_graded(store, lib, "fraud-detection", fraud.reference, days_ago=12, mode="interview"),
            "chat_weak": add_graded(store, lib, "conversational-ai", weakened(chat.reference, no_cache), days_ago=6),
            "chat_ref": add_graded(store, lib, "conversational-ai", chat.reference, days_ago=2),
            "removed": add_graded(store, lib, "fraud-detection", weakened(fraud.reference, {"cache"}), days_ago=30,
                                  scenario_id="retired-scenario"),
        }
        recs, rubric = lib.get("recommendation-system")
        out["open"] = store.start_attempt("recommendation-system", recs.content_hash(rubric),
                                          started_at=NOW - timedelta(minutes=5),
                                          deadline=NOW + timedelta(minutes=40), design={"nodes": [], "edges": []})
    return out


def history_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.run()
    at.switch_page(HISTORY).run()
    assert not at.exception, at.exception
    return at


def attempts_table(at: AppTest):
    return next(df for df in at.dataframe if "id" in df.value.columns)


def select_attempt(at: AppTest, attempt_id: str) -> AppTest:
    table = attempts_table(at)
    row = list(table.value["id"]).index(attempt_id)
    at.session_state[table.key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_table_lists_every_attempt_newest_first_with_scores(seeded):
    at = history_page()
    table = attempts_table(at).value
    newest_first = sorted(seeded.values(), key=lambda r: r.started_at, reverse=True)
    assert list(table["id"]) == [r.id for r in newest_first]
    assert {"Started", "Scenario", "Mode", "Status", "Duration", "Overall", "Caching", "Fallback",
            "Monitoring", "Scaling"} <= set(table.columns)
    by_id = table.set_index("id")
    for record in seeded.values():
        if record.overall_score is None:
            assert by_id.loc[record.id, "Status"] == "In progress"
        else:
            assert by_id.loc[record.id, "Overall"] == pytest.approx(record.overall_score)
            assert by_id.loc[record.id, "Caching"] == pytest.approx(record.category_scores["caching"])
            assert by_id.loc[record.id, "Duration"] == pytest.approx(40)
    assert by_id.loc[seeded["chat_ref"].id, "Scenario"] == "Conversational AI system (ChatGPT-like)"
    assert by_id.loc[seeded["removed"].id, "Scenario"] == "retired-scenario (removed)"
    assert seeded["fraud_weak"].overall_score < seeded["fraud_ref"].overall_score


def test_best_and_latest_chart_and_download_buttons(seeded):
    at = history_page()
    best = next(df for df in at.dataframe if "Best" in df.value.columns).value.set_index("Scenario")
    fraud = best.loc["Real-time fraud detection system (card payments)"]
    weak, ref = seeded["fraud_weak"].overall_score, seeded["fraud_ref"].overall_score  # ref is the newer
    assert (fraud["Best"], fraud["Latest"], fraud["Scored attempts"]) == (max(weak, ref), ref, 2)
    chat = best.loc["Conversational AI system (ChatGPT-like)"]
    assert chat["Latest"] == seeded["chat_ref"].overall_score and chat["Scored attempts"] == 2
    assert at.get("vega_lite_chart"), "the scores-over-time chart is missing"
    lines = at.pills[0]
    assert lines.label == "Lines" and set(lines.value) == {"Overall", "Caching", "Fallback", "Monitoring", "Scaling"}
    assert [b.label for b in at.download_button] == ["Download CSV", "Download JSON"]


def test_choosing_an_attempt_shows_its_scores_and_report(seeded, lib):
    at = history_page()
    record = seeded["fraud_weak"]
    select_attempt(at, record.id)
    shown = metrics(at)
    assert shown["Overall"] == f"{record.overall_score:.0f}/100"
    categories = lib.rubrics["fraud-detection"].categories
    for key, score in record.category_scores.items():
        assert shown[categories[key].title] == f"{score:.0f}"
    assert any(t.value.startswith("Design a real-time fraud detection") for t in at.title)
    assert any(e.label.startswith("Caching") for e in at.expander)  # the failed caching checks
    assert any(b.label == "Delete this attempt" for b in at.button)
    assert not any(b.label == "Resume on Practice" for b in at.button)  # finished


def test_delete_asks_for_confirmation_then_removes_the_attempt(seeded, db_url):
    at = history_page()
    victim = seeded["chat_weak"]
    select_attempt(at, victim.id)
    at.button(key="delete").click().run()
    assert any("cannot be undone" in w.value for w in at.warning)
    with Store(db_url) as store:
        assert store.count() == 6  # nothing deleted before the confirmation

    at.button(key="cancel-delete").click().run()
    assert not any("cannot be undone" in w.value for w in at.warning)

    at.button(key="delete").click().run()
    at.button(key="confirm-delete").click().run()
    assert not at.exception
    with Store(db_url) as store:
        assert store.count() == 5
        assert victim.id not in {r.id for r in store.list_attempts(columns="summary")}
    assert victim.id not in list(attempts_table(at).value["id"])
    assert any(s.value == "Attempt deleted." for s in at.success)
    assert not at.metric  # the selection is cleared: no detail of another attempt


def test_filters_narrow_the_table(seeded):
    at = history_page()
    at.multiselect(key="history_scenarios").set_value(["fraud-detection"]).run()
    assert set(attempts_table(at).value["id"]) == {seeded["fraud_weak"].id, seeded["fraud_ref"].id}
    # one scenario: every one of its categories is drawn
    assert len(at.pills[0].value) == 1 + len(load_library().rubrics["fraud-detection"].categories)

    at.multiselect(key="history_scenarios").set_value(["fraud-detection", "conversational-ai"]).run()
    assert len(attempts_table(at).value) == 4

    today = datetime.now(UTC).date()
    at.date_input(key="history_dates").set_value((today - timedelta(days=8), today)).run()
    assert set(attempts_table(at).value["id"]) == {seeded["chat_weak"].id, seeded["chat_ref"].id}

    at.multiselect(key="history_scenarios").set_value(["fraud-detection"]).run()
    assert not at.exception
    assert any("No attempts match" in i.value for i in at.info)


def test_an_open_attempt_can_be_resumed_on_the_practice_page(seeded):
    at = history_page()
    record = seeded["open"]
    select_attempt(at, record.id)
    assert any(i.value.startswith("In progress") for i in at.info)
    at.button(key="resume").click().run()
    assert not at.exception
    assert at.session_state["attempt_id"] == record.id
    assert at.session_state["practice_scenario"] == "recommendation-system"
    assert "recommendation" in at.title[0].value.lower()
    assert any(m.label == "Time left" for m in at.metric)  # the session, not the start screen


def test_an_attempt_on_a_removed_scenario_shows_its_stored_scores(seeded):
    at = history_page()
    record = seeded["removed"]
    select_attempt(at, record.id)
    assert any("no longer in the library" in w.value for w in at.warning)
    assert metrics(at)["Overall"] == f"{record.overall_score:.0f}/100"


def test_no_attempts_shows_a_friendly_message_and_a_link_home(db_url):
    at = history_page()
    assert any("No attempts yet" in i.value for i in at.info)
    assert not at.dataframe
    [link] = at.main.get("page_link")  # in the page body, not the sidebar
    assert "Home" in link.proto.label


def test_date_filter_bounds_are_local_days():
    from zoneinfo import ZoneInfo

    from ui.history import date_filter

    zone = ZoneInfo("Europe/Berlin")
    bounds = date_filter((date(2025, 3, 1), date(2025, 3, 2)), zone)
    assert bounds.since == datetime(2025, 2, 28, 23, 0, tzinfo=UTC)
    assert bounds.until == datetime(2025, 3, 2, 23, 0, tzinfo=UTC)
    half = date_filter((date(2025, 3, 1),), zone)  # while the second day is being picked
    assert half.since == bounds.since and half.until is None


def test_the_store_queries_the_page_relies_on(seeded, db_url):
    with Store(db_url) as store:
        overview = store.scenario_overview("local")
        assert {sid: n for sid, (n, _, _) in overview.items()} == {
            "fraud-detection": 2, "conversational-ai": 2, "retired-scenario": 1, "recommendation-system": 1}
        first, last = overview["fraud-detection"][1:]
        assert (first, last) == (seeded["fraud_weak"].started_at, seeded["fraud_ref"].started_at)
        assert store.scenario_overview("nobody") == {}
        pair = ["fraud-detection", "conversational-ai"]
        listed = store.list_attempts(scenario_ids=pair, columns="summary")
        assert {r.id for r in listed} == {seeded[k].id for k in ("fraud_weak", "fraud_ref", "chat_weak", "chat_ref")}
        assert store.count(scenario_ids=pair) == 4 and store.count(scenario_ids=[]) == 0
        assert store.count(finished=False) == 1
        assert store.count(since=NOW - timedelta(days=7)) == 3
        exported = store.export_json(scenario_ids=["conversational-ai"])
        assert exported.count('"scenario_id": "conversational-ai"') == 2 and "fraud-detection\"" not in exported
