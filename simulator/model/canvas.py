"""The canvas as plain data: positions for a design, and a canvas edit applied back to the design.

The page turns these dicts into the React Flow component's state and back; the
logic of what an edit means (a node dragged, an arrow drawn, a node deleted)
lives here so it is tested without a browser.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from simulator.model import catalog
from simulator.model.design import ID_RE, Design, Edge, Node
from simulator.model.markdown import literal

COL_W, ROW_H = 230, 110

Layout = dict[str, tuple[float, float]]


def layers(design: Design) -> dict[str, int]:
    """Column of each node: longest distance from a node without callers (cycles broken by order)."""
    preds: dict[str, list[str]] = {n.id: [] for n in design.nodes}
    for e in design.edges:
        if e.kind != "replication":
            preds[e.target].append(e.source)
    depth: dict[str, int] = {}
    visiting: set[str] = set()

    def walk(node: str) -> int:
        if node in depth:
            return depth[node]
        if node in visiting:      # a cycle: stop here
            return 0
        visiting.add(node)
        d = 1 + max((walk(p) for p in preds[node]), default=-1)
        visiting.discard(node)
        depth[node] = d
        return d

    import sys

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(design.nodes) + 100))
    try:
        for n in design.nodes:
            walk(n.id)
    finally:
        sys.setrecursionlimit(limit)
    return depth


def auto_layout(design: Design, keep: Layout | None = None) -> Layout:
    """Positions for every node: kept ones stay, new ones go into their layer's column."""
    keep = dict(keep or {})
    depth = layers(design)
    used: dict[int, int] = {}
    out: Layout = {}
    for n in design.nodes:
        if n.id in keep:
            out[n.id] = (keep[n.id][0], keep[n.id][1])
            continue
        col = depth.get(n.id, 0)
        row = used.get(col, 0)
        used[col] = row + 1
        out[n.id] = (float(col * COL_W), float(row * ROW_H))
    # nudge new nodes that landed on a kept node
    taken = {tuple(p) for k, p in out.items() if k in keep}
    for n in design.nodes:
        if n.id not in keep:
            x, y = out[n.id]
            while (x, y) in taken:
                y += ROW_H
            out[n.id] = (x, y)
            taken.add((x, y))
    return out


def node_content(node: Node) -> str:
    meta = catalog.display_name(node.kind)
    if node.replicas > 1:
        meta += f" ×{node.replicas}"
    if node.autoscale:
        meta += " ⟳"
    title = literal(node.label or node.id)   # a label is shown as typed: no markup, no HTML, no images
    return f"**{title}**  \n{meta}" + (f"  \n`{node.id}`" if node.label else "")


def to_canvas(design: Design, layout: Layout, highlight: Iterable[str] = ()) -> tuple[list[dict], list[dict]]:
    """Plain node and edge dicts for the canvas."""
    hot = set(highlight)
    nodes = []
    for n in design.nodes:
        kind = catalog.KINDS.get(n.kind)
        style = {"background": kind.color if kind else "#fff", "border": "1px solid #546e7a",
                 "borderRadius": "6px", "fontSize": "12px", "padding": "6px", "width": "170px"}
        if n.id in hot:
            style["border"] = "3px solid #d32f2f"
        x, y = layout.get(n.id, (0.0, 0.0))
        nodes.append({"id": n.id, "x": x, "y": y, "content": node_content(n), "kind": n.kind, "style": style})
    edges = []
    for e in design.edges:
        style = {"stroke": {"sync": "#455a64", "async": "#7b1fa2", "fallback": "#c62828",
                            "replication": "#90a4ae"}.get(e.kind, "#455a64")}
        if e.kind == "fallback":
            style["strokeDasharray"] = "4 3"
        edges.append({"id": edge_id(e.source, e.target), "source": e.source, "target": e.target,
                      "label": e.label or ("" if e.kind == "sync" else e.kind), "animated": e.kind == "async",
                      "style": style})
    return nodes, edges


def edge_id(source: str, target: str) -> str:
    return f"{source}->{target}"


def from_canvas(design: Design, nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> tuple[Design, Layout, list[str]]:
    """Apply what the canvas returned: moved nodes and newly drawn arrows.

    The canvas only moves components and draws arrows (deleting and editing happen in the page's
    forms), so a component or arrow missing from what it returned is kept: a late value computed
    from an older state can never wipe the design. Returns the new design, the positions, and
    messages for arrows that were refused (an arrow to itself).
    """
    layout: Layout = dict(design.layout)
    known = set(design.ids)
    for n in nodes:
        if n.get("id") in known:
            layout[n["id"]] = (float(n.get("x", 0.0)), float(n.get("y", 0.0)))
    out = design.copy()
    pairs = {(e.source, e.target) for e in out.edges}
    messages: list[str] = []
    for raw in edges:
        s, t = raw.get("source"), raw.get("target")
        if s not in known or t not in known or (s, t) in pairs:
            continue
        if s == t:
            messages.append(f"an arrow from {s} to itself was ignored")
            continue
        pairs.add((s, t))
        out.edges.append(Edge(s, t))
    out.layout = layout
    return out, layout, messages


def drawn_since(base: frozenset[tuple[str, str]] | None, edges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The arrows of a late canvas value drawn since the state it started from (whose arrows are
    ``base``; None when that state is no longer known: then none is trusted). An arrow deleted in
    the page since that state was in ``base``, so a late value never brings it back."""
    if base is None:
        return []
    return [e for e in edges if (e.get("source"), e.get("target")) not in base]


def new_node_id(design: Design, kind: str) -> str:
    """A readable unused id for a new node of a kind: cache, cache_2, cache_3..."""
    base = kind if ID_RE.match(kind) else "node"
    taken = set(design.ids)
    if base not in taken:
        return base
    i = 2
    while f"{base}_{i}" in taken:
        i += 1
    return f"{base}_{i}"
