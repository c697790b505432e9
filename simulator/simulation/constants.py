"""The simulation model's constants: entry and special kinds, thresholds, tail and cost factors.

docs/simulation.md explains each; keep the two in step.
"""
from __future__ import annotations

from simulator.model import catalog

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
DEFAULT_PEAK_RPS = 1000.0   # what the rubric operator assumes when the scenario gives no peak
# what a look-aside cache spares: the calls a caller makes only on a miss (the `cacheable` property overrides)
CACHEABLE_KINDS = frozenset({"service", "model_server", "llm", "vector_db", "feature_store"})
P50_SHARE = 0.5             # a call counts toward p50 when at least half the caller's requests make it
P99_SHARE = 0.01            # ... and toward the p99 path when at least 1 % do
EPS = 1e-12                 # tolerance when comparing shares and utilisations
