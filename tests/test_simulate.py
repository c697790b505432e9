"""Traffic and failure simulation on small designs whose figures can be worked out by hand."""
import json

import pytest

from simulator.errors import DesignError, SimulatorError
from simulator.model.design import Design, Edge, Node
from simulator.model.notation import parse_dsl
from simulator.rules.context import Context
from simulator.rules.simulated import Simulated
from simulator.simulation.chaos import Chaos
from simulator.simulation.constants import DEFAULT_PEAK_RPS, TAIL_FACTOR
from simulator.simulation.report import format_simulation, simulation_json
from simulator.simulation.run import simulate, single_failures

approx = lambda x: pytest.approx(x, rel=1e-9, abs=1e-12)  # noqa: E731

CHAIN = """
client: client
lb: load_balancer capacity=1000
api: service x2 capacity=100
model: model_server x4 capacity=50
client -> lb -> api -> model
"""


def sim(text: str, peak: float, **kw):
    return simulate(parse_dsl(text), peak, **kw)


def loads(result):
    return {nid: n.load for nid, n in result.nodes.items()}


def utils(result):
    return {nid: n.utilization for nid, n in result.nodes.items()}


# --- load and utilisation ---------------------------------------------------------------------


def test_chain_loads_and_utilisations_are_exact():
    r = sim(CHAIN, 150)
    assert loads(r) == {"client": 150, "lb": 150, "api": 150, "model": 150}
    assert utils(r) == {"client": 0, "lb": approx(0.15), "api": approx(0.75), "model": approx(0.75)}
    assert r.max_utilization == approx(0.75)
    assert r.bottlenecks == [] and r.served_share == 1.0 and r.entries == ["client"]
    r = sim(CHAIN, 180)
    assert r.bottlenecks == ["api", "model"]            # both at 90 %: ties keep the design order
    r = sim(CHAIN, 300)                                 # api and model at 150 %: each sheds a third
    assert utils(r)["api"] == approx(1.5) and r.bottlenecks == ["api", "model"]
    assert r.served_share == approx((1 / 1.5) ** 2)


def test_load_multiplier_and_even_split_across_entries():
    text = "a: client\nb: client\napi: service capacity=100\na -> api\nb -> api"
    r = sim(text, 100, load=0.5)
    assert r.offered_rps == 50 and loads(r) == {"a": 25, "b": 25, "api": 50}


def test_fan_out_sends_the_full_load_to_every_sync_dependency():
    text = ("client -> api\napi: service capacity=1000\ndb: database capacity=1000\nfs: feature_store\n"
            "api -> db\napi -> fs")
    r = sim(text, 200)
    assert loads(r)["db"] == 200 and loads(r)["fs"] == 200
    assert sim(text, 200, failed=["fs"]).served_share == 0.0    # a request needs every dependency


def test_cache_passes_on_only_its_misses():
    text = "client -> api -> cache -> db\napi: service capacity=10000\ncache: redis hit_rate=0.9\ndb: postgres"
    r = sim(text, 1000)
    assert loads(r)["cache"] == 1000 and loads(r)["db"] == approx(100)
    flushed = sim(text, 1000, chaos="cache_flush")
    assert loads(flushed)["db"] == 1000
    assert flushed.nodes["db"].utilization == approx(10 * r.nodes["db"].utilization)


def test_async_consumers_take_load_but_not_latency_or_failures():
    text = ("client -> api\napi: service capacity=100 latency_ms=10\napi -async-> q\nq: queue capacity=1000\n"
            "q -> worker\nworker: service capacity=50 latency_ms=500")
    r = sim(text, 40)
    assert loads(r)["q"] == 40 and loads(r)["worker"] == 40 and utils(r)["worker"] == approx(0.8)
    assert r.critical_path == ["client", "api"] and r.latency_ms["p50"] == approx(10 / 0.6)
    assert sim(text, 40, failed=["worker"]).served_share == 1.0


def test_telemetry_and_offline_nodes_absorb_load_and_never_fail_requests():
    text = ("client -> api\napi: service capacity=1000\napi -> metrics -> dash\nmetrics: monitoring capacity=20000\n"
            "dash: grafana\napi -async-> stream\nstream -> lake\nlake: data_warehouse\nlake -> trainer -> registry")
    r = sim(text, 500)
    assert loads(r)["metrics"] == 500 and utils(r)["metrics"] == approx(500 / 20000)
    assert loads(r)["dash"] == 0                      # monitoring passes nothing on
    assert loads(r)["lake"] == 500 and utils(r)["lake"] == 0   # offline: not capacity-checked
    assert loads(r)["trainer"] == 0 and loads(r)["registry"] == 0
    assert sim(text, 500, failed=["metrics"]).served_share == 1.0
    assert r.latency_ms["p50"] == approx(20 / (1 - 0.5))       # metrics is not on the critical path


def test_replication_edges_carry_no_load():
    r = sim("client -> db\ndb: database\ndb2: database\ndb -replication-> db2", 100)
    assert loads(r)["db2"] == 0


# --- fallback -----------------------------------------------------------------------------------

FALLBACK = """
client -> api -> model
api: service capacity=1000
model: model_server capacity=100
rules: service capacity=1000
api -fallback-> rules
"""


def test_fallback_keeps_requests_served_when_the_primary_dies():
    r = sim(FALLBACK, 80, failed=["model"])
    assert r.served_share == 1.0 and loads(r)["rules"] == 80 and r.nodes["model"].failed
    assert r.critical_path == ["client", "api", "rules"]
    bare = FALLBACK.replace("api -fallback-> rules", "")
    assert sim(bare, 80, failed=["model"]).served_share == 0.0
    assert sim(FALLBACK, 80).nodes["rules"].load == 0            # idle while the primary is healthy


def test_fallback_takes_the_overflow_of_a_saturated_primary():
    r = sim(FALLBACK, 200)                                       # model at 200 %: half its requests overflow
    assert utils(r)["model"] == approx(2.0) and loads(r)["rules"] == approx(100)
    assert r.served_share == approx(1.0)
    assert sim(FALLBACK.replace("api -fallback-> rules", ""), 200).served_share == approx(0.5)


def test_fallback_also_covers_a_failure_behind_the_primary():
    text = FALLBACK.replace("client -> api -> model", "client -> api -> scorer -> model") + \
        "scorer: service capacity=1000\n"
    r = sim(text, 50, failed=["model"])
    assert r.served_share == 1.0 and loads(r)["rules"] == 50


def test_a_failed_fallback_hands_over_to_the_next_one():
    text = FALLBACK + "cached: service capacity=1000\napi -fallback-> cached\n"
    r = sim(text, 50, failed=["model", "rules"])
    assert r.served_share == 1.0 and loads(r)["cached"] == 50 and loads(r)["rules"] == 0


# --- failures, drills and SPOFs ---------------------------------------------------------------------

LB = """
client -> lb -> api
lb: load_balancer capacity=1000
api: service x3 capacity=100
"""


def test_spofs_are_structural_whatever_the_load_and_only_without_redundancy():
    # at 1,000 req/s everything after the gateway collapses; losing the single api still loses all
    text = "client -> g -> api -> model\ng: api_gateway x1 capacity=100\napi: service x1 capacity=10\n" \
           "model: model_server x3 capacity=5"
    r = sim(text, 1000)
    assert r.served_share < 0.01 and r.spofs == ["g", "api"]       # not the replicated model
    managed = sim("client -> g -> api\ng: api_gateway\napi: service x1 capacity=1000", 100)
    assert managed.spofs == ["api"]                                  # an unsized gateway is managed: HA
    # losing a look-aside cache overloads the small tier behind it: a capacity problem, not a lost route
    cached = sim("client -> api -> c\napi: service x3\nc: redis x1 hit_rate=0.8\napi -> llm\n"
                 "llm: llm x2 capacity=100", 600)
    assert cached.served_share == approx(1.0) and cached.drills["c"] < 0.5
    assert "c" not in cached.spofs


def test_a_lone_load_balancer_is_a_spof_and_two_replicas_are_not():
    r = sim(LB, 100)
    assert r.spofs == ["lb"] and r.drills == {"lb": 0.0, "api": 1.0}
    r = sim(LB.replace("lb: load_balancer", "lb: load_balancer x2"), 100)
    assert r.spofs == [] and r.drills["lb"] == 1.0


def test_losing_a_replica_removes_its_capacity():
    shares = single_failures(parse_dsl(LB), 240)       # api 3 x 100 at 80 %; two replicas left: 120 %
    assert shares["api"] == approx(1 / 1.2) and shares["lb"] == 0.0


def test_drills_agree_with_explicit_failures():
    text = """
    client -> gw -> lb -> api -> cache -> db
    gw: api_gateway x2 capacity=400
    lb: load_balancer capacity=1000
    api: service x3 capacity=120
    cache: redis hit_rate=0.5 capacity=1000
    db: database capacity=200
    api -> model
    model: model_server x2 capacity=150
    api -fallback-> small
    small: model_server capacity=50
    api -> metrics
    """
    design = parse_dsl(text)
    shares = single_failures(design, 250)
    for node in design.nodes:
        if node.kind == "client":
            continue
        if node.replicas == 1:
            expected = simulate(design, 250, failed=[node.id], drills=False).served_share
        else:
            fewer = design.copy()
            fewer.node(node.id).replicas -= 1
            expected = simulate(fewer, 250, drills=False).served_share
        assert shares[node.id] == approx(expected), node.id
    assert shares["model"] == approx(0.6 + 0.4 * 0.5)      # 250 on 150: 40 % overflow to a half-sized small
    assert shares["small"] == 1.0 and shares["metrics"] == 1.0 and shares["api"] == approx(240 / 250)


def test_unknown_failed_node_names_the_nearest_id():
    with pytest.raises(DesignError) as err:
        sim(CHAIN, 100, failed=["modle"])
    assert "modle" in str(err.value) and "did you mean 'model'" in str(err.value)


def test_failed_entry_loses_its_share():
    text = "a: client\nb: client\napi: service\na -> api\nb -> api"
    assert sim(text, 100, failed=["a"]).served_share == 0.5


# --- autoscaling --------------------------------------------------------------------------------


def test_autoscale_adds_replicas_up_to_the_limit():
    text = "client -> api\napi: service x2 autoscale capacity=100 max_replicas=5"
    r = sim(text, 150)
    assert r.nodes["api"].effective_replicas == 2 and utils(r)["api"] == approx(0.75)
    r = sim(text, 300)                                  # ceil(300 / 80) = 4 replicas
    assert r.nodes["api"].effective_replicas == 4 and utils(r)["api"] == approx(0.75)
    r = sim(text, 1000)                                 # 13 wanted, 5 allowed
    assert r.nodes["api"].effective_replicas == 5 and utils(r)["api"] == approx(2.0)
    assert r.served_share == approx(0.5) and any("max_replicas" in n for n in r.notes)
    r = sim("client -> api\napi: service autoscale capacity=100", 5000)   # no limit written: grows to the load
    assert r.nodes["api"].effective_replicas == 63 and r.served_share == approx(1.0)   # ceil(5000 / 80)


def test_an_unsized_component_grows_to_its_load_and_the_notes_say_so():
    r = sim("client -> api -> model", 5000)            # a sketch: nobody wrote replicas
    assert r.served_share == approx(1.0)
    assert r.nodes["model"].effective_replicas == 32    # ceil(5000 / (200 x 0.8)) at the catalog's 200 req/s
    assert any("not sized" in n and "model (32 replicas)" in n for n in r.notes)
    fixed = sim("client -> api -> model\nmodel: model_server x2", 5000)   # written replicas are as drawn
    assert fixed.nodes["model"].effective_replicas == 2 and fixed.served_share < 0.5


# --- chaos ----------------------------------------------------------------------------------------


def test_spike_raises_utilisation_linearly():
    base = sim(CHAIN, 100)
    for n in (2, 3.5):
        spiked = sim(CHAIN, 100, chaos={"spike": n})
        assert spiked.offered_rps == 100 * n
        for nid in ("lb", "api", "model"):
            assert spiked.nodes[nid].utilization == approx(n * base.nodes[nid].utilization)


def test_zone_lost_fails_the_zone_and_spares_nodes_without_one():
    text = """
    client -> lb -> api
    lb: load_balancer zone=a
    api: service capacity=1000 zone=b
    api -> db
    db: database
    """
    r = sim(text, 100, chaos="zone_lost=a")
    assert r.failed == ["lb"] and r.served_share == 0.0
    r = sim(text, 100, chaos=Chaos(zone_lost="c"))
    assert r.failed == [] and r.served_share == 1.0 and any("no node has zone=c" in n for n in r.notes)


def test_primary_model_down_spares_fallback_only_models():
    text = FALLBACK.replace("rules: service", "rules: model_server")
    r = sim(text, 50, chaos="primary_model_down")
    assert r.failed == ["model"] and r.served_share == 1.0 and loads(r)["rules"] == 50


def test_chaos_presets_combine_and_reject_unknown_names():
    chaos = Chaos.parse("spike=2, cache_flush, zone_lost=eu-1")
    assert chaos == Chaos(spike=2.0, cache_flush=True, zone_lost="eu-1")
    assert Chaos.parse(["primary_model_down", "spike=3"]) == Chaos(spike=3.0, primary_model_down=True)
    with pytest.raises(SimulatorError, match="did you mean spike"):
        Chaos.parse("spkie=2")
    with pytest.raises(SimulatorError):
        Chaos.parse("spike=0")


# --- latency and cost -------------------------------------------------------------------------------


def test_latency_p50_of_a_chain_is_the_inflated_sum():
    text = """
    client -> lb -> api -> db
    lb: load_balancer capacity=200 latency_ms=1
    api: service capacity=200 latency_ms=20
    db: database capacity=200 latency_ms=5
    api -> model
    model: model_server capacity=1000000 latency_ms=30
    """
    r = sim(text, 100)                       # lb, api, db at 50 %: factor 2; the model nearly idle
    model = 30 / (1 - 100 / 1_000_000)
    assert r.latency_ms["p50"] == approx(2 * 1 + 2 * 20 + model)
    assert r.latency_ms["p99"] == approx(TAIL_FACTOR * r.latency_ms["p50"])
    assert r.critical_path == ["client", "lb", "api", "model"]
    hot = sim(text, 400)                     # lb, api, db at 200 %: the factor is capped at rho = 0.95 (20x)
    assert hot.latency_ms["p50"] == approx(20 * 1 + 20 * 20 + 20 * 5)
    assert hot.critical_path == ["client", "lb", "api", "db"]


def test_monthly_cost_counts_effective_replicas():
    text = """
    client -> api -> db
    api: service x2 autoscale capacity=100 cost_per_hour=0.5
    db: database cost_per_hour=1.25
    """
    assert sim(text, 100).monthly_cost == approx((0.5 * 2 + 1.25) * 730)
    assert sim(text, 400).monthly_cost == approx((0.5 * 5 + 1.25) * 730)     # autoscaled to 5
    assert sim(text, 100, failed=["db"]).monthly_cost == approx(0.5 * 2 * 730)


# --- loops and odd shapes -----------------------------------------------------------------------------


def test_loops_are_broken_deterministically_and_do_not_hang():
    text = "client -> a -> b -> c -> a\na: service\nb: service\nc: service\nc -> b -fallback-> a"
    r = sim(text, 10)
    assert loads(r) == {"client": 10, "a": 10, "b": 10, "c": 10}
    assert any("loop" in n and "c -> a" in n for n in r.notes)
    r = sim("client -> api -> w\napi: service\nw: model_server\napi -fallback-> f\nf: service\nf -> w", 10)
    assert any("f (backs up w)" in n for n in r.notes)     # the fallback calls its own primary


def test_no_entry_node_falls_back_to_nodes_nothing_calls():
    r = sim("gw: api_gateway\ngw -> api\napi: service", 100)
    assert r.entries == ["gw"] and loads(r)["api"] == 100 and r.notes
    r = sim("db: database", 100)
    assert r.entries == [] and r.served_share == 0.0


def test_empty_design():
    r = simulate(Design(), 100)
    assert r.served_share == 0.0 and r.nodes == {} and r.spofs == [] and r.monthly_cost == 0


def test_invalid_properties_fall_back_to_defaults_with_a_note():
    r = sim("client -> api\napi: service capacity=-5 hit_rate=2", 250)
    assert r.nodes["api"].utilization == approx(0.5)
    assert any("api.capacity" in n and "api.hit_rate" in n for n in r.notes)


def test_arrow_to_a_missing_node_is_a_design_error():
    design = Design(nodes=[Node("a", "client")], edges=[Edge("a", "ghost")])
    with pytest.raises(DesignError, match="ghost"):
        simulate(design, 10)


# --- output ---------------------------------------------------------------------------------------------


def test_simulation_json_has_the_cli_keys():
    r = sim(LB, 100)
    out = simulation_json(r)
    for key in ("served_share", "max_utilization", "bottlenecks", "spofs", "latency_ms", "monthly_cost", "nodes"):
        assert key in out
    assert set(out["latency_ms"]) == {"p50", "p99"}
    assert out["nodes"]["api"]["load"] == 100 and out["nodes"]["api"]["utilization"] == pytest.approx(1 / 3, abs=1e-6)
    assert out["spofs"] == ["lb"]
    json.dumps(out)
    json.dumps(r.to_dict())


def test_format_simulation_names_bottlenecks_and_spofs():
    text = format_simulation(sim(CHAIN, 180))
    assert "Bottlenecks" in text and "api 90 %" in text and "Single points of failure: lb" in text


# --- the rubric operator --------------------------------------------------------------------------------


def _ctx(text: str, peak=None) -> Context:
    ctx = Context(parse_dsl(text))
    ctx.peak_rps = peak
    return ctx


def test_rule_checks_utilisation_at_the_scenario_peak():
    rule = Simulated.model_validate({"max_utilization": 0.8})
    out = rule.evaluate(_ctx(CHAIN, 150))
    assert out.passed and "75 %" in out.evidence
    out = rule.evaluate(_ctx(CHAIN, 180))
    assert not out.passed and out.nodes == ["api", "model"] and "api 90 %" in out.evidence
    out = Simulated.model_validate({"max_utilization": 0.8, "load": 0.5}).evaluate(_ctx(CHAIN, 300))
    assert out.passed


def test_rule_assumes_a_default_peak_and_says_so():
    out = Simulated.model_validate({}).evaluate(Context(parse_dsl(CHAIN)))
    assert not out.passed and f"assumed {DEFAULT_PEAK_RPS:,.0f} req/s" in out.evidence


def test_rule_survives_single_failure_names_the_breaking_node():
    rule = Simulated.model_validate({"survives_single_failure_of": ["model_server", "llm"]})
    out = rule.evaluate(_ctx(FALLBACK, 50))
    assert out.passed and "model" in out.evidence
    out = rule.evaluate(_ctx(FALLBACK.replace("api -fallback-> rules", ""), 50))
    assert not out.passed and out.nodes == ["model"] and "losing model" in out.evidence
    out = rule.evaluate(_ctx("client -> api -> m\nm: model_server x3 capacity=100", 150))
    assert out.passed                               # two replicas left carry 150 req/s
    out = rule.evaluate(_ctx("client -> api -> m\nm: model_server x2 capacity=100", 150))
    assert not out.passed and "one of m's 2 replicas" in out.evidence


def test_fallback_is_sized_after_its_primary_whatever_the_node_order():
    text = """
    c1: client
    c2: client
    api: service capacity=1000
    w: model_server capacity=100
    f: service capacity=1000
    c1 -> w
    c2 -> api -> w
    api -fallback-> f
    """
    r = sim(text, 200)                     # w gets 100 + 100 on a capacity of 100: half overflows
    assert utils(r)["w"] == approx(2.0) and loads(r)["f"] == approx(50)
    assert r.served_share == approx((0.5 + 1.0) / 2)     # c1 has no fallback; c2's api has one


def test_the_operator_parses_as_a_rule():
    from simulator.rules.parse import parse_rule

    rule, problems = parse_rule({"simulate": {"max_utilization": 0.8, "survives_single_failure_of": "llm"}})
    assert not problems and rule.args.survives_single_failure_of == ["llm"]
    rule, problems = parse_rule({"simulate": {"max_utilisation": 0.8}})
    assert problems and "max_utilization" in problems[0].message


def test_rule_utilisation_covers_the_request_path_unless_asked_for_all():
    text = ("client -> api\napi: service capacity=1000\napi -async-> q\nq: queue\nq -> worker\n"
            "worker: service capacity=10\napi -> metrics")
    ctx = _ctx(text, 500)
    out = Simulated.model_validate({"max_utilization": 0.8}).evaluate(ctx)
    assert out.passed and "50 % (api)" in out.evidence
    out = Simulated.model_validate({"max_utilization": 0.8, "scope": "all"}).evaluate(ctx)
    assert not out.passed and out.nodes == ["worker"] and "worker 5000 %" in out.evidence
    r = simulate(ctx.design, 500)
    assert {nid for nid, n in r.nodes.items() if n.on_request_path} == {"client", "api"}


def test_primary_model_down_ignores_deployment_arrows():
    text = FALLBACK.replace("rules: service", "rules: model_server") + "registry -> rules\n"
    assert sim(text, 50, chaos="primary_model_down").failed == ["model"]


# --- look-aside caches ------------------------------------------------------------------------------

LOOKASIDE = """
client -> api -> cache
api: service capacity=10000
cache: redis capacity=100000 hit_rate=0.8
api -> llm
llm: llm capacity=1000
api -> db
db: database capacity=10000
"""


def test_a_lookaside_cache_spares_the_callers_cacheable_calls():
    r = sim(LOOKASIDE, 1000)
    assert loads(r)["cache"] == 1000 and loads(r)["llm"] == approx(200) and utils(r)["llm"] == approx(0.2)
    assert loads(r)["db"] == 1000                        # a database of record sees every request
    assert sim(LOOKASIDE.replace("llm: llm", "llm: llm cacheable=false"), 1000).nodes["llm"].load == 1000
    assert sim(LOOKASIDE.replace("db: database", "db: database cacheable=true"), 1000).nodes["db"].load \
        == approx(200)
    assert loads(sim(LOOKASIDE, 1000, chaos="cache_flush"))["llm"] == 1000


def test_a_lost_lookaside_cache_is_a_miss_not_a_failure():
    r = sim(LOOKASIDE, 1000, failed=["cache"])
    assert loads(r)["llm"] == 1000 and utils(r)["llm"] == approx(1.0) and r.served_share == 1.0
    r = sim(LOOKASIDE, 2000, failed=["cache"])           # the llm at 200 %: half the requests shed
    assert r.served_share == approx(0.5)
    assert sim(LOOKASIDE, 1000, failed=["llm"]).served_share == approx(0.8)   # hits need no llm
    assert single_failures(parse_dsl(LOOKASIDE), 2000)["cache"] == approx(0.5)


def test_a_cache_with_calls_of_its_own_or_nothing_to_spare_is_not_lookaside():
    inline = "client -> api -> cache -> db\napi: service capacity=10000\ncache: redis hit_rate=0.8\n" \
             "db: database capacity=10000\napi -> llm\nllm: llm capacity=100000"
    r = sim(inline, 1000)
    assert loads(r)["llm"] == 1000 and loads(r)["db"] == approx(200)
    plain = "client -> api -> cache\napi: service capacity=10000\ncache: redis hit_rate=0.8\napi -> db\n" \
            "db: database capacity=10000"
    r = sim(plain, 1000, failed=["cache"])
    assert loads(r)["db"] == 1000 and r.served_share == 0.0       # nothing cacheable behind it: a dependency


def test_p50_follows_the_calls_most_requests_make_and_p99_the_rest():
    text = ("client -> api -> cache\napi: service latency_ms=10\ncache: redis latency_ms=1 hit_rate=0.8\n"
            "api -> llm\nllm: llm latency_ms=1000")
    r = sim(text, 0)                                       # no load: no queueing, latencies add up exactly
    assert r.latency_ms["p50"] == 11 and r.critical_path == ["client", "api", "cache"]
    assert r.latency_ms["p99"] == TAIL_FACTOR * 1010
    flushed = sim(text, 0, chaos="cache_flush")
    assert flushed.latency_ms["p50"] == 1010 and flushed.critical_path == ["client", "api", "llm"]


def test_a_lookaside_fallback_takes_over_only_the_misses():
    text = LOOKASIDE.replace("api -> db\ndb: database capacity=10000\n", "") + \
        "small: llm capacity=1000\napi -fallback-> small\n"
    r = sim(text, 1000, failed=["llm"])
    assert loads(r)["small"] == approx(200) and r.served_share == approx(1.0)


# --- traffic_share -----------------------------------------------------------------------------------

REVIEW = """
client -> api
api: service capacity=10000
api -async-> q
q: queue capacity=100000
q -> review
review: service capacity=100 traffic_share=0.01
"""


def test_traffic_share_sends_a_consumer_only_its_share():
    r = sim(REVIEW, 5000)
    assert loads(r)["q"] == 5000 and loads(r)["review"] == approx(50) and utils(r)["review"] == approx(0.5)
    assert sim(REVIEW.replace(" traffic_share=0.01", ""), 5000).nodes["review"].utilization == approx(50)


def test_a_blocking_call_with_a_share_fails_only_that_share():
    text = "client -> api -> rare\napi: service capacity=10000 latency_ms=10\n" \
           "rare: service capacity=1000 traffic_share=0.1 latency_ms=500"
    assert sim(text, 1000).nodes["rare"].load == approx(100)
    assert sim(text, 1000, failed=["rare"]).served_share == approx(0.9)
    assert sim(text, 1000).spofs == ["api"]                 # losing rare costs 10 points: not a SPOF
    r = sim(text, 0)                                       # 10 % of requests: on the p99 path, not the p50 one
    assert r.latency_ms["p50"] == 10 and r.latency_ms["p99"] == TAIL_FACTOR * 510
    assert single_failures(parse_dsl(text), 1000)["rare"] == approx(0.9)


@pytest.mark.parametrize("value", ["2", "-0.1", "lots", "true"])
def test_a_bad_traffic_share_names_the_node(value):
    with pytest.raises(SimulatorError) as err:
        sim(REVIEW.replace("traffic_share=0.01", f"traffic_share={value}"), 100)
    assert "node 'review'" in str(err.value) and "traffic_share" in str(err.value) and "0 to 1" in str(err.value)
    out = Simulated.model_validate({}).evaluate(_ctx(REVIEW.replace("0.01", value), 100))
    assert not out.passed and "cannot simulate" in out.evidence and "review" in out.evidence


# --- traffic profiles (entry rates) -------------------------------------------------------------------

FLEET = """
cams: camera x8
radar: radar x5
fleet: client
car: vehicle capacity=1000
cams -> car
radar -> car
fleet -> gw
gw: api_gateway capacity=100000
car -async-> gw
"""


def test_entry_rates_give_each_source_its_rate_and_the_rest_share_the_peak():
    r = sim(FLEET, 10000, entry_rates={"sensor": 30})
    assert loads(r)["cams"] == 240 and loads(r)["radar"] == 150 and loads(r)["fleet"] == 10000
    assert loads(r)["car"] == 390 and loads(r)["gw"] == 10390 and r.offered_rps == 10390
    assert r.entry_rates == {"sensor": 30.0} and any("cams 240 req/s (sensor 30 x 8)" in n for n in r.notes)
    doubled = sim(FLEET, 10000, entry_rates={"camera": 30}, load=2, chaos="spike=1.5")   # an alias works too
    assert loads(doubled)["cams"] == 720 and loads(doubled)["fleet"] == 30000
    assert sim(FLEET, 10000).nodes["cams"].load == approx(10000 / 3)      # no profile: the even split


def test_served_share_weighs_entries_by_their_rate():
    r = sim(FLEET, 10000, entry_rates={"sensor": 30}, failed=["car"])
    assert r.served_share == approx(10000 / 10390)
    r = sim(FLEET, 10000, entry_rates={"sensor": 30, "client": 0}, failed=["car"])
    assert r.served_share == 0.0 and r.offered_rps == 390


def test_entry_rates_are_checked():
    with pytest.raises(SimulatorError, match="unknown kind 'sensr'"):
        sim(FLEET, 100, entry_rates={"sensr": 30})
    with pytest.raises(SimulatorError, match="must be a number"):
        sim(FLEET, 100, entry_rates={"sensor": -1})
    r = sim(FLEET, 100, entry_rates={"edge_device": 5})
    assert any("no entry node of kind edge_device" in n for n in r.notes)


def test_rule_uses_the_scenario_traffic_profile():
    ctx = Context(parse_dsl("c: camera x8\nm: model_server capacity=300\nc -> m"), 10000, {"sensor": 30})
    out = Simulated.model_validate({"max_utilization": 0.8}).evaluate(ctx)
    assert out.passed and "240 req/s" in out.evidence and "80 %" in out.evidence
    out = Simulated.model_validate({"max_utilization": 0.8}).evaluate(_ctx("c: camera x8\nm: model_server "
                                                                           "capacity=300\nc -> m", 10000))
    assert not out.passed and "10,000 req/s" in out.evidence


def test_scenario_traffic_profile_reaches_the_rubric_and_the_cli(capsys):
    from simulator.cli.main import main
    from simulator.errors import ScenarioError
    from simulator.grading.library import load_library
    from simulator.model.scenario import parse_scenario
    from simulator.paths import ROOT

    lib = load_library(check_references=False)
    scenario, _ = lib.get("vision-pipeline")
    assert scenario.spec.traffic.entries == {"sensor": 30} and scenario.peak_traffic.entry_rates == {"sensor": 30}
    assert lib.get("fraud-detection")[0].peak_traffic.entry_rates is None
    assert main(["simulate", str(ROOT / "scenarios/reference/vision-pipeline.yaml"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["nodes"]["cams"]["load"] == 240 and out["entry_rates"] == {"sensor": 30}
    data = scenario.spec.model_dump()
    data["traffic"] = {"entries": {"camera": 30, "tachyon": 5}}
    with pytest.raises(ScenarioError, match="unknown kind 'tachyon'"):
        parse_scenario(data)
    data["traffic"] = {"entries": {"camera": 30}}
    assert parse_scenario(data).traffic.entries == {"sensor": 30}


def test_a_pool_of_replicas_queues_far_less_than_one_replica_at_the_same_utilisation():
    one = sim("client -> api\napi: service x1 capacity=100 latency_ms=10", 80)     # 80 %: 10 / 0.2
    pool = sim("client -> api\napi: service x10 capacity=10 latency_ms=10", 80)    # 80 % of ten replicas
    assert one.latency_ms["p50"] == approx(50)
    assert abs(pool.latency_ms["p50"] - 12.05) < 0.01   # Erlang C(10, 0.8) = 0.409: 10 + 0.409 x 10 / 2
