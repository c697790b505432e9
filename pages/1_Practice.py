"""Practice: one scenario, a 45-minute clock, the design on a canvas or as text, checks, submit, result."""
from __future__ import annotations

import streamlit as st

from simulator.errors import SimulatorError
from simulator.grading.rubric import evaluate
from simulator.model import catalog
from simulator.model.canvas import new_node_id
from simulator.model.design import DesignError, Edge, Node, design_from_dict
from simulator.model.notation import parse_dsl, to_dsl
from simulator.model.render import to_dot
from simulator.sessions.attempts import Attempts, Work, resume_work
from simulator.sessions.clock import clock, expired, phase_status, remaining
from simulator.store.records import AttemptRecord
from ui import state
from ui.canvas import canvas_editor
from ui.common import current_user, library, store
from ui.frame import page_setup
from ui.report import render_checks, render_scores
from ui.results import render_result
from ui.simulate_panel import simulate_panel

page_setup("Practice")

ss = st.session_state
lib = library()
db = store()
attempts = Attempts(db)

# ---------------------------------------------------------------------------
# which scenario, which attempt (the URL keeps both, so a reload resumes)
# ---------------------------------------------------------------------------
sid = ss.get(state.PRACTICE_SCENARIO) or st.query_params.get("scenario")
if sid not in lib.scenarios:
    st.title("Practice")
    if sid:
        st.warning(f"Unknown scenario '{sid}'. Pick one below.")
    choice = st.selectbox("Scenario", list(lib.scenarios), format_func=lambda s: lib.scenarios[s].spec.title)
    if st.button("Open scenario", type="primary"):
        ss[state.PRACTICE_SCENARIO] = choice
        st.rerun()
    st.stop()

scenario, rubric = lib.get(sid)
spec = scenario.spec
st.query_params["scenario"] = sid
attempt = attempts.resume(sid, current_user(), ss.get(state.ATTEMPT_ID) or st.query_params.get("attempt"))


def load_into_session(record: AttemptRecord) -> None:
    """Put a stored attempt's work into the session (on first view or after a reload)."""
    resumed = resume_work(record, spec)
    if resumed.problem:
        st.warning(resumed.problem)
    work = resumed.work
    ss[state.ATTEMPT_ID] = record.id
    ss[state.DESIGN] = work.design
    ss[state.VERSION] += 1
    ss[state.NOTES_REQUIREMENTS] = work.notes["requirements"]
    ss[state.NOTES_TRADEOFFS] = work.notes["tradeoffs"]
    for est_id, value in work.estimates.items():
        ss[state.estimate_key(est_id)] = value
    ss[state.PHASE_TIMINGS] = work.phase_timings
    ss[state.PHASE] = work.phase
    ss[state.LOADED_ATTEMPT] = record.id


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
            record = attempts.start(scenario, rubric, user=current_user(), mode=mode,
                                    from_skeleton=start_from == "small skeleton")
            ss.pop(state.LOADED_ATTEMPT, None)
            ss[state.ATTEMPT_ID] = record.id
            st.query_params["attempt"] = record.id
            st.rerun()
    st.stop()

st.query_params["attempt"] = attempt.id
# Streamlit drops the state of widgets a run did not draw (a visit to another page): reload the
# notes, estimates and text from the store then, or they would show empty and autosave would wipe them.
if ss.get(state.LOADED_ATTEMPT) != attempt.id or (not attempt.finished and state.NOTES_REQUIREMENTS not in ss):
    load_into_session(attempt)


def work() -> Work:
    """The work as the session holds it now."""
    return Work(design=ss[state.DESIGN],
                notes={"requirements": ss.get(state.NOTES_REQUIREMENTS) or "",
                       "tradeoffs": ss.get(state.NOTES_TRADEOFFS) or ""},
                estimates={e.id: ss.get(state.estimate_key(e.id)) for e in spec.estimates},
                phase_timings=ss[state.PHASE_TIMINGS], phase=ss[state.PHASE])


def autosave() -> None:
    """Every change lands in the store at once: a reload or a second tab sees it."""
    try:
        attempts.autosave(attempt.id, work())
    except SimulatorError as exc:
        st.error(f"Could not save your work: {exc}")


def change_design(design, *, rebuild: bool = True) -> None:
    design.layout = {**ss[state.DESIGN].layout, **design.layout}
    ss[state.DESIGN] = design
    if rebuild:
        ss[state.VERSION] += 1
    autosave()


# ---------------------------------------------------------------------------
# finished: the result view (the design is locked)
# ---------------------------------------------------------------------------
if attempt.finished:
    render_result(db.get(attempt.id), scenario, rubric, db=db, auto_feedback=True)
    if st.button("Practise this scenario again", type="primary"):
        for key in (state.ATTEMPT_ID, state.LOADED_ATTEMPT, state.DESIGN):
            ss.pop(key, None)
        del st.query_params["attempt"]
        st.rerun()
    st.stop()

if attempts.submit_if_expired(attempt, scenario, rubric, work()) is not None:
    st.rerun()

# ---------------------------------------------------------------------------
# the session
# ---------------------------------------------------------------------------
practice_mode = attempt.mode == "practice"
st.title(spec.title)


@st.fragment(run_every=1)
def timer_panel() -> None:
    now = attempts.clock()
    if expired(attempt.deadline, now):
        st.rerun()  # the whole page: it submits and locks
    left = remaining(attempt.deadline, now)
    status = phase_status(spec.phases, ss[state.PHASE], ss[state.PHASE_TIMINGS], attempt.started_at, now)
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
if bar[0].button("Next phase", disabled=ss[state.PHASE] >= len(spec.phases) - 1):
    try:
        moved = attempts.next_phase(attempt, scenario, work())
    except SimulatorError as exc:
        st.error(f"Could not save your work: {exc}")
    else:
        ss[state.PHASE_TIMINGS], ss[state.PHASE] = moved.phase_timings, moved.phase
        st.rerun()
check_clicked = bar[1].button("Check design", disabled=not practice_mode,
                              help=None if practice_mode else "In interview mode checks are shown after you submit")
if bar[2].button("Submit", type="primary"):
    attempts.submit(attempt, scenario, rubric, work())
    st.rerun()
bar[3].caption(f"Mode: **{attempt.mode}** · autosaved · attempt `{attempt.id[:8]}`")

with st.expander("Brief, requirements and scale", expanded=not ss[state.DESIGN].nodes):
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

design = ss[state.DESIGN]
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
        edit = canvas_editor(design, version=ss[state.VERSION], highlight=highlight)
        if edit.design is not None:
            change_design(edit.design, rebuild=edit.structural)
            for message in edit.messages:
                st.toast(message)
            if edit.structural:
                st.rerun()
        design = ss[state.DESIGN]
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
            ss[state.DESIGN] = tidy
            ss[state.VERSION] += 1
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
    if ss.get(state.DSL_VERSION) != ss[state.VERSION]:
        ss[state.DSL_TEXT] = to_dsl(ss[state.DESIGN])
        ss[state.DSL_VERSION] = ss[state.VERSION]
        ss.pop(state.DSL_ERRORS, None)

    def apply_text() -> None:
        try:
            parsed = parse_dsl(ss[state.DSL_TEXT])
        except DesignError as exc:
            ss[state.DSL_ERRORS] = [str(p) for p in exc.problems]
            return
        ss.pop(state.DSL_ERRORS, None)
        change_design(parsed)
        ss[state.DSL_VERSION] = ss[state.VERSION]   # the text is the source of this change: keep it as typed

    st.text_area("Design as text", key=state.DSL_TEXT, height=360, on_change=apply_text,
                 help="`id: kind [xN] [autoscale] [\"label\"]` declares a component; `a -> b`, `a -async-> b`, "
                      "`a -fallback-> b` connect. Undeclared ids that are kinds (client, redis, llm) are created.")
    st.button("Apply text", on_click=apply_text)
    for err in ss.get(state.DSL_ERRORS, []):
        st.error(err)

# --- notes -----------------------------------------------------------------
with notes_tab:
    st.text_area("Requirements and assumptions", key=state.NOTES_REQUIREMENTS, height=150, on_change=autosave)
    st.text_area("Trade-offs", key=state.NOTES_TRADEOFFS, height=150, on_change=autosave)
    if spec.estimates:
        st.markdown("**Capacity estimates** (graded against the reference within the stated tolerance)")
        cols = st.columns(len(spec.estimates))
        for col, est in zip(cols, spec.estimates, strict=True):
            col.number_input(f"{est.label} ({est.unit})", key=state.estimate_key(est.id), value=None, min_value=0.0,
                             step=1.0, format="%g", on_change=autosave)

# --- diagram and live checks --------------------------------------------------
with st.expander("Simulate traffic and failures", icon=":material/speed:"):
    simulate_panel(ss[state.DESIGN], scenario, key="practice-sim")
st.subheader("Diagram", anchor=False)
design = ss[state.DESIGN]
if design.nodes:
    # a small design drawn at full width has huge boxes: let it take its natural size
    st.graphviz_chart(to_dot(design, highlight=highlight), width="stretch" if len(design.nodes) > 8 else "content")
else:
    st.caption("Add components on the canvas or as text; the diagram appears here.")

if practice_mode:
    st.subheader("Checks", anchor=False)
    if check_clicked:
        report = evaluate(ss[state.DESIGN], rubric, scenario.peak_traffic)
    render_scores(report.to_dict())
    render_checks(report.to_dict(), show_passed=True)
else:
    st.info("Interview mode: the rubric stays hidden until you submit.")
