"""The rule operator `decoupled`: a queue or stream (or an async arrow) sits between producers and consumers."""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from simulator.rules.arguments import Arguments, Kinds
from simulator.rules.between import paths_through
from simulator.rules.context import Context, Outcome
from simulator.rules.evidence import kinds_text


class Decoupled(Arguments):
    op: ClassVar[str] = "decoupled"
    summary: ClassVar[str] = ("a queue or stream (or an async arrow) sits between producers and consumers")
    producer: Kinds
    consumer: Kinds
    through: Kinds = Field(default_factory=lambda: ["queue", "stream"])
    quantifier: Literal["some", "every"] = "some"
    async_edges: bool = True

    def evaluate(self, ctx: Context) -> Outcome:
        around = None
        guard = set(ctx.of(self.through))
        what = kinds_text(self.through) + (" or an async arrow" if self.async_edges else "")
        if self.quantifier == "every" and self.async_edges:
            around = ("sync", "fallback", "replication")   # an async arrow decouples: look for paths without them
            extra = None
        elif self.async_edges:
            asyncs = [(u, v) for u, v, k in ctx.edges if k == "async"]

            def extra(fwd: set[str], back: set[str]) -> list[str] | None:
                for u, v in asyncs:
                    if u in fwd and v in back:
                        return [u, v]
                return None
        else:
            extra = None
        return paths_through(ctx, None, ctx.of(self.producer), ctx.of(self.consumer), guard, self.quantifier,
                        self.producer, self.consumer, what, extra, around_edge_kinds=around)
