"""The React Flow canvas (streamlit-flow-component) bound to a Design.

The design in session state is the truth; the canvas is a view of it. A change
made in Python (palette, text, editor) bumps a version, which rebuilds the
canvas state with a fresh timestamp so the browser takes it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import streamlit as st
from streamlit_flow import streamlit_flow
from streamlit_flow.elements import StreamlitFlowEdge, StreamlitFlowNode
from streamlit_flow.state import StreamlitFlowState

from simulator.model.canvas import auto_layout, drawn_since, from_canvas, to_canvas
from simulator.model.design import Design


def build_state(design: Design, highlight=(), version: int = 0) -> StreamlitFlowState:
    design.layout = auto_layout(design, design.layout)
    nodes, edges = to_canvas(design, design.layout, highlight)
    flow_nodes = [
        StreamlitFlowNode(n["id"], (n["x"], n["y"]), {"content": n["content"], "kind": n["kind"], "v": version},
                          "default",
                          "right", "left", draggable=True, selectable=True, connectable=True,
                          # the component does not report a Backspace deletion until the next click, so the
                          # design kept the node (and a later rebuild brought it back): delete in the Edit form
                          deletable=False, style=dict(n["style"]))
        for n in nodes
    ]
    flow_edges = [
        StreamlitFlowEdge(e["id"], e["source"], e["target"], "default", marker_start={},
                          marker_end={"type": "arrowclosed"}, animated=e["animated"], deletable=False,
                          focusable=True, label=e["label"], label_style={}, label_show_bg=bool(e["label"]),
                          label_bg_style={}, style=dict(e["style"]))
        for e in edges
    ]
    return StreamlitFlowState(flow_nodes, flow_edges, timestamp=int(time.time() * 1000))


@dataclass
class CanvasEdit:
    design: Design | None = None       # None: nothing changed
    selected: str | None = None
    structural: bool = False           # nodes or arrows changed (not only positions)
    messages: list[str] = field(default_factory=list)


SENT_VERSIONS = 20   # how many recent versions' arrows are kept to merge a late browser value


def canvas_editor(design: Design, *, version: int, highlight=(), key: str = "canvas",
                  height: int = 520) -> CanvasEdit:
    """Draw the canvas and report what the user did on it."""
    ss = st.session_state
    state_key, version_key = f"{key}__state", f"{key}__version"
    built_key, seen_key, sent_key = f"{key}__built", f"{key}__seen", f"{key}__sent_arrows"
    if ss.get(version_key) != version or state_key not in ss:
        state = build_state(design, highlight, version)
        sent = dict(ss.get(sent_key, {}))   # the arrows each recent version showed: the base of a late value
        sent[version] = frozenset((e.source, e.target) for e in design.edges)
        ss[sent_key] = {v: sent[v] for v in sorted(sent)[-SENT_VERSIONS:]}
        # The browser takes a state only if its timestamp is newer than the browser's own last one;
        # the browser's clock may run ahead of the server's, so stay ahead of what it last sent.
        state.timestamp = max(state.timestamp, ss.get(seen_key, 0) + 1)
        ss[state_key] = state
        ss[version_key] = version
        ss[built_key] = state.timestamp
    new = streamlit_flow(key, ss[state_key], height=height, fit_view=True, allow_new_edges=True,
                         get_node_on_click=True, get_edge_on_click=True, show_minimap=False,
                         hide_watermark=True, min_zoom=0.3)
    if new is None or not hasattr(new, "nodes"):   # outside a browser (tests) the component returns nothing
        return CanvasEdit()
    if new.timestamp in (ss.get(built_key), ss.get(seen_key)):
        # the state Python sent, or a browser value already applied (the component repeats its last
        # value on every rerun): not a new edit. Compared by identity, not by clock, so a browser
        # clock behind the server's loses no edits.
        return CanvasEdit(None, new.selected_id)
    ss[seen_key] = new.timestamp
    # Keep sending the state built in Python: the component resets itself (and sends its state
    # back, one more full rerun) whenever its args carry a timestamp >= its own last one, so
    # echoing the browser's own state back made every rerun cost one or two extra reruns.
    nodes = [{"id": n.id, "x": n.position.get("x", 0.0), "y": n.position.get("y", 0.0)} for n in new.nodes]
    edges = [{"source": e.source, "target": e.target} for e in new.edges]
    versions = {(n.data or {}).get("v", version) for n in new.nodes}
    if versions != {version} and new.nodes:
        # Computed in the browser from an older state than the one just sent (the browser kept its own
        # newer value, or a rerun was cut short by another edit). Its moves are edits; of its arrows,
        # only those drawn since that older state are, so an arrow deleted here since is never revived.
        drawn = drawn_since(ss.get(sent_key, {}).get(max(versions)), edges)
        late, layout, messages = from_canvas(design, nodes, drawn)
        added = len(late.edges) != len(design.edges)
        if not added and all(design.layout.get(k) == v for k, v in layout.items()):
            return CanvasEdit(None, None)
        return CanvasEdit(late, None, added, messages)
    edited, layout, messages = from_canvas(design, nodes, edges)
    added = len(edited.edges) != len(design.edges)
    moved = any(design.layout.get(k) != v for k, v in layout.items())
    if not added and not moved and not messages:
        return CanvasEdit(None, new.selected_id)
    return CanvasEdit(edited if (added or moved) else None, new.selected_id, added, messages)
