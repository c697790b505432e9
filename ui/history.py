"""Data shaping for the History page: attempt summaries -> table, best/latest, score chart.

Everything here works on ``AttemptSummary`` objects (no design, report or
feedback), so the page stays fast with thousands of attempts.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import streamlit as st

from simulator.grading.library import Library
from simulator.grading.rubric import CORE_CATEGORIES
from simulator.store.records import AttemptSummary

END_REASONS = {"submitted": "Submitted", "timed_out": "Timed out", "abandoned": "Abandoned"}
IN_PROGRESS = "In progress"
OVERALL = "Overall"
# At most this many points per line; more attempts are averaged per day, week or month.
MAX_CHART_POINTS = 200
_PERIODS = (("D", "day"), ("W-MON", "week"), ("MS", "month"), ("QS", "quarter"), ("YS", "year"))
_ACRONYMS = {"ml": "ML", "llm": "LLM", "rag": "RAG", "ab": "A/B", "api": "API", "slo": "SLO"}
_FIXED_COLUMNS = ("id", "Started", "Scenario", "Mode", "Status", "Duration", OVERALL)


def local_zone() -> tzinfo:
    """The browser's time zone when Streamlit knows it, else UTC."""
    try:
        name = st.context.timezone
    except Exception:  # no script run context (tests of the helpers)
        name = None
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return UTC


def short_title(title: str) -> str:
    """'Design a fraud detection system' -> 'Fraud detection system' (fits in a table cell)."""
    for prefix in ("Design an ", "Design a ", "Design "):
        if title.startswith(prefix) and len(title) > len(prefix):
            rest = title[len(prefix):]
            return rest[0].upper() + rest[1:]
    return title


def scenario_label(scenario_id: str, lib: Library) -> str:
    scenario = lib.scenarios.get(scenario_id)
    return short_title(scenario.spec.title) if scenario is not None else f"{scenario_id} (removed)"


def _humanise(key: str) -> str:
    words = [_ACRONYMS.get(w, w) for w in key.replace("-", "_").split("_") if w]
    if not words:
        return key
    first = words[0]
    return " ".join([first if first.isupper() else first.capitalize(), *words[1:]])


def category_labels(keys: Sequence[str], scenario_ids: Sequence[str], lib: Library) -> dict[str, str]:
    """Category key -> column title: the rubric's title when every scenario shown agrees on it,
    else the key in words (``data_pipeline`` -> ``Data pipeline``). Titles never clash with the
    fixed columns or with each other."""
    titles: dict[str, set[str]] = {}
    for sid in scenario_ids:
        rubric = lib.rubrics.get(sid)
        if rubric is None:
            continue
        for key, cat in rubric.categories.items():
            titles.setdefault(key, set()).add(cat.title)
    out: dict[str, str] = {}
    used = set(_FIXED_COLUMNS)
    for key in keys:
        seen = titles.get(key, set())
        label = next(iter(seen)) if len(seen) == 1 else _humanise(key)
        base, n = label, 2
        while label in used:
            label, n = f"{base} ({n})", n + 1
        used.add(label)
        out[key] = label
    return out


def category_keys(rows: Sequence[AttemptSummary], lib: Library) -> list[str]:
    """Categories in rubric order (scenarios in library order), then any other stored ones."""
    present = {key for r in rows for key in (r.category_scores or {})}
    ordered: list[str] = []
    shown = {r.scenario_id for r in rows}
    for sid, rubric in lib.rubrics.items():
        if sid in shown:
            ordered.extend(k for k in rubric.categories if k in present and k not in ordered)
    ordered.extend(sorted(present - set(ordered)))
    return ordered


@dataclass(frozen=True)
class DateFilter:
    since: datetime | None  # inclusive, UTC
    until: datetime | None  # exclusive, UTC


def date_filter(value: object, zone: tzinfo) -> DateFilter:
    """st.date_input's value (a date, or a 0-2 tuple while a range is being picked) -> UTC bounds."""
    if isinstance(value, date):
        value = (value, value)
    picked = [d for d in (value if isinstance(value, (tuple, list)) else ()) if isinstance(d, date)]
    start = picked[0] if picked else None
    end = picked[1] if len(picked) > 1 else None

    def at_midnight(day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)

    return DateFilter(since=at_midnight(start) if start else None,
                      until=at_midnight(end + timedelta(days=1)) if end else None)


def attempts_frame(rows: Sequence[AttemptSummary], lib: Library, categories: Mapping[str, str],
                   zone: tzinfo) -> pd.DataFrame:
    """One row per attempt, newest first; ``id`` is a hidden column for the selection."""
    labels = {sid: scenario_label(sid, lib) for sid in {r.scenario_id for r in rows}}
    data: dict[str, list] = {
        "id": [r.id for r in rows],
        "Started": [r.started_at for r in rows],
        "Scenario": [labels[r.scenario_id] for r in rows],
        "Mode": [r.mode.capitalize() for r in rows],
        "Status": [END_REASONS.get(r.end_reason, r.end_reason) if r.end_reason else IN_PROGRESS for r in rows],
        "Duration": [None if r.ended_at is None else (r.ended_at - r.started_at).total_seconds() / 60
                     for r in rows],
        OVERALL: [r.overall_score for r in rows],
    }
    for key, label in categories.items():
        data[label] = [(r.category_scores or {}).get(key) for r in rows]
    frame = pd.DataFrame(data)
    frame["Started"] = pd.to_datetime(frame["Started"], utc=True).dt.tz_convert(zone)
    for column in ["Duration", OVERALL, *categories.values()]:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame


def table_key(frame: pd.DataFrame, *parts: object) -> str:
    """A widget key that changes whenever the rows change, so a selected row index always
    points into the table it was picked from."""
    digest = hashlib.sha1(repr((parts, len(frame), frame["id"].iloc[0] if len(frame) else None,
                                frame["id"].iloc[-1] if len(frame) else None)).encode()).hexdigest()
    return f"attempts-{digest[:12]}"


def best_and_latest(rows: Sequence[AttemptSummary], lib: Library, zone: tzinfo = UTC) -> pd.DataFrame:
    """Per scenario over the scored attempts in ``rows`` (newest first): best, latest, count."""
    stats: dict[str, dict] = {}
    for r in rows:
        if r.ended_at is None or r.overall_score is None:
            continue
        entry = stats.get(r.scenario_id)
        if entry is None:
            stats[r.scenario_id] = {"Scenario": scenario_label(r.scenario_id, lib), "Best": r.overall_score,
                                    "Latest": r.overall_score, "Scored attempts": 1,
                                    "Last attempt": r.ended_at.astimezone(zone)}
        else:
            entry["Scored attempts"] += 1
            entry["Best"] = max(entry["Best"], r.overall_score)
    order = {sid: i for i, sid in enumerate(lib.scenarios)}
    ordered = sorted(stats.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))
    return pd.DataFrame([entry for _, entry in ordered],
                        columns=["Scenario", "Best", "Latest", "Scored attempts", "Last attempt"])


@dataclass(frozen=True)
class ScoreSeries:
    data: pd.DataFrame  # long format: when, series, score
    period: str | None  # None: one point per attempt; else "day", "week", ...
    attempts: int       # scored attempts behind the chart
    series: list[str]   # Overall first, then the categories


def chart_lines(labels: Mapping[str, str], scenario_ids: Sequence[str]) -> tuple[list[str], list[str]]:
    """The lines the chart can show (Overall, then every category) and those shown by default:
    every line for one scenario; Overall and the categories all rubrics share for several."""
    options = [OVERALL, *labels.values()]
    if len(set(scenario_ids)) <= 1:
        return options, options
    return options, [OVERALL, *(labels[k] for k in CORE_CATEGORIES if k in labels)]


def score_series(rows: Sequence[AttemptSummary], categories: Mapping[str, str], zone: tzinfo, *,
                 overall: bool = True, max_points: int = MAX_CHART_POINTS) -> ScoreSeries:
    """Overall (unless ``overall=False``) and the given categories' scores by ``ended_at``; above
    ``max_points`` scored attempts, the mean per day (or week, month...) so the chart stays
    readable and small."""
    scored = [r for r in rows if r.ended_at is not None and r.overall_score is not None]
    series = ([OVERALL] if overall else []) + list(categories.values())
    if not scored or not series:
        return ScoreSeries(pd.DataFrame(columns=["when", "series", "score"]), None, len(scored), series)
    wide: dict[str, list] = {"when": [r.ended_at for r in scored]}
    if overall:
        wide[OVERALL] = [r.overall_score for r in scored]
    for key, label in categories.items():
        wide[label] = [(r.category_scores or {}).get(key) for r in scored]
    frame = pd.DataFrame(wide)
    frame["when"] = pd.to_datetime(frame["when"], utc=True).dt.tz_convert(zone)
    for label in series:
        frame[label] = pd.to_numeric(frame[label], errors="coerce").astype("float64")
    period = None
    if len(frame) > max_points:
        indexed = frame.set_index("when").sort_index()
        for freq, name in _PERIODS:
            grouped = indexed.groupby(pd.Grouper(freq=freq)).mean().dropna(how="all")
            period = name
            if len(grouped) <= max_points:
                break
        frame = grouped.reset_index()
    long = frame.melt(id_vars="when", value_vars=series, var_name="series", value_name="score").dropna()
    long["score"] = long["score"].round(1)
    return ScoreSeries(long, period, len(scored), series)


def score_chart(scores: ScoreSeries):
    """An Altair line chart: one line per category, Overall drawn thicker; click a legend entry
    to highlight that line."""
    import altair as alt

    single = scores.period is None
    when = "Ended" if scores.period is None else f"{scores.period.capitalize()} (mean)"
    pick = alt.selection_point(fields=["series"], bind="legend")
    return alt.Chart(scores.data).mark_line(point=single and len(scores.data) <= 60 * len(scores.series)).encode(
        x=alt.X("when:T", title=None),
        y=alt.Y("score:Q", title="Score", scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("series:N", title=None, sort=scores.series,
                        legend=alt.Legend(orient="bottom", columns=min(6, len(scores.series)),
                                                      labelLimit=220)),
        strokeWidth=alt.condition(alt.datum.series == OVERALL, alt.value(3.5), alt.value(1.5)),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
        tooltip=[alt.Tooltip("when:T", title=when, format="%Y-%m-%d %H:%M" if single else "%Y-%m-%d"),
                 alt.Tooltip("series:N", title="Score"), alt.Tooltip("score:Q", title="Value")],
    ).add_params(pick).properties(height=340)
