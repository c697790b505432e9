"""What a simulation returns: a NodeResult per node and the SimulationResult of the whole design."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.simulation.chaos import Chaos
from simulator.simulation.formatting import rounded


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
        return {"kind": self.kind, "load": rounded(self.load), "utilization": rounded(self.utilization),
                "capacity": self.capacity, "replicas": self.replicas,
                "effective_replicas": self.effective_replicas, "failed": self.failed,
                "latency_ms": rounded(self.latency_ms), "served_ratio": rounded(self.served_ratio),
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
            "peak_rps": self.peak_rps, "load": self.load, "offered_rps": rounded(self.offered_rps),
            "entries": list(self.entries),
            "served_share": rounded(self.served_share), "max_utilization": rounded(self.max_utilization),
            "bottlenecks": list(self.bottlenecks), "spofs": list(self.spofs),
            "latency_ms": {k: rounded(v) for k, v in self.latency_ms.items()},
            "critical_path": list(self.critical_path), "monthly_cost": rounded(self.monthly_cost, 2),
            "failed": list(self.failed), "chaos": self.chaos.to_dict(),
            "drills": None if self.drills is None else {k: rounded(v) for k, v in self.drills.items()},
            "nodes": {nid: n.to_dict() for nid, n in self.nodes.items()},
            "notes": list(self.notes), "entry_rates": dict(self.entry_rates),
        }
