"""Traffic and failure simulation of a design: load, utilisation, served share, latency, cost, drills.

    result = simulate(design, peak_rps=3000, load=1.0, failed=["primary"], chaos="spike=2,cache_flush")
    result.served_share, result.bottlenecks, result.spofs, result.latency_ms, result.monthly_cost

A steady-state, flow-level model (no time steps, no randomness): the offered
load enters at the entry nodes and flows along the arrows in topological
order; every node compares what it is offered with its capacity. The model,
its formulas and the reasoning behind the catalog defaults are written up in
``docs/simulation.md``; keep the two in step.

Pure Python on plain lists: a design is compiled once (``_Compiled``: indices,
parameters, a topological order with loops broken) and every what-if (a failed
node, one lost replica, a chaos preset) reuses it, so the single-failure drills
of a 2,000-node design stay within seconds.
"""
from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Literal, Mapping

from simulator.model import catalog
from simulator.model.design import Design
from simulator.errors import DesignError, Problem, SimulatorError

# ---------------------------------------------------------------------------
# the model's constants (docs/simulation.md explains each)
# ---------------------------------------------------------------------------

ENTRY_KINDS = ("client", "sensor", "edge_device")
PRIMARY_KINDS = frozenset({"service", "model_server", "llm"})   # the calls a fallback arrow stands in for
MODEL_KINDS = ("model_server", "llm")                           # taken down by the primary_model_down preset
TELEMETRY_KINDS = frozenset(k.name for k in catalog.KINDS.values() if k.group == "Observability")
# sized by data volume and schedules, not by request rate: they absorb the load that reaches them
OFFLINE_KINDS = frozenset({"batch_processor", "data_warehouse", "orchestrator", "trainer", "model_registry",
                           "experiment_tracker", "labeling"})
AUTOSCALE_TARGET = 0.8      # autoscalers add replicas to keep utilisation at or below this
BOTTLENECK = 0.8            # a node above this utilisation is reported as a bottleneck
MAX_RHO = 0.95              # the queueing factor 1/(1-rho) is capped at rho = 0.95 (20x)
TAIL_FACTOR = 3.0           # p99 = p50 x TAIL_FACTOR
HOURS_PER_MONTH = 730       # 365 x 24 / 12
SPOF_DROP = 0.5             # losing a node that costs >= 50 points of served share makes it a SPOF
MAX_REPLICAS_FACTOR = 10    # default max_replicas of an autoscaled node: 10 x its replicas
DEFAULT_PEAK_RPS = 1000.0   # what the rubric operator assumes when the scenario gives no peak
# what a look-aside cache spares: the calls a caller makes only on a miss (the `cacheable` property overrides)
CACHEABLE_KINDS = frozenset({"service", "model_server", "llm", "vector_db", "feature_store"})
P50_SHARE = 0.5             # a call counts toward p50 when at least half the caller's requests make it
P99_SHARE = 0.01            # ... and toward the p99 path when at least 1 % do
_EPS = 1e-12


# ---------------------------------------------------------------------------
# chaos presets
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Chaos:
    """Combinable chaos presets: a load spike, a cache flush, the primary models down, a zone lost."""

    spike: float = 1.0
    cache_flush: bool = False
    primary_model_down: bool = False
    zone_lost: str | None = None

    def __post_init__(self):
        if isinstance(self.spike, bool) or not isinstance(self.spike, (int, float)) \
                or not math.isfinite(self.spike) or self.spike <= 0:
            raise SimulatorError(f"chaos spike must be a positive number, not {self.spike!r}")
        if self.zone_lost is not None and not isinstance(self.zone_lost, str):
            object.__setattr__(self, "zone_lost", str(self.zone_lost))

    @classmethod
    def parse(cls, spec: Any) -> "Chaos":
        """A Chaos from None, a Chaos, a mapping, or text such as ``"spike=3,cache_flush,zone_lost=eu-1a"``
        (a list of such items works too). Raises SimulatorError naming the unknown preset."""
        if spec is None:
            return cls()
        if isinstance(spec, Chaos):
            return spec
        values: dict[str, Any] = {}
        if isinstance(spec, Mapping):
            items = list(spec.items())
        else:
            parts = spec.split(",") if isinstance(spec, str) else list(spec)
            items = []
            for part in parts:
                part = str(part).strip()
                if not part:
                    continue
                key, _, value = part.partition("=")
                items.append((key.strip(), value.strip() if _ else True))
        names = ("spike", "cache_flush", "primary_model_down", "zone_lost")
        for key, value in items:
            key = str(key).strip().lower().replace("-", "_")
            if key not in names:
                near = difflib.get_close_matches(key, names, n=1, cutoff=0.5)
                hint = f"did you mean {near[0]}? " if near else ""
                raise SimulatorError(f"unknown chaos preset '{key}'; {hint}presets: spike=N, cache_flush, "
                                     "primary_model_down, zone_lost=ZONE")
            if key == "spike":
                if value is True:
                    raise SimulatorError("chaos spike needs a multiplier, e.g. spike=3")
                try:
                    value = float(value)
                except (TypeError, ValueError):
                    raise SimulatorError(f"chaos spike must be a number, not {value!r}") from None
            elif key == "zone_lost":
                if value is True or value in (None, ""):
                    raise SimulatorError("chaos zone_lost needs a zone, e.g. zone_lost=us-east-1a")
                value = str(value)
            else:
                if isinstance(value, str):
                    low = value.lower()
                    if low not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                        raise SimulatorError(f"chaos {key} is on or off, not {value!r}")
                    value = low in ("true", "1", "yes", "on")
                value = bool(value)
            values[key] = value
        return cls(**values)

    def active(self) -> bool:
        return self != Chaos()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.spike != 1.0:
            out["spike"] = self.spike
        if self.cache_flush:
            out["cache_flush"] = True
        if self.primary_model_down:
            out["primary_model_down"] = True
        if self.zone_lost is not None:
            out["zone_lost"] = self.zone_lost
        return out

    def describe(self) -> str:
        parts = []
        if self.spike != 1.0:
            parts.append(f"spike x{_num(self.spike)}")
        if self.cache_flush:
            parts.append("cache flush")
        if self.primary_model_down:
            parts.append("primary models down")
        if self.zone_lost is not None:
            parts.append(f"zone {self.zone_lost} lost")
        return ", ".join(parts) or "none"


# ---------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------


@dataclass
class NodeResult:
    id: str
    kind: str
    load: float                   # req/s offered to the node (what arrives, failed or not)
    utilization: float            # load / (capacity x effective replicas); 0 when unlimited or failed
    capacity: float | None        # req/s per replica; None = not modelled (unlimited)
    replicas: int                 # as designed (minus one in a replica-loss drill)
    effective_replicas: int       # after autoscaling; 0 when failed
    failed: bool = False
    latency_ms: float = 0.0       # own latency, inflated by the queueing factor
    served_ratio: float = 1.0     # share of its own load the node accepts: 0 failed, 1/rho overloaded
    on_request_path: bool = False  # an entry, or reached from one by blocking sync or fallback arrows

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "load": _round(self.load), "utilization": _round(self.utilization),
                "capacity": self.capacity, "replicas": self.replicas,
                "effective_replicas": self.effective_replicas, "failed": self.failed,
                "latency_ms": _round(self.latency_ms), "served_ratio": _round(self.served_ratio),
                "on_request_path": self.on_request_path}


@dataclass
class SimulationResult:
    peak_rps: float
    load: float
    offered_rps: float                       # peak_rps x load x chaos spike
    entries: list[str]
    nodes: dict[str, NodeResult]
    max_utilization: float
    bottlenecks: list[str]                   # utilisation > 0.8, highest first
    served_share: float                      # 0-1
    latency_ms: dict[str, float]             # {"p50", "p99"}
    critical_path: list[str]
    monthly_cost: float                      # USD
    spofs: list[str]
    drills: dict[str, float] | None          # node -> served share when it is lost (None: not run)
    failed: list[str]                        # every node taken out (by hand, zone or preset)
    chaos: Chaos = field(default_factory=Chaos)
    notes: list[str] = field(default_factory=list)
    entry_rates: dict[str, float] = field(default_factory=dict)   # the traffic profile used: kind -> req/s each

    def to_dict(self) -> dict[str, Any]:
        return {
            "peak_rps": self.peak_rps, "load": self.load, "offered_rps": _round(self.offered_rps),
            "entries": list(self.entries),
            "served_share": _round(self.served_share), "max_utilization": _round(self.max_utilization),
            "bottlenecks": list(self.bottlenecks), "spofs": list(self.spofs),
            "latency_ms": {k: _round(v) for k, v in self.latency_ms.items()},
            "critical_path": list(self.critical_path), "monthly_cost": _round(self.monthly_cost, 2),
            "failed": list(self.failed), "chaos": self.chaos.to_dict(),
            "drills": None if self.drills is None else {k: _round(v) for k, v in self.drills.items()},
            "nodes": {nid: n.to_dict() for nid, n in self.nodes.items()},
            "notes": list(self.notes), "entry_rates": dict(self.entry_rates),
        }


def _round(value: float, digits: int = 6) -> float:
    out = round(float(value), digits)
    return 0.0 if out == 0 else out


# ---------------------------------------------------------------------------
# compiling a design
# ---------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


class _Compiled:
    """A design as index-based lists, with a topological order and the loops broken; chaos-independent."""

    def __init__(self, design: Design, entry_kinds: Iterable[str] = ENTRY_KINDS):
        nodes = design.nodes
        self.n = n = len(nodes)
        self.ids = [nd.id for nd in nodes]
        self.index = {nid: i for i, nid in enumerate(self.ids)}
        self.kinds = [nd.kind for nd in nodes]
        self.notes: list[str] = []
        entry_kinds = tuple(entry_kinds)

        bad_props: list[str] = []
        self.cap: list[float | None] = []
        self.lat: list[float] = []
        self.cost: list[float] = []
        self.hit: list[float] = []
        self.reps: list[int] = []
        self.auto: list[bool] = []
        self.maxrep: list[int] = []
        self.zone: list[str | None] = []
        self.blocking: list[bool] = []
        self.absorbs: list[bool] = []
        self.share: list[float] = []
        self.cacheable: list[bool] = []
        bad_share: list[Problem] = []
        for nd in nodes:
            kind = catalog.KINDS.get(nd.kind)
            extra = nd.extra

            def prop(name: str, default: float | None, lo: float, hi: float | None = None,
                     lo_open: bool = False) -> float | None:
                if name not in extra:
                    return default
                value = _number(extra[name])
                if value is None or value < lo or (lo_open and value == lo) or (hi is not None and value > hi):
                    bad_props.append(f"{nd.id}.{name}={extra[name]!r}")
                    return default
                return value

            offline = nd.kind in OFFLINE_KINDS
            default_cap = None if offline or kind is None else kind.capacity
            self.cap.append(prop("capacity", default_cap, 0.0, lo_open=True))
            self.absorbs.append(offline or nd.kind in TELEMETRY_KINDS)
            self.lat.append(prop("latency_ms", kind.latency_ms if kind else None, 0.0) or 0.0)
            self.cost.append(prop("cost_per_hour", kind.cost_per_hour if kind else None, 0.0) or 0.0)
            self.hit.append(prop("hit_rate", kind.hit_rate if kind else None, 0.0, 1.0) or 0.0)
            self.reps.append(nd.replicas)
            self.auto.append(nd.autoscale)
            limit = prop("max_replicas", None, 1.0)
            if limit is None:
                limit = MAX_REPLICAS_FACTOR * nd.replicas
            elif limit < nd.replicas:
                bad_props.append(f"{nd.id}.max_replicas={extra['max_replicas']!r} (below its replicas)")
                limit = nd.replicas
            self.maxrep.append(int(limit))
            zone = extra.get("zone")
            self.zone.append(None if zone is None else str(zone))
            blocking = extra.get("blocking")
            if not isinstance(blocking, bool):
                if blocking is not None:
                    bad_props.append(f"{nd.id}.blocking={blocking!r}")
                blocking = not (self.absorbs[-1] or (kind is not None and kind.capacity is None))
            self.blocking.append(blocking)
            share = extra.get("traffic_share", 1.0)
            value = _number(share)
            if value is None or not 0.0 <= value <= 1.0:
                bad_share.append(Problem(f"node '{nd.id}': traffic_share must be a number from 0 to 1 (the share "
                                         f"of its callers' load that reaches it), not {share!r}"))
                value = 1.0
            self.share.append(value)
            cacheable = extra.get("cacheable")
            if not isinstance(cacheable, bool):
                if cacheable is not None:
                    bad_props.append(f"{nd.id}.cacheable={cacheable!r}")
                cacheable = nd.kind in CACHEABLE_KINDS
            self.cacheable.append(cacheable)
        if bad_share:
            raise SimulatorError(bad_share)
        if bad_props:
            self.notes.append("ignored invalid properties (the kind default applies): " + _ids(bad_props))
        self.has_hit = [h > 0 or (catalog.KINDS.get(k) is not None and catalog.KINDS[k].hit_rate is not None)
                        for h, k in zip(self.hit, self.kinds)]

        # --- edges ------------------------------------------------------------
        idx = self.index
        load_edges: list[list[tuple[int, str]]] = [[] for _ in range(n)]   # sync, async, fallback
        has_in = [False] * n            # an incoming sync or async edge
        self.sync_in = [False] * n      # called by a sync edge that carries load (primary models)
        any_in = [False] * n
        missing = [f"{e.source} -> {e.target}" for e in design.edges
                   if e.source not in idx or e.target not in idx]
        if missing:
            raise DesignError(f"arrow(s) to or from a missing node: {_ids(missing)}")
        for e in design.edges:
            if e.kind == "replication":
                continue
            u, v = idx[e.source], idx[e.target]
            any_in[v] = True
            if e.kind in ("sync", "async"):
                has_in[v] = True
            if not self.absorbs[u]:         # telemetry and offline nodes pass no request load on
                load_edges[u].append((v, e.kind))
                if e.kind == "sync":
                    self.sync_in[v] = True

        # --- loops: drop the back edges a depth-first search finds, in node order --------
        order1, back = _dfs_order(n, [[v for v, _ in out] for out in load_edges])
        if back:
            shown = [f"{self.ids[u]} -> {self.ids[v]}" for u, v in back]
            self.notes.append(f"loop(s) broken: ignored the arrow(s) {_ids(shown, 6)} (each closes a loop; "
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
        # look-aside caches: a caller checks the cache first and makes its cacheable calls only on a miss.
        # A cache (a node with a hit rate) is look-aside for a caller when it has no blocking call of its
        # own and the caller has at least one other blocking call to a cacheable node; otherwise it is an
        # ordinary dependency (an in-line cache already passes on only its misses).
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

        # primaries: what a fallback arrow stands in for. Look-aside caches are left out of both lists:
        # a request never fails for want of one (a failed or overloaded cache is a miss).
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
        cov, plain, prim = self.cov, self.plain, self.prim
        self.plain_n = [[w for w in plain[u] if w not in cov[u]] if la[u] else plain[u] for u in range(n)]
        self.plain_c = [[w for w in plain[u] if w in cov[u]] if la[u] else [] for u in range(n)]
        self.prim_n = [[w for w in prim[u] if w not in cov[u]] if la[u] else prim[u] for u in range(n)]
        self.prim_c = [[w for w in prim[u] if w in cov[u]] if la[u] else [] for u in range(n)]
        # fast paths: nodes whose calls all carry the full load (no look-aside cache, no traffic_share)
        self.full_fwd = [not self.la[u] and all(self.share[w] == 1.0 for w in self.fwd[u]) for u in range(n)]
        self.full_dep = [not self.la[u] and all(self.share[w] == 1.0 for w in self.block[u]) for u in range(n)]

        # --- order: a fallback target comes after the primaries it stands in for ------------
        pos = {v: i for i, v in enumerate(order1)}
        late = []
        for u in self.fb_nodes:
            for f in self.fb[u]:
                for w in self.prim[u]:
                    if pos[w] > pos[f]:
                        late.append((w, f))
        order = order1
        if late:
            succ = [list(self.fwd[u]) + list(self.fb[u]) for u in range(n)]
            dropped = []
            for w, f in late:
                if _reaches(succ, f, w):
                    dropped.append(f"{self.ids[f]} (backs up {self.ids[w]})")
                else:
                    succ[w].append(f)
            order, extra_back = _dfs_order(n, succ)
            assert not extra_back
            if dropped:
                self.notes.append("a fallback that leads back to its own primary is sized without the "
                                  f"primary's overload: {_ids(dropped, 4)}")
        self.order = order
        self.rorder = order[::-1]

        # --- entries -------------------------------------------------------------------
        kinds_set = set(entry_kinds)
        typed = [i for i in range(n) if self.kinds[i] in kinds_set]
        entries = [i for i in typed if not has_in[i]] or typed
        if not typed:
            entries = [i for i in range(n) if not any_in[i] and self.fwd[i]]
            if entries:
                self.notes.append(f"no {'/'.join(entry_kinds)} node: traffic enters at the nodes nothing "
                                  f"calls: {_ids([self.ids[i] for i in entries])}")
            elif n:
                self.notes.append(f"no {'/'.join(entry_kinds)} node and no node without callers: "
                                  "no traffic enters the design")
        self.entries = entries
        self.is_entry = [False] * n
        for i in entries:
            self.is_entry[i] = True
        # the request path: what a request waits on (entries, then blocking sync calls and fallbacks)
        self.on_path = [False] * n
        todo = list(entries)
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


def _dfs_order(n: int, succ: list[list[int]]) -> tuple[list[int], list[tuple[int, int]]]:
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


def _reaches(succ: list[list[int]], start: int, goal: int) -> bool:
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


# ---------------------------------------------------------------------------
# the passes
# ---------------------------------------------------------------------------


@dataclass
class _State:
    load: list[float]
    util: list[float]
    sat: list[float]
    eff: list[int]
    delta: list[float]
    active: list[int]
    ok: list[float]
    served: float
    miss: list[float]            # per caller: the share of its requests its look-aside caches miss
    hit: list[float]             # the hit rates in force (0 after a cache flush)


def _success(m: _Compiled, v: int, ok: list[float], fa: float, dep_of_primary, miss: float) -> float:
    """The share of v's requests whose blocking calls all complete (before v's own hit rate and overload).

    ``dep_of_primary(w)`` is what a primary w contributes given the active fallback's success ``fa``;
    a call reaching only part of the load (traffic_share t) fails only that part: 1 - t + t x dep.
    """
    share = m.share
    p = 1.0
    for w in m.plain_n[v]:
        t = share[w]
        p *= ok[w] if t == 1.0 else 1.0 - t + t * ok[w]
    for w in m.prim_n[v]:
        t = share[w]
        d = dep_of_primary(w, fa)
        p *= d if t == 1.0 else 1.0 - t + t * d
    if m.la[v]:
        q = 1.0
        for w in m.plain_c[v]:
            t = share[w]
            q *= ok[w] if t == 1.0 else 1.0 - t + t * ok[w]
        for w in m.prim_c[v]:
            t = share[w]
            d = dep_of_primary(w, fa)
            q *= d if t == 1.0 else 1.0 - t + t * d
        p *= (1.0 - miss) + miss * q          # a hit needs none of the spared calls
    return p


def _run(m: _Compiled, rates: list[float], failed: list[bool], hit: list[float], reps: list[int]) -> _State:
    """Three passes over the fixed order: hard failures (reverse), load (forward), success (reverse).

    ``rates``: the req/s entering at each of ``m.entries``."""
    n = m.n
    order, rorder = m.order, m.rorder
    prim, fb, fb_pred, fwd, fwd_cov = m.prim, m.fb, m.fb_pred, m.fwd, m.fwd_cov
    cap, auto, maxrep, is_entry, share, cov = m.cap, m.auto, m.maxrep, m.is_entry, m.share, m.cov

    # the fallback each caller uses: its first fallback target that is not failed
    active = [-1] * n
    for u in m.fb_nodes:
        for f in fb[u]:
            if not failed[f]:
                active[u] = f
                break
    # the share of a caller's requests that miss all its live look-aside caches
    miss = [1.0] * n
    for u in m.la_nodes:
        x = 1.0
        for c in m.la[u]:
            if not failed[c]:
                x *= 1.0 - hit[c]
        miss[u] = x

    # 1. hard success: the share of requests at a node that completes given the failures alone
    okf = [0.0] * n
    hard = lambda w, fa: okf[w] + (1.0 - okf[w]) * fa  # noqa: E731
    plain, full_dep = m.plain, m.full_dep
    for v in rorder:
        if failed[v]:
            continue
        a = active[v]
        if full_dep[v]:
            p = 1.0
            for w in plain[v]:
                p *= okf[w]
            pr = prim[v]
            if pr:
                fa = okf[a] if a >= 0 else 0.0
                for w in pr:
                    q = okf[w]
                    p *= q + (1.0 - q) * fa
        else:
            p = _success(m, v, okf, okf[a] if a >= 0 else 0.0, hard, miss[v])
        h = hit[v]
        okf[v] = h + (1.0 - h) * p if h else p

    # 2. load, in topological order
    inflow = [0.0] * n
    for e, rate in zip(m.entries, rates):
        inflow[e] += rate
    load = [0.0] * n
    out = [0.0] * n
    util = [0.0] * n
    sat = [1.0] * n
    eff = list(reps)
    delta = [1.0 - x for x in okf]      # refined below once the node's utilisation is known
    target = AUTOSCALE_TARGET
    full_fwd = m.full_fwd
    for v in order:
        x = inflow[v]
        for u in fb_pred[v]:
            if active[u] == v and out[u]:
                s = 0.0
                if full_fwd[u]:
                    for w in prim[u]:
                        s += delta[w]
                else:
                    for w in prim[u]:
                        s += delta[w] * share[w] * (miss[u] if w in cov[u] else 1.0)
                x += out[u] * s
        load[v] = x
        if failed[v]:
            sat[v] = 0.0
            eff[v] = 0
            continue
        c = cap[v]
        if c is not None and not is_entry[v]:
            r = reps[v]
            if auto[v] and x > target * c * r:
                need = math.ceil(x / (target * c) - 1e-9)
                r = min(need, maxrep[v]) if need > r else r
                if r < reps[v]:
                    r = reps[v]
                eff[v] = r
            rho = x / (c * r)
            util[v] = rho
            if rho > 1.0:
                sat[v] = 1.0 / rho
                delta[v] = 1.0 - okf[v] / rho
        h = hit[v]
        o = x * (1.0 - h) if h else x
        out[v] = o
        if o:
            if full_fwd[v]:
                for w in fwd[v]:
                    inflow[w] += o
            else:
                mv = miss[v]
                for w, spared in zip(fwd[v], fwd_cov[v]):
                    inflow[w] += o * share[w] * (mv if spared else 1.0)

    # 3. success with overload: the share of requests at a node that completes
    ok = [0.0] * n
    soft = lambda w, fa: ok[w] + delta[w] * fa  # noqa: E731
    for v in rorder:
        if failed[v]:
            continue
        a = active[v]
        if full_dep[v]:
            p = 1.0
            for w in plain[v]:
                p *= ok[w]
            pr = prim[v]
            if pr:
                fa = ok[a] if a >= 0 else 0.0
                for w in pr:
                    p *= ok[w] + delta[w] * fa
        else:
            p = _success(m, v, ok, ok[a] if a >= 0 else 0.0, soft, miss[v])
        h = hit[v]
        ok[v] = sat[v] * (h + (1.0 - h) * p if h else p)

    return _State(load, util, sat, eff, delta, active, ok, _served(m.entries, rates, ok), miss, hit)


def _served(entries: list[int], rates: list[float], ok: list[float]) -> float:
    """The share of the offered requests served: each entry weighted by its rate (a plain mean when
    the rates are equal, as with the even split of the peak)."""
    if not entries:
        return 0.0
    total = sum(rates)
    if total <= 0 or all(r == rates[0] for r in rates):
        return sum(ok[e] for e in entries) / len(entries)
    return sum(ok[e] * r for e, r in zip(entries, rates)) / total


def _latency(m: _Compiled, st: _State, failed: list[bool]) -> tuple[float, float, list[int], list[float]]:
    """p50 and the p99 path sum: the slowest chain of blocking sync calls (and fallbacks in use) from an
    entry, counting a call toward p50 when >= 50 % of the caller's requests make it, toward p99 when >= 1 %."""
    n = m.n
    own = [0.0] * n
    t50 = [0.0] * n
    t99 = [0.0] * n
    nxt = [-1] * n
    share, cov = m.share, m.cov
    for v in m.rorder:
        if failed[v]:
            continue
        rho = min(st.util[v], MAX_RHO)
        own[v] = m.lat[v] / (1.0 - rho)
        pass_on = 1.0 - st.hit[v]
        best, arg, best99, any99 = 0.0, -1, 0.0, False
        for w in m.block[v]:
            if failed[w]:
                continue
            frac = pass_on * share[w] * (st.miss[v] if w in cov[v] else 1.0)
            if frac >= P50_SHARE - _EPS and (arg < 0 or t50[w] > best):
                best, arg = t50[w], w
            if frac >= P99_SHARE - _EPS and (not any99 or t99[w] > best99):
                best99, any99 = t99[w], True
        a = st.active[v]
        if a >= 0 and any(st.delta[w] > _EPS for w in m.prim[v]):
            if arg < 0 or t50[a] > best:
                best, arg = t50[a], a
            if not any99 or t99[a] > best99:
                best99 = t99[a]
        t50[v] = own[v] + best
        t99[v] = own[v] + best99
        nxt[v] = arg
    start, p50, p99 = -1, 0.0, 0.0
    for e in m.entries:
        if not failed[e]:
            if start < 0 or t50[e] > p50:
                start, p50 = e, t50[e]
            p99 = max(p99, t99[e])
    path = []
    v = start
    while v >= 0:
        path.append(v)
        v = nxt[v]
    return p50, p99, path, own


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------


def _check_inputs(design: Design, peak_rps: float, load: float) -> None:
    for name, value in (("peak_rps", peak_rps), ("load", load)):
        if _number(value) is None or value < 0:
            raise SimulatorError(f"{name} must be a number >= 0, not {value!r}")


def _resolve_failed(m: _Compiled, failed: Iterable[str]) -> list[str]:
    if isinstance(failed, str):
        failed = [failed]
    out: list[str] = []
    problems: list[Problem] = []
    for nid in failed:
        if nid not in m.index:
            near = difflib.get_close_matches(str(nid), m.ids, n=1, cutoff=0.5)
            hint = f"; did you mean '{near[0]}'?" if near else (
                f"; the design's nodes are {_ids(m.ids)}" if m.ids else "; the design has no nodes")
            problems.append(Problem(f"cannot fail node '{nid}': the design has no such node{hint}"))
        elif nid not in out:
            out.append(nid)
    if problems:
        raise DesignError(problems)
    return out


def _conditions(m: _Compiled, failed: Iterable[str], chaos: Chaos) -> tuple[list[bool], list[float], list[str]]:
    """The failed mask, hit rates and notes of a hand-made failure set under a chaos preset."""
    names = _resolve_failed(m, failed)
    mask = m.failed_mask(names)
    notes: list[str] = []
    hit = list(m.hit)
    if chaos.cache_flush:
        flushed = [m.ids[i] for i in range(m.n) if m.has_hit[i]]
        hit = [0.0] * m.n
        notes.append(f"cache flush: hit rate 0 at {_ids(flushed)}" if flushed
                     else "cache flush: the design has no cache or CDN")
    if chaos.primary_model_down:
        down = [i for i in range(m.n) if m.kinds[i] in MODEL_KINDS and m.sync_in[i]]
        for i in down:
            mask[i] = True
        notes.append(f"primary models down: {_ids([m.ids[i] for i in down])}" if down
                     else "primary models down: no model_server or llm is called by a sync arrow")
    if chaos.zone_lost is not None:
        down = [i for i in range(m.n) if m.zone[i] == chaos.zone_lost]
        for i in down:
            mask[i] = True
        if down:
            notes.append(f"zone {chaos.zone_lost} lost: {_ids([m.ids[i] for i in down])}")
        else:
            zones = sorted({z for z in m.zone if z is not None})
            notes.append(f"zone {chaos.zone_lost} lost: no node has zone={chaos.zone_lost}"
                         + (f" (zones in the design: {', '.join(zones)})" if zones else
                            " (no node has a zone property)"))
    return mask, hit, notes


def _drill(m: _Compiled, rates: list[float], failed: list[bool], hit: list[float], base: _State,
           nodes: Iterable[int]) -> dict[int, float]:
    """Served share after losing each node in turn: one replica of a replicated node, else the node."""
    out: dict[int, float] = {}
    reps = m.reps
    for i in nodes:
        if failed[i]:
            out[i] = base.served
            continue
        r = reps[i]
        if r >= 2:
            if m.cap[i] is None or m.is_entry[i] or base.load[i] == 0:
                out[i] = base.served         # unlimited capacity, or no traffic: one replica less is moot
                continue
            trial = list(reps)
            trial[i] = r - 1
            out[i] = _run(m, rates, failed, hit, trial).served
        else:
            if base.load[i] == 0:
                out[i] = base.served         # nothing flows through it: losing it changes nothing
                continue
            failed[i] = True
            try:
                out[i] = _run(m, rates, failed, hit, reps).served
            finally:
                failed[i] = False
    return out


def single_failures(design: Design, peak_rps: float, *, load: float = 1.0, failed: Iterable[str] = (),
                    chaos: Any = None, entry_kinds: Iterable[str] = ENTRY_KINDS,
                    nodes: Iterable[str] | None = None,
                    entry_rates: Mapping[str, float] | None = None) -> dict[str, float]:
    """Served share (0-1) after each single-node loss, by node id.

    The loss of a node with replicas >= 2 takes out one replica (its capacity drops by one replica);
    a single-replica node vanishes. ``nodes`` limits the drills (default: every node but the entries);
    ``failed``, ``chaos`` and ``entry_rates`` set the conditions the drills start from.
    """
    _check_inputs(design, peak_rps, load)
    chaos = Chaos.parse(chaos)
    rates_by_kind = normalise_entry_rates(entry_rates)
    m = _Compiled(design, entry_kinds)
    mask, hit, _ = _conditions(m, failed, chaos)
    rates, _ = _entry_loads(m, peak_rps, load, chaos.spike, rates_by_kind)
    base = _run(m, rates, mask, hit, m.reps)
    if nodes is None:
        targets = [i for i in range(m.n) if not m.is_entry[i]]
    else:
        targets = [m.index[nid] for nid in _resolve_failed(m, nodes)]
    shares = _drill(m, rates, mask, hit, base, targets)
    return {m.ids[i]: shares[i] for i in targets}


def normalise_entry_rates(entry_rates: Mapping[str, Any] | None) -> dict[str, float]:
    """A traffic profile's ``{kind: req/s per source}`` with kinds in canonical form (aliases such as
    camera -> sensor are accepted). Raises SimulatorError for an unknown kind or a bad rate."""
    if entry_rates is None:
        return {}
    if not isinstance(entry_rates, Mapping):
        raise SimulatorError(f"entry rates must be a mapping of node kind to req/s, not {entry_rates!r}")
    out: dict[str, float] = {}
    problems: list[Problem] = []
    for key, value in entry_rates.items():
        kind = catalog.lookup(key) if isinstance(key, str) else None
        if kind is None:
            problems.append(Problem(f"entry rates: {catalog.unknown_kind_message(str(key))}"))
            continue
        rate = _number(value)
        if rate is None or rate < 0:
            problems.append(Problem(f"entry rates: the rate of '{key}' must be a number of req/s >= 0, "
                                    f"not {value!r}"))
            continue
        out[kind] = rate
    if problems:
        raise SimulatorError(problems)
    return out


def _entry_loads(m: _Compiled, peak_rps: float, load: float, spike: float,
                 rates_by_kind: Mapping[str, float]) -> tuple[list[float], list[str]]:
    """The req/s entering at each entry node, and notes on the traffic profile.

    Without a profile the peak is split evenly between the entries. With one, an entry whose kind the
    profile lists gets that rate for each of its replicas (``cams: camera x8`` is eight cameras); the
    other entries split the peak evenly. Both scale with ``load`` and the chaos spike."""
    entries = m.entries
    if not entries:
        return [], []
    offered = peak_rps * load * spike
    if not rates_by_kind:
        share = offered / len(entries)
        return [share] * len(entries), []
    rest = [e for e in entries if m.kinds[e] not in rates_by_kind]
    split = offered / len(rest) if rest else 0.0
    rates = []
    for e in entries:
        if m.kinds[e] in rates_by_kind:
            rates.append(rates_by_kind[m.kinds[e]] * m.reps[e] * load * spike)
        else:
            rates.append(split)
    notes = []
    shown = []
    for e, rate in zip(entries, rates):
        if m.kinds[e] in rates_by_kind:
            each = f"{m.kinds[e]} {_num(rates_by_kind[m.kinds[e]])}"
            each += f" x {m.reps[e]}" if m.reps[e] > 1 else ""
            shown.append(f"{m.ids[e]} {_num(rate)} req/s ({each})")
    if shown:
        text = "traffic profile: " + _ids(shown, 6)
        if rest:
            text += (f"; {_ids([m.ids[e] for e in rest])} share{'s' if len(rest) == 1 else ''} "
                     f"the peak {_num(offered)} req/s")
        notes.append(text)
    unused = [k for k in rates_by_kind if k not in {m.kinds[e] for e in entries}]
    if unused:
        notes.append(f"traffic profile: no entry node of kind {', '.join(unused)} (its rate is unused)")
    return rates, notes


def simulate(design: Design, peak_rps: float, *, load: float = 1.0, failed: Iterable[str] = (),
             chaos: Any = None, entry_kinds: Iterable[str] = ENTRY_KINDS, drills: bool = True,
             entry_rates: Mapping[str, float] | None = None) -> SimulationResult:
    """Simulate the design at ``peak_rps x load`` (x the chaos spike) with ``failed`` nodes taken out.

    ``chaos``: a Chaos, a mapping or text like ``"spike=3,cache_flush,primary_model_down,zone_lost=a"``.
    ``drills``: also run every single-node loss to find the single points of failure (``spofs``).
    ``entry_rates``: a scenario's traffic profile, ``{kind: req/s per source}``: entry nodes of a listed
    kind get that rate for each replica instead of an even share of ``peak_rps``.
    Raises DesignError for an unknown node id in ``failed``, SimulatorError for bad numbers or presets.
    """
    _check_inputs(design, peak_rps, load)
    chaos = Chaos.parse(chaos)
    rates_by_kind = normalise_entry_rates(entry_rates)
    m = _Compiled(design, entry_kinds)
    mask, hit, chaos_notes = _conditions(m, failed, chaos)
    rates, traffic_notes = _entry_loads(m, peak_rps, load, chaos.spike, rates_by_kind)
    offered = sum(rates) if rates_by_kind and rates else peak_rps * load * chaos.spike
    st = _run(m, rates, mask, hit, m.reps)
    p50, p99_path, path, own = _latency(m, st, mask)

    nodes: dict[str, NodeResult] = {}
    cost = 0.0
    for i, nid in enumerate(m.ids):
        cost += m.cost[i] * st.eff[i] * HOURS_PER_MONTH
        nodes[nid] = NodeResult(nid, m.kinds[i], st.load[i], st.util[i],
                                None if m.is_entry[i] else m.cap[i], m.reps[i], st.eff[i],
                                mask[i], own[i], st.sat[i], m.on_path[i])
    live = [i for i in range(m.n) if not mask[i]]
    max_util = max((st.util[i] for i in live), default=0.0)
    hot = sorted((i for i in live if st.util[i] > BOTTLENECK), key=lambda i: (-st.util[i], i))

    notes = list(m.notes) + traffic_notes + chaos_notes
    unlimited = [m.ids[i] for i in range(m.n) if m.cap[i] is None and not m.is_entry[i] and st.load[i] > 0]
    if unlimited:
        notes.append(f"no capacity model (treated as unlimited): {_ids(unlimited)}")
    capped = [f"{m.ids[i]} ({st.eff[i]} replicas, {_pct(st.util[i])})" for i in live
              if m.auto[i] and st.eff[i] >= m.maxrep[i] and st.util[i] > AUTOSCALE_TARGET]
    if capped:
        notes.append(f"autoscaled to max_replicas and still hot: {_ids(capped)}")
    lost_at = [m.ids[i] for i in live if st.sat[i] < 1.0]
    if lost_at:
        notes.append("overloaded (sheds 1 - 1/utilisation of its load): "
                     + _ids([f"{nid} ({_pct(st.util[m.index[nid]])})" for nid in lost_at]))

    shares: dict[str, float] | None = None
    spofs: list[str] = []
    if drills:
        targets = [i for i in range(m.n) if not m.is_entry[i]]
        res = _drill(m, rates, mask, hit, st, targets)
        shares = {m.ids[i]: res[i] for i in targets}
        spofs = [m.ids[i] for i in targets if st.served - res[i] >= SPOF_DROP - _EPS]

    return SimulationResult(
        peak_rps=float(peak_rps), load=float(load), offered_rps=offered,
        entries=[m.ids[i] for i in m.entries], nodes=nodes, max_utilization=max_util,
        bottlenecks=[m.ids[i] for i in hot], served_share=st.served,
        latency_ms={"p50": p50, "p99": p99_path * TAIL_FACTOR}, critical_path=[m.ids[i] for i in path],
        monthly_cost=cost, spofs=spofs, drills=shares, failed=[m.ids[i] for i in range(m.n) if mask[i]],
        chaos=chaos, notes=notes, entry_rates=rates_by_kind)


# ---------------------------------------------------------------------------
# output for the CLI and pages
# ---------------------------------------------------------------------------


def simulation_json(result: SimulationResult) -> dict[str, Any]:
    """The CLI's JSON: served_share, max_utilization, bottlenecks, spofs, latency_ms, monthly_cost, nodes
    ({id: {load, utilization}}), plus offered_rps, critical_path, failed, chaos, notes."""
    return {
        "served_share": _round(result.served_share),
        "max_utilization": _round(result.max_utilization),
        "bottlenecks": list(result.bottlenecks),
        "spofs": list(result.spofs),
        "latency_ms": {"p50": _round(result.latency_ms["p50"], 3), "p99": _round(result.latency_ms["p99"], 3)},
        "monthly_cost": _round(result.monthly_cost, 2),
        "nodes": {nid: {"load": _round(n.load), "utilization": _round(n.utilization),
                        "effective_replicas": n.effective_replicas, "failed": n.failed}
                  for nid, n in result.nodes.items()},
        "offered_rps": _round(result.offered_rps),
        "critical_path": list(result.critical_path),
        "failed": list(result.failed),
        "chaos": result.chaos.to_dict(),
        "notes": list(result.notes),
        **({"entry_rates": dict(result.entry_rates)} if result.entry_rates else {}),
    }


def format_simulation(result: SimulationResult) -> str:
    """A plain-text report for people: the headline figures, then one line per node."""
    r = result
    lines = []
    how = f"{_num(r.peak_rps)} req/s peak"
    if r.entry_rates:
        how = "traffic profile " + ", ".join(f"{k} {_num(v)} req/s per source" for k, v in r.entry_rates.items()) \
              + f"; other entries share {_num(r.peak_rps)} req/s"
    if r.load != 1.0:
        how += f" x load {_num(r.load)}"
    if r.chaos.spike != 1.0:
        how += f" x spike {_num(r.chaos.spike)}"
    lines.append(f"Offered load: {_num(r.offered_rps)} req/s ({how}) at {_ids(r.entries) or 'no entry'}")
    if r.chaos.active():
        lines.append(f"Chaos: {r.chaos.describe()}")
    if r.failed:
        lines.append(f"Failed: {_ids(r.failed)}")
    lines.append(f"Served: {_pct(r.served_share, 1)} of requests")
    hottest = f" ({r.bottlenecks[0]})" if r.bottlenecks else ""
    lines.append(f"Max utilisation: {_pct(r.max_utilization)}{hottest}")
    if r.bottlenecks:
        lines.append("Bottlenecks (> 80 %): " + ", ".join(
            f"{b} {_pct(r.nodes[b].utilization)}" for b in r.bottlenecks[:10])
            + (f" and {len(r.bottlenecks) - 10} more" if len(r.bottlenecks) > 10 else ""))
    lines.append(f"Latency: p50 {_num(r.latency_ms['p50'])} ms, p99 ~{_num(r.latency_ms['p99'])} ms"
                 + (f" along {' -> '.join(r.critical_path)}" if len(r.critical_path) > 1 else ""))
    lines.append(f"Cost: ${r.monthly_cost:,.0f} a month")
    if r.drills is not None:
        if r.spofs:
            lines.append("Single points of failure: " + ", ".join(
                f"{s} (served {_pct(r.drills[s])} without it)" for s in r.spofs))
        else:
            lines.append("Single points of failure: none (no single loss costs 50 points of served share)")
    lines.append("")
    width = max([len(n) for n in r.nodes] + [4])
    lines.append(f"  {'node':<{width}}  {'kind':<16} {'load req/s':>12} {'replicas':>9} {'util':>7}")
    for nid, n in r.nodes.items():
        reps = f"{n.effective_replicas}" if n.effective_replicas == n.replicas else \
            f"{n.replicas}->{n.effective_replicas}"
        util = "failed" if n.failed else ("-" if n.capacity is None else _pct(n.utilization))
        flag = "  <-" if nid in r.bottlenecks else ""
        lines.append(f"  {nid:<{width}}  {n.kind:<16} {_num(n.load):>12} {reps:>9} {util:>7}{flag}")
    if r.notes:
        lines.append("")
        lines.append("Notes:")
        lines.extend(f"  - {note}" for note in r.notes)
    return "\n".join(lines) + "\n"


def _num(value: float) -> str:
    value = float(value)
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.3g}" if abs(value) < 1 else f"{value:,.1f}"


def _pct(share: float, digits: int = 0) -> str:
    return f"{share * 100:.{digits}f} %"


def _ids(items: list[str], limit: int = 8) -> str:
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f" and {len(items) - limit} more"


__all__ = ["Chaos", "NodeResult", "SimulationResult", "simulate", "single_failures",
           "simulation_json", "format_simulation", "normalise_entry_rates", "ENTRY_KINDS", "DEFAULT_PEAK_RPS",
           "TAIL_FACTOR", "SPOF_DROP", "CACHEABLE_KINDS"]
