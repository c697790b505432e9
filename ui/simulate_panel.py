"""The Simulate panel: push the scenario's traffic through a design, break parts of it, see what happens.

    simulate_panel(design, scenario, key="practice-sim")

A load slider (0.5x-10x the scenario's peak: the traffic spike), chaos toggles (cache flush,
primary model down, zone lost), a "what if these die" picker, the diagram coloured by
utilisation, the headline figures (served share, max utilisation, p50/p99, monthly cost) with
their change from the plain peak, and a table of bottlenecks and single points of failure.
Every error is shown with st.error: a broken design never produces a traceback.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from simulator.errors import SimulatorError
from simulator.model.design import Design
from simulator.model.render import to_dot
from simulator.model.targets import latency_target_ms
from simulator.simulation.chaos import Chaos
from simulator.simulation.constants import BOTTLENECK
from simulator.simulation.results import SimulationResult
from simulator.simulation.run import simulate

DRILLS_BY_DEFAULT = 80        # designs up to this many nodes look for SPOFs on every change


def _zones(design: Design) -> list[str]:
    return sorted({str(n.extra["zone"]) for n in design.nodes if n.extra.get("zone") is not None})


def _pct(share: float, digits: int = 0) -> str:
    return f"{share * 100:,.{digits}f} %"


def _ms(value: float) -> str:
    return f"{value:,.0f} ms" if value >= 100 else f"{value:,.1f} ms"


def _money(value: float) -> str:
    return f"${value:,.0f}"


def _keep_valid(key: str, allowed: list[str], many: bool) -> None:
    """Drop a remembered choice that the design no longer has (a deleted node or zone)."""
    if key not in st.session_state:
        return
    value = st.session_state[key]
    if many:
        kept = [v for v in (value or []) if v in allowed]
        if kept != value:
            st.session_state[key] = kept
    elif value is not None and value not in allowed:
        st.session_state[key] = allowed[0] if allowed else None


def issue_rows(result: SimulationResult) -> list[dict[str, Any]]:
    """One row per failed node, bottleneck or single point of failure: what is wrong and how badly."""
    rows = []
    spofs = set(result.spofs)
    wanted = [nid for nid in result.nodes
              if nid in spofs or nid in result.failed or nid in result.bottlenecks]
    wanted.sort(key=lambda nid: (not result.nodes[nid].failed, -result.nodes[nid].utilization, nid))
    for nid in wanted:
        n = result.nodes[nid]
        issues = []
        if n.failed:
            issues.append("failed")
        elif n.utilization > 1:
            issues.append(f"overloaded: sheds {_pct(1 - 1 / n.utilization)} of its load")
        elif n.utilization > BOTTLENECK:
            issues.append("bottleneck (above 80 %)")
        if nid in spofs and result.drills is not None:
            issues.append(f"single point of failure: {_pct(result.drills[nid], 1)} served without it")
        reps = str(n.replicas) if n.effective_replicas == n.replicas or n.failed else \
            f"{n.replicas} → {n.effective_replicas}"
        rows.append({"Node": nid, "Kind": n.kind, "Load (req/s)": f"{n.load:,.0f}", "Replicas": reps,
                     "Utilisation": "failed" if n.failed else ("–" if n.capacity is None else _pct(n.utilization)),
                     "Issue": "; ".join(issues)})
    return rows


def node_rows(result: SimulationResult) -> list[dict[str, Any]]:
    rows = []
    for nid, n in result.nodes.items():
        rows.append({"Node": nid, "Kind": n.kind, "Load (req/s)": round(n.load, 1),
                     "Capacity/replica": "–" if n.capacity is None else f"{n.capacity:,.0f}",
                     "Replicas": n.effective_replicas,
                     "Utilisation": "failed" if n.failed else ("–" if n.capacity is None else _pct(n.utilization)),
                     "Latency (ms)": round(n.latency_ms, 1),
                     "Request path": "yes" if n.on_request_path else ""})
    return rows


def heat_design(design: Design, result: SimulationResult) -> Design:
    """A copy of the design whose labels are the figures (utilisation, load), for a compact heat map:
    the diagram shows `77 % · 5,000 req/s` over `scoring · Service ×6` instead of long labels."""
    shown = design.copy()
    for node in shown.nodes:
        n = result.nodes.get(node.id)
        if n is None:
            continue
        if n.failed:
            node.label = "failed"
        elif n.capacity is None:
            node.label = f"{n.load:,.0f} req/s"
        else:
            node.label = f"{_pct(n.utilization)} · {n.load:,.0f} req/s"
            if n.effective_replicas != n.replicas:
                node.label += f" · {n.effective_replicas} replicas"
    for edge in shown.edges:
        edge.label = None          # the arrow kinds stay visible by their style
    return shown


@dataclass(frozen=True)
class _Controls:
    """What the user chose above the figures: how much traffic, what fails, whether to look for SPOFs."""
    load: float
    failed: list[str]
    flush: bool
    model_down: bool
    zone: str | None          # the lost zone, None when no zone is lost
    find_spofs: bool


def _chaos_toggles(zones: list[str], *, key: str) -> tuple[bool, bool, str | None]:
    """The row of chaos toggles: cache flush, primary model down, zone lost (and which zone)."""
    toggles = st.columns(4)
    flush = toggles[0].toggle("Cache flush", key=f"{key}-flush", help="Every cache and CDN hit rate drops to 0.")
    model_down = toggles[1].toggle("Primary model down", key=f"{key}-model",
                                   help="Every model server and LLM called by a sync arrow fails; "
                                        "models reached only by fallback arrows stay up.")
    zone_on = toggles[2].toggle("Zone lost", key=f"{key}-zone-on", disabled=not zones,
                                help="Nodes with a `zone` property in the chosen zone fail." if zones else
                                     "No node has a `zone` property (e.g. `api: service zone=eu-1a`).")
    zone = None
    if zones:
        zone = toggles[3].selectbox("Zone", zones, key=f"{key}-zone", label_visibility="collapsed",
                                    disabled=not zone_on)
    return flush, model_down, zone if zone_on else None


def _controls(design: Design, peak: float, per_source: bool, *, key: str) -> _Controls:
    """The load slider, the "what if these die" picker, the chaos toggles and the SPOF search switch."""
    ids = [n.id for n in design.nodes]
    zones = _zones(design)
    _keep_valid(f"{key}-fail", ids, many=True)
    _keep_valid(f"{key}-zone", zones, many=False)

    top = st.columns([3, 2])
    load = top[0].slider("Traffic (x the scenario's peak)", min_value=0.5, max_value=10.0, value=1.0, step=0.5,
                         format="%.1fx", key=f"{key}-load",
                         help=f"1x is the scenario's peak, {peak:,.0f} req/s"
                              + (" (plus the traffic profile's per-source rates)" if per_source else "")
                              + "; slide right for a traffic spike.")
    failed = top[1].multiselect("What if these die?", ids, key=f"{key}-fail", placeholder="Pick nodes to fail",
                                help="A failed node serves nothing; fallbacks take over where you drew them.")
    flush, model_down, zone = _chaos_toggles(zones, key=key)
    big = len(design.nodes) > DRILLS_BY_DEFAULT
    find_spofs = st.checkbox("Find all single points of failure", value=not big, key=f"{key}-spofs",
                             help="Runs one what-if per node (one replica lost, or the node lost). "
                                  + ("Off by default: this design is large." if big else ""))
    return _Controls(load=load, failed=failed, flush=flush, model_down=model_down, zone=zone,
                     find_spofs=find_spofs)


def _run(design: Design, peak: float, rates: dict[str, float] | None,
         controls: _Controls) -> tuple[SimulationResult, SimulationResult | None] | None:
    """The simulation under the chosen conditions and, when they differ from the plain peak, the plain peak
    too (for the changes); None after showing the error when the design cannot be simulated."""
    try:
        chaos = Chaos(cache_flush=controls.flush, primary_model_down=controls.model_down, zone_lost=controls.zone)
        with st.spinner("Simulating..."):
            result = simulate(design, peak, load=controls.load, failed=controls.failed, chaos=chaos,
                              drills=controls.find_spofs, entry_rates=rates)
            perturbed = controls.load != 1.0 or controls.failed or chaos.active()
            base = simulate(design, peak, drills=False, entry_rates=rates) if perturbed else None
    except SimulatorError as exc:
        st.error(f"The simulation cannot run on this design: {exc}")
        return None
    except Exception as exc:  # never a traceback on the page
        st.error(f"The simulation failed ({type(exc).__name__}): {exc}")
        return None
    return result, base


def _conditions(result: SimulationResult) -> None:
    """One line saying what was simulated: the offered traffic, the chaos, the failed nodes."""
    if not result.entries:
        st.warning("No traffic enters the design: add a client (or sensor) node that calls the rest.")
    how = f"{result.offered_rps:,.0f} req/s offered at {', '.join(result.entries) or 'no entry'}"
    if result.chaos.active():
        how += f" · chaos: {result.chaos.describe()}"
    if result.failed:
        how += f" · failed: {', '.join(result.failed)}"
    st.caption(how)


def _delta(now: float, then: float | None, scale: float, unit: str, digits: int = 1) -> str | None:
    """The change from the plain peak as a metric delta; None when there is no plain peak or no change."""
    if then is None or abs(now - then) < 1e-9:
        return None
    change = (now - then) * scale
    if unit == "$":
        return f"{'+' if change > 0 else '-'}${abs(change):,.0f}"
    return f"{change:+,.{digits}f}{unit}"


def _figures(result: SimulationResult, base: SimulationResult | None, target: str | None = None) -> None:
    """The headline figures with their change from the plain peak, and the brief's latency target."""
    cols = st.columns(5)
    cols[0].metric("Served share", _pct(result.served_share, 1),
                   _delta(result.served_share, base.served_share if base else None, 100, " pts"),
                   help="Share of the offered requests that get an answer.")
    cols[1].metric("Max utilisation", _pct(result.max_utilization),
                   _delta(result.max_utilization, base.max_utilization if base else None, 100, " pts", 0),
                   delta_color="inverse", help="The busiest live node: load / (capacity x replicas).")
    cols[2].metric("p50 latency", _ms(result.latency_ms["p50"]),
                   _delta(result.latency_ms["p50"], base.latency_ms["p50"] if base else None, 1, " ms", 0),
                   delta_color="inverse", help=" → ".join(result.critical_path) or None)
    cols[3].metric("p99 latency", _ms(result.latency_ms["p99"]),
                   _delta(result.latency_ms["p99"], base.latency_ms["p99"] if base else None, 1, " ms", 0),
                   delta_color="inverse", help="About 3x the slowest path that at least 1 % of requests take."
                   + (f" The brief: {target}." if target else ""))
    cols[4].metric("Monthly cost", _money(result.monthly_cost),
                   _delta(result.monthly_cost, base.monthly_cost if base else None, 1, "$"),
                   delta_color="inverse", help="Replica-hours x cost per hour x 730 h, autoscaled replicas included.")


def _latency_against_brief(result: SimulationResult, target: str | None) -> None:
    """Say plainly when the p99 is over the brief's own target, and where the latencies come from."""
    bound = latency_target_ms(target)
    p99 = result.latency_ms["p99"]
    if bound is None or p99 <= bound:
        return
    st.caption(f":orange[p99 {_ms(p99)} is {p99 / bound:.1f}x the brief's target ({target}).] Latencies a "
               "component does not state (`latency_ms=`) are the catalog's typical figures; state yours where "
               "you know them, and look at the slowest path: " + " → ".join(result.critical_path))


def _diagram(design: Design, result: SimulationResult) -> None:
    """The design coloured by utilisation, failed nodes dashed, single points of failure outlined."""
    heat = {nid: n.utilization for nid, n in result.nodes.items() if n.capacity is not None and not n.failed}
    st.graphviz_chart(to_dot(heat_design(design, result), heat=heat, missing=result.failed,
                             highlight=result.spofs, rankdir="TB"), width="stretch")
    st.caption("Fill by utilisation: green below 50 %, yellow 50-80 %, orange 80-100 %, red overloaded; "
               "grey: not capacity-checked (sources, offline and human steps). Dashed: failed. "
               "Red outline: single point of failure.")


def _node_tables(result: SimulationResult, find_spofs: bool, *, key: str) -> None:
    """The table of bottlenecks and single points of failure (or the all-clear), every node on demand, notes."""
    rows = issue_rows(result)
    if rows:
        st.markdown("**Bottlenecks and single points of failure**")
        st.dataframe(rows, hide_index=True, width="stretch")
    elif find_spofs:
        st.success("No bottleneck above 80 % and no single point of failure under these conditions.")
    else:
        st.success("No bottleneck above 80 % under these conditions (single points of failure not searched).")
    if st.checkbox("Show every node", key=f"{key}-all"):
        st.dataframe(node_rows(result), hide_index=True, width="stretch")
    if result.notes:
        st.caption("\n".join(f"- {note}" for note in result.notes))


def simulate_panel(design: Design, scenario, *, key: str) -> None:
    """Draw the panel for ``design`` under ``scenario``'s traffic; widget keys start with ``key``."""
    spec = scenario.spec
    if design is None or not design.nodes:
        st.caption("Add components and arrows first: the simulation pushes the scenario's traffic through them.")
        return
    peak = float(spec.scale.peak_rps)
    traffic = getattr(spec, "traffic", None)
    rates = dict(traffic.entries) if traffic else None
    controls = _controls(design, peak, bool(rates), key=key)
    ran = _run(design, peak, rates, controls)
    if ran is None:
        return
    result, base = ran
    _conditions(result)
    target = spec.scale.latency_target
    _figures(result, base, target)
    _latency_against_brief(result, target)
    _diagram(design, result)
    _node_tables(result, controls.find_spofs, key=key)
