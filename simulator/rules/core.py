"""Rule vocabulary of rubric checks, evaluated on the design's directed graph.

A rule is a one-key mapping: the key is the operator, the value its arguments.

    present:    {kind: [cache, cdn], min: 1, max: null}
    edge:       {from: service, to: monitoring, quantifier: some|every, edges: [sync, async]}
    reaches:    {from: client, to: llm, quantifier: some|every, edges: [...]}
    via:        {from: client, to: llm, through: cache, quantifier: some|every, lookaside: false}
    fallback:   {target: [llm, model_server], alternatives: [...], quantifier: every|some}
    no_spof:    {from: client, to: model_server, min_replicas: 2, include_endpoints: false}
    scaled:     {kind: service, min_replicas: 2, autoscale_counts: true, quantifier: every|some}
    balanced:   {kind: [service, model_server], by: [load_balancer]}
    decoupled:  {producer: service, consumer: trainer, through: [queue, stream], async_edges: true}
    all: [rule, ...]   any: [rule, ...]   not: rule

Every kind list is checked against the catalog when the rubric loads. Every
outcome carries evidence (what was found or missing, offending node ids in a
stable order, one example path where it helps), whether it passed or not.
"""
from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any, Annotated, Callable, ClassVar, Iterable, Literal

import networkx as nx
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, WithJsonSchema

from simulator.model import catalog
from simulator.model.design import EDGE_KINDS, Design

# ---------------------------------------------------------------------------
# argument types
# ---------------------------------------------------------------------------


def _kind_list(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ValueError("expected a kind or a non-empty list of kinds")
    out: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise ValueError(f"expected kind names, got {item!r}")
        kind = catalog.lookup(item)
        if kind is None:
            raise ValueError(catalog.unknown_kind_message(item))
        if kind not in out:
            out.append(kind)
    return out


def _edge_kinds(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ValueError("expected an edge kind or a list of them")
    out = []
    for item in value:
        norm = item.strip().lower() if isinstance(item, str) else None
        if norm not in EDGE_KINDS:
            raise ValueError(f"unknown edge kind {item!r}; use one of {', '.join(EDGE_KINDS)}")
        out.append(norm)
    return out


# In JSON Schema a kind field takes one kind or a list of them (the validators accept both).
# rule_json_schema() replaces these markers with references to its $defs.kind and $defs.edge_kind.
_SCHEMA_MARK = "x-simulator-type"
Kinds = Annotated[list[str], BeforeValidator(_kind_list), WithJsonSchema({
    _SCHEMA_MARK: "kinds", "description": "a kind or alias, or a list of them"})]
EdgeKinds = Annotated[list[str] | None, BeforeValidator(_edge_kinds), WithJsonSchema({
    _SCHEMA_MARK: "edge_kinds", "description": "only follow arrows of these kinds (default: all)"})]


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)
    op: ClassVar[str] = ""
    summary: ClassVar[str] = ""


# ---------------------------------------------------------------------------
# evaluation context
# ---------------------------------------------------------------------------


@dataclass
class Outcome:
    passed: bool
    evidence: str
    nodes: list[str] = field(default_factory=list)
    path: list[str] | None = None


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
        self.order = {n.id: i for i, n in enumerate(design.nodes)}
        self._by_kind: dict[str, list[str]] = {}
        for n in design.nodes:
            self._by_kind.setdefault(n.kind, []).append(n.id)
        self.edges = [(e.source, e.target, e.kind) for e in design.edges]
        self.edge_kind = {(u, v): k for u, v, k in self.edges}
        self._adj: dict[tuple, dict[str, list[str]]] = {}
        self._reach: dict[tuple, dict[str, str | None]] = {}
        self._graph: nx.DiGraph | None = None

    @property
    def graph(self) -> nx.DiGraph:
        if self._graph is None:
            self._graph = self.design.to_graph()
        return self._graph

    def of(self, kinds: Iterable[str]) -> list[str]:
        out: list[str] = []
        for k in kinds:
            out.extend(self._by_kind.get(k, ()))
        return sorted(out, key=self.order.__getitem__)

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
            self._reach[key] = _bfs(self.adj(kinds, reverse), key[2], blocked)
        return self._reach[key]


def _bfs(adj: dict[str, list[str]], sources: Iterable[str],
         blocked: set[str] | frozenset = frozenset()) -> dict[str, str | None]:
    """Multi-source BFS over adjacency lists; returns {reached node: parent} (sources map to None)."""
    parent: dict[str, str | None] = {}
    queue: deque[str] = deque()
    for s in sources:
        if s not in parent and s not in blocked:
            parent[s] = None
            queue.append(s)
    while queue:
        node = queue.popleft()
        for nxt in adj[node]:
            if nxt not in parent and nxt not in blocked:
                parent[nxt] = node
                queue.append(nxt)
    return parent


def _path_to(parent: dict[str, str | None], end: str) -> list[str]:
    path = [end]
    while parent[path[-1]] is not None:
        path.append(parent[path[-1]])
    return path[::-1]


def _ids(ids: list[str], limit: int = 8) -> str:
    if len(ids) <= limit:
        return ", ".join(ids)
    return ", ".join(ids[:limit]) + f" and {len(ids) - limit} more"


def _kinds(kinds: list[str]) -> str:
    return " or ".join(kinds) if len(kinds) <= 3 else ", ".join(kinds[:-1]) + " or " + kinds[-1]


def _arrow(path: list[str]) -> str:
    return " -> ".join(path)


def _endpoints(ctx: Context, source_kinds: list[str], target_kinds: list[str]
               ) -> tuple[list[str], list[str], Outcome | None]:
    """Nodes of the source and target kinds, or the failing outcome when either side has none."""
    sources, targets = ctx.of(source_kinds), ctx.of(target_kinds)
    if not sources:
        return sources, targets, Outcome(False, f"no {_kinds(source_kinds)} node")
    if not targets:
        return sources, targets, Outcome(False, f"no {_kinds(target_kinds)} node")
    return sources, targets, None


# ---------------------------------------------------------------------------
# the operators
# ---------------------------------------------------------------------------


class Present(_Args):
    op: ClassVar[str] = "present"
    summary: ClassVar[str] = "the design has between min and max nodes of these kinds"
    kind: Kinds
    min: int = Field(1, ge=0)
    max: int | None = Field(None, ge=0)

    def evaluate(self, ctx: Context) -> Outcome:
        found = ctx.of(self.kind)
        n = len(found)
        if n < self.min:
            return Outcome(False, f"found {n} {_kinds(self.kind)} node(s), need at least {self.min}"
                           + (f": {_ids(found)}" if found else ""), found)
        if self.max is not None and n > self.max:
            return Outcome(False, f"found {n} {_kinds(self.kind)} nodes, at most {self.max} expected: "
                           f"{_ids(found)}", found)
        return Outcome(True, f"{n} {_kinds(self.kind)} node(s): {_ids(found)}" if found
                       else f"no {_kinds(self.kind)} node, as required", found)


class EdgeRule(_Args):
    op: ClassVar[str] = "edge"
    summary: ClassVar[str] = "a direct connection from a node of one kind to a node of another"
    source: Kinds = Field(alias="from")
    target: Kinds = Field(alias="to")
    quantifier: Literal["some", "every"] = "some"
    edges: EdgeKinds = None

    def evaluate(self, ctx: Context) -> Outcome:
        succ = ctx.adj(self.edges)
        sources, target_list, missing_side = _endpoints(ctx, self.source, self.target)
        if missing_side:
            return missing_side
        targets = set(target_list)
        linked = [s for s in sources if any(t in targets for t in succ[s])]
        missing = [s for s in sources if s not in linked]
        if self.quantifier == "some":
            if linked:
                s = linked[0]
                t = next(t for t in succ[s] if t in targets)
                return Outcome(True, f"{s} connects directly to {t}", [s, t], [s, t])
            return Outcome(False, f"no {_kinds(self.source)} node connects directly to a "
                           f"{_kinds(self.target)} node (checked {_ids(sources)})", sources)
        if missing:
            return Outcome(False, f"not connected directly to any {_kinds(self.target)}: {_ids(missing)}",
                           missing)
        return Outcome(True, f"every {_kinds(self.source)} node connects directly to a {_kinds(self.target)}",
                       sources)


class Reaches(_Args):
    op: ClassVar[str] = "reaches"
    summary: ClassVar[str] = "nodes of one kind reach nodes of another along the arrows"
    source: Kinds = Field(alias="from")
    target: Kinds = Field(alias="to")
    quantifier: Literal["some", "every"] = "every"
    edges: EdgeKinds = None

    def evaluate(self, ctx: Context) -> Outcome:
        sources, targets, missing_side = _endpoints(ctx, self.source, self.target)
        if missing_side:
            return missing_side
        back = ctx.reach(targets, self.edges, reverse=True)   # every node that reaches some target
        reaching = [s for s in sources if s in back]
        missing = [s for s in sources if s not in back]
        if self.quantifier == "every" and missing:
            return Outcome(False, f"no path to any {_kinds(self.target)} from: {_ids(missing)}", missing)
        if not reaching:
            return Outcome(False, f"no {_kinds(self.source)} node reaches a {_kinds(self.target)} node "
                           "along the arrows (are any arrows reversed?)", sources)
        path = _path_to(back, reaching[0])[::-1]
        who = "every" if self.quantifier == "every" else "a"
        return Outcome(True, f"{who} {_kinds(self.source)} node reaches a {_kinds(self.target)}, "
                       f"e.g. {_arrow(path)}", reaching, path)


class Via(_Args):
    op: ClassVar[str] = "via"
    summary: ClassVar[str] = ("some path (or every path) from one kind to another passes through a third; "
                              "with lookaside, a node on the path that calls the third kind counts")
    source: Kinds = Field(alias="from")
    target: Kinds = Field(alias="to")
    through: Kinds
    quantifier: Literal["some", "every"] = "some"
    lookaside: bool = False
    edges: EdgeKinds = None

    def guards(self, ctx: Context) -> set[str]:
        guard = set(ctx.of(self.through))
        if self.lookaside:
            pred = ctx.adj(self.edges, reverse=True)
            guard |= {p for g in list(guard) for p in pred[g]}
        return guard

    def evaluate(self, ctx: Context) -> Outcome:
        through = set(self.through)
        succ = ctx.adj(self.edges)

        def describe(node: str) -> str:
            if ctx.kind[node] in through:
                return f"{node} ({ctx.kind[node]})"
            called = [s for s in succ[node] if ctx.kind[s] in through]
            return f"{node} consults {ctx.sort(called)[0]}"

        return _through(ctx, self.edges, ctx.of(self.source), ctx.of(self.target), self.guards(ctx),
                        self.quantifier, self.source, self.target,
                        f"{_kinds(self.through)}" + (" (on the path or called from it)" if self.lookaside else ""),
                        describe=describe)


def _through(ctx: Context, edge_kinds: Iterable[str] | None, sources: list[str], targets: list[str], guard: set[str],
             quantifier: str, skinds: list[str], tkinds: list[str], what: str,
             extra_ok: Callable[[set[str], set[str]], list[str] | None] | None = None,
             describe: Callable[[str], str] | None = None,
             around_edge_kinds: Iterable[str] | None = None) -> Outcome:
    if not sources:
        return Outcome(False, f"no {_kinds(skinds)} node")
    if not targets:
        return Outcome(False, f"no {_kinds(tkinds)} node")
    fwd = ctx.reach(sources, edge_kinds)
    reached = [t for t in targets if t in fwd]
    if not reached:
        return Outcome(False, f"no path from {_kinds(skinds)} to {_kinds(tkinds)} at all "
                       "(are arrows missing or reversed?)", sources + targets)
    back = ctx.reach(targets, edge_kinds, reverse=True)
    on_paths = set(fwd) & set(back)
    if quantifier == "some":
        hits = [g for g in ctx.sort(on_paths & guard)]
        if hits:
            g = hits[0]
            path = _path_to(fwd, g) + _path_to(back, g)[::-1][1:]
            said = describe(g) if describe else f"{g} ({ctx.kind[g]})"
            return Outcome(True, f"{said} on the way: {_arrow(path)}", hits, path)
        if extra_ok is not None:
            found = extra_ok(set(fwd), set(back))
            if found:
                return Outcome(True, f"decoupled by an async arrow: {_arrow(found)}", found, found)
        example = _path_to(fwd, reached[0])
        return Outcome(False, f"no path from {_kinds(skinds)} to {_kinds(tkinds)} passes through {what}; "
                       f"e.g. {_arrow(example)}", example, example)
    # every path must pass a guard: search around the guards
    blocked = set(guard)
    around = ctx.reach([s for s in sources if s not in blocked], around_edge_kinds or edge_kinds,
                       blocked=frozenset(blocked))
    leaks = [t for t in targets if t in around]
    if leaks:
        path = _path_to(around, leaks[0])
        return Outcome(False, f"a path avoids {what}: {_arrow(path)}", ctx.sort(path), path)
    return Outcome(True, f"every path from {_kinds(skinds)} to {_kinds(tkinds)} passes through {what}",
                   ctx.sort(on_paths & guard))


class Fallback(_Args):
    op: ClassVar[str] = "fallback"
    summary: ClassVar[str] = ("each node of the target kinds has an alternative reached by a fallback arrow "
                              "from a caller upstream of it (replicas do not count)")
    target: Kinds
    alternatives: Kinds | None = None
    quantifier: Literal["every", "some"] = "every"

    def evaluate(self, ctx: Context) -> Outcome:
        targets = ctx.of(self.target)
        if not targets:
            return Outcome(False, f"no {_kinds(self.target)} node to protect")
        fallback_edges = [(u, v) for u, v, k in ctx.edges if k == "fallback"]
        if self.alternatives:
            allowed = set(self.alternatives)
            fallback_edges = [(u, v) for u, v in fallback_edges if ctx.kind[v] in allowed]
        fallback_edges.sort(key=lambda e: (ctx.order[e[0]], ctx.order[e[1]]))
        protected: dict[str, tuple[str, str]] = {}
        downstream_of: dict[str, dict] = {}
        for u, v in fallback_edges:
            if u not in downstream_of:
                downstream_of[u] = ctx.reach([u], ("sync", "async"))
            downstream = downstream_of[u]
            for t in targets:
                # the caller must be upstream: a node cannot fail over for itself
                if t != v and t != u and t in downstream and t not in protected:
                    protected[t] = (u, v)
        # a fallback alternative is itself the backup: it needs no backup of its own
        alternates = {v for _, v in fallback_edges}
        need = [t for t in targets if t not in alternates] or targets
        missing = [t for t in need if t not in protected]
        covered = [t for t in need if t in protected]
        alt = f" of kind {_kinds(self.alternatives)}" if self.alternatives else ""
        if self.quantifier == "every" and missing:
            return Outcome(False, f"no fallback{alt} for {_ids(missing)}: add a `fallback` arrow from one of its "
                           "callers to an alternative", missing)
        if not covered:
            return Outcome(False, f"no fallback{alt} for any of {_ids(need)}", need)
        t = covered[0]
        u, v = protected[t]
        return Outcome(True, f"{t} is backed by {v} (fallback arrow from {u})", covered, [u, v])


class NoSpof(_Args):
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
        sources, targets, missing_side = _endpoints(ctx, self.source, self.target)
        if missing_side:
            return missing_side
        fwd = ctx.reach(sources, request_edges)
        if not any(t in fwd for t in targets):
            return Outcome(False, f"no path from {_kinds(self.source)} to {_kinds(self.target)} "
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
        endpoints = set(sources) | set(targets)
        spofs = [c for c in cuts if ctx.replicas[c] < self.min_replicas
                 and (self.include_endpoints or c not in endpoints)]
        spofs = ctx.sort(spofs)
        example = _path_to(fwd, next(t for t in targets if t in fwd))
        if spofs:
            return Outcome(False, f"single point(s) of failure with fewer than {self.min_replicas} replicas: "
                           f"{_ids(spofs)} (every path {_arrow(example)} depends on them)", spofs, example)
        return Outcome(True, f"no single point of failure between {_kinds(self.source)} and "
                       f"{_kinds(self.target)}", [], example)


class Scaled(_Args):
    op: ClassVar[str] = "scaled"
    summary: ClassVar[str] = "nodes of these kinds run at least min_replicas replicas, or autoscale"
    kind: Kinds
    min_replicas: int = Field(2, ge=1)
    autoscale_counts: bool = True
    autoscale_required: bool = False
    quantifier: Literal["every", "some"] = "every"

    def evaluate(self, ctx: Context) -> Outcome:
        nodes = ctx.of(self.kind)
        if not nodes:
            return Outcome(False, f"no {_kinds(self.kind)} node")
        if self.autoscale_required:
            ok = [n for n in nodes if ctx.autoscale[n]]
            how = "autoscale"
        else:
            ok = [n for n in nodes if ctx.replicas[n] >= self.min_replicas
                  or (self.autoscale_counts and ctx.autoscale[n])]
            how = f"replicas >= {self.min_replicas}" + (" or autoscale" if self.autoscale_counts else "")
        bad = [n for n in nodes if n not in ok]
        if (self.quantifier == "every" and bad) or not ok:
            return Outcome(False, f"not scaled out ({how}): {_ids(bad)}", bad)
        return Outcome(True, f"scaled out ({how}): {_ids(ok)}", ok)


class Balanced(_Args):
    op: ClassVar[str] = "balanced"
    summary: ClassVar[str] = "every replicated or autoscaled node of these kinds is fronted by a load balancer"
    kind: Kinds
    by: Kinds = Field(default_factory=lambda: ["load_balancer"])
    quantifier: Literal["every", "some"] = "every"

    def evaluate(self, ctx: Context) -> Outcome:
        nodes = [n for n in ctx.of(self.kind) if ctx.replicas[n] > 1 or ctx.autoscale[n]]
        if not nodes:
            return Outcome(False, f"no replicated or autoscaled {_kinds(self.kind)} node to balance")
        fronts = set(self.by)
        pred = ctx.adj(reverse=True)
        bare = [n for n in nodes if not any(ctx.kind[p] in fronts for p in pred[n])]
        if self.quantifier == "some" and len(bare) < len(nodes):
            done = [n for n in nodes if n not in bare]
            return Outcome(True, f"{_kinds(self.by)} in front of {_ids(done)}", done)
        if bare:
            return Outcome(False, f"replicated but no {_kinds(self.by)} in front: {_ids(bare)}", bare)
        return Outcome(True, f"{_kinds(self.by)} in front of {_ids(nodes)}", nodes)


class Decoupled(_Args):
    op: ClassVar[str] = "decoupled"
    summary: ClassVar[str] = ("a queue or stream (or an async arrow) sits between producers and consumers")
    producer: Kinds
    consumer: Kinds
    through: Kinds = Field(default_factory=lambda: ["queue", "stream"])
    quantifier: Literal["some", "every"] = "some"
    async_edges: bool = True

    def evaluate(self, ctx: Context) -> Outcome:
        around = None
        guard = set(ctx.of(self.through))
        what = _kinds(self.through) + (" or an async arrow" if self.async_edges else "")
        if self.quantifier == "every" and self.async_edges:
            around = ("sync", "fallback", "replication")   # an async arrow decouples: look for paths without them
            extra = None
        elif self.async_edges:
            asyncs = [(u, v) for u, v, k in ctx.edges if k == "async"]

            def extra(fwd: set[str], back: set[str]) -> list[str] | None:
                for u, v in asyncs:
                    if u in fwd and v in back:
                        return [u, v]
                return None
        else:
            extra = None
        return _through(ctx, None, ctx.of(self.producer), ctx.of(self.consumer), guard, self.quantifier,
                        self.producer, self.consumer, what, extra, around_edge_kinds=around)


OPERATORS: dict[str, type[_Args]] = {
    cls.op: cls for cls in (Present, EdgeRule, Reaches, Via, Fallback, NoSpof, Scaled, Balanced, Decoupled)
}
COMBINATORS = ("all", "any", "not")


# ---------------------------------------------------------------------------
# combinators and the parsed rule tree
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A parsed rule: an operator with arguments, or a combinator of rules."""

    op: str
    args: _Args | None = None
    children: tuple["Rule", ...] = ()

    def evaluate(self, ctx: Context) -> Outcome:
        if self.args is not None:
            return self.args.evaluate(ctx)
        results = [c.evaluate(ctx) for c in self.children]
        if self.op == "not":
            inner = results[0]
            return Outcome(not inner.passed, ("it should not hold, but " if inner.passed else "as required, not: ")
                           + inner.evidence, inner.nodes, inner.path)
        if self.op == "all":
            failed = [r for r in results if not r.passed]
            if failed:
                return Outcome(False, "; ".join(dict.fromkeys(r.evidence for r in failed)), _merge(r.nodes for r in failed),
                               failed[0].path)
            return Outcome(True, "; ".join(r.evidence for r in results), _merge(r.nodes for r in results),
                           results[0].path if results else None)
        # any
        passed = [r for r in results if r.passed]
        if passed:
            return Outcome(True, passed[0].evidence, passed[0].nodes, passed[0].path)
        return Outcome(False, "none of the alternatives holds: " + "; ".join(r.evidence for r in results),
                       _merge(r.nodes for r in results), results[0].path if results else None)

    def kinds(self) -> set[str]:
        """Every kind the rule mentions (for authoring tools)."""
        out: set[str] = set()
        if self.args is not None:
            for value in self.args.__dict__.values():
                if isinstance(value, list) and all(isinstance(v, str) and v in catalog.KINDS for v in value):
                    out.update(value)
        for c in self.children:
            out |= c.kinds()
        return out


def _merge(groups: Iterable[list[str]]) -> list[str]:
    """Node ids of several outcomes, first occurrence first, without repeats."""
    return list(dict.fromkeys(n for g in groups for n in g))


@dataclass
class RuleProblem:
    loc: tuple
    message: str


def parse_rule(raw: Any, loc: tuple = ()) -> tuple[Rule | None, list[RuleProblem]]:
    """Parse a rule mapping; returns the rule or None and every problem found, each with its path."""
    valid = ", ".join([*OPERATORS, *COMBINATORS])
    if not isinstance(raw, dict) or len(raw) != 1:
        keys = f" (found {', '.join(map(str, raw))})" if isinstance(raw, dict) and raw else ""
        return None, [RuleProblem(loc, f"a rule is a mapping with exactly one operator{keys}; "
                                       f"valid operators: {valid}")]
    (op, value), = raw.items()
    here = loc + (op,)
    if op in COMBINATORS:
        items = [value] if op == "not" else value
        if op == "not" and isinstance(value, list):
            return None, [RuleProblem(here, "`not` takes one rule, not a list")]
        if not isinstance(items, list) or not items:
            return None, [RuleProblem(here, f"`{op}` takes a non-empty list of rules")]
        children, problems = [], []
        for i, item in enumerate(items):
            child, probs = parse_rule(item, here if op == "not" else here + (i,))
            problems += probs
            if child is not None:
                children.append(child)
        if problems:
            return None, problems
        return Rule(op, None, tuple(children)), []
    cls = OPERATORS.get(op)
    if cls is None:
        import difflib

        near = difflib.get_close_matches(str(op), [*OPERATORS, *COMBINATORS], n=1, cutoff=0.5)
        hint = f"did you mean {near[0]}? " if near else ""
        return None, [RuleProblem(loc + (op,), f"unknown rule operator '{op}'; {hint}valid operators: {valid}")]
    if not isinstance(value, dict):
        return None, [RuleProblem(here, f"the arguments of `{op}` must be a mapping, e.g. "
                                        f"{op}: {{{', '.join(field_names(cls)[:2])}: ...}}")]
    try:
        args = cls.model_validate(value)
    except ValidationError as exc:
        errors = exc.errors()
        # a misspelt field shows once, as "unknown field 'thrugh'; did you mean through?", not also as missing
        import difflib

        names = field_names(cls)
        meant = {m for e in errors if e["type"] == "extra_forbidden"
                 for m in difflib.get_close_matches(str(e["loc"][0]), names, n=1, cutoff=0.5)}
        errors = [e for e in errors if not (e["type"] == "missing" and str(e["loc"][0]) in meant)]
        return None, [RuleProblem(here + tuple(err["loc"]), _message(cls, err)) for err in errors]
    return Rule(op, args), []


def field_names(cls: type[_Args]) -> list[str]:
    return [f.alias or name for name, f in cls.model_fields.items()]


def _message(cls: type[_Args], err: dict) -> str:
    field_name = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        import difflib

        names = field_names(cls)
        near = difflib.get_close_matches(field_name, names, n=1, cutoff=0.5)
        hint = f"did you mean {near[0]}? " if near else ""
        return f"unknown field '{field_name}' in a `{cls.op}` rule; {hint}valid fields: {', '.join(names)}"
    if err["type"] == "missing":
        return f"`{cls.op}` rule needs '{field_name}'"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    return f"`{cls.op}` rule, field '{field_name}': {msg}"


def kind_names() -> list[str]:
    """Every name a kind field accepts: catalog kinds and aliases, as written and in normal form."""
    names = set(catalog.ALIASES)
    for kind in catalog.KINDS.values():
        names.add(kind.name)
        names.update(catalog.normal_form(a) for a in kind.aliases)
    return sorted(names)


KIND_NOTE = ("a component kind or alias from the catalog (`python -m simulator kinds`); the simulator also "
             "accepts any letter case, and spaces or hyphens for '_'")


def _resolve_marks(node: Any) -> Any:
    """Replace the kind-field markers with "one name or a non-empty list of names" schemas."""
    if isinstance(node, list):
        return [_resolve_marks(v) for v in node]
    if not isinstance(node, dict):
        return node
    mark = node.get(_SCHEMA_MARK)
    if mark in ("kinds", "edge_kinds"):
        ref = {"$ref": "#/$defs/kind" if mark == "kinds" else "#/$defs/edge_kind"}
        out = {k: v for k, v in node.items() if k != _SCHEMA_MARK}
        options = [ref, {"type": "array", "items": ref, "minItems": 1}]
        if mark == "edge_kinds":
            options.append({"type": "null"})
        out["anyOf"] = options
        return out
    return {k: _resolve_marks(v) for k, v in node.items()}


def rule_json_schema() -> dict:
    """JSON Schema of a rule (operators and combinators), for editors.

    A self-contained document: the rule itself is ``$defs.rule`` (combinators refer to it by
    ``#/$defs/rule``), next to ``$defs.kind`` and ``$defs.edge_kind``. To embed it, merge its
    ``$defs`` into the host document's ``$defs`` and point at ``#/$defs/rule``.
    """
    defs: dict[str, Any] = {}
    variants = []
    for op, cls in OPERATORS.items():
        schema = cls.model_json_schema(by_alias=True)
        defs.update(schema.pop("$defs", {}))
        schema.pop("title", None)
        schema["description"] = cls.summary
        variants.append({"type": "object", "properties": {op: schema}, "required": [op],
                         "additionalProperties": False, "description": f"{op}: {cls.summary}"})
    ref = {"$ref": "#/$defs/rule"}
    variants.append({"type": "object", "properties": {"all": {"type": "array", "items": ref, "minItems": 1}},
                     "required": ["all"], "additionalProperties": False,
                     "description": "all: every rule of the list holds"})
    variants.append({"type": "object", "properties": {"any": {"type": "array", "items": ref, "minItems": 1}},
                     "required": ["any"], "additionalProperties": False,
                     "description": "any: at least one rule of the list holds"})
    variants.append({"type": "object", "properties": {"not": ref}, "required": ["not"],
                     "additionalProperties": False, "description": "not: the rule does not hold"})
    variants = _resolve_marks(variants)
    defs = _resolve_marks(defs)
    defs["rule"] = {"oneOf": variants,
                    "description": "one operator (" + ", ".join(OPERATORS) + ") or combinator (all, any, not)"}
    defs["kind"] = {"type": "string", "enum": kind_names(), "description": KIND_NOTE}
    defs["edge_kind"] = {"type": "string", "enum": list(EDGE_KINDS),
                         "description": "an arrow kind (the simulator ignores letter case)"}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": "#/$defs/rule", "$defs": defs}


# ---------------------------------------------------------------------------
# static analysis: rules no design can ever pass
# ---------------------------------------------------------------------------
# Only what is certain is reported. Every passing rule implies bounds on how many nodes of some kinds a
# design has (`present` says so directly; `reaches` needs a node of its from and to kinds...). Under
# `all` those bounds must be satisfiable together: since each node has one kind, a count over a set of
# kinds is at least the count over any subset, so "at least 2 of {cache}" and "at most 1 of
# {cache, cdn}" cannot both hold.

MAX_DESIGN_NODES = 5_000      # design.MAX_NODES
MAX_REPLICAS = 100_000        # the design contract's replica limit


@dataclass(frozen=True)
class _Bound:
    kinds: frozenset
    low: int
    high: int | None
    loc: tuple
    source: str              # which rule asks, for the message

    def text(self) -> str:
        kinds = _kinds(sorted(self.kinds))
        if self.high is None:
            return f"at least {self.low} {kinds} node(s)"
        if self.low == 0:
            return f"at most {self.high} {kinds} node(s)" if self.high else f"no {kinds} node"
        if self.low == self.high:
            return f"exactly {self.low} {kinds} node(s)"
        return f"between {self.low} and {self.high} {kinds} nodes"


def _needs_nodes(args: _Args, loc: tuple) -> list[_Bound]:
    """What a passing operator implies about node counts."""
    op = f"`{args.op}`"
    if isinstance(args, Present):
        return [_Bound(frozenset(args.kind), args.min, args.max, loc, op)]
    fields: list[tuple[str, list[str] | None]] = []
    if isinstance(args, (EdgeRule, Reaches, NoSpof)):
        fields = [("from", args.source), ("to", args.target)]
    elif isinstance(args, Via):
        fields = [("from", args.source), ("to", args.target), ("through", args.through)]
    elif isinstance(args, Fallback):
        fields = [("target", args.target), ("alternatives", args.alternatives)]
    elif isinstance(args, Scaled):
        fields = [("kind", args.kind)]
    elif isinstance(args, Balanced):
        fields = [("kind", args.kind), ("by", args.by)]
    elif isinstance(args, Decoupled):
        fields = [("producer", args.producer), ("consumer", args.consumer)]
        if not args.async_edges:
            fields.append(("through", args.through))
    return [_Bound(frozenset(kinds), 1, None, loc + (name,), f"{op} (its '{name}')")
            for name, kinds in fields if kinds]


def _needs(rule: Rule, loc: tuple) -> list[_Bound]:
    here = loc + (rule.op,)
    if rule.args is not None:
        return _needs_nodes(rule.args, here)
    if rule.op == "all":
        return [b for i, c in enumerate(rule.children) for b in _needs(c, here + (i,))]
    if rule.op == "not":
        inner = rule.children[0]
        if inner.args is not None and isinstance(inner.args, Present):
            p = inner.args
            kinds = frozenset(p.kind)
            if p.max is None and p.min > 0:          # not (count >= min)  ->  count <= min - 1
                return [_Bound(kinds, 0, p.min - 1, here + ("present",), "`not present`")]
            if p.min == 0 and p.max is not None:     # not (count <= max)  ->  count >= max + 1
                return [_Bound(kinds, p.max + 1, None, here + ("present",), "`not present`")]
        if inner.op == "not":
            return _needs(inner.children[0], here)
    return []


def _always_holds(rule: Rule) -> bool:
    """True when every (non-empty) design passes the rule."""
    if rule.args is not None:
        return isinstance(rule.args, Present) and rule.args.min == 0 and rule.args.max is None
    if rule.op == "not":
        return never_passes(rule.children[0]) is not None
    if rule.op == "all":
        return all(_always_holds(c) for c in rule.children)
    return any(_always_holds(c) for c in rule.children)


def _operator_impossible(args: _Args, here: tuple) -> tuple[tuple, str] | None:
    if isinstance(args, Present):
        kinds = _kinds(args.kind)
        if args.max is not None and args.min > args.max:
            implicit = "" if "min" in args.model_fields_set else " (min is 1 unless given: write min: 0)"
            return here + ("min",), (f"`present` asks for at least {args.min} and at most {args.max} {kinds} "
                                     f"node(s): no count is both{implicit}; raise max or lower min")
        if args.min > MAX_DESIGN_NODES:
            return here + ("min",), (f"`present` asks for at least {args.min:,} {kinds} nodes, but a design has "
                                     f"at most {MAX_DESIGN_NODES:,} nodes; lower min")
    if isinstance(args, Scaled) and not args.autoscale_required and not args.autoscale_counts \
            and args.min_replicas > MAX_REPLICAS:
        return here + ("min_replicas",), (f"`scaled` asks for {args.min_replicas:,} replicas without autoscale, "
                                          f"but a node has at most {MAX_REPLICAS:,}; lower min_replicas")
    return None


def never_passes(rule: Rule, loc: tuple = ()) -> tuple[tuple, str] | None:
    """Why no design could ever pass ``rule``, with the path of the offending part; None if one might.

    Only certain cases are reported: `present` with min above max, `not` of a rule that always holds
    (such as `present` with min 0 and no max), `any` whose every branch is impossible, and `all` whose
    parts ask for node counts that contradict each other.
    """
    here = loc + (rule.op,)
    if rule.args is not None:
        return _operator_impossible(rule.args, here)
    if rule.op == "not":
        if _always_holds(rule.children[0]):
            return here, ("`not` of a rule that every design satisfies (e.g. `present` with min 0 and no max) "
                          "can never pass; give the inner rule a bound, or drop the `not`")
        return None
    if rule.op == "any":
        reasons = [never_passes(c, here + (i,)) for i, c in enumerate(rule.children)]
        if all(reasons):
            return here, "no branch of `any` can pass: " + "; ".join(r[1] for r in reasons if r)
        return None
    for i, child in enumerate(rule.children):
        reason = never_passes(child, here + (i,))
        if reason:
            return reason
    bounds = _needs(rule, loc)
    for wide in bounds:
        if wide.high is None:
            continue
        for narrow in bounds:
            if narrow is not wide and narrow.kinds <= wide.kinds and narrow.low > wide.high:
                return narrow.loc, (f"the parts of `all` contradict each other: {narrow.source} needs "
                                    f"{narrow.text()}, but {wide.source} allows {wide.text()}; "
                                    "no design has both")
    return None

