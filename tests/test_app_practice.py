"""The practice flow in Streamlit's AppTest (no browser).

The canvas (a custom component) and the graphviz diagram are unknown elements
here, so the design is built through the palette form, the Connect form and
the Text tab; the Edit selectbox lists what the canvas would show.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from functools import lru_cache

import pytest
from streamlit.testing.v1 import AppTest

from simulator.errors import StoreError
from simulator.grading.library import load_library
from simulator.model.design import design_from_dict
from simulator.model.notation import parse_dsl
from simulator.sessions.clock import utcnow
from simulator.store.repository import Store
from ui.navigation import HOME, PRACTICE

from . import apptest_helpers as helpers
from .apptest_helpers import button, click, metric, new_app, ok, set_dsl, widget
from .expected_scores import hand_scores

SID = "conversational-ai"
DSL = ("client -> api_gateway -> chat -> redis\nchat: service x3 autoscale\nchat -> llm\n"
       "small: llm\nchat -fallback-> small\n")
# The checks of SID that DSL fails, read off it by hand: no monitoring, alerting or logging node (2 checks),
# no load balancer, no guardrails, no retrieval, no router, no conversation memory and no evaluation loop
# (the whole ML core). The gateway is managed and the model has a fallback model, so nothing on the path
# is a single point of failure. With rubrics/conversational-ai.yaml's points: caching, fallback,
# reliability and security 100, scaling 10 of 15 = 66.7, monitoring and ml_core 0; weighted:
# (12 x 100 + 16 x 100 + 14 x 100 + 6 x 100 + 10 x 66.7) / 100 = 54.7 coverage; on the interview scale
# 13 + 0.87 x 54.7 = 60.6
DSL_FAILS = {"services-report-metrics", "slo-alerting", "answer-quality-monitoring", "balanced-entry",
             "guardrails", "rag-retrieval", "model-routing", "conversation-memory"}
DSL_SCORE, DSL_CATEGORIES = hand_scores(SID, DSL_FAILS)


# ---------------------------------------------------------------------------
# fixtures and helpers
# ---------------------------------------------------------------------------
@pytest.fixture()
def db(db_url) -> Iterator[Store]:
    store = Store(db_url)
    yield store
    store.close()


@lru_cache(maxsize=1)
def spec():
    """The scenario as the app sees it (phases, estimates and skeleton come from its YAML)."""
    return load_library().get(SID)[0].spec


@pytest.fixture()
def app(db_url) -> AppTest:
    return new_app()


def start(at: AppTest, sid: str = SID, mode: str = "practice") -> AppTest:
    return helpers.start(at, sid, mode)


def add_component(at: AppTest, kind: str, node_id: str = "", replicas: int = 1, autoscale: bool = False):
    widget(at, "selectbox", "Kind", "palette").set_value(kind)
    widget(at, "text_input", "Id (optional)", "palette").input(node_id)
    widget(at, "number_input", "Replicas", "palette").set_value(replicas)
    widget(at, "checkbox", "Autoscale", "palette").set_value(autoscale)
    return ok(at.button(key="FormSubmitter:palette-Add").click().run())


def connect(at: AppTest, source: str, target: str, kind: str = "sync") -> AppTest:
    widget(at, "selectbox", "From", "connect").set_value(source)
    widget(at, "selectbox", "To", "connect").set_value(target)
    widget(at, "selectbox", "Arrow", "connect").set_value(kind)
    return ok(at.button(key="FormSubmitter:connect-Connect").click().run())


def edit_options(at: AppTest) -> list[str]:
    return widget(at, "selectbox", "Edit").options


def design_of(at: AppTest):
    return at.session_state["design"]


def edges_of(design) -> set[tuple[str, str, str]]:
    return {(e.source, e.target, e.kind) for e in design.edges}


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def check_expanders(at: AppTest) -> list[str]:
    return [e.label for e in at.expander if "passed)" in e.label]


def open_practice(at: AppTest, **query: str) -> AppTest:
    """Open the Practice page in a fresh session, as a reload of its URL would."""
    for k, v in query.items():
        at.query_params[k] = v
    ok(at.run())
    return ok(at.switch_page(PRACTICE).run())


# ---------------------------------------------------------------------------
# Home
# ---------------------------------------------------------------------------
def test_home_lists_five_scenarios_and_shows_best_score_after_a_submit(app, db):
    ok(app.run())
    assert len([b for b in app.button if b.label == "Start"]) == 5
    titles = [m.value for m in app.markdown if m.value.startswith("#### ")]
    assert len(titles) == 5
    assert texts(app.markdown).count("Not attempted yet") == 5

    start(app)
    set_dsl(app, DSL)
    click(app, "Submit")
    record = db.get(app.session_state["attempt_id"])
    assert record.end_reason == "submitted" and record.overall_score is not None

    ok(app.switch_page(HOME).run())
    assert texts(app.markdown).count("Not attempted yet") == 4
    best = [m for m in texts(app.markdown) if m.startswith("Best **")]
    assert best == [f"Best **{record.overall_score:.0f}** · latest {record.overall_score:.0f} · 1 attempt(s)"]


def test_start_opens_the_scenario_brief_and_the_clock(app, db):
    ok(app.run())
    ok(app.button(key=f"start-{SID}").click().run())
    assert "conversational ai" in app.title[0].value.lower()
    assert widget(app, "radio", "Mode").options == ["practice", "interview"]
    assert db.latest_open(SID) is None           # nothing is stored before the clock starts
    click(app, "Start the clock")
    record = db.latest_open(SID)
    assert record is not None and record.mode == "practice"
    assert app.session_state["attempt_id"] == record.id
    assert app.query_params["scenario"] == SID and app.query_params["attempt"] == record.id
    assert (record.deadline - record.started_at) == timedelta(minutes=45)
    assert metric(app, "Time left") in ("45:00", "44:59")


# ---------------------------------------------------------------------------
# building a design
# ---------------------------------------------------------------------------
def test_palette_and_connect_form_build_a_design(app, db):
    start(app)
    add_component(app, "service", "api", replicas=3, autoscale=True)
    add_component(app, "cache", "")               # no id: one is made from the kind
    add_component(app, "llm", "model")
    assert not app.error
    design = design_of(app)
    assert design.ids == ["api", "cache", "model"]
    api = design.node("api")
    assert (api.kind, api.replicas, api.autoscale) == ("service", 3, True)

    connect(app, "api", "cache")
    connect(app, "api", "model", "async")
    assert edges_of(design_of(app)) == {("api", "cache", "sync"), ("api", "model", "async")}
    assert {"api->cache", "api->model"} <= set(edit_options(app))
    dsl = app.text_area(key="dsl_text").value
    assert "api: service x3 autoscale" in dsl and "api -> cache" in dsl and "api -async-> model" in dsl
    stored = db.get(app.session_state["attempt_id"]).design
    assert {(e["from"], e["to"]) for e in stored["edges"]} == {("api", "cache"), ("api", "model")}


def test_palette_and_connect_refuse_bad_input_with_a_message(app):
    start(app)
    ok(app.button(key="FormSubmitter:palette-Add").click().run())
    assert "Pick a kind first." in texts(app.error)
    add_component(app, "service", "api")
    add_component(app, "cache", "api")             # a second node with the same id
    assert app.error and "api" in app.error[0].value
    assert design_of(app).ids == ["api"]
    connect(app, "api", "api")
    assert app.error
    assert design_of(app).edges == []


def test_text_tab_and_canvas_show_the_same_design(app, db):
    start(app)
    set_dsl(app, DSL)
    assert not app.error
    ids = {"client", "api_gateway", "chat", "redis", "llm", "small"}
    assert set(design_of(app).ids) == ids
    assert ids | {"chat->small", "client->api_gateway"} <= set(edit_options(app))
    assert widget(app, "selectbox", "From", "connect").options == design_of(app).ids
    assert app.text_area(key="dsl_text").value == DSL     # the text stays as typed

    add_component(app, "monitoring", "metrics")
    connect(app, "chat", "metrics", "async")
    dsl = app.text_area(key="dsl_text").value
    assert "metrics: monitoring" in dsl and "chat -async-> metrics" in dsl
    assert parse_dsl(dsl) == design_of(app)
    assert set(db.get(app.session_state["attempt_id"]).design.get("layout", {})) >= ids | {"metrics"}

    # the Apply button takes the text too
    app.text_area(key="dsl_text").set_value("a: service\nb: cache\na -> b\n")
    ok(button(app, "Apply text").click().run())
    assert edges_of(design_of(app)) == {("a", "b", "sync")}
    assert edit_options(app) == ["a", "b", "a->b"]


def test_dsl_errors_name_their_line_and_leave_the_design_alone(app, db):
    start(app)
    set_dsl(app, DSL)
    before = design_of(app)
    set_dsl(app, "api: service\nbad: nokind\napi -> nowhere_special\n")
    errors = texts(app.error)
    assert errors and errors[0].startswith("line 2: ") and "unknown kind 'nokind'" in errors[0]
    assert design_of(app) == before == parse_dsl(DSL)
    assert set(edit_options(app)) >= set(before.ids)
    stored = db.get(app.session_state["attempt_id"]).design
    assert len(stored["nodes"]) == len(before.nodes)
    # the bad text stays for fixing; fixing it clears the error
    assert "nokind" in app.text_area(key="dsl_text").value
    set_dsl(app, "api: service\nbad: cache\napi -> bad\n")
    assert not app.error
    assert edges_of(design_of(app)) == {("api", "bad", "sync")}


def test_edit_form_changes_nodes_and_arrows_and_deletes(app, db):
    start(app)
    set_dsl(app, DSL)

    widget(app, "selectbox", "Edit").set_value("chat")
    ok(app.run())
    form = "edit-node-chat"
    widget(app, "text_input", "Label", form).input("Chat API")
    widget(app, "number_input", "Replicas", form).set_value(5)
    widget(app, "checkbox", "Autoscale", form).set_value(False)
    ok(app.button(key=f"FormSubmitter:{form}-Save").click().run())
    chat = design_of(app).node("chat")
    assert (chat.label, chat.replicas, chat.autoscale) == ("Chat API", 5, False)
    assert 'chat: service x5 "Chat API"' in app.text_area(key="dsl_text").value

    widget(app, "selectbox", "Edit").set_value("chat->llm")
    ok(app.run())
    form = "edit-edge-chat->llm"
    assert widget(app, "selectbox", "Arrow kind", form).value == "sync"
    widget(app, "selectbox", "Arrow kind", form).set_value("fallback")
    ok(app.button(key=f"FormSubmitter:{form}-Save").click().run())
    assert ("chat", "llm", "fallback") in edges_of(design_of(app))
    assert "chat -fallback-> llm" in app.text_area(key="dsl_text").value

    widget(app, "selectbox", "Edit").set_value("small")
    ok(app.run())
    ok(app.button(key="FormSubmitter:edit-node-small-Delete component").click().run())
    design = design_of(app)
    assert "small" not in design.ids
    assert all("small" not in (e.source, e.target) for e in design.edges)
    assert "small" not in edit_options(app) and "chat->small" not in edit_options(app)

    widget(app, "selectbox", "Edit").set_value("chat->redis")
    ok(app.run())
    ok(app.button(key="FormSubmitter:edit-edge-chat->redis-Delete arrow").click().run())
    assert ("chat", "redis") not in {(e.source, e.target) for e in design_of(app).edges}

    stored = design_from_dict(db.get(app.session_state["attempt_id"]).design)
    assert stored == design_of(app)


def test_clear_and_skeleton_buttons(app):
    start(app)
    set_dsl(app, DSL)
    click(app, "Clear the canvas")
    assert design_of(app).nodes == [] and app.text_area(key="dsl_text").value == ""
    click(app, "Replace with the skeleton")
    assert design_of(app) == parse_dsl(spec().skeleton)


# ---------------------------------------------------------------------------
# notes, estimates, phases
# ---------------------------------------------------------------------------
def test_notes_and_estimates_autosave(app, db):
    start(app)
    app.text_area(key="notes_requirements").input("2 M DAU, p95 TTFT 1.5 s")
    app.text_area(key="notes_tradeoffs").input("semantic cache vs freshness")
    app.number_input(key="est_peak_qps").set_value(2500.0)
    ok(app.run())
    record = db.get(app.session_state["attempt_id"])
    assert record.notes == {"requirements": "2 M DAU, p95 TTFT 1.5 s", "tradeoffs": "semantic cache vs freshness"}
    assert record.estimates["peak_qps"] == 2500.0
    assert record.estimates.get("vector_index_gb") is None


def test_work_survives_a_visit_to_another_page(app, db):
    """Streamlit drops the state of widgets a page did not draw; the page reloads it from the store."""
    start(app)
    set_dsl(app, DSL)
    app.text_area(key="notes_requirements").input("my assumptions")
    app.number_input(key="est_peak_qps").set_value(3000.0)
    ok(app.run())
    ok(app.switch_page(HOME).run())
    ok(app.switch_page(PRACTICE).run())
    assert app.text_area(key="notes_requirements").value == "my assumptions"
    assert app.number_input(key="est_peak_qps").value == 3000.0
    assert parse_dsl(app.text_area(key="dsl_text").value) == parse_dsl(DSL)
    add_component(app, "monitoring", "metrics")   # an autosave must not wipe the notes
    record = db.get(app.session_state["attempt_id"])
    assert record.notes["requirements"] == "my assumptions"
    assert record.estimates["peak_qps"] == 3000.0


def test_next_phase_books_the_time_of_the_phase(app, db):
    phases = [p.name for p in spec().phases]
    start(app)
    assert any(m.startswith(f"**Phase 1 of {len(phases)}: {phases[0]}**") for m in texts(app.markdown))
    click(app, "Next phase")
    assert app.session_state["phase"] == 1
    assert any(m.startswith(f"**Phase 2 of {len(phases)}: {phases[1]}**") for m in texts(app.markdown))
    timings = db.get(app.session_state["attempt_id"]).phase_timings
    assert list(timings) == [phases[0]] and 0 <= timings[phases[0]] < 60
    for _ in range(len(phases) - 2):
        click(app, "Next phase")
    assert button(app, "Next phase").disabled        # the last phase
    assert list(db.get(app.session_state["attempt_id"]).phase_timings) == phases[:-1]


# ---------------------------------------------------------------------------
# checks, interview mode, submit
# ---------------------------------------------------------------------------
def test_check_design_shows_grouped_checks_with_evidence_and_hints(app):
    start(app)
    set_dsl(app, DSL)
    assert DSL_SCORE == 60.6
    before = metric(app, "Overall")
    click(app, "Check design")
    assert metric(app, "Overall") == before == "61/100"
    groups = check_expanders(app)
    assert len(groups) == len(DSL_CATEGORIES) == 7
    assert "Caching — 100/100 (2/2 passed)" in groups and "Fallback — 100/100 (2/2 passed)" in groups
    assert "Scaling — 67/100 (2/3 passed)" in groups and "Security and access — 100/100 (1/1 passed)" in groups
    assert any(g.endswith("— 0/100 (0/5 passed)") for g in groups)   # the ML core: nothing of it drawn
    captions = [c for c in texts(app.caption) if c.startswith("Evidence: ")]
    assert len(captions) == 18                       # every check of the rubric, passed or not
    markdown = texts(app.markdown)
    assert any(m.startswith("*Hint:* ") for m in markdown)
    assert any(m.startswith("*Interviewer asks:* ") for m in markdown)
    assert any(":green[:material/check_circle:]" in m for m in markdown)   # passed checks are listed too
    assert any(":red[:material/cancel:]" in m for m in markdown)


def test_interview_mode_hides_the_checks_until_submit(app, db):
    start(app, mode="interview")
    set_dsl(app, DSL)
    assert button(app, "Check design").disabled
    assert not [m for m in app.metric if m.label == "Overall"]
    assert not check_expanders(app)
    assert not [c for c in texts(app.caption) if c.startswith("Evidence: ")]
    assert any("Interview mode" in i for i in texts(app.info))
    assert not any(m.startswith("**Hints**") for m in texts(app.markdown))
    click(app, "Submit")
    assert metric(app, "Overall").endswith("/100")
    assert check_expanders(app)
    assert [c for c in texts(app.caption) if c.startswith("Evidence: ")]
    assert db.get(app.session_state["attempt_id"]).mode == "interview"


def test_submit_shows_the_result_view_and_locks_the_design(app, db):
    start(app)
    set_dsl(app, DSL)
    reference = {e.id: float(e.value) for e in spec().estimates}
    app.number_input(key="est_peak_qps").set_value(reference["peak_qps"])                 # right
    app.number_input(key="est_vector_index_gb").set_value(reference["vector_index_gb"] / 100)   # far off
    app.text_area(key="notes_tradeoffs").input("cache vs cost")
    ok(app.run())
    live = metric(app, "Overall")
    click(app, "Submit")

    record = db.get(app.session_state["attempt_id"])
    assert record.finished and record.end_reason == "submitted" and record.grader == "rules"
    assert metric(app, "Overall") == live == f"{record.overall_score:.0f}/100"
    assert any(c.startswith("Submitted · ") for c in texts(app.caption))
    tabs = [t.label for t in app.tabs]
    assert {"Checks", "Reference design", "Estimates and phases", "Export"} <= set(tabs), tabs
    assert check_expanders(app)
    markdown = texts(app.markdown)
    assert "**Follow-up questions**" in markdown
    follow_ups = markdown[markdown.index("**Follow-up questions**") + 1]
    assert follow_ups.startswith("- ") and follow_ups.count("\n- ") >= 4

    frames = {tuple(df.value.columns): df.value for df in app.dataframe}
    estimates = frames[("Estimate", "Yours", "Reference", "Accepted", "Verdict")]
    labels = {e.id: e.label for e in spec().estimates}
    assert list(estimates["Estimate"]) == list(labels.values())
    verdicts = dict(zip(estimates["Estimate"], estimates["Verdict"], strict=True))
    assert verdicts[labels["peak_qps"]] != verdicts[labels["vector_index_gb"]]   # right vs far off
    phases = frames[("Phase", "Budget", "Spent", "")]
    assert list(phases["Phase"]) == [p.name for p in spec().phases] and phases["Spent"][0] != "—"
    assert "*Tradeoffs*" in markdown

    downloads = [d.proto.label for d in app.get("download_button")]
    assert downloads[:2] == ["Design as YAML", "Design as JSON"]
    assert downloads[2] in ("Diagram as SVG", "Diagram as DOT")

    # locked: no palette, no text editing, no submit
    labels = [b.label for b in app.button]
    assert "Add" not in labels and "Submit" not in labels and "Check design" not in labels
    assert not [t for t in app.text_area if t.key == "dsl_text"]
    assert "Practise this scenario again" in labels
    with pytest.raises(StoreError, match="finished"):
        db.save_work(record.id, notes={"requirements": "late"})

    click(app, "Practise this scenario again")
    assert "Start the clock" in [b.label for b in app.button]


# ---------------------------------------------------------------------------
# the clock: time-out and reload
# ---------------------------------------------------------------------------
def _expired_attempt(db: Store, mode: str = "practice"):
    scenario, rubric = load_library().get(SID)
    started = utcnow() - timedelta(minutes=50)
    return db.start_attempt(SID, scenario.content_hash(rubric), mode=mode, started_at=started,
                            deadline=started + timedelta(minutes=45), design=parse_dsl(DSL).to_dict(),
                            notes={"requirements": "written before the end", "tradeoffs": ""})


@pytest.mark.parametrize("how", ["session", "url"])
def test_time_out_submits_automatically_and_locks(app, db, how):
    record = _expired_attempt(db)
    if how == "session":
        ok(app.run())
        app.session_state["practice_scenario"] = SID
        app.session_state["attempt_id"] = record.id
        ok(app.switch_page(PRACTICE).run())
    else:
        open_practice(app, scenario=SID, attempt=record.id)

    done = db.get(record.id)
    assert done.finished and done.end_reason == "timed_out"
    assert done.ended_at == record.deadline           # booked at the deadline, not when noticed
    assert done.overall_score == DSL_SCORE           # worked out by hand above
    assert done.design["nodes"] == record.design["nodes"]
    assert done.notes["requirements"] == "written before the end"
    assert any(c.startswith("Time ran out: submitted automatically") for c in texts(app.caption))
    assert metric(app, "Overall") == f"{done.overall_score:.0f}/100"
    labels = [b.label for b in app.button]
    assert "Add" not in labels and "Submit" not in labels
    assert not [t for t in app.text_area if t.key == "dsl_text"]


def test_a_fresh_session_with_the_url_resumes_the_open_attempt(app, db):
    start(app)
    set_dsl(app, DSL)
    app.text_area(key="notes_requirements").input("resume me")
    ok(app.run())
    attempt_id = app.session_state["attempt_id"]
    deadline = db.get(attempt_id).deadline

    again = open_practice(new_app(), scenario=SID, attempt=attempt_id)   # a reload: new session, same DB
    assert again.session_state["attempt_id"] == attempt_id
    assert "Start the clock" not in [b.label for b in again.button]
    assert parse_dsl(again.text_area(key="dsl_text").value) == parse_dsl(DSL)
    assert again.text_area(key="notes_requirements").value == "resume me"
    record = db.get(attempt_id)
    assert record.deadline == deadline and not record.finished
    assert metric(again, "Time left") <= metric(app, "Time left")   # mm:ss compares as text
    assert db.count() == 1                                           # no second attempt was started


def test_starting_the_same_scenario_again_resumes_it(app, db):
    start(app)
    set_dsl(app, DSL)
    attempt_id = app.session_state["attempt_id"]

    other = new_app()
    ok(other.run())
    ok(other.button(key=f"start-{SID}").click().run())     # no URL: the open attempt is found by scenario
    assert "Start the clock" not in [b.label for b in other.button]
    assert other.session_state["attempt_id"] == attempt_id
    assert set(design_of(other).ids) == set(parse_dsl(DSL).ids)
    assert db.latest_open(SID).id == attempt_id


def test_an_unknown_scenario_in_the_url_offers_a_choice(app):
    open_practice(app, scenario="no-such-scenario")
    assert any("Unknown scenario 'no-such-scenario'" in w for w in texts(app.warning))
    assert len(widget(app, "selectbox", "Scenario").options) == 5
