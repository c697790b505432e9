"""The rule operator `scaled`: nodes of some kinds run enough replicas, or autoscale."""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from simulator.rules.arguments import Arguments, Kinds
from simulator.rules.context import Context, Outcome
from simulator.rules.evidence import kinds_text
from simulator.simulation.formatting import id_list


class Scaled(Arguments):
    op: ClassVar[str] = "scaled"
    summary: ClassVar[str] = "nodes of these kinds run at least min_replicas replicas, or autoscale"
    kind: Kinds
    min_replicas: int = Field(2, ge=1)
    autoscale_counts: bool = True
    autoscale_required: bool = False
    quantifier: Literal["every", "some"] = "every"

    def evaluate(self, ctx: Context) -> Outcome:
        nodes = ctx.of(self.kind)
        if not nodes:
            return Outcome(False, f"no {kinds_text(self.kind)} node")
        if self.autoscale_required:
            ok = [n for n in nodes if ctx.autoscale[n]]
            how = "autoscale"
        else:
            ok = [n for n in nodes if ctx.replicas[n] >= self.min_replicas
                  or (self.autoscale_counts and ctx.autoscale[n])]
            how = f"replicas >= {self.min_replicas}" + (" or autoscale" if self.autoscale_counts else "")
        bad = [n for n in nodes if n not in ok]
        if (self.quantifier == "every" and bad) or not ok:
            share = f" ({len(ok)} of {len(nodes)} are)" if ok else ""
            return Outcome(False, f"not scaled out ({how}): {id_list(bad)}{share}", bad,
                           credit=len(ok) / len(nodes))
        return Outcome(True, f"scaled out ({how}): {id_list(ok)}", ok)
