"""Interviewer feedback on the page: the sidebar grader panel, and feedback under a result.

The rule verdict is always shown first and is already stored; the LLM's feedback
streams in below it with a progress indicator, and is stored when it arrives. A
failure shows why, keeps the rule verdict, and offers "Retry feedback".
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from simulator.errors import SimulatorError
from simulator.feedback.config import grader_config
from simulator.feedback.review import review
from simulator.feedback.rule_interviewer import rule_feedback
from simulator.feedback.transport import test_connection
from simulator.grading.rubric import Report
from simulator.model.design import Design
from simulator.model.markdown import literal
from ui.state import feedback_asked_key

HIRE = {"strong_no": "strong no", "no": "no", "lean_no": "lean no", "lean_yes": "lean yes", "yes": "yes",
        "strong_yes": "strong yes"}


def grader_panel() -> None:
    """Sidebar: which grader is active, and a connection test for the LLM one."""
    config = grader_config()
    with st.sidebar:
        st.markdown("**Grader**")
        if config.llm:
            st.caption(f"LLM interviewer: `{config.model}` at {config.host or 'OpenAI'}"
                       " · rule verdict first, LLM feedback after")
            if st.button("Test connection", key="grader-test", width="stretch"):
                with st.spinner("Calling the model..."):
                    ok, message = test_connection(config)
                (st.success if ok else st.error)(message)
            if config.note:
                st.caption(config.note)
        else:
            st.caption("Rule grader (offline, instant). For an LLM interviewer set OPENAI_API_KEY, or "
                       "OPENAI_BASE_URL for a local server, and SIMULATOR_LLM_MODEL.")


def _run_review(record, scenario, design: Design, db) -> dict[str, Any]:
    """Ask the configured grader with a live progress line; store and return the feedback."""
    report = Report.from_dict(record.report)
    with st.status("The interviewer is reading your design...", expanded=False) as status:
        def progress(event) -> None:
            if event.kind == "delta":
                status.update(label=f"The interviewer is writing... {event.tokens or event.chars // 4} tokens")
            elif event.kind in ("retry", "fallback", "reask"):
                status.update(label=event.message)

        feedback = review(design, scenario, report, record.notes, record.estimates, on_progress=progress)
        if feedback.status == "ok":
            status.update(label="Interviewer feedback", state="complete")
        else:
            status.update(label=f"Interviewer feedback unavailable: {feedback.reason}", state="error")
    try:
        db.set_feedback(record.id, feedback=feedback.to_dict(), grader=feedback.grader,
                        token_usage=feedback.token_usage())
    except SimulatorError as exc:
        st.warning(f"The feedback could not be saved: {exc}")
    return feedback.to_dict()


def feedback_section(record, scenario, design: Design | None, db, *, key: str, auto: bool) -> None:
    """Feedback under a finished attempt. ``auto`` asks the LLM once when nothing is stored yet."""
    if design is None or not record.report:
        return
    config = grader_config()
    stored = record.feedback if isinstance(record.feedback, dict) else None
    asked_key = feedback_asked_key(key, record.id)
    if config.llm and stored is None and auto and not st.session_state.get(asked_key):
        st.session_state[asked_key] = True
        stored = _run_review(record, scenario, design, db)
    if stored is None:   # no LLM configured (or not asked yet): the rule grader's notes, computed now
        stored = rule_feedback(design, scenario, Report.from_dict(record.report), record.notes,
                               record.estimates).to_dict()
    render_feedback(stored)
    if config.llm:
        label = "Retry feedback" if stored.get("status") == "unavailable" else (
            "Ask the interviewer" if stored.get("status") == "off" else "Ask again")
        if st.button(label, key=f"{key}-retry-{record.id}"):
            _run_review(record, scenario, design, db)
            st.rerun()


def render_feedback(fb: dict[str, Any]) -> None:
    status = fb.get("status")
    if status == "ok":
        st.markdown(f"**Interviewer feedback** · `{fb.get('model')}`")
    elif status == "unavailable":
        st.warning(f"Interviewer feedback unavailable: {fb.get('reason')}. Your rule verdict is saved; "
                   "the notes below come from the rule grader.", icon=":material/cloud_off:")
        fb = fb.get("rule_feedback") or fb
    else:
        st.markdown("**Interviewer notes** (rule grader)")
    if fb.get("summary"):
        st.markdown(literal(fb["summary"]))   # what a model or an import wrote is shown as plain text
    cols = st.columns(2)
    if fb.get("strengths"):
        cols[0].markdown("**Strong**\n" + "\n".join(f"- {literal(s)}" for s in fb["strengths"]))
    if fb.get("gaps"):
        cols[1].markdown("**Missing**\n" + "\n".join(
            f"- {literal(g['text'])}" + (f" ({literal(', '.join(g['node_ids']))})" if g.get("node_ids") else "")
            for g in fb["gaps"]))
    if status == "ok" and fb.get("follow_up_questions"):
        st.markdown("**The interviewer would ask**\n" + "\n".join(f"- {literal(q)}" for q in fb["follow_up_questions"]))
    if status == "ok":
        rows = [{"Category": c.get("title") or c.get("category"),
                 "Rule score": f"{c['rule_score']:g}" if c.get("rule_score") is not None else "—",
                 "Interviewer (1-5)": c.get("rating"), "Comment": c.get("comment")} for c in fb.get("categories", [])]
        for name, part in (("Communication", fb.get("communication")), ("Trade-offs", fb.get("trade_offs"))):
            if part:
                rows.append({"Category": name, "Rule score": "—", "Interviewer (1-5)": part.get("score"),
                             "Comment": part.get("comment")})
        if rows:
            st.dataframe(rows, hide_index=True, width="stretch")
        adj = fb.get("adjustment") or 0
        st.markdown(f"Score: rule **{fb.get('rule_score', 0):g}** {adj:+g} ({fb.get('adjustment_name')}) = "
                    f"**{fb.get('final_score', 0):g}** / 100 · hire signal: **{HIRE.get(str(fb.get('hire_signal')), '—')}**")
        usage = fb.get("usage") or {}
        if usage:
            cost = f" · about ${fb['cost_usd']:.4f}" if fb.get("cost_usd") is not None else ""
            est = " (estimated)" if usage.get("estimated") else ""
            st.caption(f"Tokens: {usage.get('prompt_tokens')} prompt + {usage.get('completion_tokens')} "
                       f"completion{est}{cost}")
