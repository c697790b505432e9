"""The frame every page draws first: page settings, the session state, the sidebar's titled links
and its grader panel.

The pages are Streamlit's file-based pages in `pages/` (the product's layout), so the sidebar is drawn
here with `st.page_link` and titled from `ui.navigation.PAGES`; Streamlit's own file-named list is off
(`.streamlit/config.toml`). `st.navigation` was tried and left: with a folder named `pages/` Streamlit
runs a page file without the router on a fresh server's first request and on every AppTest run, which
loses clicks on the page.
"""
from __future__ import annotations

import streamlit as st

from ui.feedback import grader_panel
from ui.navigation import APP_TITLE, PAGES
from ui.state import init_state


def page_setup(title: str) -> None:
    """Call first on every page: settings, state, the sidebar."""
    st.set_page_config(page_title=f"{title} · {APP_TITLE}", page_icon=":material/hub:", layout="wide")
    init_state()
    with st.sidebar:
        st.markdown(f"### {APP_TITLE}")
        for path, label, icon in PAGES:
            st.page_link(path, label=label, icon=icon)
        st.divider()
    grader_panel()
