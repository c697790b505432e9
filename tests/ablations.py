"""Design transformations used by the property tests: take one concern out of a good design."""
from __future__ import annotations

from simulator.model.design import Design, Edge
from simulator.rules.context import Context

CACHE_KINDS = {"cache", "cdn"}
MONITORING_KINDS = {"monitoring", "alerting", "dashboard", "logging", "drift_detector"}


def remove_nodes(design: Design, doomed: set[str]) -> Design:
    """Remove nodes, reconnecting each predecessor to each successor so paths survive."""
    d = design.copy()
    for node_id in [n.id for n in d.nodes if n.id in doomed]:
        ins = [e for e in d.edges if e.target == node_id]
        outs = [e for e in d.edges if e.source == node_id]
        d.edges = [e for e in d.edges if node_id not in (e.source, e.target)]
        d.nodes = [n for n in d.nodes if n.id != node_id]
        pairs = {(e.source, e.target) for e in d.edges}
        for i in ins:
            for o in outs:
                if i.source != o.target and (i.source, o.target) not in pairs:
                    d.edges.append(Edge(i.source, o.target, i.kind))
                    pairs.add((i.source, o.target))
    return d


def having(design: Design, roles: set[str]) -> set[str]:
    """The ids of the nodes that have any of these roles (kind, label words or declared roles)."""
    return set(Context(design).of(roles))


def without_caching(design: Design) -> Design:
    return remove_nodes(design, having(design, CACHE_KINDS))


def without_fallback(design: Design) -> Design:
    d = design.copy()
    d.edges = [e for e in d.edges if e.kind != "fallback"]
    return d


def without_monitoring(design: Design) -> Design:
    return remove_nodes(design, having(design, MONITORING_KINDS))


def without_scaling(design: Design) -> Design:
    d = remove_nodes(design, having(design, {"load_balancer"}))
    for n in d.nodes:
        n.replicas = 1
        n.replicas_given = False
        n.autoscale = False
    return d


def without_edges(design: Design) -> Design:
    d = design.copy()
    d.edges = []
    return d


def reversed_edges(design: Design) -> Design:
    d = design.copy()
    d.edges = [Edge(e.target, e.source, e.kind, e.label) for e in d.edges]
    return d


ABLATIONS = {
    "caching": without_caching,
    "fallback": without_fallback,
    "monitoring": without_monitoring,
    "scaling": without_scaling,
}
