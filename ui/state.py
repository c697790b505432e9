"""The session-state keys of every page, in one place, and ``init_state()`` that gives them their defaults.

Keys that are also widget keys (the notes, the estimates, the text of a design, the authoring editors) are
named here but get no default: a widget owns its value, and a missing key is how a page sees that Streamlit
dropped the state of a widget it did not draw.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

# --- which scenario and attempt the Practice page shows (set by Home, History and Authoring too)
PRACTICE_SCENARIO = "practice_scenario"
ATTEMPT_ID = "attempt_id"

# --- the open attempt's work on the Practice page
LOADED_ATTEMPT = "loaded_attempt"       # the attempt whose stored work is in the session
DESIGN = "design"                       # the Design being drawn
VERSION = "version"                     # bumped when the design changes structurally: editors rebuild
PHASE = "phase"                         # index of the current phase
PHASE_TIMINGS = "phase_timings"         # seconds spent per finished phase
NOTES_REQUIREMENTS = "notes_requirements"   # widget
NOTES_TRADEOFFS = "notes_tradeoffs"         # widget
DSL_TEXT = "dsl_text"                   # widget: the design as text
DSL_VERSION = "dsl_version"             # the design version the text was written from
DSL_ERRORS = "dsl_errors"               # problems of the last text that did not parse

# --- History
HISTORY_FLASH = "history_flash"
HISTORY_VERSION = "history_version"     # bumped after a delete: a fresh table, no stale selection
HISTORY_CONFIRM_DELETE = "history_confirm_delete"
HISTORY_SCENARIOS = "history_scenarios"     # widget
HISTORY_DATES = "history_dates"             # widget

# --- Authoring
AU_SCENARIO = "au_scenario"             # widget: the three editors
AU_REFERENCE = "au_reference"
AU_RUBRIC = "au_rubric"
AU_TRY = "au_try"                       # widget: a design to try against the draft rubric
AU_NEW_ID = "au_new_id"                 # widget
AU_NEW_TITLE = "au_new_title"           # widget
AU_CHOICE = "au_choice"                 # widget
AU_OPENED = "au_opened"                 # (saved in the user folder?, id) of the opened scenario
AU_SAVED = "au_saved"                   # (id, paths) of the last save
AU_FLASH = "au_flash"                   # (kind, message) shown once

DEFAULTS: dict[str, Any] = {
    VERSION: 0,
    PHASE: 0,
    PHASE_TIMINGS: {},
    HISTORY_VERSION: 0,
}


def estimate_key(estimate_id: str) -> str:
    """The widget key of one capacity estimate."""
    return f"est_{estimate_id}"


def feedback_asked_key(key: str, attempt_id: str) -> str:
    """Set once the LLM has been asked about this attempt in this view (it is asked at most once)."""
    return f"{key}-asked-{attempt_id}"


def init_state() -> None:
    """Give every key with a default its value, once per session (called on every run by ``app.py``)."""
    for key, value in DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = value.copy() if isinstance(value, dict) else value


def open_practice(scenario_id: str, attempt_id: str | None = None) -> None:
    """Point the Practice page at a scenario, and at one of its attempts (else the open one, or a new one)."""
    st.session_state[PRACTICE_SCENARIO] = scenario_id
    if attempt_id is None:
        st.session_state.pop(ATTEMPT_ID, None)
    else:
        st.session_state[ATTEMPT_ID] = attempt_id
