"""The attempts store on real databases: SQLite and (when configured) PostgreSQL."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, inspect, text

from simulator.errors import StoreError
from simulator.store.engine import alembic_config
from simulator.store.records import AttemptRecord, AttemptSummary
from simulator.store.repository import Store
from simulator.store.transfer import export_csv, export_json
from tests.store_fixtures import T0

DESIGN = {"nodes": [{"id": "lb", "kind": "load_balancer"}, {"id": "api", "kind": "service"}],
          "edges": [{"from": "lb", "to": "api"}]}
REPORT = {"overall": 72.5, "categories": {"caching": 60.0, "data": 85.0}, "checks": [{"id": "c1", "passed": True}]}


def _start(store: Store, *, scenario="url-shortener", user="local", offset_s=0, **kw) -> AttemptRecord:
    started = T0 + timedelta(seconds=offset_s)
    return store.start_attempt(
        scenario, "sha256:abc", user=user, started_at=started,
        deadline=started + timedelta(minutes=45), app_version="1.2.3", **kw,
    )


def _graded(store: Store, score: float, *, scenario="url-shortener", user="local", offset_s=0, **kw):
    started = T0 + timedelta(seconds=offset_s)
    return store.add_graded(
        scenario, "sha256:abc", user=user, design=DESIGN, report=REPORT, overall_score=score,
        category_scores={"caching": score / 2, "data": score}, started_at=started,
        ended_at=started + timedelta(minutes=40), deadline=started + timedelta(minutes=45), **kw,
    )


# -- migrations -----------------------------------------------------------------


def _script_head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_opening_an_empty_database_creates_the_schema_at_head(store_url):
    engine = create_engine(store_url)
    try:
        assert "attempts" not in inspect(engine).get_table_names()
        Store(store_url).close()
        inspector = inspect(engine)
        assert {"attempts", "alembic_version"} <= set(inspector.get_table_names())
        columns = {c["name"] for c in inspector.get_columns("attempts")}
        assert {"id", "user_name", "scenario_id", "scenario_hash", "mode", "started_at", "deadline",
                "phase_timings", "ended_at", "end_reason", "design", "notes", "estimates", "report",
                "overall_score", "category_scores", "feedback", "grader", "token_usage", "app_version",
                "created_at", "updated_at"} <= columns
        index_columns = [ix["column_names"] for ix in inspector.get_indexes("attempts")]
        assert ["user_name", "scenario_id", "started_at"] in index_columns
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        assert versions == [_script_head()]
    finally:
        engine.dispose()


def test_opening_twice_keeps_data_and_one_version_row(store_url):
    with Store(store_url) as first:
        kept = _graded(first, 50.0)
    with Store(store_url) as second:
        assert second.get(kept.id).overall_score == 50.0
        assert second.count() == 1
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    finally:
        engine.dispose()


def test_a_schema_from_a_newer_app_is_refused_clearly(store_url):
    Store(store_url).close()
    engine = create_engine(store_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = 'ffff_future'"))
    finally:
        engine.dispose()
    with pytest.raises(StoreError, match=r"ffff_future.*newer"):
        Store(store_url)


def test_default_store_is_a_wal_sqlite_file_in_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("SIMULATOR_DATABASE_URL", raising=False)
    monkeypatch.setenv("SIMULATOR_DATA_DIR", str(tmp_path / "not" / "yet"))
    with Store.open_default() as store:
        _graded(store, 10.0)
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 30_000
    assert (tmp_path / "not" / "yet" / "attempts.sqlite").is_file()


def test_database_url_comes_from_the_environment(store_url, monkeypatch):
    monkeypatch.setenv("SIMULATOR_DATABASE_URL", store_url)
    with Store.open_default() as store:
        saved = _graded(store, 33.0)
    with Store(store_url) as direct:
        assert direct.get(saved.id).overall_score == 33.0


# -- autosave, finish, resume ------------------------------------------------------


def test_a_started_attempt_exists_and_is_open(store):
    record = _start(store, mode="interview")
    got = store.get(record.id)
    assert got == record
    assert got.mode == "interview" and got.user == "local" and got.app_version == "1.2.3"
    assert got.started_at == T0 and got.started_at.tzinfo is not None
    assert got.deadline - got.started_at == timedelta(minutes=45)
    assert got.ended_at is None and got.end_reason is None and not got.finished
    assert got.report is None and got.overall_score is None and got.feedback is None


def test_save_work_then_get_returns_the_saved_work(store):
    record = _start(store)
    store.save_work(record.id, design=DESIGN, notes={"requirements": "100M URLs/day", "tradeoffs": "cache"})
    store.save_work(record.id, estimates={"qps": 1200, "storage_tb": None},
                    phase_timings={"requirements": 300.5, "design": 900})
    got = store.get(record.id)
    assert got.design == DESIGN
    assert got.notes == {"requirements": "100M URLs/day", "tradeoffs": "cache"}
    assert got.estimates == {"qps": 1200, "storage_tb": None}
    assert got.phase_timings == {"requirements": 300.5, "design": 900}
    store.save_work(record.id, notes={"requirements": "edited"})
    again = store.get(record.id)
    assert again.notes == {"requirements": "edited"}
    assert again.design == DESIGN  # fields not passed are untouched
    assert again.updated_at >= got.updated_at


def test_finish_stores_the_report_and_scores(store):
    record = _start(store)
    ended = T0 + timedelta(minutes=44)
    finished = store.finish(record.id, ended_at=ended, end_reason="timed_out", report=REPORT,
                            overall_score=72.5, category_scores={"caching": 60, "data": 85.0},
                            design=DESIGN)
    got = store.get(record.id)
    assert got == finished
    assert got.ended_at == ended and got.end_reason == "timed_out" and got.finished
    assert got.duration_s == 44 * 60
    assert got.report == REPORT and got.overall_score == 72.5
    assert got.category_scores == {"caching": 60.0, "data": 85.0}
    assert got.grader == "rules" and got.design == DESIGN


def test_finished_work_cannot_be_overwritten(store):
    record = _start(store)
    store.finish(record.id, report=REPORT, overall_score=72.5, category_scores={"caching": 60.0})
    with pytest.raises(StoreError, match=f"{record.id}.*already finished"):
        store.save_work(record.id, design={"nodes": [], "edges": []})
    with pytest.raises(StoreError, match="already finished"):
        store.finish(record.id, overall_score=1.0)
    got = store.get(record.id)
    assert got.design == {"nodes": [], "edges": []} and got.overall_score == 72.5


def test_latest_open_finds_the_unfinished_attempt_only(store):
    done = _start(store, offset_s=200)
    store.finish(done.id, overall_score=90.0)
    older_open = _start(store, offset_s=0)
    newer_open = _start(store, offset_s=100)
    _start(store, scenario="other", offset_s=300)
    _start(store, user="someone-else", offset_s=400)
    assert store.latest_open("url-shortener", "local").id == newer_open.id
    store.finish(newer_open.id, end_reason="abandoned")
    assert store.latest_open("url-shortener", "local").id == older_open.id
    store.finish(older_open.id, end_reason="submitted", overall_score=10.0)
    assert store.latest_open("url-shortener", "local") is None


def test_set_feedback_keeps_the_rule_report(store):
    record = _start(store)
    store.finish(record.id, report=REPORT, overall_score=72.5, category_scores={"caching": 60.0})
    usage = {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500}
    store.set_feedback(record.id, feedback={"summary": "Good caching."}, grader="llm:gpt-4o-mini",
                       token_usage=usage)
    got = store.get(record.id)
    assert got.feedback == {"summary": "Good caching."}
    assert got.grader == "llm:gpt-4o-mini" and got.token_usage == usage
    assert got.report == REPORT and got.overall_score == 72.5


def test_unknown_attempt_id_names_the_id(store):
    missing = "00000000-0000-4000-8000-000000000000"
    for call in (
        lambda: store.get(missing),
        lambda: store.save_work(missing, notes={"a": "b"}),
        lambda: store.finish(missing, overall_score=1.0),
        lambda: store.set_feedback(missing, feedback="x", grader="llm:x"),
        lambda: store.delete(missing),
    ):
        with pytest.raises(StoreError, match=f"no attempt with id {missing}"):
            call()
    with pytest.raises(StoreError, match="not-a-uuid"):
        store.get("not-a-uuid")


def test_delete_removes_only_that_attempt(store):
    gone, kept = _graded(store, 1.0), _graded(store, 2.0, offset_s=1)
    store.delete(gone.id)
    assert [r.id for r in store.list_attempts()] == [kept.id]


def test_bad_values_are_refused_with_a_store_error(store):
    with pytest.raises(StoreError, match="mode"):
        _start(store, mode="exam")
    with pytest.raises(StoreError, match="no timezone"):
        store.start_attempt("s", "h", started_at=datetime(2025, 1, 1), deadline=datetime(2025, 1, 2))
    record = _start(store)
    with pytest.raises(StoreError, match="end_reason"):
        store.finish(record.id, end_reason="gave_up")
    with pytest.raises(StoreError, match="overall_score"):
        store.finish(record.id, overall_score=float("nan"))
    with pytest.raises(StoreError, match="estimates"):
        store.save_work(record.id, estimates={"qps": "lots"})
    with pytest.raises(StoreError, match=f"{record.id}.*already exists"):
        _start(store, attempt_id=record.id)
    assert store.get(record.id).ended_at is None  # nothing half-written
    assert store.count() == 1


def test_times_in_other_timezones_are_stored_as_the_same_instant(store):
    cest = timezone(timedelta(hours=2))
    local = datetime(2025, 6, 1, 12, 0, tzinfo=cest)
    record = store.start_attempt("s", "h", started_at=local, deadline=local + timedelta(hours=1))
    got = store.get(record.id)
    assert got.started_at == local and got.started_at.utcoffset() == timedelta(0)
    assert got.started_at.hour == 10


# -- listing and progress -----------------------------------------------------------


def test_list_attempts_newest_first_with_filters(store):
    a = _graded(store, 10.0, offset_s=0)
    b = _graded(store, 20.0, offset_s=3600, scenario="feed-ranking")
    c = _graded(store, 30.0, offset_s=7200, user="alice")
    d = _start(store, offset_s=10800)
    assert [r.id for r in store.list_attempts()] == [d.id, c.id, b.id, a.id]
    assert [r.id for r in store.list_attempts(scenario_id="feed-ranking")] == [b.id]
    assert [r.id for r in store.list_attempts(user="local")] == [d.id, b.id, a.id]
    since, until = T0 + timedelta(seconds=3600), T0 + timedelta(seconds=10800)
    assert [r.id for r in store.list_attempts(since=since, until=until)] == [c.id, b.id]
    assert [r.id for r in store.list_attempts(limit=2)] == [d.id, c.id]
    assert [r.id for r in store.list_attempts(finished=False)] == [d.id]


def test_summary_listing_skips_the_large_columns(store):
    full = _graded(store, 42.0)
    [summary] = store.list_attempts(columns="summary")
    assert type(summary) is AttemptSummary
    assert not hasattr(summary, "design") and not hasattr(summary, "report")
    assert summary.overall_score == 42.0 and summary.category_scores == full.category_scores
    assert summary.id == full.id and summary.started_at == full.started_at


def test_best_and_latest_per_scenario(store):
    _graded(store, 60.0, offset_s=0)
    _graded(store, 80.0, offset_s=100)
    _graded(store, 70.0, offset_s=200)
    _start(store, offset_s=300)  # open: not scored, not counted
    _graded(store, 55.0, scenario="feed-ranking", offset_s=50)
    _graded(store, 99.0, user="alice", offset_s=500)
    assert store.best_and_latest(user="local") == {
        "url-shortener": {"best": 80.0, "latest": 70.0, "attempts": 3},
        "feed-ranking": {"best": 55.0, "latest": 55.0, "attempts": 1},
    }
    everyone = store.best_and_latest()
    assert everyone["url-shortener"] == {"best": 99.0, "latest": 99.0, "attempts": 4}


# -- export and import ---------------------------------------------------------------


def _populate(store: Store) -> list[AttemptRecord]:
    _graded(store, 72.5, offset_s=0, notes={"requirements": "short links", "tradeoffs": "ünïcode ✓"},
            estimates={"qps": 1200.5, "storage_tb": None}, phase_timings={"design": 600.25})
    _graded(store, 40.0, offset_s=60, scenario="feed-ranking", mode="interview", user="alice")
    fed = _graded(store, 88.0, offset_s=120)
    store.set_feedback(fed.id, feedback={"summary": "ok", "items": [1, 2]}, grader="llm:gpt-4o-mini",
                       token_usage={"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15})
    opened = _start(store, offset_s=180)
    store.save_work(opened.id, design=DESIGN, notes={"requirements": "draft"})
    return store.list_attempts()


def test_json_round_trip_into_an_empty_database(store, tmp_path):
    originals = _populate(store)
    document = export_json(originals)
    parsed = json.loads(document)
    assert parsed["format"] == "ml-sd-simulator-attempts" and parsed["version"] == 1
    assert len(parsed["attempts"]) == 4

    with Store(f"sqlite:///{tmp_path / 'imported.sqlite'}") as other:
        assert other.import_json(document) == (4, 0)
        assert other.list_attempts() == originals  # every field, every score
        assert other.best_and_latest() == store.best_and_latest()
        assert other.import_json(document) == (0, 4)
        assert other.count() == 4
    # and back into the original (same backend): nothing new
    assert store.import_json(document) == (0, 4)
    assert store.count() == 4


def test_the_fast_store_export_equals_the_record_export(store):
    originals = _populate(store)
    assert json.loads(store.export_json()) == json.loads(export_json(originals))
    only_alice = json.loads(store.export_json(user="alice"))["attempts"]
    assert [a["user"] for a in only_alice] == ["alice"]
    empty = json.loads(store.export_json(scenario_id="no-such-scenario"))
    assert empty == {"format": "ml-sd-simulator-attempts", "version": 1, "attempts": []}


def test_importing_into_the_parametrised_backend(store):
    source = Store("sqlite://")  # in-memory source
    try:
        originals = _populate(source)
    finally:
        source.close()
    document = export_json(originals)
    assert store.import_json(document.encode("utf-8")) == (4, 0)
    assert store.list_attempts() == originals
    assert store.import_json(document) == (0, 4)


def test_a_bad_import_file_is_refused_and_nothing_is_written(store):
    with Store("sqlite://") as source:
        good = json.loads(export_json(_populate(source)))
    with pytest.raises(StoreError, match="not valid JSON"):
        store.import_json("{not json")
    with pytest.raises(StoreError, match="format"):
        store.import_json(json.dumps({**good, "format": "something-else"}))
    broken = json.loads(json.dumps(good))
    del broken["attempts"][1]["scenario_id"]
    with pytest.raises(StoreError, match=r"attempt #1\b.*scenario_id"):
        store.import_json(json.dumps(broken))
    bad_time = json.loads(json.dumps(good))
    bad_time["attempts"][2]["started_at"] = "yesterday"
    with pytest.raises(StoreError, match=r"attempt #2 .*started_at"):
        store.import_json(json.dumps(bad_time))
    assert store.count() == 0


def _csv_rows(text_: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text_)))


def test_csv_has_one_column_per_category_and_the_summary_fields(store):
    _graded(store, 60.0, offset_s=0)  # categories caching, data
    other = store.add_graded("feed-ranking", "h", design=DESIGN, report=None, overall_score=50.0,
                             category_scores={"Model Serving": 40.0}, started_at=T0,
                             ended_at=T0 + timedelta(seconds=90))
    _start(store, offset_s=500)
    text_ = export_csv(store.list_attempts(columns="summary"))
    header = next(csv.reader(io.StringIO(text_)))
    assert header == ["id", "scenario", "user", "started_at", "ended_at", "duration_s", "end_reason",
                      "mode", "overall", "cat_caching", "cat_data", "cat_model_serving", "notes"]
    rows = {r["id"]: r for r in _csv_rows(text_)}
    assert len(rows) == 3
    row = rows[other.id]
    assert row["scenario"] == "feed-ranking" and row["overall"] == "50"
    assert row["duration_s"] == "90" and row["end_reason"] == "submitted"
    assert row["cat_model_serving"] == "40" and row["cat_caching"] == ""
    assert export_csv(store.list_attempts()) == text_  # full records give the same CSV


def test_csv_neutralises_formulas_and_cuts_notes(store):
    formula = _start(store, notes={"requirements": '=HYPERLINK("http://evil.example","click")'},
                     user="@admin")
    long = _start(store, offset_s=1, notes={"requirements": "x" * 800, "tradeoffs": "y" * 800})
    plus = _start(store, offset_s=2, scenario="-scenario", notes={"a": "+1 cmd", "b": "fine"})
    rows = {r["id"]: r for r in _csv_rows(export_csv(store.list_attempts()))}
    assert rows[formula.id]["notes"].startswith("'=HYPERLINK(")
    assert rows[formula.id]["user"] == "'@admin"
    assert rows[plus.id]["scenario"] == "'-scenario" and rows[plus.id]["notes"].startswith("'+1 cmd")
    assert "fine" in rows[plus.id]["notes"]  # every notes field is included
    assert len(rows[long.id]["notes"]) == 1000
    assert rows[long.id]["notes"].startswith("x" * 800) and rows[long.id]["notes"].endswith("y")


def test_export_json_needs_full_records(store):
    _graded(store, 1.0)
    with pytest.raises(StoreError, match="columns='full'"):
        export_json(store.list_attempts(columns="summary"))
