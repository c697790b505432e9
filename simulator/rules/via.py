"""The rule operator `via`: some (or every) path from one kind to another passes through a third."""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from simulator.rules.arguments import Arguments, EdgeKinds, Kinds
from simulator.rules.between import paths_through
from simulator.rules.context import Context, Outcome
from simulator.rules.evidence import kinds_text


class Via(Arguments):
    op: ClassVar[str] = "via"
    summary: ClassVar[str] = ("some path (or every path) from one kind to another passes through a third; "
                              "with lookaside, a node on the path that calls the third kind counts")
    source: Kinds = Field(alias="from")
    target: Kinds = Field(alias="to")
    through: Kinds
    quantifier: Literal["some", "every"] = "some"
    lookaside: bool = False
    edges: EdgeKinds = None

    def guards(self, ctx: Context) -> set[str]:
        guard = set(ctx.of(self.through))
        if self.lookaside:
            pred = ctx.adj(self.edges, reverse=True)
            guard |= {p for g in list(guard) for p in pred[g]}
        return guard

    def evaluate(self, ctx: Context) -> Outcome:
        through = set(self.through)
        succ = ctx.adj(self.edges)

        def describe(node: str) -> str:
            if ctx.has(node, through):
                return f"{node} ({ctx.kind[node]})"
            called = [s for s in succ[node] if ctx.has(s, through)]
            return f"{node} consults {ctx.sort(called)[0]}"

        return paths_through(ctx, self.edges, ctx.of(self.source), ctx.of(self.target), self.guards(ctx),
                        self.quantifier, self.source, self.target,
                        f"{kinds_text(self.through)}" + (" (on the path or called from it)" if self.lookaside else ""),
                        describe=describe)
