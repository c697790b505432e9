"""Rendering of rubric reports, estimate grades and phase timings (shared by Practice and History)."""
from __future__ import annotations

from typing import Any

import streamlit as st

from simulator.model.markdown import literal, no_links
from simulator.sessions.clock import clock


def render_scores(report: dict[str, Any]) -> None:
    """The overall score, then every category (four to a row so long names stay readable)."""
    cats = list(report.get("categories", {}).items())
    coverage = report.get("coverage")
    st.metric("Overall", f"{report.get('score', 0):.0f}/100",
              help=None if coverage is None else
              f"The design covers {coverage:g} % of the rubric (the categories below, weighted). The overall "
              "is that coverage on the interview scale, 13 + 0.87 x coverage: what interviewers rating blind "
              "give for it.")
    for start in range(0, len(cats), 4):
        cols = st.columns(4)
        for col, (name, c) in zip(cols, cats[start:start + 4]):
            col.metric(c.get("title", name), f"{c.get('score', 0):.0f}", help=f"{c.get('passed', 0)} of "
                       f"{c.get('total', 0)} checks passed · weight {c.get('weight', 1):g}")


def render_checks(report: dict[str, Any], *, show_passed: bool = True) -> None:
    """Checks grouped by category: verdict, evidence, hint and the follow-up question."""
    checks = report.get("checks", [])
    cats = report.get("categories", {})
    for name, cat in cats.items():
        mine = [c for c in checks if c["category"] == name]
        failed = [c for c in mine if not c["passed"]]
        label = f"{cat.get('title', name)} — {cat.get('score', 0):.0f}/100 ({len(mine) - len(failed)}/{len(mine)} passed)"
        with st.expander(label, expanded=bool(failed), icon=":material/check_circle:" if not failed
                         else ":material/error:"):
            for c in mine:
                if c["passed"] and not show_passed:
                    continue
                mark = (":green[:material/check_circle:]" if c["passed"] else
                        ":orange[:material/warning:]" if c.get("status") == "error" else ":red[:material/cancel:]")
                # a stored report may come from an import: nothing in it renders as HTML, a link or an image
                st.markdown(f"{mark} **{no_links(c['title'])}** · {c['points']} pts · {literal(c['id'])}")
                st.caption(f"Evidence: {literal(c['evidence'])}")
                if not c["passed"]:
                    st.markdown(f"*Hint:* {no_links(c['hint'])}")
                    st.markdown(f"*Interviewer asks:* {no_links(c['follow_up'])}")
    if report.get("errors"):
        st.error("Some checks could not be evaluated: " + "; ".join(report["errors"]))


def render_estimates(grades: list[dict[str, Any]]) -> None:
    if not grades:
        st.caption("This scenario has no capacity estimates.")
        return
    rows = []
    for g in grades:
        rows.append({
            "Estimate": g["label"],
            "Yours": "—" if g["given"] is None else f"{g['given']:,.4g} {g['unit']}",
            "Reference": f"{g['reference']:,.4g} {g['unit']}",
            "Accepted": f"±{g['tolerance'] * 100:.0f} %",
            "Verdict": g["verdict"],
        })
    st.dataframe(rows, hide_index=True, width="stretch")
    for g in grades:
        st.caption(f"**{g['label']}**: {g['explanation']}")


def render_phases(phases, timings: dict[str, float]) -> None:
    rows = []
    for p in phases:
        spent = timings.get(p.name)
        budget = p.minutes * 60
        rows.append({
            "Phase": p.name,
            "Budget": clock(budget),
            "Spent": "—" if spent is None else clock(spent),
            "": "" if spent is None else ("over" if spent > budget else "within"),
        })
    st.dataframe(rows, hide_index=True, width="stretch")
