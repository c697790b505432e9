"""The app's pages: their files, titles and icons (the sidebar's links and every page switch use these)."""
from __future__ import annotations

HOME = "app.py"
PRACTICE = "pages/1_Practice.py"
HISTORY = "pages/2_History.py"
AUTHORING = "pages/3_Authoring.py"

APP_TITLE = "ML system design simulator"

# file, title (shown in the sidebar and the browser tab), icon
PAGES = (
    (HOME, "Home", ":material/home:"),
    (PRACTICE, "Practice", ":material/timer:"),
    (HISTORY, "History", ":material/history:"),
    (AUTHORING, "Authoring", ":material/edit_note:"),
)
