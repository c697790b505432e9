"""The result of a finished attempt: scores, every check, follow-ups, estimates, phases, reference diff, exports."""
from __future__ import annotations

import streamlit as st

from simulator.model.compare import compare
from simulator.model.design import Design, DesignError, design_from_dict
from simulator.model.render import to_dot, to_svg
from ui.feedback import feedback_section
from ui.report import render_checks, render_estimates, render_phases, render_scores
from ui.simulate_panel import simulate_panel


def _header(record, spec) -> None:
    """The scenario's title and how the attempt ended, how long it took, its mode and grader."""
    ended = {"submitted": "Submitted", "timed_out": "Time ran out: submitted automatically",
             "abandoned": "Abandoned"}.get(record.end_reason or "", "Finished")
    st.title(spec.title)
    minutes = (record.duration_s or 0) / 60
    st.caption(f"{ended} · {minutes:.0f} min · mode {record.mode} · graded by {record.grader or 'rules'}")


def _saved_design(record) -> Design | None:
    """The attempt's design, or None after showing why it cannot be read."""
    try:
        return design_from_dict(record.design or {})
    except DesignError as exc:
        st.error(f"The saved design cannot be read: {exc}")
        return None


def _failed_checks(report: dict) -> list[dict]:
    return [c for c in report.get("checks", []) if not c["passed"]]


def _checks(record, spec, report: dict) -> None:
    """Every check, the follow-up questions (failed checks' first, then the scenario's), stored feedback."""
    render_checks(report)
    failed = _failed_checks(report)
    st.markdown("**Follow-up questions**")
    questions = [c["follow_up"] for c in failed] + list(spec.follow_ups)
    st.markdown("\n".join(f"- {q}" for q in dict.fromkeys(questions)))
    if record.feedback:
        st.markdown("**Interviewer feedback**")
        st.json(record.feedback, expanded=False)


def _comparison(design: Design, scenario, report: dict) -> None:
    """The design beside the reference (nodes of failed checks highlighted) and what it lacks by kind."""
    failing = sorted({n for c in _failed_checks(report) for n in c.get("nodes", [])})
    left, right = st.columns(2)
    left.markdown("**Your design**")
    if design.nodes:
        left.graphviz_chart(to_dot(design, highlight=failing), width="stretch")
    else:
        left.caption("(empty)")
    right.markdown("**Reference design**")
    right.graphviz_chart(to_dot(scenario.reference), width="stretch")
    diff = compare(design, scenario.reference)
    if diff.empty:
        st.success("Every kind of component and connection in the reference is in your design.")
    if diff.missing_kinds:
        st.markdown("**Components you missed** (by kind)")
        st.dataframe([{"Kind": m["display"], "Reference": m["reference"], "Yours": m["yours"],
                       "In the reference": ", ".join(m["reference_ids"])} for m in diff.missing_kinds],
                     hide_index=True, width="stretch")
    if diff.missing_connections:
        st.markdown("**Connections you missed** (by kind)")
        st.dataframe([{"Connection": m["text"], "Reference example": m["example"]}
                      for m in diff.missing_connections], hide_index=True, width="stretch")


def _estimates_and_phases(record, spec, report: dict) -> None:
    """The capacity estimates, the time per phase against its budget and the user's notes."""
    st.markdown("**Capacity estimates**")
    render_estimates(report.get("estimates", []))
    st.markdown("**Time per phase against budget**")
    render_phases(spec.phases, record.phase_timings)
    if any(record.notes.values()):
        st.markdown("**Your notes**")
        for name, text in record.notes.items():
            if text:
                st.markdown(f"*{name.capitalize()}*")
                st.text(text)


def _downloads(record, spec, design: Design, *, key: str) -> None:
    """The design as YAML and JSON and the diagram as SVG (DOT when graphviz is not installed)."""
    stem = f"{spec.id}-{record.id[:8]}"
    design.scenario = spec.id
    cols = st.columns(3)
    cols[0].download_button("Design as YAML", design.to_yaml(), f"{stem}.yaml", "application/yaml",
                            key=f"{key}-yaml")
    cols[1].download_button("Design as JSON", design.to_json(), f"{stem}.json", "application/json",
                            key=f"{key}-json")
    dot = to_dot(design)
    svg = to_svg(dot)
    if svg is not None:
        cols[2].download_button("Diagram as SVG", svg, f"{stem}.svg", "image/svg+xml", key=f"{key}-svg")
    else:
        cols[2].download_button("Diagram as DOT", dot, f"{stem}.dot", "text/vnd.graphviz", key=f"{key}-dot")
        cols[2].caption("Install graphviz (`dot`) for SVG export.")


def render_result(record, scenario, rubric, *, key: str = "result", db=None, auto_feedback: bool = False) -> None:
    """``db`` stores interviewer feedback; ``auto_feedback`` asks the LLM once (right after a submit)."""
    spec = scenario.spec
    report = record.report or {}
    _header(record, spec)
    if not report:
        st.warning("This attempt has no report.")
        return
    render_scores(report)
    design = _saved_design(record)

    # The interviewer's tab comes first but is filled last: every other tab is drawn before a slow LLM.
    names = ["Checks", "Reference design", "Simulate", "Estimates and phases", "Export"]
    tabs = st.tabs((["Interviewer feedback"] if db is not None else []) + names)
    feedback_tab = tabs[0] if db is not None else None
    checks_tab, compare_tab, simulate_tab, notes_tab, export_tab = tabs[-len(names):]
    with checks_tab:
        _checks(record, spec, report)
    with compare_tab:
        if design is not None:
            _comparison(design, scenario, report)
    with simulate_tab:
        if design is not None:
            simulate_panel(design, scenario, key=f"{key}-sim")
    with notes_tab:
        _estimates_and_phases(record, spec, report)
    with export_tab:
        if design is not None:
            _downloads(record, spec, design, key=key)
    if feedback_tab is not None:
        with feedback_tab:
            feedback_section(record, scenario, design, db, key=key, auto=auto_feedback)
