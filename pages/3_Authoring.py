"""Authoring: write a scenario, its reference design and its rubric; validated as you type, tried, saved."""
from __future__ import annotations

import streamlit as st

from simulator.authoring import drafts as au
from simulator.errors import SimulatorError
from simulator.grading.library import check_texts
from simulator.grading.rubric import evaluate, fixture_outcomes
from ui import state
from ui.authoring import (
    LABELS,
    SOURCES,
    bundle,
    editor_style,
    fixture_rows,
    render_all_checks,
    render_preview,
    render_problems,
    render_report,
)
from ui.common import library, show_library_problems
from ui.frame import page_setup
from ui.navigation import HOME, PRACTICE

page_setup("Authoring")

editor_style()
ss = st.session_state
where = au.target()
lib = library()
NEW = "__new__"
KEYS = {"scenario.yaml": state.AU_SCENARIO, "rubric.yaml": state.AU_RUBRIC, "reference.yaml": state.AU_REFERENCE}


# ---------------------------------------------------------------------------
# callbacks: they run before the widgets, so they may set the editors' text
# ---------------------------------------------------------------------------
def load(drafts: au.Drafts, opened: tuple[bool, str] | None) -> None:
    ss[state.AU_SCENARIO], ss[state.AU_REFERENCE], ss[state.AU_RUBRIC] = drafts.scenario, drafts.reference, drafts.rubric
    ss[state.AU_OPENED] = opened          # (saved in the user folder?, id): saving there again is an update
    ss[state.AU_TRY] = ""
    ss.pop(state.AU_SAVED, None)


def drafts() -> au.Drafts:
    return au.Drafts(ss.get(state.AU_SCENARIO, ""), ss.get(state.AU_REFERENCE, ""), ss.get(state.AU_RUBRIC, ""))


def start_new() -> None:
    sid = (ss.get(state.AU_NEW_ID) or "").strip()
    try:
        au.check_new_id(sid)
        load(au.scaffold(sid, ss.get(state.AU_NEW_TITLE), where), None)
        ss[state.AU_FLASH] = ("success", f"Started '{sid}' from the scaffold: it validates as it is. "
                                     "Replace the TODOs, then save.")
    except SimulatorError as exc:
        ss[state.AU_FLASH] = ("error", "; ".join(p.message for p in exc.problems))


def open_existing(sid: str) -> None:
    try:
        texts, found_in = au.read_drafts(sid)
        load(texts, (found_in.user, sid))
    except SimulatorError as exc:
        ss[state.AU_FLASH] = ("error", "; ".join(p.message for p in exc.problems))


def rename(old: str, new: str) -> None:
    cur = drafts()
    renamed = au.rename_drafts(cur, old, new)
    ss[state.AU_SCENARIO], ss[state.AU_REFERENCE], ss[state.AU_RUBRIC] = renamed.scenario, renamed.reference, renamed.rubric
    ss[state.AU_OPENED] = None
    ss[state.AU_FLASH] = ("success", f"Renamed to '{new}' (the id, the rubric's and the reference's scenario, "
                                 "and the reference path).")


def save(sid: str, replace: bool) -> None:
    try:
        paths = au.save_drafts(drafts(), sid, where, replace=replace)
    except SimulatorError as exc:
        ss[state.AU_FLASH] = ("error", "Not saved: " + "; ".join(p.message for p in exc.problems))
        return
    ss[state.AU_OPENED] = (where.user, sid)
    ss[state.AU_SAVED] = (sid, [str(p) for p in paths])


# ---------------------------------------------------------------------------
# header: where files go, what to open
# ---------------------------------------------------------------------------
st.title("Authoring")
st.caption("Write a scenario, its reference design and its rubric. Every change is validated; save when "
           "nothing is left to fix. The format of each file and every rule: `docs/authoring.md`.")
show_library_problems(lib)   # a broken file is listed here too: this is the page to fix it on
if where.user:
    st.info(f"Saving writes into the user folder `{where.scenarios.parent}` (SIMULATOR_SCENARIOS_DIR). "
            "Shipped scenarios can be opened and copied, not replaced.", icon=":material/folder:")
else:
    st.warning("SIMULATOR_SCENARIOS_DIR is not set: saving writes into this checkout's shipped folders "
               "`scenarios/` and `rubrics/`. Set it to keep your own scenarios apart.", icon=":material/folder:")

files = au.scenario_files()


def label(sid: str) -> str:
    if sid == NEW:
        return "A new scenario (from the scaffold)"
    title = lib.scenarios[sid].spec.title if sid in lib.scenarios else "does not load: open it to fix it"
    return f"{sid} · {title} ({'yours' if files.get(sid) == 'user' else 'shipped'})"


with st.container(border=True):
    pick, id_col, title_col, action = st.columns([4, 3, 3, 3], vertical_alignment="bottom")
    choice = pick.selectbox("Start from", [NEW, *files], format_func=label, key=state.AU_CHOICE)
    if choice == NEW:
        id_col.text_input("New scenario id", key=state.AU_NEW_ID, placeholder="e.g. comment-moderation",
                          help=f"Use {au.ID_RULE}.")
        title_col.text_input("Title (optional)", key=state.AU_NEW_TITLE, placeholder="Design ...")
        action.button("Start from the scaffold", on_click=start_new, type="primary", width="stretch")
    else:
        note = ("A shipped scenario: to save your version, give it a new id."
                if where.user and files.get(choice) == "shipped" else "Opens its three files.")
        id_col.caption(note)
        action.button("Open", on_click=open_existing, args=(choice,), type="primary", width="stretch")

# always present, even empty: the elements below keep their place, so the open editor tab stays open
flash_box = st.container()
if flash := ss.pop(state.AU_FLASH, None):
    kind, text = flash
    (flash_box.success if kind == "success" else flash_box.error)(text)

if state.AU_SCENARIO not in ss:
    st.info("Pick a scenario to edit, or type an id and start a new one from the scaffold: three files that "
            "validate as they are, with comments that say what goes where.", icon=":material/edit_note:")
    st.stop()

# ---------------------------------------------------------------------------
# the editors and their problems
# ---------------------------------------------------------------------------
problems, scenario, rubric = check_texts(ss[state.AU_SCENARIO], ss[state.AU_RUBRIC], ss[state.AU_REFERENCE])
texts = {name: ss[key] for name, key in KEYS.items()}
counts = {name: sum(1 for p in problems if p.file == name) for name in SOURCES}

edit_col, side = st.columns([3, 2], gap="large")
with edit_col:
    # fixed tab labels: a label that changes (say, with a problem count) would reset the open tab
    tabs = st.tabs(["Scenario", "Reference design", "Rubric"])
    name = scenario.spec.id if scenario is not None else "ID"
    with tabs[0]:
        st.text_area("Scenario YAML", key=state.AU_SCENARIO, height=640, help=f"saved as scenarios/{name}.yaml")
    with tabs[1]:
        st.text_area("Reference design YAML", key=state.AU_REFERENCE, height=640,
                     help=f"saved as scenarios/reference/{name}.yaml: nodes and edges; kinds and aliases: "
                          "`python -m simulator kinds`")
    with tabs[2]:
        st.text_area("Rubric YAML", key=state.AU_RUBRIC, height=640, help=f"saved as rubrics/{name}.yaml")
    st.caption("Changes are checked when you leave a text box or press Ctrl+Enter.")

with side:
    st.subheader("Validation", anchor=False)
    if problems:
        where_ = ", ".join(f"{n} in the {LABELS[name].lower()}" for name, n in counts.items() if n)
        st.markdown(f"**{len(problems)} problem(s)** to fix before saving ({where_}):")
        render_problems(problems, texts)
    else:
        score = evaluate(scenario.reference, rubric, scenario.peak_traffic).score
        st.success(f"Valid: {len(rubric.checks)} checks in {len(rubric.categories)} categories, every fixture "
                   f"behaves, and the reference design scores {score:g}.", icon=":material/check_circle:")

# ---------------------------------------------------------------------------
# preview, try it, save
# ---------------------------------------------------------------------------
st.divider()
preview_tab, try_tab, save_tab = st.tabs(["Preview as a candidate", "Try it", "Save and download"])

with preview_tab:
    if scenario is not None:
        render_preview(scenario.spec)
    else:
        st.info("The preview shows once the scenario and its reference design load: fix their problems first.")

with try_tab:
    if rubric is None:
        st.info("Designs can be tried once the rubric loads: fix its problems first.")
    else:
        if scenario is not None:
            st.markdown("#### The reference design")
            render_report(evaluate(scenario.reference, rubric, scenario.peak_traffic))
        st.markdown("#### The fixtures")
        rows = fixture_rows(fixture_outcomes(rubric, scenario.peak_traffic if scenario is not None else None))
        bad = sum(1 for r in rows if not r["as declared"])
        st.caption(f"{len(rows)} fixture(s); {bad} do(es) not behave as declared." if bad
                   else f"{len(rows)} fixture(s), each behaving as declared.")
        st.dataframe(rows, hide_index=True, width="stretch")
        st.markdown("#### Try a design")
        st.text_area("A design in the text notation or as YAML", key=state.AU_TRY, height=180,
                     placeholder="client -> api -> model_server\napi: service x3 autoscale\napi -> redis")
        if (ss.get(state.AU_TRY) or "").strip():
            try:
                design = au.design_from_text(ss[state.AU_TRY])
            except SimulatorError as exc:
                for p in exc.problems:
                    st.error(str(p))
            else:
                report = evaluate(design, rubric, scenario.peak_traffic if scenario is not None else None)
                render_report(report)
                with st.expander("Every check"):
                    render_all_checks(report)

with save_tab:
    sid = scenario.spec.id if scenario is not None else None
    st.caption(f"Saves into {where.describe()}.")
    if problems or sid is None:
        st.button("Save", disabled=True, key="au_save_disabled")
        st.caption(f"Fix the {len(problems)} problem(s) above to save.")
    else:
        exists = any(p.exists() for p in where.paths(sid))
        mine = ss.get(state.AU_OPENED) == (where.user, sid)
        new_id = au.suggest_id(sid)
        if where.user and sid in au.shipped_ids():
            st.warning(f"'{sid}' is a shipped scenario: a user scenario cannot replace it. Save your version "
                       f"under a new id.", icon=":material/block:")
            st.button(f"Use the id '{new_id}'", on_click=rename, args=(sid, new_id))
        elif exists and not mine:
            st.warning(f"A scenario '{sid}' already exists in {where.scenarios.parent}; pick a new id.",
                       icon=":material/block:")
            st.button(f"Use the id '{new_id}'", on_click=rename, args=(sid, new_id))
        else:
            st.button(f"Save changes to '{sid}'" if exists else f"Save '{sid}'", type="primary",
                      on_click=save, args=(sid, exists), key="au_save")
    saved = ss.get(state.AU_SAVED)
    if saved:
        saved_id, paths = saved
        st.success(f"Saved '{saved_id}':\n" + "\n".join(f"- `{p}`" for p in paths), icon=":material/check:")
        links = st.columns([1, 1, 3])
        links[0].page_link(HOME, label="See it on Home", icon=":material/home:")
        if links[1].button("Practise it now", key="au_practise"):
            state.open_practice(saved_id)
            st.switch_page(PRACTICE)
    st.markdown("**Download**")
    name = sid or "draft"
    cols = st.columns(4)
    cols[0].download_button("All three (zip)", bundle(name, ss[state.AU_SCENARIO], ss[state.AU_REFERENCE], ss[state.AU_RUBRIC]),
                            file_name=f"{name}.zip", mime="application/zip", width="stretch",
                            help="laid out like SIMULATOR_SCENARIOS_DIR: unzip it there")
    cols[1].download_button("Scenario", ss[state.AU_SCENARIO], file_name=f"{name}.yaml", mime="application/yaml",
                            width="stretch", help=f"scenarios/{name}.yaml")
    cols[2].download_button("Rubric", ss[state.AU_RUBRIC], file_name=f"{name}.rubric.yaml", mime="application/yaml",
                            width="stretch", help=f"save as rubrics/{name}.yaml")
    cols[3].download_button("Reference design", ss[state.AU_REFERENCE], file_name=f"{name}.reference.yaml",
                            mime="application/yaml", width="stretch", help=f"save as scenarios/reference/{name}.yaml")
