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
    summary: ClassVar[str] = ("no single node with fewer than min_replicas replicas whose loss cuts every "
                              "path between the two kinds")
    source: Kinds = Field(alias="from")
    target: Kinds = Field(alias="to")
    min_replicas: int = Field(2, ge=2)
    include_endpoints: bool = False

    def evaluate(self, ctx: Context) -> Outcome:
        request_edges = ("sync", "async", "fallback")
        succ = ctx.adj(request_edges)
        sources, targets, missing_side = endpoints(ctx, self.source, self.target)
        if missing_side:
            return missing_side
        fwd = ctx.reach(sources, request_edges)
        if not any(t in fwd for t in targets):
            return Outcome(False, f"no path from {kinds_text(self.source)} to {kinds_text(self.target)} "
                           "(are arrows missing or reversed?)", sources + targets)
        # Dominators of a virtual sink, seen from a virtual source, are the nodes on every path.
        # Only nodes on some source-to-target path matter: build the graph of those alone.
        relevant = set(fwd) & set(ctx.reach(targets, request_edges, reverse=True))
        work = nx.DiGraph()
        work.add_edges_from((u, v) for u in relevant for v in succ[u] if v in relevant)
        src, sink = ("__source__",), ("__sink__",)
        work.add_edges_from((src, s) for s in sources if s in relevant)
        work.add_edges_from((t, sink) for t in targets if t in relevant)
        idom = nx.immediate_dominators(work, src)
        cuts = []
        node = idom.get(sink)
        while node is not None and node != src:
            cuts.append(node)
            node = idom[node]
        ends = set(sources) | set(targets)
        spofs = [c for c in cuts if ctx.replicas[c] < self.min_replicas
                 and (self.include_endpoints or c not in ends)]
        spofs = ctx.sort(spofs)
        example = path_to(fwd, next(t for t in targets if t in fwd))
        if spofs:
            return Outcome(False, f"single point(s) of failure with fewer than {self.min_replicas} replicas: "
                           f"{id_list(spofs)} (every path {arrow(example)} depends on them)", spofs, example)
        return Outcome(True, f"no single point of failure between {kinds_text(self.source)} and "
                       f"{kinds_text(self.target)}", [], example)
