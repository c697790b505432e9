"""What every page needs: the current user, the cached scenario library and the store."""
from __future__ import annotations

import os

import streamlit as st

from simulator.errors import SimulatorError
from simulator.grading.library import Library, load_library, scenario_dirs
from simulator.store.repository import Store, default_user


def current_user() -> str:
    return default_user()


def _library_signature() -> tuple:
    """Size and mtime of every scenario and rubric file: the library reloads when one changes."""
    sig = []
    for scen_dir, rub_dir in scenario_dirs():
        for folder in (scen_dir, scen_dir / "reference", rub_dir):
            if folder.is_dir():
                for p in sorted(folder.glob("*.yaml")):
                    st_ = p.stat()
                    sig.append((str(p), st_.st_size, st_.st_mtime_ns))
    return tuple(sig)


@st.cache_resource(show_spinner=False, max_entries=4)
def _library(signature: tuple) -> Library:
    return load_library()


def library() -> Library:
    return _library(_library_signature())


@st.cache_resource(show_spinner=False)
def _store(url: str | None) -> Store:
    return Store(url)


def store() -> Store:
    """The attempts store, or a clear error on the page (never a traceback)."""
    try:
        return _store(os.environ.get("SIMULATOR_DATABASE_URL") or None)
    except SimulatorError as exc:  # StoreError among them
        st.error(f"The attempts store cannot be opened: {exc}")
        st.stop()
    except Exception as exc:  # a database driver error, a bad URL...
        st.error(f"The attempts store cannot be opened ({type(exc).__name__}): {exc}. "
                 "Check SIMULATOR_DATABASE_URL.")
        st.stop()


def show_library_problems(lib: Library) -> None:
    if lib.problems:
        with st.expander(f"{len(lib.problems)} scenario file problem(s): those scenarios are not offered",
                         icon=":material/warning:"):
            for p in lib.problems:
                st.code(str(p), language=None, wrap_lines=True)   # the whole message, not a scroll bar
