"""The text DSL: parsing, errors that name their line, and round trips with YAML and JSON."""
from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from simulator.errors import DesignError
from simulator.model import catalog
from simulator.model.design import EDGE_KINDS, Design, Edge, Node, load_design, load_design_text
from simulator.model.notation import parse_dsl, to_dsl

EXAMPLES = sorted((Path(__file__).resolve().parent / "examples").glob("*.yaml"))


def dsl_errors(text: str) -> list[str]:
    with pytest.raises(DesignError) as info:
        parse_dsl(text)
    return [str(p) for p in info.value.problems]


def by_id(d: Design) -> dict[str, Node]:
    return {n.id: n for n in d.nodes}


def edge_set(d: Design) -> set[tuple[str, str, str]]:
    return {(e.source, e.target, e.kind) for e in d.edges}


# --- parsing -----------------------------------------------------------------

def test_node_declarations():
    d = parse_dsl('api: service x3 autoscale "Chat API" tier=gold cost=1.5 beta=true note="two words"\n'
                  "cache: redis\n"
                  "db: Postgres ×2\n")
    nodes = by_id(d)
    api = nodes["api"]
    assert (api.kind, api.replicas, api.autoscale, api.label) == ("service", 3, True, "Chat API")
    assert api.extra == {"tier": "gold", "cost": 1.5, "beta": True, "note": "two words"}
    assert (nodes["cache"].kind, nodes["cache"].replicas, nodes["cache"].autoscale) == ("cache", 1, False)
    assert (nodes["db"].kind, nodes["db"].replicas) == ("database", 2)
    assert d.edges == []


def test_chains_and_arrow_kinds():
    d = parse_dsl("a: service\nb: service\nc: service\nd: database\ne: llm\n"
                  "a -> b -> c\n"
                  "b -async-> d\n"
                  "c -fallback-> e\n"
                  "d -replication-> a\n")
    assert edge_set(d) == {("a", "b", "sync"), ("b", "c", "sync"), ("b", "d", "async"),
                           ("c", "e", "fallback"), ("d", "a", "replication")}
    assert len(d.edges) == 5


def test_glued_arrows_and_edge_labels():
    d = parse_dsl('router: service\nsmall: llm\nrouter -fallback->small "when the primary is down"\n')
    (edge,) = d.edges
    assert (edge.source, edge.target, edge.kind, edge.label) == ("router", "small", "fallback",
                                                                 "when the primary is down")


def test_comments_and_blank_lines_are_ignored():
    d = parse_dsl("# a design\n\napi: service  # the API\n   \napi -> db  # to the database\ndb: postgres\n")
    assert set(by_id(d)) == {"api", "db"}
    assert edge_set(d) == {("api", "db", "sync")}


def test_implicit_nodes_named_by_a_kind_or_alias():
    d = parse_dsl("client -> redis -> gpt-4\nclient -> llm\n")
    nodes = by_id(d)
    assert {i: n.kind for i, n in nodes.items()} == {"client": "client", "redis": "cache", "gpt-4": "llm",
                                                     "llm": "llm"}
    assert edge_set(d) == {("client", "redis", "sync"), ("redis", "gpt-4", "sync"), ("client", "llm", "sync")}


def test_empty_text_is_an_empty_design():
    assert parse_dsl("") == Design()
    assert parse_dsl("# nothing yet\n\n") == Design()


# --- errors name their line ---------------------------------------------------

def test_unknown_kind_names_line_and_suggests():
    (msg,) = dsl_errors("a: service\nb: reddis\na -> b\n")
    assert msg.startswith("line 2:")
    assert "'reddis'" in msg and "redis" in msg.replace("reddis", "")


def test_undeclared_id_names_line():
    (msg,) = dsl_errors("a: service\n\na -> ghost\n")
    assert msg.startswith("line 3:") and "ghost" in msg


def test_bad_arrow_names_line():
    (msg,) = dsl_errors("a: service\nb: service\na -fallbak-> b\n")
    assert msg.startswith("line 3:")
    assert "-fallback->" in msg  # shows the arrows that exist


def test_bad_arrow_is_named():
    (msg,) = dsl_errors("a: service\nb: service\na -fallbak-> b\n")
    assert "fallbak" in msg.replace("a -fallbak-> b", "")


def test_duplicate_declaration_names_both_lines():
    (msg,) = dsl_errors("a: service\nb: cache\na: cache\n")
    assert msg.startswith("line 3:") and "'a'" in msg and "line 1" in msg


def test_zero_replicas_names_line():
    (msg,) = dsl_errors("a: service\nb: service x0\n")
    assert msg.startswith("line 2:") and "replicas" in msg


def test_line_that_is_neither_form():
    (msg,) = dsl_errors("a: service\nthis is not valid\n")
    assert msg.startswith("line 2:") and "this is not valid" in msg


def test_several_bad_lines_report_several_problems():
    msgs = dsl_errors("a: reddis\nb: service x0\njunk here\nok: service\nok -> ghost\nok -sometimes-> b\n")
    lines = [int(re.match(r"line (\d+):", m).group(1)) for m in msgs]
    assert lines == sorted(lines)
    assert {1, 2, 3, 5, 6} <= set(lines), msgs


# --- round trips -----------------------------------------------------------------

@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_round_trip_through_dsl(path):
    d = load_design(path)
    d.scenario = None
    again = parse_dsl(to_dsl(d))
    assert again == d
    assert again.fingerprint() == d.fingerprint()


TRICKY_LABELS = ['say "hi"', "back\\slash", "ends with \\", '\\"', "a # not a comment", "a, b, c",
                 "héllo → 世界 🚀 ×3", "it's", "a -> b", "tab\there", " padded ", "key=value", "x3",
                 "autoscale", '"', "#", "{braces: [x]}"]


@pytest.mark.parametrize("label", TRICKY_LABELS)
def test_tricky_labels_round_trip(label):
    d = Design([Node("a", "service", label), Node("b", "cache", label, written_kind="redis")],
               [Edge("a", "b", "async", label)])
    again = parse_dsl(to_dsl(d))
    assert again == d
    assert again.node("a").label == label and again.edges[0].label == label


@pytest.mark.parametrize("extra", [
    {"note": "has spaces"}, {"owner": "team-a"}, {"n": 3}, {"neg": -3}, {"ratio": 0.25}, {"on": True},
    {"off": False}, {"word": "yes"}, {"digits": "42"}, {"empty": ""}, {"null-ish": "null"},
    {"with space": "v"}, {"quote": 'a "b"'}, {"hash": "#x"},
], ids=lambda e: next(iter(e)))
def test_extra_properties_round_trip(extra):
    d = Design([Node("a", "service", "A", 2, True, None, dict(extra))])
    assert parse_dsl(to_dsl(d)) == d


@pytest.mark.parametrize("value", [1e-05, 1e20])
def test_float_properties_in_exponent_form_round_trip(value):
    d = Design([Node("a", "service", extra={"rate": value})])
    assert parse_dsl(to_dsl(d)) == d


def test_list_property_from_yaml_round_trips():
    d = load_design_text("nodes:\n  - {id: a, kind: service, tags: [gpu, eu]}\n")
    assert parse_dsl(to_dsl(d)) == d


@pytest.mark.parametrize("label", ["two\nlines", "sep\u2028arator"], ids=["newline", "u2028"])
def test_labels_with_line_breaks_round_trip(label):
    d = Design([Node("a", "service", label), Node("b", "cache")], [Edge("a", "b", label=label)])
    assert parse_dsl(to_dsl(d)) == d


def test_kind_written_with_a_space_round_trips():
    d = load_design_text("nodes:\n  - {id: lb, kind: load balancer}\n")
    assert d.nodes[0].kind == "load_balancer"
    assert parse_dsl(to_dsl(d)) == d


# --- property style: random designs through DSL, YAML and JSON ----------------------

KIND_NAMES = sorted(catalog.KINDS)
ALIAS_NAMES = sorted(catalog.ALIASES)
LABEL_ALPHABET = list("abcXYZ019 _-#,:\"'\\/()[]{}=→é世🚀") + ["  ", " -> ", "x2", "yes", "null"]
ID_ALPHABET = "abcdefxyzABC0123456789_-"


def _random_id(rng: random.Random, used: set[str]) -> str:
    while True:
        node_id = "".join(rng.choice(ID_ALPHABET) for _ in range(rng.randint(1, 10)))
        if node_id not in used:
            used.add(node_id)
            return node_id


def _random_label(rng: random.Random) -> str | None:
    if rng.random() < 0.3:
        return None
    text = "".join(rng.choice(LABEL_ALPHABET) for _ in range(rng.randint(1, 12)))
    return text if text.strip() else None


def _random_value(rng: random.Random):
    return rng.choice([
        rng.randint(-1000, 1000), round(rng.uniform(-100, 100), 3), rng.random() < 0.5,
        _random_label(rng) or "plain", "with spaces here", "true", "3", "",
    ])


def random_design(rng: random.Random) -> Design:
    used: set[str] = set()
    nodes = []
    for _ in range(rng.randint(0, 8)):
        kind = rng.choice(KIND_NAMES)
        written = None
        if rng.random() < 0.3:
            aliases = [a for a in ALIAS_NAMES if catalog.ALIASES[a] == kind and a != kind]
            written = rng.choice(aliases) if aliases else None
        extra = {}
        for _ in range(rng.choice([0, 0, 1, 2])):
            extra[rng.choice(["tier", "region", "cost_usd", "gpu", "note", "max-qps", "owner.team"])] = \
                _random_value(rng)
        nodes.append(Node(_random_id(rng, used), kind, _random_label(rng), rng.choice([1, 1, 2, 3, 12, 100]),
                          rng.random() < 0.3, written, extra))
    edges = []
    pairs: set[tuple[str, str]] = set()
    if len(nodes) >= 2:
        for _ in range(rng.randint(0, 2 * len(nodes))):
            a, b = rng.sample([n.id for n in nodes], 2)
            if (a, b) in pairs:
                continue
            pairs.add((a, b))
            edges.append(Edge(a, b, rng.choice(EDGE_KINDS), _random_label(rng)))
    return Design(nodes, edges)


@pytest.mark.slow  # hundreds of random designs through three formats
def test_random_designs_round_trip_through_dsl_yaml_and_json():
    rng = random.Random(20240601)
    for i in range(200):
        d = random_design(rng)
        text = to_dsl(d)
        assert parse_dsl(text) == d, (i, text)
        assert load_design_text(d.to_yaml(), "design.yaml") == d, (i, d.to_yaml())
        assert load_design_text(d.to_json(), "design.json") == d, (i, d.to_json())
        # a design that went through all three is still the same design
        assert load_design_text(parse_dsl(text).to_yaml()).fingerprint() == d.fingerprint()
