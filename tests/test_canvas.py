"""What a canvas edit means for the design (the browser part is in test_e2e_browser.py)."""
from simulator.model.canvas import auto_layout, drawn_since, from_canvas, new_node_id, to_canvas
from simulator.model.notation import parse_dsl


def test_a_drawn_arrow_is_added_as_a_sync_edge_and_positions_are_kept():
    design = parse_dsl("client -> service\nllm: llm")
    nodes = [{"id": "client", "x": 0, "y": 0}, {"id": "service", "x": 230, "y": 0}, {"id": "llm", "x": 460, "y": 5}]
    edges = [{"source": "client", "target": "service"}, {"source": "service", "target": "llm"}]
    edited, layout, messages = from_canvas(design, nodes, edges)
    assert [(e.source, e.target, e.kind) for e in edited.edges] == [("client", "service", "sync"),
                                                                  ("service", "llm", "sync")]
    assert layout["llm"] == (460.0, 5.0) and messages == []


def test_a_late_value_from_an_older_canvas_cannot_wipe_the_design():
    design = parse_dsl("client -> service -> llm")
    edited, _, _ = from_canvas(design, [], [])          # e.g. the empty canvas the page started with
    assert edited.ids == design.ids and len(edited.edges) == 2


def test_arrows_to_itself_or_to_unknown_nodes_are_refused():
    design = parse_dsl("client -> service")
    edited, _, messages = from_canvas(design, [], [{"source": "service", "target": "service"},
                                                   {"source": "service", "target": "ghost"}])
    assert len(edited.edges) == 1 and "itself" in messages[0]


def test_layout_puts_callers_left_of_callees_and_keeps_dragged_positions():
    design = parse_dsl("gateway: api_gateway\nclient -> gateway -> service")
    layout = auto_layout(design)
    assert layout["client"][0] < layout["gateway"][0] < layout["service"][0]
    kept = auto_layout(design, {"gateway": (999.0, 7.0)})
    assert kept["gateway"] == (999.0, 7.0)


def test_canvas_nodes_carry_kind_and_highlight():
    design = parse_dsl("api: service x3 autoscale \"Chat API\"\napi -fallback-> llm")
    nodes, edges = to_canvas(design, auto_layout(design), highlight=["api"])
    api = next(n for n in nodes if n["id"] == "api")
    assert "×3" in api["content"] and "Chat API" in api["content"] and "3px" in api["style"]["border"]
    assert edges[0]["label"] == "fallback"
    assert new_node_id(design, "service") == "service" and new_node_id(parse_dsl("service"), "service") == "service_2"


def test_a_late_value_keeps_the_arrow_drawn_on_it_but_never_revives_a_deleted_one():
    design = parse_dsl("a: service\nb: cache\nc: database\na -> c")    # the page deleted b -> c since
    base = frozenset({("b", "c")})                                       # what the browser was shown
    late = [{"source": "b", "target": "c"}, {"source": "a", "target": "b"}]   # it then drew a -> b
    drawn = drawn_since(base, late)
    assert drawn == [{"source": "a", "target": "b"}]
    merged, _, _ = from_canvas(design, [], drawn)
    assert {(e.source, e.target) for e in merged.edges} == {("a", "c"), ("a", "b")}
    assert drawn_since(None, late) == []                                 # an unknown base: trust no arrow
