"""Practice: one scenario, a 45-minute clock, the design on a canvas or as text, checks, submit, result."""
from __future__ import annotations

import streamlit as st

from simulator.model import catalog
from simulator.model.design import DesignError, Edge, Node, design_from_dict
from simulator.model.notation import parse_dsl, to_dsl
from simulator.model.canvas import new_node_id
from simulator.errors import SimulatorError
from simulator.model.render import to_dot
from simulator.grading.rubric import evaluate
from simulator.model.scenario import estimate_grades
from simulator.sessions.clock import (book_phase, clock, deadline_for, expired, phase_status, remaining, utcnow)
from ui.canvas import canvas_editor
from ui.common import current_user, library, page_setup, store
from ui.report import render_checks, render_scores
from ui.results import render_result
from ui.simulate_panel import simulate_panel

page_setup("Practice")
ss = st.session_state
lib = library()
db = store()

# ---------------------------------------------------------------------------
# which scenario, which attempt (the URL keeps both, so a reload resumes)
# ---------------------------------------------------------------------------
sid = ss.get("practice_scenario") or st.query_params.get("scenario")
if sid not in lib.scenarios:
    st.title("Practice")
    if sid:
        st.warning(f"Unknown scenario '{sid}'. Pick one below.")
    choice = st.selectbox("Scenario", list(lib.scenarios), format_func=lambda s: lib.scenarios[s].spec.title)
    if st.button("Open scenario", type="primary"):
        ss["practice_scenario"] = choice
        st.rerun()
    st.stop()

scenario, rubric = lib.get(sid)
spec = scenario.spec
st.query_params["scenario"] = sid

attempt_id = ss.get("attempt_id") or st.query_params.get("attempt")
attempt = None
if attempt_id:
    try:
        attempt = db.get(attempt_id)
    except SimulatorError:
        attempt = None
    if attempt is not None and attempt.scenario_id != sid:
        attempt = None
if attempt is None:
    attempt = db.latest_open(sid, current_user())


def load_into_session(record) -> None:
    """Put a stored attempt's work into the session (on first view or after a reload)."""
    try:
        design = design_from_dict(record.design or {})
    except DesignError as exc:   # an old or hand-edited row: show what can be shown, never crash
        st.warning(f"The saved design could not be read in full: {exc}")
        design = parse_dsl("")
    ss["attempt_id"] = record.id
    ss["design"] = design
    ss["version"] = ss.get("version", 0) + 1
    ss["notes_requirements"] = record.notes.get("requirements", "")
    ss["notes_tradeoffs"] = record.notes.get("tradeoffs", "")
    for est in spec.estimates:
        value = record.estimates.get(est.id)
        ss[f"est_{est.id}"] = float(value) if value is not None else None
    ss["phase_timings"] = dict(record.phase_timings)
    ss["phase"] = len([p for p in spec.phases if p.name in record.phase_timings])
    ss["loaded_attempt"] = record.id


# ---------------------------------------------------------------------------
# start screen
# ---------------------------------------------------------------------------
if attempt is None:
    st.title(spec.title)
    st.markdown(spec.brief)
    with st.container(border=True):
        st.subheader("Start a 45-minute session", anchor=False)
        mode = st.radio("Mode", ["practice", "interview"], horizontal=True,
                        captions=["checks visible while you draw", "checks hidden until you submit"])
        start_from = st.radio("Start from", ["blank canvas", "small skeleton"], horizontal=True,
                              disabled=not spec.skeleton)
        if st.button("Start the clock", type="primary"):
            now = utcnow()
            design = parse_dsl(spec.skeleton) if (start_from == "small skeleton" and spec.skeleton) else parse_dsl("")
            record = db.start_attempt(sid, scenario.content_hash(rubric), mode=mode, user=current_user(),
                                      started_at=now, deadline=deadline_for(now, spec.duration_minutes),
                                      design=design.to_dict())
            ss.pop("loaded_attempt", None)
            ss["attempt_id"] = record.id
            st.query_params["attempt"] = record.id
            st.rerun()
    st.stop()

st.query_params["attempt"] = attempt.id
# Streamlit drops the state of widgets a run did not draw (a visit to another page): reload the
# notes, estimates and text from the store then, or they would show empty and autosave would wipe them.
if ss.get("loaded_attempt") != attempt.id or (not attempt.finished and "notes_requirements" not in ss):
    load_into_session(attempt)


def notes() -> dict[str, str]:
    return {"requirements": ss.get("notes_requirements") or "", "tradeoffs": ss.get("notes_tradeoffs") or ""}


def estimates() -> dict[str, float | None]:
    return {e.id: ss.get(f"est_{e.id}") for e in spec.estimates}


def autosave() -> None:
    """Every change lands in the store at once: a reload or a second tab sees it."""
    try:
        db.save_work(attempt.id, design=ss["design"].to_dict(), notes=notes(), estimates=estimates(),
                     phase_timings=ss.get("phase_timings", {}))
    except SimulatorError as exc:
        st.error(f"Could not save your work: {exc}")


def change_design(design, *, rebuild: bool = True) -> None:
    design.layout = {**ss["design"].layout, **design.layout}
    ss["design"] = design
    if rebuild:
        ss["version"] += 1
    autosave()


def submit(reason: str) -> None:
    now = utcnow()
    design = ss["design"]
    timings = book_phase(spec.phases, ss.get("phase", 0), ss.get("phase_timings", {}), attempt.started_at,
                         min(now, attempt.deadline))
    report = evaluate(design, rubric, scenario.peak_traffic)
    data = report.to_dict()
    data["estimates"] = estimate_grades(scenario, estimates())
    db.finish(attempt.id, end_reason=reason, ended_at=min(now, attempt.deadline), report=data,
              overall_score=report.score, category_scores=report.category_scores(),
              grader="rules", design=design.to_dict(), notes=notes(), estimates=estimates(), phase_timings=timings)


# ---------------------------------------------------------------------------
# finished: the result view (the design is locked)
# ---------------------------------------------------------------------------
if attempt.finished:
    render_result(db.get(attempt.id), scenario, rubric, db=db, auto_feedback=True)
    if st.button("Practise this scenario again", type="primary"):
        for key in ("attempt_id", "loaded_attempt", "design"):
            ss.pop(key, None)
        del st.query_params["attempt"]
        st.rerun()
    st.stop()

if expired(attempt.deadline, utcnow()):
    submit("timed_out")
    st.rerun()

# ---------------------------------------------------------------------------
# the session
# ---------------------------------------------------------------------------
practice_mode = attempt.mode == "practice"
st.title(spec.title)


@st.fragment(run_every=1)
def timer_panel() -> None:
    now = utcnow()
    if expired(attempt.deadline, now):
        st.rerun()  # the whole page: it submits and locks
    left = remaining(attempt.deadline, now)
    status = phase_status(spec.phases, ss.get("phase", 0), ss.get("phase_timings", {}), attempt.started_at, now)
    cols = st.columns([1, 4])
    cols[0].metric("Time left", clock(left))
    cols[1].markdown(f"**Phase {status.index + 1} of {len(spec.phases)}: {status.name}** · "
                     f"{clock(status.spent_s)} of {clock(status.budget_s)}  \n{spec.phases[status.index].goal}")
    cols[1].progress(min(1.0, status.spent_s / max(1, status.budget_s)))
    if status.over:
        st.warning(f"'{status.name}' is {clock(status.over_s)} over its {spec.phases[status.index].minutes}-minute "
                   "budget: wrap it up and move on.", icon=":material/schedule:")
    elif status.planned_index > status.index:
        st.info(f"By the plan you would be in '{spec.phases[status.planned_index].name}' now.")


timer_panel()

bar = st.columns([1, 1, 1, 3])
if bar[0].button("Next phase", disabled=ss.get("phase", 0) >= len(spec.phases) - 1):
    ss["phase_timings"] = book_phase(spec.phases, ss.get("phase", 0), ss.get("phase_timings", {}),
                                     attempt.started_at, utcnow())
    ss["phase"] = ss.get("phase", 0) + 1
    autosave()
    st.rerun()
check_clicked = bar[1].button("Check design", disabled=not practice_mode,
                              help=None if practice_mode else "In interview mode checks are shown after you submit")
if bar[2].button("Submit", type="primary"):
    submit("submitted")
    st.rerun()
bar[3].caption(f"Mode: **{attempt.mode}** · autosaved · attempt `{attempt.id[:8]}`")

with st.expander("Brief, requirements and scale", expanded=not ss["design"].nodes):
    st.markdown(spec.brief)
    left, right = st.columns(2)
    left.markdown("**Functional requirements**\n" + "\n".join(f"- {r}" for r in spec.requirements.functional))
    right.markdown("**Non-functional requirements**\n"
                   + "\n".join(f"- {r}" for r in spec.requirements.non_functional))
    scale = spec.scale.model_dump()
    st.markdown("**Scale**\n" + "\n".join(f"- *{k.replace('_', ' ')}*: {v:,}" if isinstance(v, (int, float))
                                          else f"- *{k.replace('_', ' ')}*: {v}" for k, v in scale.items()))
    st.markdown("**Phases**\n" + "\n".join(f"{i + 1}. {p.name} ({p.minutes} min): {p.goal}"
                                           for i, p in enumerate(spec.phases)))
    if practice_mode:
        st.markdown("**Hints**\n" + "\n".join(f"- {h}" for h in spec.hints))

design = ss["design"]
report = evaluate(design, rubric, scenario.peak_traffic) if practice_mode else None
highlight = report.failing_nodes() if report else []

canvas_tab, text_tab, notes_tab = st.tabs(["Canvas", "Text", "Notes and estimates"])

# --- canvas ----------------------------------------------------------------
with canvas_tab:
    palette, board = st.columns([1, 3])
    with palette:
        with st.form("palette", clear_on_submit=True, border=True):
            st.markdown("**Add a component**")
            kinds = [k for group in catalog.kinds_by_group().values() for k in group]
            kind = st.selectbox("Kind", [k.name for k in kinds], index=None, placeholder="Search kinds...",
                                format_func=lambda k: f"{catalog.KINDS[k].display} · {catalog.KINDS[k].group}")
            new_id = st.text_input("Id (optional)", placeholder="e.g. ranker")
            label = st.text_input("Label (optional)")
            replicas = st.number_input("Replicas", min_value=1, max_value=1000, value=1, step=1)
            autoscale = st.checkbox("Autoscale")
            if st.form_submit_button("Add", type="primary", width="stretch"):
                if kind is None:
                    st.error("Pick a kind first.")
                else:
                    node_id = (new_id or "").strip() or new_node_id(design, kind)
                    candidate = design.copy()
                    candidate.nodes.append(Node(node_id, kind, label.strip() or None, int(replicas), autoscale))
                    try:
                        change_design(design_from_dict(candidate.to_dict()))
                        st.rerun()
                    except DesignError as exc:
                        st.error(str(exc))
        with st.form("connect", clear_on_submit=False, border=True):
            st.markdown("**Connect**")
            ids = design.ids
            source = st.selectbox("From", ids, index=None)
            target = st.selectbox("To", ids, index=None)
            edge_kind = st.selectbox("Arrow", ["sync", "async", "fallback", "replication"])
            if st.form_submit_button("Connect", width="stretch"):
                candidate = design.copy()
                candidate.edges.append(Edge(source or "", target or "", edge_kind))
                try:
                    change_design(design_from_dict(candidate.to_dict()))
                    st.rerun()
                except DesignError as exc:
                    st.error("; ".join(p.message for p in exc.problems))
    with board:
        edit = canvas_editor(design, version=ss["version"], highlight=highlight)
        if edit.design is not None:
            change_design(edit.design, rebuild=edit.structural)
            for message in edit.messages:
                st.toast(message)
            if edit.structural:
                st.rerun()
        design = ss["design"]
        st.caption("Drag from a node's right handle to another node's left handle to connect; select a node "
                   "or an arrow to edit or delete it below. Red outlines mark components that failing checks point at.")
        selectable = design.ids + [f"{e.source}->{e.target}" for e in design.edges]
        selected = edit.selected if edit.selected in selectable else None
        target_id = st.selectbox("Edit", selectable, index=selectable.index(selected) if selected else None,
                                 placeholder="Choose a component or an arrow to edit")
        if target_id in design.ids:
            node = design.node(target_id)
            with st.form(f"edit-node-{target_id}"):
                c1, c2, c3 = st.columns([3, 1, 1])
                new_label = c1.text_input("Label", node.label or "")
                new_replicas = c2.number_input("Replicas", 1, 1000, node.replicas)
                new_auto = c3.checkbox("Autoscale", node.autoscale)
                save, delete = st.columns(2)
                if save.form_submit_button("Save", width="stretch"):
                    changed = design.copy()
                    n = changed.node(target_id)
                    n.label, n.replicas, n.autoscale = new_label.strip() or None, int(new_replicas), new_auto
                    change_design(changed)
                    st.rerun()
                if delete.form_submit_button("Delete component", width="stretch"):
                    changed = design.copy()
                    changed.nodes = [n for n in changed.nodes if n.id != target_id]
                    changed.edges = [e for e in changed.edges if target_id not in (e.source, e.target)]
                    change_design(changed)
                    st.rerun()
        elif target_id:
            src, dst = target_id.split("->", 1)
            edge = next(e for e in design.edges if (e.source, e.target) == (src, dst))
            with st.form(f"edit-edge-{target_id}"):
                kinds_ = ["sync", "async", "fallback", "replication"]
                new_kind = st.selectbox("Arrow kind", kinds_, index=kinds_.index(edge.kind))
                new_edge_label = st.text_input("Label", edge.label or "")
                save, delete = st.columns(2)
                if save.form_submit_button("Save", width="stretch"):
                    changed = design.copy()
                    for e in changed.edges:
                        if (e.source, e.target) == (src, dst):
                            e.kind, e.label = new_kind, new_edge_label.strip() or None
                    change_design(changed)
                    st.rerun()
                if delete.form_submit_button("Delete arrow", width="stretch"):
                    changed = design.copy()
                    changed.edges = [e for e in changed.edges if (e.source, e.target) != (src, dst)]
                    change_design(changed)
                    st.rerun()
        reset_cols = st.columns(3)
        if reset_cols[2].button("Tidy the layout", help="Place every component again, callers left of callees"):
            tidy = design.copy()
            tidy.layout = {}
            ss["design"] = tidy
            ss["version"] += 1
            autosave()
            st.rerun()
        if spec.skeleton and reset_cols[0].button("Replace with the skeleton"):
            change_design(parse_dsl(spec.skeleton))
            st.rerun()
        if reset_cols[1].button("Clear the canvas"):
            change_design(parse_dsl(""))
            st.rerun()

# --- text ------------------------------------------------------------------
with text_tab:
    if ss.get("dsl_version") != ss["version"]:
        ss["dsl_text"] = to_dsl(ss["design"])
        ss["dsl_version"] = ss["version"]
        ss.pop("dsl_errors", None)

    def apply_text() -> None:
        try:
            parsed = parse_dsl(ss["dsl_text"])
        except DesignError as exc:
            ss["dsl_errors"] = [str(p) for p in exc.problems]
            return
        ss.pop("dsl_errors", None)
        change_design(parsed)
        ss["dsl_version"] = ss["version"]   # the text is the source of this change: keep it as typed

    st.text_area("Design as text", key="dsl_text", height=360, on_change=apply_text,
                 help="`id: kind [xN] [autoscale] [\"label\"]` declares a component; `a -> b`, `a -async-> b`, "
                      "`a -fallback-> b` connect. Undeclared ids that are kinds (client, redis, llm) are created.")
    st.button("Apply text", on_click=apply_text)
    for err in ss.get("dsl_errors", []):
        st.error(err)

# --- notes -----------------------------------------------------------------
with notes_tab:
    st.text_area("Requirements and assumptions", key="notes_requirements", height=150, on_change=autosave)
    st.text_area("Trade-offs", key="notes_tradeoffs", height=150, on_change=autosave)
    if spec.estimates:
        st.markdown("**Capacity estimates** (graded against the reference within the stated tolerance)")
        cols = st.columns(len(spec.estimates))
        for col, est in zip(cols, spec.estimates):
            col.number_input(f"{est.label} ({est.unit})", key=f"est_{est.id}", value=None, min_value=0.0,
                             step=1.0, format="%g", on_change=autosave)

# --- diagram and live checks --------------------------------------------------
with st.expander("Simulate traffic and failures", icon=":material/speed:"):
    simulate_panel(ss["design"], scenario, key="practice-sim")
st.subheader("Diagram", anchor=False)
design = ss["design"]
if design.nodes:
    # a small design drawn at full width has huge boxes: let it take its natural size
    st.graphviz_chart(to_dot(design, highlight=highlight), width="stretch" if len(design.nodes) > 8 else "content")
else:
    st.caption("Add components on the canvas or as text; the diagram appears here.")

if practice_mode:
    st.subheader("Checks", anchor=False)
    if check_clicked:
        report = evaluate(ss["design"], rubric, scenario.peak_traffic)
    render_scores(report.to_dict())
    render_checks(report.to_dict(), show_passed=True)
else:
    st.info("Interview mode: the rubric stays hidden until you submit.")
