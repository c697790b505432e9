"""The rule operator `no_spof`: no single under-replicated node cuts every path between two kinds."""
from __future__ import annotations

from typing import ClassVar

import networkx as nx
from pydantic import Field

from simulator.rules.arguments import Arguments, Kinds
from simulator.rules.between import endpoints
from simulator.rules.context import Context, Outcome
from simulator.rules.evidence import arrow, kinds_text
from simulator.rules.walks import path_to
from simulator.simulation.formatting import id_list


class NoSpof(Arguments):
    op: ClassVar[str] = "no_spof"
    summary: ClassVar[str] = ("on the synchronous request path, no single node without redundancy (fewer than "
                              "min_replicas replicas, not autoscaled, not a managed service) whose loss cuts "
                              "a source off from every target; shadow copies do not count as targets")
    source: Kinds = Field(alias="from")
    target: Kinds = Field(alias="to")
    min_replicas: int = Field(2, ge=2)
    include_endpoints: bool = Field(False, description="also count the source nodes themselves")
    redundant_sources: bool = Field(False, description="the sources back each other up (sensors of one car): "
                                    "a node counts only if it cuts every source off")

    def evaluate(self, ctx: Context) -> Outcome:
        request_edges = ("sync", "fallback")   # async, offline and replication arrows carry no request
        sources, targets, missing_side = endpoints(ctx, self.source, self.target)
        if missing_side:
            return missing_side
        targets = [t for t in targets if "shadow" not in ctx.roles[t]] or targets
        fwd = ctx.reach(sources, request_edges)
        if not any(t in fwd for t in targets):
            return Outcome(False, f"no synchronous path from {kinds_text(self.source)} to "
                           f"{kinds_text(self.target)} (are arrows missing, reversed or async?)", sources + targets)
        cuts: set[str] = set()
        if self.redundant_sources:
            cuts.update(_cut_nodes(ctx, sources, targets, request_edges))
        else:
            for source in sources:
                cuts.update(_cut_nodes(ctx, [source], targets, request_edges))
        spofs = ctx.sort(c for c in cuts if not self._redundant(ctx, c)
                         and (self.include_endpoints or c not in sources))
        example = path_to(fwd, next(t for t in targets if t in fwd))
        if spofs:
            return Outcome(False, f"single point(s) of failure on the request path: {id_list(spofs)} "
                           f"(one replica, no autoscaling, and every path {arrow(example)} depends on it)",
                           spofs, example)
        return Outcome(True, f"no single point of failure between {kinds_text(self.source)} and "
                       f"{kinds_text(self.target)}", [], example)

    def _redundant(self, ctx: Context, node: str) -> bool:
        return ctx.replicas[node] >= self.min_replicas or ctx.elastic[node]


def _cut_nodes(ctx: Context, sources: list[str], targets: list[str], edges: tuple[str, ...]) -> list[str]:
    """The nodes on every path from the sources to any target (dominators toward a virtual sink)."""
    fwd = ctx.reach(sources, edges)
    reached = [t for t in targets if t in fwd]
    if not reached:
        return []
    relevant = set(fwd) & set(ctx.reach(targets, edges, reverse=True))
    succ = ctx.adj(edges)
    work = nx.DiGraph()
    root = ("__source__",)
    work.add_edges_from((root, s) for s in sources if s in relevant)
    work.add_edges_from((u, v) for u in relevant for v in succ[u] if v in relevant)
    sink = ("__sink__",)
    work.add_edges_from((t, sink) for t in reached)
    idom = nx.immediate_dominators(work, root)
    cuts = []
    node = idom.get(sink)
    while node is not None and node != root:
        cuts.append(node)
        node = idom[node]
    return cuts
