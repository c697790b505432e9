"""The app in Streamlit's AppTest: pick a scenario, build a design as text, submit, see the result."""
import pytest

from .apptest_helpers import click, metric, new_app, set_dsl, start


@pytest.fixture()
def app(db_url):
    return new_app()


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
    start(app, "conversational-ai")
    set_dsl(app, "client -> api_gateway -> chat -> redis\nchat: service x3 autoscale\nchat -> llm\n"
                 "small: llm\nchat -fallback-> small")
    assert not app.error
    overall = metric(app, "Overall")
    assert overall != "0/100"
    click(app, "Submit")
    assert any("Submitted" in c.value for c in app.caption)
    assert metric(app, "Overall") == overall


def test_tidy_layout_places_callers_left_of_callees(app):
    start(app, "conversational-ai")
    set_dsl(app, "chat: service\nclient -> chat -> llm")
    click(app, "Tidy the layout")
    layout = app.session_state["design"].layout
    assert layout["client"][0] < layout["chat"][0] < layout["llm"][0]
