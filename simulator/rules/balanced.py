"""The rule operator `balanced`: replicated nodes of some kinds sit behind a load balancer."""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from simulator.rules.arguments import Arguments, Kinds
from simulator.rules.context import Context, Outcome
from simulator.rules.evidence import kinds_text
from simulator.simulation.formatting import id_list


class Balanced(Arguments):
    op: ClassVar[str] = "balanced"
    summary: ClassVar[str] = "every replicated or autoscaled node of these kinds is fronted by a load balancer"
    kind: Kinds
    by: Kinds = Field(default_factory=lambda: ["load_balancer"])
    quantifier: Literal["every", "some"] = "every"

    def evaluate(self, ctx: Context) -> Outcome:
        nodes = [n for n in ctx.of(self.kind) if ctx.replicas[n] > 1 or ctx.autoscale[n]]
        if not nodes:
            return Outcome(False, f"no replicated or autoscaled {kinds_text(self.kind)} node to balance")
        fronts = set(self.by)
        pred = ctx.adj(reverse=True)
        bare = [n for n in nodes if not any(ctx.has(p, fronts) for p in pred[n])]
        if self.quantifier == "some" and len(bare) < len(nodes):
            done = [n for n in nodes if n not in bare]
            return Outcome(True, f"{kinds_text(self.by)} in front of {id_list(done)}", done)
        if bare:
            return Outcome(False, f"replicated but no {kinds_text(self.by)} in front: {id_list(bare)}", bare)
        return Outcome(True, f"{kinds_text(self.by)} in front of {id_list(nodes)}", nodes)
