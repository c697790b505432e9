"""The app in Streamlit's AppTest: pick a scenario, build a design as text, submit, see the result."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("SIMULATOR_DATABASE_URL", f"sqlite:///{tmp_path}/attempts.sqlite")
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)


def test_home_lists_the_five_scenarios_and_starts_one(app):
    app.run()
    assert not app.exception
    starts = [b for b in app.button if b.label == "Start"]
    assert len(starts) == 5
    app.button(key="start-fraud-detection").click().run()
    assert not app.exception
    assert "fraud" in app.title[0].value.lower()
    assert any(b.label == "Start the clock" for b in app.button)


def test_text_design_is_checked_submitted_and_graded(app):
    app.run()
    app.button(key="start-conversational-ai").click().run()
    next(b for b in app.button if b.label == "Start the clock").click().run()
    dsl = next(t for t in app.text_area if t.label == "Design as text")
    dsl.set_value("client -> api_gateway -> chat -> redis\nchat: service x3 autoscale\nchat -> llm\n"
                  "small: llm\nchat -fallback-> small").run()
    assert not app.exception
    assert not app.error
    overall = next(m for m in app.metric if m.label == "Overall")
    assert overall.value != "0/100"
    next(b for b in app.button if b.label == "Submit").click().run()
    assert not app.exception
    assert any("Submitted" in c.value for c in app.caption)
    assert next(m for m in app.metric if m.label == "Overall").value == overall.value


def test_tidy_layout_places_callers_left_of_callees(app):
    app.run()
    app.button(key="start-conversational-ai").click().run()
    next(b for b in app.button if b.label == "Start the clock").click().run()
    next(t for t in app.text_area if t.label == "Design as text").set_value(
        "chat: service\nclient -> chat -> llm").run()
    next(b for b in app.button if b.label == "Tidy the layout").click().run()
    assert not app.exception
    layout = app.session_state["design"].layout
    assert layout["client"][0] < layout["chat"][0] < layout["llm"][0]
