"""Interviewer feedback in the app, against a real OpenAI-protocol server on 127.0.0.1."""
import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from simulator.grading.library import load_library
from simulator.store.repository import Store
from ui.navigation import HISTORY

from .apptest_helpers import click, new_app, set_dsl, start
from .fake_openai import FakeOpenAI, Reply, error

KEY = "sk-test-feedback-ui-0123456789abcdef"
CATEGORIES = list(load_library().rubrics["conversational-ai"].categories)


def good_answer() -> Reply:
    return Reply(content=json.dumps({
        "reasoning": "Caching and fallback are drawn; monitoring is thin.",
        "summary": "A sound request path with a fallback model.",
        "strengths": ["Fallback model on the orchestrator."],
        "gaps": [{"text": "No alerting on the fallback rate.", "node_ids": ["chat"]}],
        "follow_up_questions": ["What pages the on-call engineer?"],
        "categories": [{"category": c, "score": 4, "comment": f"{c} is fine"} for c in CATEGORIES],
        "communication_score": 4, "communication_comment": "Clear.",
        "trade_offs_score": 3, "trade_offs_comment": "Some.",
        "hire_signal": "lean_yes",
    }))


@pytest.fixture()
def env(db_url, tmp_path, monkeypatch):
    db = db_url
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("SIMULATOR_LLM_MODEL", "fake-model")
    monkeypatch.setenv("SIMULATOR_LLM_TIMEOUT", "10")
    monkeypatch.setenv("SIMULATOR_LLM_BACKOFF", "0.01")
    monkeypatch.setenv("SIMULATOR_SECRETS_FILE", str(tmp_path / "no-secrets.toml"))
    return db


def submit_a_design(app: AppTest) -> None:
    start(app, "conversational-ai")
    set_dsl(app, "client -> api_gateway -> chat -> redis\nchat: service x3 autoscale\nchat -> llm\n"
                 "small: llm\nchat -fallback-> small")
    click(app, "Submit")


def only_attempt(db_url: str):
    with Store(db_url) as store:
        (record,) = store.list_attempts()
        return record


def test_feedback_arrives_after_the_verdict_and_is_stored(env, monkeypatch):
    with FakeOpenAI([good_answer()]) as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
        app = new_app(timeout=60)
        submit_a_design(app)
        assert not app.exception
        assert any("fake-model" in m.value for m in app.markdown)
        assert any("hire signal" in m.value for m in app.markdown)
        record = only_attempt(env)
        assert record.feedback["status"] == "ok"
        assert record.overall_score == record.report["score"]          # the rule verdict stays the verdict
        assert abs(record.feedback["final_score"] - record.overall_score) <= 10
        assert KEY not in json.dumps(record.to_dict(), default=str)
        assert len(fake.requests) == 1
        # the sidebar says which grader is active
        assert any("fake-model" in c.value for c in app.sidebar.caption)


def test_a_failing_model_degrades_the_feedback_not_the_attempt_and_retry_recovers(env, monkeypatch):
    replies = [error(500, "upstream exploded")]
    with FakeOpenAI(lambda body, i: replies[-1]) as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
        app = new_app(timeout=60)
        submit_a_design(app)
        assert not app.exception
        assert any("Interviewer feedback unavailable" in w.value for w in app.warning)
        record = only_attempt(env)
        assert record.ended_at is not None and record.report["score"] == record.overall_score
        assert record.feedback["status"] == "unavailable"
        replies.append(good_answer())
        click(app, "Retry feedback")
        assert only_attempt(env).feedback["status"] == "ok"
        assert not any("Interviewer feedback unavailable" in w.value for w in app.warning)


def test_history_shows_stored_feedback_without_calling_the_model_again(env, monkeypatch):
    with FakeOpenAI([good_answer()]) as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
        app = new_app(timeout=60)
        submit_a_design(app)
        calls = len(fake.requests)
        record = only_attempt(env)
        app.switch_page(HISTORY).run()
        table = next(d for d in app.dataframe if "id" in d.value)
        row = list(table.value["id"]).index(record.id)
        app.session_state[table.key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
        app.run()
        assert not app.exception
        assert any("fake-model" in m.value for m in app.markdown)     # the stored feedback is shown
        assert len(fake.requests) == calls                          # and the model was not asked again


def test_the_interviewers_questions_are_shown(env, monkeypatch):
    with FakeOpenAI([good_answer()]) as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
        app = new_app(timeout=60)
        submit_a_design(app)
        # Markdown source escapes untrusted punctuation (on\-call); a reader sees the text as written
        assert any("What pages the on-call engineer?" in re.sub(r"\\(.)", r"\1", m.value) for m in app.markdown)
