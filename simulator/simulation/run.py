"""Running a simulation: ``simulate`` (one design under given traffic, failures and chaos, with its
single-failure drills) and ``single_failures`` (the served share after each single-node loss).

    result = simulate(design, peak_rps=3000, load=1.0, failed=["primary"], chaos="spike=2,cache_flush")
    result.served_share, result.bottlenecks, result.spofs, result.latency_ms, result.monthly_cost
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from simulator.model.design import Design
from simulator.simulation.chaos import Chaos
from simulator.simulation.compiler import Compiled
from simulator.simulation.conditions import conditions, resolve_failed
from simulator.simulation.constants import (
    AUTOSCALE_TARGET,
    BOTTLENECK,
    ENTRY_KINDS,
    HOURS_PER_MONTH,
    TAIL_FACTOR,
)
from simulator.simulation.formatting import id_list, pct
from simulator.simulation.inputs import check_peak_and_load
from simulator.simulation.kernel import State, latency, solve
from simulator.simulation.results import NodeResult, SimulationResult
from simulator.simulation.spof import single_points_of_failure
from simulator.simulation.traffic import entry_loads, normalise_entry_rates


def _drill(m: Compiled, rates: list[float], failed: list[bool], hit: list[float], base: State,
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
            out[i] = solve(m, rates, failed, hit, trial).served
        else:
            if base.load[i] == 0:
                out[i] = base.served         # nothing flows through it: losing it changes nothing
                continue
            failed[i] = True
            try:
                out[i] = solve(m, rates, failed, hit, reps).served
            finally:
                failed[i] = False
    return out


@dataclass
class _Setup:
    """What every run starts from: the compiled design, the conditions, and the entry loads."""
    m: Compiled
    chaos: Chaos
    mask: list[bool]
    hit: list[float]
    rates: list[float]
    rates_by_kind: dict[str, float]
    notes: list[str]


def _setup(design: Design, peak_rps: float, load: float, failed: Iterable[str], chaos: Any,
           entry_kinds: Iterable[str], entry_rates: Mapping[str, float] | None,
           compiled: Compiled | None) -> _Setup:
    """Check the numbers, compile (unless ``compiled`` is given), apply failures and chaos, load the entries."""
    check_peak_and_load(peak_rps, load)
    chaos = Chaos.parse(chaos)
    rates_by_kind = normalise_entry_rates(entry_rates)
    m = compiled if compiled is not None else Compiled(design, entry_kinds)
    mask, hit, chaos_notes = conditions(m, failed, chaos)
    rates, traffic_notes = entry_loads(m, peak_rps, load, chaos.spike, rates_by_kind)
    return _Setup(m, chaos, mask, hit, rates, rates_by_kind, traffic_notes + chaos_notes)


def single_failures(design: Design, peak_rps: float, *, load: float = 1.0, failed: Iterable[str] = (),
                    chaos: Any = None, entry_kinds: Iterable[str] = ENTRY_KINDS,
                    nodes: Iterable[str] | None = None,
                    entry_rates: Mapping[str, float] | None = None,
                    compiled: Compiled | None = None) -> dict[str, float]:
    """Served share (0-1) after each single-node loss, by node id.

    The loss of a node with replicas >= 2 takes out one replica (its capacity drops by one replica);
    a single-replica node vanishes. ``nodes`` limits the drills (default: every node but the entries);
    ``failed``, ``chaos`` and ``entry_rates`` set the conditions the drills start from.
    """
    run = _setup(design, peak_rps, load, failed, chaos, entry_kinds, entry_rates, compiled)
    m, rates, mask, hit = run.m, run.rates, run.mask, run.hit
    base = solve(m, rates, mask, hit, m.reps)
    if nodes is None:
        targets = [i for i in range(m.n) if not m.is_entry[i]]
    else:
        targets = [m.index[nid] for nid in resolve_failed(m, nodes)]
    shares = _drill(m, rates, mask, hit, base, targets)
    return {m.ids[i]: shares[i] for i in targets}


def request_path_spofs(design: Design, peak_rps: float, *, load: float = 1.0,
                       entry_kinds: Iterable[str] = ENTRY_KINDS,
                       entry_rates: Mapping[str, float] | None = None,
                       compiled: Compiled | None = None) -> list[str]:
    """The single points of failure the Simulate tab lists for this traffic (see simulation.spof)."""
    run = _setup(design, peak_rps, load, (), None, entry_kinds, entry_rates, compiled)
    return single_points_of_failure(run.m, run.rates, run.mask, run.hit)


def simulate(design: Design, peak_rps: float, *, load: float = 1.0, failed: Iterable[str] = (),
             chaos: Any = None, entry_kinds: Iterable[str] = ENTRY_KINDS, drills: bool = True,
             entry_rates: Mapping[str, float] | None = None,
             compiled: Compiled | None = None) -> SimulationResult:
    """Simulate the design at ``peak_rps x load`` (x the chaos spike) with ``failed`` nodes taken out.

    ``chaos``: a Chaos, a mapping or text like ``"spike=3,cache_flush,primary_model_down,zone_lost=a"``.
    ``drills``: also run every single-node loss to find the single points of failure (``spofs``).
    ``compiled``: the design already compiled with these entry kinds (callers that run several
    simulations of one design compile it once).
    ``entry_rates``: a scenario's traffic profile, ``{kind: req/s per source}``: entry nodes of a listed
    kind get that rate for each replica instead of an even share of ``peak_rps``.
    Raises DesignError for an unknown node id in ``failed``, SimulatorError for bad numbers or presets.
    """
    run = _setup(design, peak_rps, load, failed, chaos, entry_kinds, entry_rates, compiled)
    m, chaos, mask, hit, rates, rates_by_kind = run.m, run.chaos, run.mask, run.hit, run.rates, run.rates_by_kind
    offered = sum(rates) if rates_by_kind and rates else peak_rps * load * chaos.spike
    st = solve(m, rates, mask, hit, m.reps)
    p50, p99_path, path, own = latency(m, st, mask)

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

    notes = list(m.notes) + run.notes
    unlimited = [m.ids[i] for i in range(m.n) if m.cap[i] is None and not m.is_entry[i] and st.load[i] > 0]
    if unlimited:
        notes.append(f"no capacity model (treated as unlimited): {id_list(unlimited)}")
    capped = [f"{m.ids[i]} ({st.eff[i]} replicas, {pct(st.util[i])})" for i in live
              if m.auto[i] and st.eff[i] >= m.maxrep[i] and st.util[i] > AUTOSCALE_TARGET]
    if capped:
        notes.append(f"autoscaled to max_replicas and still hot: {id_list(capped)}")
    assumed = set(m.assumed)
    grown = [f"{m.ids[i]} ({st.eff[i]} replicas)" for i in live if m.ids[i] in assumed and st.eff[i] > m.reps[i]]
    if grown:
        notes.append("not sized in the design (no replicas written) or a managed service, so grown to its "
                     f"load; the cost counts them: {id_list(grown)}")
    lost_at = [m.ids[i] for i in live if st.sat[i] < 1.0]
    if lost_at:
        notes.append("overloaded (sheds 1 - 1/utilisation of its load): "
                     + id_list([f"{nid} ({pct(st.util[m.index[nid]])})" for nid in lost_at]))

    shares: dict[str, float] | None = None
    spofs: list[str] = []
    if drills:
        targets = [i for i in range(m.n) if not m.is_entry[i]]
        res = _drill(m, rates, mask, hit, st, targets)
        shares = {m.ids[i]: res[i] for i in targets}
        spofs = single_points_of_failure(m, rates, mask, hit)

    return SimulationResult(
        peak_rps=float(peak_rps), load=float(load), offered_rps=offered,
        entries=[m.ids[i] for i in m.entries], nodes=nodes, max_utilization=max_util,
        bottlenecks=[m.ids[i] for i in hot], served_share=st.served,
        latency_ms={"p50": p50, "p99": p99_path * TAIL_FACTOR}, critical_path=[m.ids[i] for i in path],
        monthly_cost=cost, spofs=spofs, drills=shares, failed=[m.ids[i] for i in range(m.n) if mask[i]],
        chaos=chaos, notes=notes, entry_rates=rates_by_kind)
