"""What a rule is evaluated on (Context: the design as adjacency lists with cached walks) and what it
gives back (Outcome: passed or not, with evidence)."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from simulator.model.design import Design
from simulator.model.roles import node_roles
from simulator.rules.walks import bfs


@dataclass
class Outcome:
    """A rule's verdict: passed or not, the evidence in words, the node ids it concerns, an example path,
    and when it failed the share of it that holds (partial credit)."""

    passed: bool
    evidence: str
    nodes: list[str] = field(default_factory=list)
    path: list[str] | None = None
    credit: float = 0.0   # a failed rule's partial credit, 0-1: the share of the concept that is there


class Context:
    """The design as adjacency lists (one pass over the edges), with cached views shared by all rules.

    Rules walk plain adjacency lists; networkx builds the graph where its algorithms are needed
    (dominators for single points of failure) and for callers that want ``ctx.graph``.
    """

    def __init__(self, design: Design, peak_rps: float | None = None, entry_rates: dict | None = None):
        self.design = design
        self.peak_rps = peak_rps   # the scenario's peak traffic, for the simulation operator
        self.entry_rates = entry_rates   # the scenario's traffic profile {kind: req/s per source}, or None
        self.kind = {n.id: n.kind for n in design.nodes}
        self.replicas = {n.id: n.replicas for n in design.nodes}
        self.autoscale = {n.id: n.autoscale for n in design.nodes}
        self.elastic = {n.id: n.elastic for n in design.nodes}
        self.order = {n.id: i for i, n in enumerate(design.nodes)}
        self.role_sets = {n.id: node_roles(n.kind, n.label, n.id, n.roles) for n in design.nodes}
        self.roles = {nid: rs.roles for nid, rs in self.role_sets.items()}
        self._by_role: dict[str, list[str]] = {}
        for n in design.nodes:
            for role in self.roles[n.id]:
                self._by_role.setdefault(role, []).append(n.id)
        self.edges = [(e.source, e.target, e.kind) for e in design.edges]
        self.edge_kind = {(u, v): k for u, v, k in self.edges}
        self._adj: dict[tuple, dict[str, list[str]]] = {}
        self._reach: dict[tuple, dict[str, str | None]] = {}
        self._graph: nx.DiGraph | None = None
        self.memo: dict[str, Any] = {}   # values several rules derive from the design (a compiled simulation)

    @property
    def graph(self) -> nx.DiGraph:
        if self._graph is None:
            self._graph = self.design.to_graph()
        return self._graph

    def of(self, roles: Iterable[str]) -> list[str]:
        """The nodes that have any of these roles (a kind is a role), in design order."""
        out: set[str] = set()
        for r in roles:
            out.update(self._by_role.get(r, ()))
        return sorted(out, key=self.order.__getitem__)

    def has(self, node: str, roles: Iterable[str]) -> bool:
        """Whether ``node`` has any of these roles."""
        return not self.roles[node].isdisjoint(roles)

    def why(self, node: str, role: str) -> str:
        """What gave ``node`` this role: ``kind``, ``roles property`` or ``label "..."``."""
        return self.role_sets[node].reasons.get(role, "")

    def adj(self, edge_kinds: Iterable[str] | None = None, reverse: bool = False) -> dict[str, list[str]]:
        """Successor (or predecessor) lists over the edges of the given kinds (all kinds when None)."""
        kinds = tuple(sorted(edge_kinds)) if edge_kinds else None
        key = (kinds, reverse)
        if key not in self._adj:
            table: dict[str, list[str]] = defaultdict(list)   # a node without arrows reads as []
            allowed = set(kinds) if kinds else None
            for u, v, k in self.edges:
                if allowed is None or k in allowed:
                    if reverse:
                        table[v].append(u)
                    else:
                        table[u].append(v)
            self._adj[key] = table
        return self._adj[key]

    def sort(self, ids: Iterable[str]) -> list[str]:
        return sorted(set(ids), key=self.order.__getitem__)

    def reach(self, sources: Iterable[str], edge_kinds: Iterable[str] | None = None, *, reverse: bool = False,
              blocked: frozenset[str] = frozenset()) -> dict[str, str | None]:
        """BFS parents from ``sources`` (see _bfs), remembered: checks often walk from the same kinds.
        Callers must not modify the returned mapping."""
        kinds = tuple(sorted(edge_kinds)) if edge_kinds else None
        key = (kinds, reverse, tuple(sources), blocked)
        if key not in self._reach:
            self._reach[key] = bfs(self.adj(kinds, reverse), key[2], blocked)
        return self._reach[key]
