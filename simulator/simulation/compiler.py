"""A design compiled for the simulation: index-based lists of node parameters and calls, loops broken,
look-aside caches and fallbacks resolved, a topological order, the entries and the request path.

Compiled once per design and chaos-independent: every what-if (a failed node, one lost replica, a
chaos preset) reuses it. docs/simulation.md explains each rule applied here.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from simulator.errors import DesignError, Problem, SimulatorError
from simulator.limits import MAX_REPLICAS
from simulator.model import catalog
from simulator.model.design import Design, Edge, Node
from simulator.simulation.constants import (
    CACHEABLE_KINDS,
    ENTRY_KINDS,
    OFFLINE_KINDS,
    PRIMARY_KINDS,
    TELEMETRY_KINDS,
)
from simulator.simulation.formatting import id_list
from simulator.simulation.inputs import finite_number, property_beyond_limits


class Compiled:
    """A design as index-based lists, with a topological order and the loops broken; chaos-independent."""

    def __init__(self, design: Design, entry_kinds: Iterable[str] = ENTRY_KINDS):
        nodes = design.nodes
        self.n = len(nodes)
        self.ids = [nd.id for nd in nodes]
        self.index = {nid: i for i, nid in enumerate(self.ids)}
        self.kinds = [nd.kind for nd in nodes]
        self.notes: list[str] = []
        self._read_nodes(nodes)
        load_edges, has_in, any_in = self._read_edges(design.edges)
        first_order = self._break_loops(load_edges)
        self._find_look_aside_caches()
        self._find_primaries()
        self._order_fallbacks_after_primaries(first_order)
        self._find_entries(tuple(entry_kinds), has_in, any_in)
        self._mark_request_path()

    # --- nodes -----------------------------------------------------------------------

    def _read_nodes(self, nodes: list[Node]) -> None:
        """Each node's parameters: the catalog defaults of its kind, overridden by valid properties."""
        bad_props: list[str] = []
        self.cap: list[float | None] = []
        self.lat: list[float] = []
        self.cost: list[float] = []
        self.hit: list[float] = []
        self.reps: list[int] = []
        self.redundant: list[bool] = []   # replicas, autoscaling or an unsized managed service
        self.auto: list[bool] = []
        self.maxrep: list[int] = []
        self.zone: list[str | None] = []
        self.blocking: list[bool] = []
        self.absorbs: list[bool] = []
        self.assumed: list[str] = []   # unsized or managed components the simulation lets grow
        self.share: list[float] = []
        self.cacheable: list[bool] = []
        refused: list[Problem] = []   # numbers the simulation cannot use at all: an error, not a note
        for nd in nodes:
            kind = catalog.KINDS.get(nd.kind)

            def prop(name: str, default: float | None, lo: float, hi: float | None = None,
                     lo_open: bool = False, nd: Node = nd) -> float | None:
                return _property(nd, name, default, lo, hi, lo_open, bad_props, refused)

            offline = nd.kind in OFFLINE_KINDS
            default_cap = None if offline or kind is None else kind.capacity
            self.cap.append(prop("capacity", default_cap, 0.0, lo_open=True))
            self.absorbs.append(offline or nd.kind in TELEMETRY_KINDS)
            self.lat.append(prop("latency_ms", kind.latency_ms if kind else None, 0.0) or 0.0)
            self.cost.append(prop("cost_per_hour", kind.cost_per_hour if kind else None, 0.0) or 0.0)
            self.hit.append(prop("hit_rate", kind.hit_rate if kind else None, 0.0, 1.0) or 0.0)
            self.reps.append(nd.replicas)
            self.redundant.append(nd.redundant)
            # autoscaled, managed and unsized components grow to their load; only written replicas are fixed
            grows = nd.elastic or not nd.sized
            self.auto.append(grows)
            if grows and not nd.autoscale and (kind is None or kind.capacity is not None) and not offline:
                self.assumed.append(nd.id)
            limit = prop("max_replicas", None, 1.0)
            if limit is None:
                limit = MAX_REPLICAS if grows else nd.replicas
            elif limit < nd.replicas:
                bad_props.append(f"{nd.id}.max_replicas={nd.extra['max_replicas']!r} (below its replicas)")
                limit = nd.replicas
            self.maxrep.append(int(limit))
            zone = nd.extra.get("zone")
            self.zone.append(None if zone is None else str(zone))
            blocking = nd.extra.get("blocking")
            if not isinstance(blocking, bool):
                if blocking is not None:
                    bad_props.append(f"{nd.id}.blocking={blocking!r}")
                blocking = not (self.absorbs[-1] or (kind is not None and kind.capacity is None))
            self.blocking.append(blocking)
            share = nd.extra.get("traffic_share", 1.0)
            value = finite_number(share)
            if value is None or not 0.0 <= value <= 1.0:
                refused.append(Problem(f"node '{nd.id}': traffic_share must be a number from 0 to 1 (the share "
                                         f"of its callers' load that reaches it), not {share!r}"))
                value = 1.0
            self.share.append(value)
            cacheable = nd.extra.get("cacheable")
            if not isinstance(cacheable, bool):
                if cacheable is not None:
                    bad_props.append(f"{nd.id}.cacheable={cacheable!r}")
                cacheable = nd.kind in CACHEABLE_KINDS
            self.cacheable.append(cacheable)
        if refused:
            raise SimulatorError(refused)
        if bad_props:
            self.notes.append("ignored invalid properties (the kind default applies): " + id_list(bad_props))
        self.has_hit = [h > 0 or (catalog.KINDS.get(k) is not None and catalog.KINDS[k].hit_rate is not None)
                        for h, k in zip(self.hit, self.kinds, strict=True)]

    # --- edges -----------------------------------------------------------------------

    def _read_edges(self, edges: list[Edge]) -> tuple[list[list[tuple[int, str]]], list[bool], list[bool]]:
        """The arrows that carry load (sync, async, fallback) by caller, and which nodes have callers:
        ``(load_edges, has_in, any_in)``; has_in counts sync, async and fallback arrows (a backup reached
        by a fallback arrow is called, not a place where traffic enters)."""
        n, idx = self.n, self.index
        load_edges: list[list[tuple[int, str]]] = [[] for _ in range(n)]   # sync, async, fallback
        has_in = [False] * n            # an incoming sync, async or fallback edge
        self.sync_in = [False] * n      # called by a sync edge that carries load (primary models)
        any_in = [False] * n
        missing = [f"{e.source} -> {e.target}" for e in edges if e.source not in idx or e.target not in idx]
        if missing:
            raise DesignError(f"arrow(s) to or from a missing node: {id_list(missing)}")
        for e in edges:
            if e.kind == "replication":
                continue
            u, v = idx[e.source], idx[e.target]
            any_in[v] = True
            if e.kind in ("sync", "async", "fallback"):
                has_in[v] = True
            if not self.absorbs[u]:         # telemetry and offline nodes pass no request load on
                load_edges[u].append((v, e.kind))
                if e.kind == "sync":
                    self.sync_in[v] = True
        return load_edges, has_in, any_in

    def _break_loops(self, load_edges: list[list[tuple[int, str]]]) -> list[int]:
        """Drop the back edges a depth-first search finds, in node order; split what is left into
        ``fwd`` (sync + async), ``block`` (blocking sync) and ``fb`` (fallback). Returns the DFS order."""
        n = self.n
        order, back = dfs_order(n, [[v for v, _ in out] for out in load_edges])
        if back:
            shown = [f"{self.ids[u]} -> {self.ids[v]}" for u, v in back]
            self.notes.append(f"loop(s) broken: ignored the arrow(s) {id_list(shown, 6)} (each closes a loop; "
                              "a depth-first search in node order picks the arrow that returns to a node "
                              "already on its path)")
        back_set = set(back)
        self.fwd: list[list[int]] = [[] for _ in range(n)]        # sync + async successors
        self.block: list[list[int]] = [[] for _ in range(n)]      # blocking sync successors
        self.fb: list[list[int]] = [[] for _ in range(n)]         # fallback targets, in edge order
        for u in range(n):
            for v, kind in load_edges[u]:
                if (u, v) in back_set:
                    continue
                if kind == "fallback":
                    self.fb[u].append(v)
                else:
                    self.fwd[u].append(v)
                    if kind == "sync" and self.blocking[v]:
                        self.block[u].append(v)
        return order

    def _find_look_aside_caches(self) -> None:
        """Look-aside caches: a caller checks the cache first and makes its cacheable calls only on a miss.

        A cache (a node with a hit rate) is look-aside for a caller when it has no blocking call of its
        own and the caller has at least one other blocking call to a cacheable node; otherwise it is an
        ordinary dependency (an in-line cache already passes on only its misses)."""
        n = self.n
        self.la: list[list[int]] = [[] for _ in range(n)]          # the caller's look-aside caches
        self.cov: list[set[int]] = [set() for _ in range(n)]       # the calls they spare on a hit
        for u in range(n):
            caches = [c for c in self.block[u] if self.has_hit[c] and not self.block[c]]
            if not caches:
                continue
            spared = {w for w in self.block[u] if w not in caches and self.cacheable[w]}
            if spared:
                self.la[u] = caches
                self.cov[u] = spared
        self.la_nodes = [u for u in range(n) if self.la[u]]
        # per successor of fwd[u]: whether a look-aside hit spares it (the load it gets is the misses)
        self.fwd_cov: list[list[bool]] = [[w in self.cov[u] for w in self.fwd[u]] if self.la[u] else
                                          [False] * len(self.fwd[u]) for u in range(n)]

    def _find_primaries(self) -> None:
        """Primaries: what a fallback arrow stands in for. Look-aside caches are left out of both lists:
        a request never fails for want of one (a failed or overloaded cache is a miss)."""
        n = self.n
        self.prim: list[list[int]] = [[] for _ in range(n)]
        la = self.la
        self.plain: list[list[int]] = [[w for w in b if w not in la[u]] if la[u] else list(b)  # calls not backed up
                                       for u, b in enumerate(self.block)]
        self.fb_pred: list[list[int]] = [[] for _ in range(n)]
        self.fb_nodes = [u for u in range(n) if self.fb[u]]
        for u in self.fb_nodes:
            needed = self.plain[u]
            prim = [w for w in needed if self.kinds[w] in PRIMARY_KINDS] or list(needed)
            self.prim[u] = prim
            self.plain[u] = [w for w in needed if w not in prim]
            for f in self.fb[u]:
                self.fb_pred[f].append(u)
            if not prim:
                self.notes.append(f"the fallback arrow(s) from {self.ids[u]} back up nothing: "
                                  f"{self.ids[u]} has no blocking sync call")
        # the same lists split by whether a look-aside hit spares the call: (plain, prim) x (needed, spared)
        cov, plain, prims = self.cov, self.plain, self.prim
        self.plain_n = [[w for w in plain[u] if w not in cov[u]] if la[u] else plain[u] for u in range(n)]
        self.plain_c = [[w for w in plain[u] if w in cov[u]] if la[u] else [] for u in range(n)]
        self.prim_n = [[w for w in prims[u] if w not in cov[u]] if la[u] else prims[u] for u in range(n)]
        self.prim_c = [[w for w in prims[u] if w in cov[u]] if la[u] else [] for u in range(n)]
        # fast paths: nodes whose calls all carry the full load (no look-aside cache, no traffic_share)
        self.full_fwd = [not self.la[u] and all(self.share[w] == 1.0 for w in self.fwd[u]) for u in range(n)]
        self.full_dep = [not self.la[u] and all(self.share[w] == 1.0 for w in self.block[u]) for u in range(n)]

    def _order_fallbacks_after_primaries(self, first_order: list[int]) -> None:
        """The topological order (``order``, and ``rorder`` reversed), with each fallback target after the
        primaries it stands in for unless it leads back to them."""
        n = self.n
        pos = {v: i for i, v in enumerate(first_order)}
        late = []
        for u in self.fb_nodes:
            for f in self.fb[u]:
                for w in self.prim[u]:
                    if pos[w] > pos[f]:
                        late.append((w, f))
        order = first_order
        if late:
            succ = [list(self.fwd[u]) + list(self.fb[u]) for u in range(n)]
            dropped = []
            for w, f in late:
                if reaches(succ, f, w):
                    dropped.append(f"{self.ids[f]} (backs up {self.ids[w]})")
                else:
                    succ[w].append(f)
            order, extra_back = dfs_order(n, succ)
            assert not extra_back
            if dropped:
                self.notes.append("a fallback that leads back to its own primary is sized without the "
                                  f"primary's overload: {id_list(dropped, 4)}")
        self.order = order
        self.rorder = order[::-1]

    # --- entries and the request path --------------------------------------------------

    def _find_entries(self, entry_kinds: tuple[str, ...], has_in: list[bool], any_in: list[bool]) -> None:
        """Where traffic enters: the uncalled nodes of the entry kinds (all of them when each has a caller);
        without any, the nodes nothing calls that call something."""
        n = self.n
        kinds_set = set(entry_kinds)
        typed = [i for i in range(n) if self.kinds[i] in kinds_set]
        entries = [i for i in typed if not has_in[i]] or typed
        if not typed:
            entries = [i for i in range(n) if not any_in[i] and self.fwd[i]]
            if entries:
                self.notes.append(f"no {'/'.join(entry_kinds)} node: traffic enters at the nodes nothing "
                                  f"calls: {id_list([self.ids[i] for i in entries])}")
            elif n:
                self.notes.append(f"no {'/'.join(entry_kinds)} node and no node without callers: "
                                  "no traffic enters the design")
        self.entries = entries
        self.is_entry = [False] * n
        for i in entries:
            self.is_entry[i] = True

    def _mark_request_path(self) -> None:
        """The request path: what a request waits on (entries, then blocking sync calls and fallbacks)."""
        self.on_path = [False] * self.n
        todo = list(self.entries)
        for i in todo:
            self.on_path[i] = True
        while todo:
            u = todo.pop()
            for w in self.block[u] + self.fb[u]:
                if not self.on_path[w]:
                    self.on_path[w] = True
                    todo.append(w)

    def failed_mask(self, failed: Iterable[str]) -> list[bool]:
        mask = [False] * self.n
        for nid in failed:
            mask[self.index[nid]] = True
        return mask


def _property(nd: Node, name: str, default: float | None, lo: float, hi: float | None, lo_open: bool,
              bad: list[str], refused: list[Problem]) -> float | None:
    """A numeric property of ``nd`` within [lo, hi] (lo excluded when ``lo_open``), else ``default``;
    an invalid value is also written to ``bad``, a number beyond the simulation's limits to ``refused``."""
    if name not in nd.extra:
        return default
    raw: Any = nd.extra[name]
    beyond = property_beyond_limits(nd.id, name, raw)
    if beyond is not None:
        refused.append(Problem(beyond))
        return default
    value = finite_number(raw)
    if value is None or value < lo or (lo_open and value == lo) or (hi is not None and value > hi):
        bad.append(f"{nd.id}.{name}={raw!r}")
        return default
    return value


def dfs_order(n: int, succ: list[list[int]]) -> tuple[list[int], list[tuple[int, int]]]:
    """Reverse postorder of an iterative DFS (roots and successors in the given order) and its back edges."""
    state = [0] * n          # 0 unseen, 1 on the path, 2 done
    post: list[int] = []
    back: list[tuple[int, int]] = []
    for root in range(n):
        if state[root]:
            continue
        state[root] = 1
        stack = [(root, 0)]
        while stack:
            v, k = stack[-1]
            out = succ[v]
            while k < len(out):
                w = out[k]
                k += 1
                if state[w] == 0:
                    stack[-1] = (v, k)
                    state[w] = 1
                    stack.append((w, 0))
                    break
                if state[w] == 1:
                    back.append((v, w))
            else:
                state[v] = 2
                post.append(v)
                stack.pop()
    post.reverse()
    return post, back


def reaches(succ: list[list[int]], start: int, goal: int) -> bool:
    """Whether ``goal`` can be reached from ``start`` along ``succ``."""
    seen = {start}
    todo = [start]
    while todo:
        v = todo.pop()
        if v == goal:
            return True
        for w in succ[v]:
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return False
