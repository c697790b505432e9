"""The Simulate panel in Streamlit's AppTest: a design typed as text, then more load and a failed node."""
import pytest

from .apptest_helpers import click, metric, new_app, set_dsl, start

# conversational-ai peaks at 3,000 req/s: chat at 75 %, the llm at 75 %, a cache in front of nothing
DESIGN = ("client -> chat -> llm\nchat: service x8 capacity=500\nllm: llm capacity=4000\n"
          "small: llm capacity=4000\nchat -fallback-> small\nchat -> cache\ncache: redis capacity=100000")


@pytest.fixture()
def app(db_url):
    return new_app()


def served(app) -> str:
    return metric(app, "Served share")


def test_load_slider_and_failed_nodes_move_the_served_share(app):
    start(app, "conversational-ai")
    set_dsl(app, DESIGN)
    assert not app.exception and not app.error
    assert served(app) == "100.0 %"
    assert metric(app, "Max utilisation") == "75 %"

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
    start(app, "conversational-ai")
    set_dsl(app, "client -> chat -> llm\nchat: service\nllm: llm traffic_share=3")
    assert not app.exception
    assert any("traffic_share" in e.value and "llm" in e.value for e in app.error)


def test_the_result_view_has_a_simulate_tab(app):
    start(app, "conversational-ai")
    set_dsl(app, DESIGN)
    click(app, "Submit")
    assert not app.exception and not app.error
    assert any(t.label == "Simulate" for t in app.tabs)
    assert served(app) == "100.0 %"
    app.slider(key="result-sim-load").set_value(2.0).run()
    assert served(app) == "66.7 %"


def test_zone_lost_picks_a_zone_from_the_design(app):
    start(app, "conversational-ai")
    set_dsl(app, "client -> lb -> api -> metrics\nlb: load_balancer x2\napi: service x8 capacity=1000 zone=eu-1b\n"
                 "metrics: monitoring zone=eu-1a")
    assert served(app) == "100.0 %"
    assert app.selectbox(key="practice-sim-zone").options == ["eu-1a", "eu-1b"]
    app.toggle(key="practice-sim-zone-on").set_value(True).run()     # eu-1a: only telemetry there
    assert not app.exception and not app.error
    assert served(app) == "100.0 %"
    app.selectbox(key="practice-sim-zone").set_value("eu-1b").run()
    assert served(app) == "0.0 %"
    assert any("api" in str(df.value) and "failed" in str(df.value) for df in app.dataframe)
