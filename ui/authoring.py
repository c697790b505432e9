"""Pieces of the Authoring page: problems with their lines, the candidate's view, try-it reports."""
from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable

import streamlit as st

from simulator.errors import Problem
from simulator.grading.rubric import FixtureOutcome, Report
from ui.report import render_checks, render_scores

# check_texts() sources -> what the page calls them
SOURCES = ("scenario.yaml", "rubric.yaml", "reference.yaml")
LABELS = {"scenario.yaml": "Scenario", "rubric.yaml": "Rubric", "reference.yaml": "Reference design"}
MAX_SHOWN = 60
DIFFICULTY = {"easy": ":green-badge[easy]", "medium": ":orange-badge[medium]", "hard": ":red-badge[hard]"}


EDITOR_KEYS = ("au_scenario", "au_reference", "au_rubric", "au_try")


def editor_style() -> None:
    """YAML reads best in a fixed-width font, without soft wrapping (indentation is meaning)."""
    selectors = ", ".join(f".st-key-{key} textarea" for key in EDITOR_KEYS)
    st.html(f"<style>{selectors} {{font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; "
            "font-size: 0.82rem; line-height: 1.45; white-space: pre; overflow-wrap: normal; "
            "overflow-x: auto;}</style>")


def _number(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}"


def _line_of(text: str, line: int | None) -> str | None:
    if not line:
        return None
    lines = text.splitlines()
    if 1 <= line <= len(lines):
        return lines[line - 1].rstrip()
    return None


def problem_markdown(problem: Problem, texts: dict[str, str]) -> str:
    """'**Rubric**, line 12, column 7: message' and the offending line under it."""
    label = LABELS.get(problem.file or "", problem.file or "")
    where = f"**{label}**" if label else ""
    if problem.line:
        where += f", line {problem.line}" + (f", column {problem.column}" if problem.column else "")
    out = f"{where}: {problem.message}" if where else problem.message
    snippet = _line_of(texts.get(problem.file or "", ""), problem.line)
    if snippet and snippet.strip():
        out += f"  \n`{problem.line:>4} | {snippet.strip()[:160].replace('`', chr(39))}`"
    return out


def render_problems(problems: list[Problem], texts: dict[str, str]) -> None:
    order = {name: i for i, name in enumerate(SOURCES)}
    ordered = sorted(problems, key=lambda p: (order.get(p.file or "", 9), p.line or 0, p.column or 0))
    for p in ordered[:MAX_SHOWN]:
        st.error(problem_markdown(p, texts), icon=":material/error:")
    if len(ordered) > MAX_SHOWN:
        st.caption(f"... and {len(ordered) - MAX_SHOWN} more: fix these first.")


def render_preview(spec) -> None:
    """The scenario as a candidate sees it before and during a session."""
    st.markdown(f"### {spec.title}")
    st.markdown(f"{DIFFICULTY.get(spec.difficulty, spec.difficulty)} · {spec.duration_minutes} min · "
                f"{int(spec.scale.peak_rps):,} req/s peak")
    st.caption(" · ".join(spec.topics))
    st.markdown(spec.brief)
    left, right = st.columns(2)
    left.markdown("**Functional requirements**\n" + "\n".join(f"- {r}" for r in spec.requirements.functional))
    right.markdown("**Non-functional requirements**\n"
                   + "\n".join(f"- {r}" for r in spec.requirements.non_functional))
    scale = {k: v for k, v in spec.scale.model_dump().items() if v is not None}
    st.markdown("**Scale**\n" + "\n".join(
        f"- *{k.replace('_', ' ')}*: {_number(v)}" if isinstance(v, (int, float)) and not isinstance(v, bool)
        else f"- *{k.replace('_', ' ')}*: {v}" for k, v in scale.items()))
    st.markdown("**Phases**\n" + "\n".join(f"{i + 1}. {p.name} ({p.minutes} min): {p.goal}"
                                           for i, p in enumerate(spec.phases)))
    st.markdown("**Hints** (practice mode)\n" + "\n".join(f"- {h}" for h in spec.hints))
    if spec.estimates:
        st.markdown("**Capacity estimates asked for**\n"
                    + "\n".join(f"- {e.label} ({e.unit})" for e in spec.estimates))
    with st.expander("Follow-up questions (asked after the design)"):
        st.markdown("\n".join(f"- {q}" for q in spec.follow_ups))


def render_report(report: Report) -> None:
    """Score cards, then the failing checks with their evidence."""
    data = report.to_dict()
    render_scores(data)
    failed = report.failed()
    if not failed:
        st.success("Every check passes.", icon=":material/check_circle:")
        return
    st.markdown(f"**Failing checks ({len(failed)})**")
    for c in failed:
        tag = "error" if c.status == "error" else "fails"
        st.markdown(f":red[:material/cancel:] `{c.id}` {tag} ({c.points} pts, {c.category}): {c.evidence}")


def render_all_checks(report: Report) -> None:
    render_checks(report.to_dict(), show_passed=True)


def fixture_rows(outcomes: Iterable[FixtureOutcome]) -> list[dict]:
    return [{"as declared": o.ok, "check": o.check, "fixture": f"{o.kind} #{o.index}",
             "line": o.line, "verdict": o.status, "evidence": o.evidence} for o in outcomes]


def bundle(sid: str, scenario: str, reference: str, rubric: str) -> bytes:
    """A zip laid out like SIMULATOR_SCENARIOS_DIR: unzip it there."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"scenarios/{sid}.yaml", scenario)
        zf.writestr(f"scenarios/reference/{sid}.yaml", reference)
        zf.writestr(f"rubrics/{sid}.yaml", rubric)
    return buf.getvalue()
