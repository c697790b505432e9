"""The rule operator `present`: the design has between min and max nodes of some kinds."""
from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from simulator.rules.arguments import Arguments, Kinds
from simulator.rules.context import Context, Outcome
from simulator.rules.evidence import kinds_text
from simulator.simulation.formatting import id_list


class Present(Arguments):
    op: ClassVar[str] = "present"
    summary: ClassVar[str] = "the design has between min and max nodes of these kinds"
    kind: Kinds
    min: int = Field(1, ge=0)
    max: int | None = Field(None, ge=0)

    def evaluate(self, ctx: Context) -> Outcome:
        found = ctx.of(self.kind)
        n = len(found)
        if n < self.min:
            return Outcome(False, f"found {n} {kinds_text(self.kind)} node(s), need at least {self.min}"
                           + (f": {id_list(found)}" if found else ""), found)
        if self.max is not None and n > self.max:
            return Outcome(False, f"found {n} {kinds_text(self.kind)} nodes, at most {self.max} expected: "
                           f"{id_list(found)}", found)
        return Outcome(True, f"{n} {kinds_text(self.kind)} node(s): {id_list(found)}" if found
                       else f"no {kinds_text(self.kind)} node, as required", found)
