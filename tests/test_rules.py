"""Semantics of each rule operator on small hand-built designs."""
import pytest

from simulator.errors import RubricError
from simulator.grading.rubric import Check, parse_rubric, run_check
from simulator.model.notation import parse_dsl
from simulator.rules.context import Context
from simulator.rules.parse import parse_rule


def holds(rule: dict, text: str):
    parsed, problems = parse_rule(rule)
    assert not problems, problems
    return parsed.evaluate(Context(parse_dsl(text)))


def test_present_counts_kinds_and_aliases():
    assert holds({"present": {"kind": "cache"}}, "c: redis").passed
    assert not holds({"present": {"kind": "cache", "min": 2}}, "c: redis").passed
    out = holds({"present": {"kind": "llm", "max": 1}}, "a: llm\nb: gpt-4")
    assert not out.passed and out.nodes == ["a", "b"]


def test_edge_some_and_every():
    text = "a: service\nb: service\na -> monitoring"
    assert holds({"edge": {"from": "service", "to": "monitoring"}}, text).passed
    out = holds({"edge": {"from": "service", "to": "monitoring", "quantifier": "every"}}, text)
    assert not out.passed and out.nodes == ["b"]


def test_reaches_follows_direction():
    assert holds({"reaches": {"from": "client", "to": "llm"}}, "client -> service -> llm").passed
    out = holds({"reaches": {"from": "client", "to": "llm"}}, "llm -> service -> client")
    assert not out.passed and "client" in out.evidence


def test_reaches_every_names_the_nodes_that_do_not():
    out = holds({"reaches": {"from": "service", "to": "monitoring"}},
                "a: service\nb: service\na -> monitoring\nb -> llm")
    assert not out.passed and out.nodes == ["b"]


def test_reaches_can_be_limited_to_edge_kinds():
    text = "client -fallback-> llm"
    assert holds({"reaches": {"from": "client", "to": "llm"}}, text).passed
    assert not holds({"reaches": {"from": "client", "to": "llm", "edges": ["sync"]}}, text).passed


def test_via_inline_and_lookaside_cache():
    inline = "client -> cache -> llm"
    aside = "client -> service -> llm\nservice -> cache"
    rule = {"via": {"from": "client", "to": "llm", "through": "cache"}}
    assert holds(rule, inline).passed
    assert not holds(rule, aside).passed
    rule["via"]["lookaside"] = True
    out = holds(rule, aside)
    assert out.passed and "service consults cache" in out.evidence


def test_via_every_finds_the_path_that_avoids_the_guard():
    text = "client -> cache -> llm\nclient -> service -> llm"
    out = holds({"via": {"from": "client", "to": "llm", "through": "cache", "quantifier": "every"}}, text)
    assert not out.passed
    assert out.path == ["client", "service", "llm"]


def test_via_without_any_path_fails_even_for_every():
    out = holds({"via": {"from": "client", "to": "llm", "through": "cache", "quantifier": "every"}},
                "client -> cache\nllm: llm")
    assert not out.passed and "no path" in out.evidence


def test_fallback_needs_a_fallback_edge_from_upstream():
    rule = {"fallback": {"target": "llm"}}
    assert holds(rule, "small: llm\nservice -> llm\nservice -fallback-> small").passed
    # replicas are scaling, not fallback
    assert not holds(rule, "big: llm x5\nservice -> big").passed
    # a fallback arrow from a node that does not call the model does not protect it
    assert not holds(rule, "small: llm\nservice -> llm\nother: service\nother -fallback-> small").passed


def test_a_component_may_name_its_own_backup():
    rule = {"fallback": {"target": "model_server"}}
    drawn = 'p: edge_device "Primary perception"\ns: edge_device "Safety stop"\ncamera -> p\np -fallback-> s'
    assert holds({"fallback": {"target": "model_server", "alternatives": "edge_device"}}, drawn).passed
    assert not holds(rule, "a: model_server\nclient -> a\nwatchdog: service\nwatchdog -fallback-> s\ns: service").passed


def test_fallback_protection_reaches_through_intermediate_callers():
    text = "small: llm\nclient -> api_gateway -> service -> llm\napi_gateway -fallback-> small"
    assert holds({"fallback": {"target": "llm"}}, text).passed


def test_fallback_alternative_kinds_are_enforced():
    text = "service -> llm\nservice -fallback-> cache"
    assert holds({"fallback": {"target": "llm"}}, text).passed
    assert not holds({"fallback": {"target": "llm", "alternatives": ["llm", "model_server"]}}, text).passed


def test_fallback_every_lists_unprotected_models():
    text = "a: model_server\nb: model_server\nsmall: model_server\nservice -> a\nservice -fallback-> small\nother: service\nother -> b"
    out = holds({"fallback": {"target": "model_server"}}, text)
    assert not out.passed and out.nodes == ["b"]


def test_a_load_balancer_sized_as_one_box_is_a_spof_and_a_managed_one_is_not():
    rule = {"no_spof": {"from": "client", "to": "service"}}
    out = holds(rule, "lb: load_balancer x1\napi: service x3\nclient -> lb -> api")
    assert not out.passed and out.nodes == ["lb"]
    assert holds(rule, "lb: load_balancer\napi: service x3\nclient -> lb -> api").passed   # managed: HA
    assert holds(rule, "lb: load_balancer x2\napi: service x3\nclient -> lb -> api").passed


def test_parallel_paths_remove_the_spof():
    text = "a: load_balancer x1\nb: load_balancer x1\napi: service x2\nclient -> a -> api\nclient -> b -> api"
    assert holds({"no_spof": {"from": "client", "to": "service"}}, text).passed


def test_a_single_replica_target_is_a_spof_unless_an_alternative_serves():
    rule = {"no_spof": {"from": "client", "to": "model_server"}}
    out = holds(rule, "client -> api -> model_server\napi: service x3")
    assert not out.passed and out.nodes == ["model_server"]
    assert holds(rule, "api: service x3\nm: model_server autoscale\nclient -> api -> m").passed
    lite = "api: service x3\nm: model_server\nlite: model_server\nclient -> api -> m\napi -fallback-> lite"
    assert holds(rule, lite).passed


def test_offline_paths_second_clients_and_shadows_are_no_redundancy():
    rule = {"no_spof": {"from": "client", "to": "model_server"}}
    offline = ("api: service\nm: model_server x3\nclient -> api -> m\n"
               "client -async-> stream -> trainer -> m")
    assert holds(rule, offline).nodes == ["api"]
    two_clients = ("web: client\napp: client\napi: service\nm: model_server x3\n"
                   "web -> api -> m\napp -> m")
    assert holds(rule, two_clients).nodes == ["api"]
    shadow = ("api: service x3\nm: model_server\nsh: model_server x2 \"Shadow model\"\n"
              "client -> api -> m\napi -> sh")
    assert holds(rule, shadow).nodes == ["m"]


def test_spof_sources_only_when_asked():
    text = "c: client x1\napi: service x2\nc -> api"
    assert holds({"no_spof": {"from": "client", "to": "service"}}, text).passed
    assert not holds({"no_spof": {"from": "client", "to": "service", "include_endpoints": True}}, text).passed


def test_scaled_and_balanced():
    assert holds({"scaled": {"kind": "service"}}, "a: service x2").passed
    assert holds({"scaled": {"kind": "service"}}, "a: service autoscale").passed
    assert not holds({"scaled": {"kind": "service", "autoscale_required": True}}, "a: service x9").passed
    assert holds({"balanced": {"kind": "service"}}, "a: service x2\nload_balancer -> a").passed
    out = holds({"balanced": {"kind": "service"}}, "a: service x2\nclient -> a")
    assert not out.passed and out.nodes == ["a"]


def test_decoupled_through_a_queue_or_an_async_arrow():
    rule = {"decoupled": {"producer": "service", "consumer": "trainer"}}
    assert holds(rule, "service -> kafka -> trainer").passed
    assert holds(rule, "service -async-> trainer").passed
    assert not holds(rule, "service -> trainer").passed
    every = {"decoupled": {"producer": "service", "consumer": "trainer", "quantifier": "every"}}
    assert not holds(every, "service -> kafka -> trainer\nservice -> trainer").passed


def test_combinators():
    text = "client -> service -> llm"
    assert holds({"all": [{"present": {"kind": "llm"}}, {"reaches": {"from": "client", "to": "llm"}}]}, text).passed
    assert holds({"any": [{"present": {"kind": "cache"}}, {"present": {"kind": "llm"}}]}, text).passed
    assert not holds({"any": [{"present": {"kind": "cache"}}, {"present": {"kind": "cdn"}}]}, text).passed
    assert holds({"not": {"present": {"kind": "cache"}}}, text).passed


@pytest.mark.parametrize("rule, message", [
    ({"presnt": {"kind": "llm"}}, "did you mean present"),
    ({"via": {"from": "client", "to": "llm", "thrugh": "cache"}}, "did you mean through"),
    ({"present": {"kind": "reddis"}}, "redis"),
    ({"edge": {"from": "client", "to": "llm", "edges": ["sometimes"]}}, "unknown edge kind"),
    ({"present": {"kind": "llm"}, "edge": {"from": "a", "to": "b"}}, "exactly one operator"),
    ({"not": [{"present": {"kind": "llm"}}]}, "one rule"),
    ({"all": []}, "non-empty"),
])
def test_bad_rules_are_load_errors_with_a_fix(rule, message):
    parsed, problems = parse_rule(rule)
    assert parsed is None
    assert any(message in p.message for p in problems), problems


def test_a_rule_that_raises_is_an_error_verdict_not_a_pass():
    class Boom:
        def evaluate(self, ctx):
            raise RuntimeError("kaput")

    check = Check("boom", "caching", 5, "Boom check", Boom(), "hint", "why?")
    result = run_check(check, parse_dsl("client -> service"), None)
    assert result.status == "error" and not result.passed and result.earned == 0
    assert "kaput" in result.evidence


def test_rubric_problems_carry_lines():
    from simulator.model.yamlio import load_text

    text = """scenario: demo
categories:
  caching: {weight: 1}
checks:
  - id: one
    category: cachng
    points: 5
    title: A check
    rule: {present: {kind: redis}}
    hint: add a cache
    follow_up: why?
  - id: one
    category: caching
    points: 5
    title: Another
    rule: {via: {from: client, to: llm, thrugh: cache}}
    hint: add a cache
    follow_up: why?
"""
    with pytest.raises(RubricError) as info:
        parse_rubric(load_text(text, "demo.yaml"), "demo.yaml")
    lines = {(p.line, p.message.split(":")[0]) for p in info.value.problems}
    messages = " | ".join(str(p) for p in info.value.problems)
    assert "demo.yaml:6:" in messages and "did you mean caching" in messages
    assert "demo.yaml:12:" in messages and "duplicate check id 'one'" in messages
    assert "demo.yaml:16:" in messages and "did you mean through" in messages
    assert len(lines) >= 3


def test_decoupled_every_accepts_a_route_that_is_only_async():
    rule = {"decoupled": {"producer": "service", "consumer": "stream_processor", "quantifier": "every"}}
    assert holds(rule, "client -> service -async-> stream -> stream_processor").passed
    assert holds(rule, "service -async-> stream_processor").passed
    assert not holds(rule, "service -> stream_processor").passed


def test_a_fallback_arrow_from_the_caller_or_from_the_model_itself_both_name_its_backup():
    rule = {"fallback": {"target": "model_server"}}
    assert holds(rule, "service -> model_server\nrules: service\nmodel_server -fallback-> rules").passed
    assert holds(rule, "service -> model_server\nrules: service\nservice -fallback-> rules").passed
    assert not holds(rule, "service -> model_server\nrules: service\nrules -fallback-> service").passed


def test_a_load_balancer_in_front_of_a_tier_is_transparent_to_lookaside():
    rule = {"via": {"from": "client", "to": "ranking", "through": "candidate_generation", "lookaside": True}}
    text = ('feed: service\ncg: service "Random-walk candidate generation" x8\nrank: model_server "Ranker"\n'
            "client -> feed -> rank\nfeed -> lb -> cg\nlb: load_balancer")
    assert holds(rule, text).passed
    assert not holds(rule, text.replace("feed -> lb -> cg", "other -> lb -> cg\nother: service")).passed


def test_the_simulation_spof_rule_sees_what_the_simulate_tab_lists():
    rule = {"simulate": {"no_spof": True}}
    text = ("api: service x3\nm: model_server x2\nfs: feature_store x1 capacity=100000\n"
            "client -> api -> m\napi -> fs")
    out = holds(rule, text)          # the structural client-to-model check cannot see the feature store
    assert holds({"no_spof": {"from": "client", "to": "model_server"}}, text).passed
    assert not out.passed and out.nodes == ["fs"] and "single point" in out.evidence
    assert holds(rule, text.replace("fs: feature_store x1", "fs: feature_store x2")).passed


def test_metrics_of_its_own_means_an_arrow_of_its_own_or_through_a_telemetry_pipe():
    rule = {"reaches": {"from": ["service", "model_server"], "to": "monitoring", "via_only": ["stream", "logging"]}}
    assert not holds(rule, "api: service\nm: model_server\napi -> m\nm -> monitoring").passed   # api is silent
    assert holds(rule, "api: service\nm: model_server\napi -> m\nm -> monitoring\napi -> monitoring").passed
    piped = "api: service\nm: model_server\napi -> m\napi -> kafka\nm -> kafka\nkafka -> monitoring"
    assert holds(rule, piped).passed
    leaf = "api: service\nm: model_server\napi -> m\napi -> monitoring"
    out = holds(rule, leaf)                              # a model that calls nothing still needs its own arrow
    assert not out.passed and out.nodes == ["m"] and out.credit == 0.5


def test_a_role_can_be_excluded_from_what_counts_as_the_guard():
    rule = {"via": {"from": "client", "to": "llm", "through": "cache", "excluding": "memory", "lookaside": True}}
    history = 'h: redis "Conversation history"\nchat: service\nclient -> chat -> llm\nchat -> h'
    assert not holds(rule, history).passed                     # memory, not a response cache
    assert holds(rule, history + '\nrc: redis "Response cache"\nchat -> rc').passed


def test_a_product_that_is_a_replicated_cluster_is_no_spof_unless_sized_as_one():
    rule = {"no_spof": {"from": "client", "to": "database"}}
    assert holds(rule, "api: service x3\ndb: cassandra\nclient -> api -> db").passed
    assert holds(rule, 'api: service x3\ndb: database "Profiles (DynamoDB)"\nclient -> api -> db').passed
    assert holds(rule, "api: service x3\ndb: cassandra x1\nclient -> api -> db").nodes == ["db"]
    assert holds(rule, "api: service x3\ndb: postgres\nclient -> api -> db").nodes == ["db"]
