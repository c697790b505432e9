"""A simulation result for the CLI and the pages: the JSON object of ``--json`` and the plain-text report."""
from __future__ import annotations

from typing import Any

from simulator.simulation.formatting import id_list, num, pct, rounded
from simulator.simulation.results import SimulationResult


def simulation_json(result: SimulationResult) -> dict[str, Any]:
    """The CLI's JSON: served_share, max_utilization, bottlenecks, spofs, latency_ms, monthly_cost, nodes
    ({id: {load, utilization}}), plus offered_rps, critical_path, failed, chaos, notes."""
    return {
        "served_share": rounded(result.served_share),
        "max_utilization": rounded(result.max_utilization),
        "bottlenecks": list(result.bottlenecks),
        "spofs": list(result.spofs),
        "latency_ms": {"p50": rounded(result.latency_ms["p50"], 3), "p99": rounded(result.latency_ms["p99"], 3)},
        "monthly_cost": rounded(result.monthly_cost, 2),
        "nodes": {nid: {"load": rounded(n.load), "utilization": rounded(n.utilization),
                        "effective_replicas": n.effective_replicas, "failed": n.failed}
                  for nid, n in result.nodes.items()},
        "offered_rps": rounded(result.offered_rps),
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
    how = f"{num(r.peak_rps)} req/s peak"
    if r.entry_rates:
        how = "traffic profile " + ", ".join(f"{k} {num(v)} req/s per source" for k, v in r.entry_rates.items()) \
              + f"; other entries share {num(r.peak_rps)} req/s"
    if r.load != 1.0:
        how += f" x load {num(r.load)}"
    if r.chaos.spike != 1.0:
        how += f" x spike {num(r.chaos.spike)}"
    lines.append(f"Offered load: {num(r.offered_rps)} req/s ({how}) at {id_list(r.entries) or 'no entry'}")
    if r.chaos.active():
        lines.append(f"Chaos: {r.chaos.describe()}")
    if r.failed:
        lines.append(f"Failed: {id_list(r.failed)}")
    lines.append(f"Served: {pct(r.served_share, 1)} of requests")
    hottest = f" ({r.bottlenecks[0]})" if r.bottlenecks else ""
    lines.append(f"Max utilisation: {pct(r.max_utilization)}{hottest}")
    if r.bottlenecks:
        lines.append("Bottlenecks (> 80 %): " + ", ".join(
            f"{b} {pct(r.nodes[b].utilization)}" for b in r.bottlenecks[:10])
            + (f" and {len(r.bottlenecks) - 10} more" if len(r.bottlenecks) > 10 else ""))
    lines.append(f"Latency: p50 {num(r.latency_ms['p50'])} ms, p99 ~{num(r.latency_ms['p99'])} ms"
                 + (f" along {' -> '.join(r.critical_path)}" if len(r.critical_path) > 1 else ""))
    lines.append(f"Cost: ${r.monthly_cost:,.0f} a month")
    if r.drills is not None:
        if r.spofs:
            lines.append("Single points of failure: " + ", ".join(
                f"{s} (served {pct(r.drills[s])} without it)" for s in r.spofs))
        else:
            lines.append("Single points of failure: none (no single loss costs 50 points of served share)")
    lines.append("")
    width = max([len(n) for n in r.nodes] + [4])
    lines.append(f"  {'node':<{width}}  {'kind':<16} {'load req/s':>12} {'replicas':>9} {'util':>7}")
    for nid, n in r.nodes.items():
        reps = f"{n.effective_replicas}" if n.effective_replicas == n.replicas else \
            f"{n.replicas}->{n.effective_replicas}"
        util = "failed" if n.failed else ("-" if n.capacity is None else pct(n.utilization))
        flag = "  <-" if nid in r.bottlenecks else ""
        lines.append(f"  {nid:<{width}}  {n.kind:<16} {num(n.load):>12} {reps:>9} {util:>7}{flag}")
    if r.notes:
        lines.append("")
        lines.append("Notes:")
        lines.extend(f"  - {note}" for note in r.notes)
    return "\n".join(lines) + "\n"
