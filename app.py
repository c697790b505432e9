"""The app: the titled pages in the sidebar, the page settings, the session state, and the page to show."""
import streamlit as st

from ui.feedback import grader_panel
from ui.navigation import APP_TITLE, navigation, run
from ui.state import init_state

page = navigation()
st.set_page_config(page_title=f"{page.title} · {APP_TITLE}", page_icon=":material/hub:", layout="wide")
init_state()
grader_panel()
run(page)
