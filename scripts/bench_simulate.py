"""Benchmark of the traffic and failure simulation: prints figures, asserts nothing.

    python scripts/bench_simulate.py [--sizes 200 2000] [--repeat 3]

For each size it generates a plausible layered design (clients -> gateways ->
load balancers -> front services -> back services -> caches / model servers /
LLMs / databases, with fallback arrows to backup models, async arrows to
queues and workers, and shared telemetry), then times one simulation without
drills, one with every single-node drill (``simulate(..., drills=True)``) and
``single_failures`` alone. Goals: all single-node what-ifs of the 200-node
design in <= 1 s and of the 2,000-node design in <= 10 s.
"""
from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulator.model.design import Design, Edge, Node
from simulator.simulation.run import simulate, single_failures

GOALS = {200: 1.0, 2000: 10.0}


def layered(n_nodes: int, seed: int = 11) -> Design:
    """A layered design of about n_nodes nodes; the same seed gives the same design."""
    rng = random.Random(seed)
    nodes: list[Node] = []
    edges: list[Edge] = []
    pairs: set[tuple[str, str]] = set()

    def add(prefix: str, kind: str, count: int, **props) -> list[str]:
        ids = []
        for i in range(count):
            nid = f"{prefix}{i}" if count > 1 or prefix[-1].isdigit() else prefix
            replicas = props.get("replicas", rng.choice([1, 2, 3]))
            autoscale = props.get("autoscale", rng.random() < 0.4)
            extra = {"zone": rng.choice(["a", "b", "c"])}
            nodes.append(Node(nid, kind, replicas=replicas, autoscale=autoscale, extra=extra))
            ids.append(nid)
        return ids

    def link(u: str, v: str, kind: str = "sync") -> None:
        if u != v and (u, v) not in pairs:
            pairs.add((u, v))
            edges.append(Edge(u, v, kind))

    unit = max(1, n_nodes // 100)              # 100 nodes per unit
    shared = add("metrics", "monitoring", 1, replicas=3) + add("logs", "logging", 1, replicas=3)
    shared += add("dash", "dashboard", 1) + add("pager", "alerting", 1)
    link("metrics", "dash")
    link("metrics", "pager")
    clients = add("client", "client", 2 * unit, replicas=1, autoscale=False)
    gateways = add("gw", "api_gateway", 3 * unit)
    lbs = add("lb", "load_balancer", 5 * unit)
    front = add("front", "service", 12 * unit)
    back = add("back", "service", 18 * unit)
    caches = add("cache", "cache", 8 * unit)
    models = add("model", "model_server", 12 * unit)
    backups = add("backup", "model_server", 6 * unit)
    llms = add("llm", "llm", 3 * unit)
    dbs = add("db", "database", 10 * unit)
    features = add("fs", "feature_store", 4 * unit)
    vectors = add("vec", "vector_db", 3 * unit)
    queues = add("queue", "queue", 4 * unit)
    workers = add("worker", "service", 6 * unit)
    auth = add("auth", "auth", 2 * unit)
    streams = add("stream", "stream", unit)
    proc = add("proc", "stream_processor", unit)
    # (4 + 98 per unit nodes so far; top up with databases to the requested size)
    dbs += add("dbx", "database", max(0, n_nodes - len(nodes)))

    for c in clients:
        for g in rng.sample(gateways, 2):
            link(c, g)
    for g in gateways:
        link(g, rng.choice(auth))
        for lb in rng.sample(lbs, 2):
            link(g, lb)
    for lb in lbs:
        for f in rng.sample(front, 3):
            link(lb, f)
    for f in front:
        link(f, rng.choice(caches))
        for b in rng.sample(back, 2):
            link(f, b)
        link(f, "metrics")
        link(f, "logs", "async")
        link(f, rng.choice(queues), "async")
    for b in back:
        target = rng.choice(models + llms)
        link(b, target)
        link(b, rng.choice(features))
        if rng.random() < 0.5:
            link(b, rng.choice(vectors))
        if rng.random() < 0.7:
            link(b, rng.choice(backups), "fallback")
        link(b, "metrics")
    for c in caches:
        link(c, rng.choice(dbs))
    for m in models + backups + llms:
        if rng.random() < 0.5:
            link(m, rng.choice(features))
        link(m, "metrics")
    for q in queues:
        link(q, rng.choice(workers))
    for w in workers:
        link(w, rng.choice(dbs))
        link(w, rng.choice(streams), "async")
    for s in streams:
        link(s, rng.choice(proc))
    for p in proc:
        link(p, rng.choice(features))
    for d in dbs:
        if rng.random() < 0.3:
            link(d, rng.choice(dbs), "replication")
    called = {e.target for e in edges}
    unused = [d for d in dbs if d not in called]
    for d in unused:                            # the extra databases serve the workers and caches
        link(rng.choice(workers + caches), d)
    return Design(nodes=nodes, edges=edges)


def sized(design: Design, peak_rps: float, target: float = 0.6, seed: int = 5) -> Design:
    """The design with replicas sized for ~target utilisation at peak_rps, as a careful candidate would
    size it; a node that one replica can carry keeps a single replica in one case out of three (the
    weak spots the drills should find)."""
    rng = random.Random(seed)
    loads = simulate(design, peak_rps, drills=False).nodes
    out = design.copy()
    for node in out.nodes:
        n = loads[node.id]
        if n.capacity is None or n.load == 0:
            continue
        need = max(1, math.ceil(n.load / (target * n.capacity)))
        node.replicas = max(need, 2) if need > 1 or rng.random() < 2 / 3 else 1
        node.autoscale = node.autoscale and node.replicas > 1
    return out


def timed(fn, repeat: int) -> tuple[float, object]:
    samples, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for size in args.sizes:
        peak = 20.0 * size
        design = sized(layered(size), peak)
        kinds = {k: sum(e.kind == k for e in design.edges) for k in ("sync", "async", "fallback", "replication")}
        mix = ", ".join(f"{v} {k}" for k, v in kinds.items())
        print(f"{len(design.nodes):,} nodes, {len(design.edges):,} edges ({mix}), peak {peak:,.0f} req/s")
        one, result = timed(lambda design=design, peak=peak: simulate(design, peak, drills=False), args.repeat)
        print(f"  one simulation (no drills)         {one * 1000:8.1f} ms   served {result.served_share:.3f}, "
              f"{len(result.bottlenecks)} bottlenecks, p50 {result.latency_ms['p50']:.0f} ms")
        drills, shares = timed(lambda design=design, peak=peak: single_failures(design, peak), args.repeat)
        print(f"  single_failures ({len(shares):,} what-ifs)     {drills:8.2f} s    "
              f"({drills / max(1, len(shares)) * 1000:.2f} ms each)")
        full, result = timed(lambda design=design, peak=peak: simulate(design, peak), args.repeat)
        goal = GOALS.get(size)
        verdict = "" if goal is None else f"   goal <= {goal:g} s: {'met' if full <= goal else 'MISSED'}"
        print(f"  simulate with all drills           {full:8.2f} s    {len(result.spofs)} SPOFs{verdict}")
        chaos, _ = timed(lambda design=design, peak=peak: simulate(design, peak, drills=False,
                                                                   chaos="spike=2,cache_flush,zone_lost=a"),
                         args.repeat)
        print(f"  one simulation under chaos         {chaos * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
