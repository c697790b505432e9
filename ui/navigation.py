"""The app's pages: their files, titles, icons and URL paths, and the sidebar navigation built from them."""
from __future__ import annotations

import streamlit as st

# Not in a folder named "pages": Streamlit would take that for its older file-based navigation and, on a
# server's first request, list the files by name and run a page without app.py.
HOME = "app_pages/home.py"
PRACTICE = "app_pages/practice.py"
HISTORY = "app_pages/history.py"
AUTHORING = "app_pages/authoring.py"

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
