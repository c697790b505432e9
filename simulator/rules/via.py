"""The rule operator `via`: some (or every) path from one kind to another passes through a third."""
from __future__ import annotations

from collections import deque
from typing import ClassVar, Literal

from pydantic import Field

from simulator.rules.arguments import Arguments, EdgeKinds, Kinds
from simulator.rules.between import paths_through
from simulator.rules.context import Context, Outcome
from simulator.rules.evidence import kinds_text

TRANSPARENT = ("load_balancer",)   # passes calls on to a tier: calling it is calling the tier


class Via(Arguments):
    op: ClassVar[str] = "via"
    summary: ClassVar[str] = ("some path (or every path) from one kind to another passes through a third; "
                              "with lookaside, a node on the path that calls the third kind counts")
    source: Kinds = Field(alias="from")
    target: Kinds = Field(alias="to")
    through: Kinds
    excluding: Kinds | None = Field(None, description="a node with any of these roles does not count as the "
                                    "`through` role (a conversation store is a cache, but not a response cache)")
    quantifier: Literal["some", "every"] = "some"
    lookaside: bool = False
    edges: EdgeKinds = None

    def guards(self, ctx: Context) -> set[str]:
        guard = self._through(ctx)
        if self.lookaside:
            guard |= set(self._callers(ctx, guard))
        return guard

    def _through(self, ctx: Context) -> set[str]:
        nodes = set(ctx.of(self.through))
        if self.excluding:
            nodes = {n for n in nodes if not ctx.has(n, self.excluding)}
        return nodes

    def _callers(self, ctx: Context, guard: set[str]) -> dict[str, str]:
        """{caller: the guard it consults}: a node that calls a guard directly or through load balancers
        (a balancer in front of a replicated tier is transparent)."""
        pred = ctx.adj(self.edges, reverse=True)
        out: dict[str, str] = {}
        todo = deque((g, g) for g in ctx.sort(guard))
        seen = set(guard)
        while todo:
            node, target = todo.popleft()
            for p in pred[node]:
                if p in seen:
                    continue
                seen.add(p)
                out[p] = target
                if ctx.has(p, TRANSPARENT):
                    todo.append((p, target))
        return out

    def evaluate(self, ctx: Context) -> Outcome:
        through = self._through(ctx)
        callers = self._callers(ctx, through) if self.lookaside else {}

        def describe(node: str) -> str:
            if node in through:
                return f"{node} ({ctx.kind[node]})"
            return f"{node} consults {callers[node]}"

        return paths_through(ctx, self.edges, ctx.of(self.source), ctx.of(self.target), self.guards(ctx),
                        self.quantifier, self.source, self.target,
                        f"{kinds_text(self.through)}" + (" (on the path or called from it)" if self.lookaside else ""),
                        describe=describe)
