"""Roles: a component is judged by what it does (its kind, its label's words, its declared roles),
and the verdict says which word or property gave it a role."""
from __future__ import annotations

import pytest

from simulator.errors import DesignError
from simulator.grading.rubric import evaluate, parse_rubric
from simulator.model.design import parse_design
from simulator.model.notation import parse_dsl, to_dsl
from simulator.rules.context import Context
from simulator.rules.parse import parse_rule


def holds(rule: dict, text: str):
    parsed, problems = parse_rule(rule)
    assert not problems and parsed is not None
    return parsed.evaluate(Context(parse_dsl(text)))


def roles(text: str, node: str) -> frozenset[str]:
    return Context(parse_dsl(text)).roles[node]


def test_a_redis_box_labelled_online_feature_store_is_both_cache_and_feature_store():
    text = 'fs: redis "Online feature store"\nclient -> api -> fs'
    assert {"cache", "feature_store"} <= roles(text, "fs")
    assert holds({"reaches": {"from": "client", "to": "feature_store"}}, text).passed
    drawn_as_store = 'fs: feature_store "Redis online features"\nclient -> api -> fs'
    assert {"cache", "feature_store"} <= roles(drawn_as_store, "fs")


@pytest.mark.parametrize("label, role", [
    ("Chargebacks (30-120 days)", "labeling"),
    ("Disputes and fraud reports", "labeling"),
    ("Case management for analysts", "human_review"),
    ("Fraud rules engine", "rules_engine"),
    ("Shadow model", "shadow"),
    ("Canary release", "ab_testing"),
    ("On-vehicle perception", "model_server"),
    ("Two-tower candidate generation", "candidate_generation"),
    ("GBDT ranker", "ranking"),
    ("Kafka", "stream"),
    ("Random-walk recommendations (Pixie)", "candidate_generation"),
    ("Couchbase - user profiles (in memory)", "feature_store"),
    ("Couchbase - user profiles (in memory)", "cache"),
    ("User confirmations - fraud or legitimate (labels)", "labeling"),
    ("OTA release: employees, early access, then the fleet", "ab_testing"),
])
def test_the_lexicon_reads_roles_from_everyday_words(label, role):
    assert role in roles(f'n: service "{label}"\nclient -> n', "n")


@pytest.mark.parametrize("kind, label, absent", [
    ("data_warehouse", "Inference logs", "model_server"),          # the phrase qualifies a data noun
    ("trainer", "Daily ranker and two-tower retraining", "ranking"),  # offline boxes gain no serving role
    ("service", "LLM orchestrator", "llm"),                          # qualifies the next role word
    ("client", "Payment gateway", "api_gateway"),                    # callers are named, not roles
    ("stream", "Kafka with a schema registry", "model_registry"),
    ("database", "Cloud HD-map tile service", "service"),            # generic words give nothing
    ("drift_detector", "Drift and quality once labels land", "labeling"),  # 'labels' as an input
    ("alerting", "Drift alerts", "drift_detector"),                  # qualifies the next role word
    ("database", "Item cache misses fall through here", "cache"),
])
def test_words_that_only_qualify_give_no_role(kind, label, absent):
    assert absent not in roles(f'n: {kind} "{label}"\nn -> x\nx: service', "n")


def test_an_explicit_roles_property_in_both_formats_round_trips():
    design = parse_dsl("rules: service roles=rules_engine\nm: model_server roles=[shadow]\nclient -> rules")
    assert design.node("rules").roles == ("rules_engine",)
    assert "rules_engine" in Context(design).roles["rules"]
    assert parse_dsl(to_dsl(design)).fingerprint() == design.fingerprint()
    data = {"nodes": [{"id": "x", "kind": "database", "roles": ["labeling", "redis"]}], "edges": []}
    assert parse_design(data).node("x").roles == ("labeling", "cache")   # an alias names its kind


def test_an_unknown_role_is_a_located_error_with_a_suggestion():
    with pytest.raises(DesignError) as err:
        parse_dsl("api: service\nrules: service roles=rule_engine\nclient -> api")
    problem = err.value.problems[0]
    assert problem.line == 2 and "rule_engine" in problem.message and "rules_engine" in problem.message


def test_the_verdict_names_the_word_that_gave_the_role():
    rubric = parse_rubric({
        "scenario": "x", "categories": {"data": {"weight": 100}},
        "checks": [{"id": "labels", "category": "data", "points": 5, "title": "Labels reach training",
                    "hint": "Join the labels.", "follow_up": "How late are they?",
                    "rule": {"reaches": {"from": "labeling", "to": "trainer", "quantifier": "some"}}}]})
    design = parse_dsl('cb: database "Chargebacks"\ncb -> trainer')
    result = evaluate(design, rubric, None).checks[0]
    assert result.passed and 'cb is a labeling by its label "chargebacks"' in result.evidence
