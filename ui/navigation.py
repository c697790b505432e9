"""The app's pages: their files, titles, icons and URL paths, and the sidebar navigation built from them."""
from __future__ import annotations

import threading

import streamlit as st

HOME = "pages/Home.py"
PRACTICE = "pages/Practice.py"
HISTORY = "pages/History.py"
AUTHORING = "pages/Authoring.py"

APP_TITLE = "ML system design simulator"

# file, title (shown in the sidebar and the browser tab), icon, URL path ("" for the home page at /)
PAGES = (
    (HOME, "Home", ":material/home:", ""),
    (PRACTICE, "Practice", ":material/timer:", "Practice"),
    (HISTORY, "History", ":material/history:", "History"),
    (AUTHORING, "Authoring", ":material/edit_note:", "Authoring"),
)


def navigation() -> st.Page:
    """Register the pages (titled, under the app's name in the sidebar) and return the one to show."""
    pages = [st.Page(path, title=title, icon=icon, url_path=url or None, default=not url)
             for path, title, icon, url in PAGES]
    return st.navigation({APP_TITLE: pages})


# Whether this script run went through app.py's router (one flag per script-runner thread).
_run = threading.local()


def run(page: st.Page) -> None:
    """Run the chosen page inside the router (app.py calls this)."""
    _run.routed = True
    try:
        page.run()
    finally:
        _run.routed = False


def require_router() -> None:
    """The first call of every page file. A fresh server takes a folder named `pages/` for Streamlit's
    older file-based navigation until some session has called `st.navigation`: its very first request
    (a deep link such as /History) would run the page file alone, with file names in the sidebar. Such
    a run registers the titled pages, which ends the file-based mode for every session, and starts
    again through app.py."""
    if not getattr(_run, "routed", False):
        navigation()
        st.rerun()
