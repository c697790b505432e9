"""The rule operator `edge`: a direct connection from a node of one kind to a node of another."""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from simulator.rules.arguments import Arguments, EdgeKinds, Kinds
from simulator.rules.between import endpoints
from simulator.rules.context import Context, Outcome
from simulator.rules.evidence import kinds_text
from simulator.simulation.formatting import id_list


class EdgeRule(Arguments):
    op: ClassVar[str] = "edge"
    summary: ClassVar[str] = "a direct connection from a node of one kind to a node of another"
    source: Kinds = Field(alias="from")
    target: Kinds = Field(alias="to")
    quantifier: Literal["some", "every"] = "some"
    edges: EdgeKinds = None

    def evaluate(self, ctx: Context) -> Outcome:
        succ = ctx.adj(self.edges)
        sources, target_list, missing_side = endpoints(ctx, self.source, self.target)
        if missing_side:
            return missing_side
        targets = set(target_list)
        linked = [s for s in sources if any(t in targets for t in succ[s])]
        missing = [s for s in sources if s not in linked]
        if self.quantifier == "some":
            if linked:
                s = linked[0]
                t = next(t for t in succ[s] if t in targets)
                return Outcome(True, f"{s} connects directly to {t}", [s, t], [s, t])
            return Outcome(False, f"no {kinds_text(self.source)} node connects directly to a "
                           f"{kinds_text(self.target)} node (checked {id_list(sources)})", sources)
        if missing:
            return Outcome(False, f"not connected directly to any {kinds_text(self.target)}: {id_list(missing)}",
                           missing)
        return Outcome(True, f"every {kinds_text(self.source)} node connects directly to a {kinds_text(self.target)}",
                       sources)
