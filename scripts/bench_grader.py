"""Benchmark of the grader boundary: prints figures, asserts nothing.

    python scripts/bench_grader.py [--scenario conversational-ai] [--repeat 200]

Builds a 30-node design from the scenario's reference design plus extra nodes, then
prints the prompt's token estimate (characters / 4; goal <= 3,000, with and without
long notes, with the schema in the prompt as in the json_object fallback) and the
rule grader's time per call. No model is called.
"""
from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulator.feedback.answer import response_schema
from simulator.feedback.prompt import MAX_PROMPT_TOKENS, build_prompt
from simulator.feedback.rule_interviewer import rule_feedback
from simulator.feedback.usage import estimate_tokens
from simulator.grading.library import load_library
from simulator.grading.rubric import evaluate
from simulator.model.design import Design, Edge, Node

EXTRA_KINDS = ("service", "redis", "queue", "batch_processor", "postgres", "model_server", "feature_store")


def thirty_nodes(reference: Design, size: int = 30) -> Design:
    design = copy.deepcopy(reference)
    anchor = next((n.id for n in design.nodes if n.kind == "service"), design.nodes[0].id)
    i = 0
    while len(design.nodes) < size:
        kind = EXTRA_KINDS[i % len(EXTRA_KINDS)]
        i += 1
        node_id = f"extra_{kind}_{i}"
        design.nodes.append(Node(node_id, kind, label=f"Extra {kind.replace('_', ' ')} number {i}", replicas=2))
        design.edges.append(Edge(anchor, node_id))
    return design


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="conversational-ai")
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args()
    lib = load_library(check_references=False)
    scenario, rubric = lib.get(args.scenario)
    design = thirty_nodes(scenario.reference)
    report = evaluate(design, rubric, scenario.peak_traffic)
    notes = {"notes": "Sharding by tenant, caching per tenant, fallback on 429s. " * 400}
    print(f"{args.scenario}: {len(design.nodes)} nodes, {len(design.edges)} edges, "
          f"{len(rubric.checks)} checks, rule score {report.score:g}")
    for label, kw in (("no notes", {}), ("short notes", {"notes": {"notes": "Cache per tenant; fall back on 429."}}),
                      ("24 k chars of notes", {"notes": notes}),
                      ("long notes + schema in prompt", {"notes": notes, "schema_in_prompt": True})):
        p = build_prompt(design, scenario, report, estimates={"peak_qps": 3000}, **kw)
        cut = f", notes cut to {p.notes_kept}/{p.notes_chars} chars" if p.notes_truncated else ""
        print(f"  prompt tokens ({label}): {p.tokens} (goal <= {MAX_PROMPT_TOKENS}){cut}")
    schema = json.dumps(response_schema(list(report.categories)), separators=(",", ":"))
    print(f"  response_format schema: {estimate_tokens(schema)} tokens (sent beside the prompt in json_schema mode)")
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        rule_feedback(design, scenario, report, notes, {"peak_qps": 3000})
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    for _ in range(20):
        evaluate(design, rubric, scenario.peak_traffic)
    eval_ms = (time.perf_counter() - t0) / 20 * 1000
    print(f"  rule grader: median {statistics.median(times) * 1000:.3f} ms, max {max(times) * 1000:.3f} ms "
          f"over {args.repeat} calls (the rubric evaluation itself: {eval_ms:.2f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
