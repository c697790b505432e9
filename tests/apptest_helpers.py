"""Driving the app in Streamlit's AppTest: the steps every page test repeats."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent


def new_app(timeout: int = 30) -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def button(at: AppTest, label: str):
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button {label!r}; buttons: {[b.label for b in at.button]}"
    return matches[0]


def click(at: AppTest, label: str) -> AppTest:
    return ok(button(at, label).click().run())


def widget(at: AppTest, kind: str, label: str, form: str | None = None):
    matches = [w for w in getattr(at, kind) if w.label == label and (form is None or w.form_id == form)]
    assert matches, f"no {kind} {label!r} (form {form}); have {[w.label for w in getattr(at, kind)]}"
    return matches[0]


def start(at: AppTest, sid: str, mode: str = "practice") -> AppTest:
    """From the home page: start the scenario's card, pick the mode, start the clock."""
    ok(at.run())
    ok(at.button(key=f"start-{sid}").click().run())
    widget(at, "radio", "Mode").set_value(mode)
    click(at, "Start the clock")
    assert "Start the clock" not in [b.label for b in at.button]
    return at


def set_dsl(at: AppTest, text: str) -> AppTest:
    """Type a design into the Text tab (applied as when the text area loses focus)."""
    return ok(at.text_area(key="dsl_text").input(text).run())


def metric(at: AppTest, label: str) -> str:
    return next(m for m in at.metric if m.label == label).value
