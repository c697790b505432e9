"""Benchmark of the rubric engine: prints figures, asserts nothing.

    python scripts/bench_core.py

Grades each scenario's reference design, then synthetic designs of 200 and
2,000 nodes against every rubric, and times building the networkx graph alone.
Goals: <= 5 ms per reference design; <= 0.5 s and <= 5x the graph-build time
for 2,000 nodes (the ratio is for the graph checks; the simulation checks, which
push traffic through the design and drill single failures, are printed apart).
"""
from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dataclasses

from simulator.grading.library import load_library
from simulator.grading.rubric import evaluate
from simulator.model.design import Design, Edge, Node


def timed(fn, repeat: int) -> float:
    """Median wall time of fn() in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def synthetic(n_nodes: int, seed: int = 7) -> Design:
    """A plausible large design: many request cells sharing monitoring, each cell a gateway-to-model path."""
    rng = random.Random(seed)
    nodes: list[Node] = []
    edges: list[Edge] = []
    shared = [Node("metrics", "monitoring"), Node("pager", "alerting"), Node("logs", "logging"),
              Node("drift", "drift_detector"), Node("stream", "stream"), Node("features", "feature_store")]
    nodes += shared
    edges += [Edge("metrics", "pager"), Edge("logs", "drift"), Edge("drift", "pager"), Edge("stream", "features")]
    cell_kinds = ["client", "api_gateway", "load_balancer", "service", "cache", "service", "model_server",
                  "model_server", "llm", "llm", "vector_db", "database", "object_store", "batch_processor",
                  "guardrails", "queue", "trainer", "model_registry", "ab_testing", "sensor"]
    c = 0
    while len(nodes) < n_nodes:
        ids = [f"c{c}_{i}" for i in range(len(cell_kinds))]
        for nid, kind in zip(ids, cell_kinds):
            nodes.append(Node(nid, kind, replicas=rng.choice([1, 2, 3]), autoscale=rng.random() < 0.3))
        a = dict(zip(["client", "gw", "lb", "api", "cache", "orch", "ms1", "ms2", "llm1", "llm2", "vdb", "db",
                      "obj", "batch", "guard", "queue", "trainer", "registry", "ab", "sensor"], ids))
        edges += [Edge(a["client"], a["gw"]), Edge(a["gw"], a["lb"]), Edge(a["lb"], a["api"]),
                  Edge(a["api"], a["cache"]), Edge(a["api"], a["orch"]), Edge(a["orch"], a["ms1"]),
                  Edge(a["orch"], a["ms2"], "fallback"), Edge(a["orch"], a["llm1"]),
                  Edge(a["orch"], a["llm2"], "fallback"), Edge(a["orch"], a["vdb"]), Edge(a["orch"], a["guard"]),
                  Edge(a["api"], a["db"]), Edge(a["obj"], a["batch"]), Edge(a["batch"], a["vdb"]),
                  Edge(a["api"], a["queue"], "async"), Edge(a["queue"], a["trainer"]),
                  Edge(a["trainer"], a["registry"]), Edge(a["registry"], a["ab"]), Edge(a["ab"], a["ms1"]),
                  Edge(a["sensor"], "stream"), Edge(a["api"], "metrics"), Edge(a["orch"], "metrics"),
                  Edge(a["api"], "logs", "async"), Edge("features", a["api"])]
        if c and rng.random() < 0.5:  # some cross-cell traffic
            edges.append(Edge(a["orch"], f"c{rng.randrange(c)}_6"))
        c += 1
    keep = {n.id for n in nodes[:n_nodes]}
    nodes = nodes[:n_nodes]
    edges = [e for e in edges if e.source in keep and e.target in keep]
    return Design(nodes=nodes, edges=edges)


def uses_simulation(rule) -> bool:
    return rule.op == "simulate" or any(uses_simulation(c) for c in rule.children)


def graph_only(rubric):
    """The rubric without its traffic-simulation checks (those run the simulation and its drills)."""
    return dataclasses.replace(rubric, checks=[c for c in rubric.checks if not uses_simulation(c.rule)])


def main() -> None:
    lib = load_library()
    print("Reference designs (median of 50 runs):")
    for sid, scenario in lib.scenarios.items():
        rubric = lib.rubrics[sid]
        ms = timed(lambda: evaluate(scenario.reference, rubric, scenario.peak_traffic), 50)
        print(f"  {sid:<24} {len(scenario.reference.nodes):>3} nodes  {len(rubric.checks):>2} checks  "
              f"grade {ms:6.2f} ms")
    for size in (200, 2000):
        design = synthetic(size)
        build = timed(design.to_graph, 10)
        print(f"\nSynthetic design: {len(design.nodes)} nodes, {len(design.edges)} edges; "
              f"graph build alone {build:.2f} ms (median of 10)")
        for sid, rubric in lib.rubrics.items():
            ms = timed(lambda: evaluate(design, rubric, lib.scenarios[sid].peak_traffic), 5)
            graph = graph_only(rubric)
            gms = timed(lambda: evaluate(design, graph, lib.scenarios[sid].peak_traffic), 5)
            print(f"  grade vs {sid:<24} {ms:8.2f} ms all checks; graph checks alone {gms:7.2f} ms "
                  f"= {gms / build:5.1f}x graph build ({len(rubric.checks) - len(graph.checks)} simulation checks "
                  f"add {ms - gms:.0f} ms)")


if __name__ == "__main__":
    main()
