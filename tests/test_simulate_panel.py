"""The Simulate panel in Streamlit's AppTest: a design typed as text, then more load and a failed node."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent

# conversational-ai peaks at 3,000 req/s: chat at 75 %, the llm at 75 %, a cache in front of nothing
DESIGN = ("client -> chat -> llm\nchat: service x8 capacity=500\nllm: llm capacity=4000\n"
          "small: llm capacity=4000\nchat -fallback-> small\nchat -> cache\ncache: redis capacity=100000")


@pytest.fixture()
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("SIMULATOR_DATABASE_URL", f"sqlite:///{tmp_path}/attempts.sqlite")
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)


def served(app) -> str:
    return next(m for m in app.metric if m.label == "Served share").value


def test_load_slider_and_failed_nodes_move_the_served_share(app):
    app.run()
    app.button(key="start-conversational-ai").click().run()
    next(b for b in app.button if b.label == "Start the clock").click().run()
    dsl = next(t for t in app.text_area if t.label == "Design as text")
    dsl.set_value(DESIGN).run()
    assert not app.exception and not app.error
    assert served(app) == "100.0 %"
    assert next(m for m in app.metric if m.label == "Max utilisation").value == "75 %"

    app.slider(key="practice-sim-load").set_value(2.0).run()      # 6,000 req/s: chat at 150 %
    assert not app.exception and not app.error
    assert served(app) == "66.7 %"
    assert any("chat" in str(df.value) for df in app.dataframe)     # listed as a bottleneck

    app.slider(key="practice-sim-load").set_value(1.0).run()
    app.multiselect(key="practice-sim-fail").set_value(["chat"]).run()
    assert not app.exception and not app.error
    assert served(app) == "0.0 %"

    app.multiselect(key="practice-sim-fail").set_value(["llm"]).run()   # the fallback takes over
    assert served(app) == "100.0 %"
    app.toggle(key="practice-sim-model").set_value(True).run()          # primary model down: llm fails
    assert not app.exception and not app.error
    assert served(app) == "100.0 %"


def test_a_design_the_model_rejects_shows_an_error_not_a_traceback(app):
    app.run()
    app.button(key="start-conversational-ai").click().run()
    next(b for b in app.button if b.label == "Start the clock").click().run()
    dsl = next(t for t in app.text_area if t.label == "Design as text")
    dsl.set_value("client -> chat -> llm\nchat: service\nllm: llm traffic_share=3").run()
    assert not app.exception
    assert any("traffic_share" in e.value and "llm" in e.value for e in app.error)


def test_the_result_view_has_a_simulate_tab(app):
    app.run()
    app.button(key="start-conversational-ai").click().run()
    next(b for b in app.button if b.label == "Start the clock").click().run()
    next(t for t in app.text_area if t.label == "Design as text").set_value(DESIGN).run()
    next(b for b in app.button if b.label == "Submit").click().run()
    assert not app.exception and not app.error
    assert any(t.label == "Simulate" for t in app.tabs)
    assert served(app) == "100.0 %"
    app.slider(key="result-sim-load").set_value(2.0).run()
    assert served(app) == "66.7 %"


def test_zone_lost_picks_a_zone_from_the_design(app):
    app.run()
    app.button(key="start-conversational-ai").click().run()
    next(b for b in app.button if b.label == "Start the clock").click().run()
    next(t for t in app.text_area if t.label == "Design as text").set_value(
        "client -> lb -> api -> metrics\nlb: load_balancer x2\napi: service x8 capacity=1000 zone=eu-1b\n"
        "metrics: monitoring zone=eu-1a").run()
    assert served(app) == "100.0 %"
    assert app.selectbox(key="practice-sim-zone").options == ["eu-1a", "eu-1b"]
    app.toggle(key="practice-sim-zone-on").set_value(True).run()     # eu-1a: only telemetry there
    assert not app.exception and not app.error
    assert served(app) == "100.0 %"
    app.selectbox(key="practice-sim-zone").set_value("eu-1b").run()
    assert served(app) == "0.0 %"
    assert any("api" in str(df.value) and "failed" in str(df.value) for df in app.dataframe)
