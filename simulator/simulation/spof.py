"""The one definition of a single point of failure, shared by the Simulate tab and the rubrics.

A single point of failure is a component on the request path without redundancy (one replica, no
autoscaling, not a managed service the design left unsized) whose loss leaves at least half of the
requests the design serves without a route: no replica, no fallback, no other path. It is structural:
the drill ignores capacity (every node may take any load), so a component is never called a single
point of failure because the design was already overloaded, nor because the tier behind a lost
look-aside cache is too small (that is a capacity question, answered by the capacity checks).
"""
from __future__ import annotations

import copy

from simulator.simulation.compiler import Compiled
from simulator.simulation.constants import EPS, SPOF_DROP
from simulator.simulation.kernel import solve


def single_points_of_failure(m: Compiled, rates: list[float], failed: list[bool], hit: list[float]
                             ) -> list[str]:
    """The ids of the single points of failure under these conditions, in design order."""
    unbounded = copy.copy(m)
    unbounded.cap = [None] * m.n
    routed = solve(unbounded, rates, failed, hit, m.reps)
    # losing a node can only lose the requests that pass through it: fewer than half never make a SPOF
    enough = SPOF_DROP * sum(rates) - EPS
    out = []
    for i in range(m.n):
        if failed[i] or not m.on_path[i] or m.is_entry[i] or m.redundant[i] or routed.load[i] == 0:
            continue
        if routed.load[i] < enough:
            continue
        failed[i] = True
        try:
            served = solve(unbounded, rates, failed, hit, m.reps).served
        finally:
            failed[i] = False
        if routed.served - served >= SPOF_DROP - EPS:
            out.append(m.ids[i])
    return out
