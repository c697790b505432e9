"""History: your attempts — filters, best and latest, scores over time, the table, one attempt in detail, export."""
from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from simulator.errors import SimulatorError
from simulator.sessions.clock import clock, remaining, utcnow
from simulator.store.transfer import export_csv
from ui import state
from ui.common import current_user, library, store
from ui.frame import page_setup
from ui.history import (
    IN_PROGRESS,
    OVERALL,
    attempts_frame,
    best_and_latest,
    category_keys,
    category_labels,
    chart_lines,
    date_filter,
    local_zone,
    scenario_label,
    score_chart,
    score_series,
    table_key,
)
from ui.navigation import HOME, PRACTICE
from ui.report import render_scores
from ui.results import render_result

page_setup("History")

ss = st.session_state
lib = library()
db = store()
user = current_user()
zone = local_zone()

st.title("History")
if flash := ss.pop(state.HISTORY_FLASH, None):
    st.success(flash, icon=":material/check:")

overview = db.scenario_overview(user)
if not overview:
    st.info("No attempts yet. Pick a scenario on the Home page and practise: every session lands here, "
            "with its scores, over time.", icon=":material/history:")
    st.page_link(HOME, label="Go to Home and pick a scenario", icon=":material/home:")
    st.stop()

# ---------------------------------------------------------------------------
# filters
# ---------------------------------------------------------------------------
stored = [sid for sid in overview if sid not in lib.scenarios]
options = [sid for sid in lib.scenarios] + sorted(stored)
first = min(v[1] for v in overview.values()).astimezone(zone).date()
last = max(max(v[2] for v in overview.values()).astimezone(zone).date(), datetime.now(zone).date())

left, right = st.columns([3, 2])
chosen = left.multiselect("Scenarios", options, format_func=lambda sid: scenario_label(sid, lib),
                          placeholder="All scenarios", key=state.HISTORY_SCENARIOS)
dates = right.date_input("Started between", value=(first, last), key=state.HISTORY_DATES, format="YYYY-MM-DD")
bounds = date_filter(dates, zone)

rows = db.list_attempts(user=user, scenario_ids=chosen or None, since=bounds.since, until=bounds.until,
                        columns="summary")
if not rows:
    st.info("No attempts match these filters.", icon=":material/filter_alt_off:")
    st.stop()

keys = category_keys(rows, lib)
labels = category_labels(keys, sorted({r.scenario_id for r in rows}), lib)
frame = attempts_frame(rows, lib, labels, zone)
finished = sum(1 for r in rows if r.ended_at is not None)
st.caption(f"{len(rows):,} attempt(s) by **{user}** · {finished:,} finished · {len(rows) - finished:,} in progress")

# ---------------------------------------------------------------------------
# best and latest, scores over time
# ---------------------------------------------------------------------------
st.subheader("Best and latest", anchor=False)
best = best_and_latest(rows, lib, zone)
if best.empty:
    st.caption("No scored attempts yet.")
else:
    st.dataframe(best, hide_index=True, width="stretch", column_config={
        "Best": st.column_config.ProgressColumn("Best", min_value=0, max_value=100, format="%.0f"),
        "Latest": st.column_config.ProgressColumn("Latest", min_value=0, max_value=100, format="%.0f"),
        "Scored attempts": st.column_config.NumberColumn("Scored attempts", format="%d"),
        "Last attempt": st.column_config.DatetimeColumn("Last attempt", format="YYYY-MM-DD HH:mm"),
    })

st.subheader("Scores over time", anchor=False)
line_options, default_lines = chart_lines(labels, [r.scenario_id for r in rows])
shown = st.pills("Lines", line_options, selection_mode="multi", default=default_lines,
                 help="Which scores to draw. Click a legend entry to highlight one line.") or []
scores = score_series(rows, {k: v for k, v in labels.items() if v in shown}, zone, overall=OVERALL in shown)
if scores.attempts == 0:
    st.caption("The chart appears once an attempt is finished.")
elif not scores.series:
    st.caption("Pick at least one line to draw.")
else:
    st.altair_chart(score_chart(scores), width="stretch")
    thick = " The thick line is the overall score." if OVERALL in shown else ""
    if scores.period is None:
        st.caption(f"One point per finished attempt ({scores.attempts:,}), by end time.{thick}")
    else:
        st.caption(f"{scores.attempts:,} finished attempts, averaged per {scores.period} to keep the chart "
                   f"readable; narrow the dates to see single attempts.{thick}")

# ---------------------------------------------------------------------------
# the table, with export
# ---------------------------------------------------------------------------
st.subheader("Attempts", anchor=False)
score_columns = {label: st.column_config.NumberColumn(label, format="%.0f") for label in labels.values()}
event = st.dataframe(
    frame, hide_index=True, width="stretch", height=min(420, 38 + 35 * len(frame)), placeholder="—",
    column_order=[c for c in frame.columns if c != "id"],
    column_config={
        "Started": st.column_config.DatetimeColumn("Started", format="YYYY-MM-DD HH:mm"),
        "Duration": st.column_config.NumberColumn("Duration", format="%.0f min"),
        "Overall": st.column_config.ProgressColumn("Overall", min_value=0, max_value=100, format="%.0f"),
        **score_columns,
    },
    on_select="rerun", selection_mode="single-row",
    key=table_key(frame, chosen, bounds, ss[state.HISTORY_VERSION]),
)
stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
filters = dict(user=user, scenario_ids=chosen or None, since=bounds.since, until=bounds.until)
# Both files are built only when clicked (deferred), from exactly the attempts in the table.
csv_col, json_col, note_col = st.columns([1, 1, 4], vertical_alignment="center")
csv_col.download_button("Download CSV", lambda: export_csv(rows), f"attempts-{stamp}.csv", "text/csv",
                        key="export-csv", icon=":material/download:", on_click="ignore", width="stretch",
                        help="The attempts in the table: scores per category, duration, notes")
json_col.download_button("Download JSON", lambda: db.export_json(**filters), f"attempts-{stamp}.json",
                         "application/json", key="export-json", icon=":material/download:", on_click="ignore",
                         width="stretch", help="Every field of these attempts, for `python -m simulator history "
                         "import`")
note_col.caption(f"Download the {len(rows):,} attempt(s) in the table.")

picked = event.selection.rows
if not picked:
    st.caption("Select a row to see that attempt: its checks, diagram, reference diff and exports.")
    st.stop()

# ---------------------------------------------------------------------------
# one attempt
# ---------------------------------------------------------------------------
attempt_id = str(frame["id"].iloc[picked[0]])
try:
    record = db.get(attempt_id)
except SimulatorError:
    st.warning("This attempt is no longer stored (deleted in another tab?).")
    st.stop()

st.divider()
known = record.scenario_id in lib.scenarios
with st.container(key="attempt-actions"):
    when = f"{record.started_at.astimezone(zone):%Y-%m-%d %H:%M}"
    st.markdown(f"**Attempt of {when}** · `{record.id[:8]}`")
    bar = st.columns([1, 1, 3])
    slot = 0
    if record.ended_at is None and known:
        if bar[0].button("Resume on Practice", type="primary", icon=":material/play_arrow:", key="resume"):
            state.open_practice(record.scenario_id, record.id)
            st.switch_page(PRACTICE)
        slot = 1
    if bar[slot].button("Delete this attempt", icon=":material/delete:", key="delete"):
        ss[state.HISTORY_CONFIRM_DELETE] = record.id
    if ss.get(state.HISTORY_CONFIRM_DELETE) == record.id:
        with st.container(border=True):
            st.warning(f"Delete the attempt of {when} on "
                       f"*{scenario_label(record.scenario_id, lib)}* for good? This cannot be undone.")
            yes, no, _ = st.columns([1, 1, 4])
            if yes.button("Yes, delete it", type="primary", key="confirm-delete"):
                try:
                    db.delete(record.id)
                    ss[state.HISTORY_FLASH] = "Attempt deleted."
                except SimulatorError as exc:
                    ss[state.HISTORY_FLASH] = f"Nothing to delete: {exc}"
                ss.pop(state.HISTORY_CONFIRM_DELETE, None)
                ss[state.HISTORY_VERSION] += 1  # a fresh table, no stale selection
                st.rerun()
            if no.button("Cancel", key="cancel-delete"):
                ss.pop(state.HISTORY_CONFIRM_DELETE, None)
                st.rerun()

if record.ended_at is None:
    st.subheader(scenario_label(record.scenario_id, lib), anchor=False)
    left_s = remaining(record.deadline, utcnow())
    if left_s > 0:
        status = f"{IN_PROGRESS}: started {when}, {clock(left_s)} left."
    else:
        status = (f"{IN_PROGRESS}: started {when}; its time is up, "
                  "so opening it on the Practice page submits it as timed out.")
    st.info(status, icon=":material/pending:")
    if not known:
        st.warning(f"The scenario '{record.scenario_id}' is no longer in the library, so this attempt cannot be "
                   "resumed.")
elif known:
    scenario, rubric = lib.get(record.scenario_id)
    if record.scenario_hash != scenario.content_hash(rubric):
        st.caption(":material/info: The scenario or its rubric changed since this attempt: the scores are as "
                   "graded then; the reference and follow-ups below are today's.")
    render_result(record, scenario, rubric, key=f"history-{record.id}", db=db)
else:
    st.subheader(record.scenario_id, anchor=False)
    st.warning(f"The scenario '{record.scenario_id}' is no longer in the library: only the stored scores are "
               "shown.", icon=":material/inventory_2:")
    if record.report:
        render_scores(record.report)
    elif record.overall_score is not None:
        st.metric("Overall", f"{record.overall_score:.0f}/100")
    else:
        st.caption("This attempt has no scores.")
