"""The rule operator `fallback`: each node of the target kinds has an alternative behind a fallback arrow."""
from __future__ import annotations

from typing import ClassVar, Literal

from simulator.rules.arguments import Arguments, Kinds
from simulator.rules.context import Context, Outcome
from simulator.rules.evidence import kinds_text
from simulator.simulation.formatting import id_list


class Fallback(Arguments):
    op: ClassVar[str] = "fallback"
    summary: ClassVar[str] = ("each node of the target kinds has an alternative reached by a fallback arrow "
                              "from a caller upstream of it or from itself (replicas do not count)")
    target: Kinds
    alternatives: Kinds | None = None
    quantifier: Literal["every", "some"] = "every"

    def evaluate(self, ctx: Context) -> Outcome:
        targets = ctx.of(self.target)
        if not targets:
            return Outcome(False, f"no {kinds_text(self.target)} node to protect")
        fallback_edges = [(u, v) for u, v, k in ctx.edges if k == "fallback"]
        if self.alternatives:
            allowed = set(self.alternatives)
            fallback_edges = [(u, v) for u, v in fallback_edges if ctx.has(v, allowed)]
        fallback_edges.sort(key=lambda e: (ctx.order[e[0]], ctx.order[e[1]]))
        protected: dict[str, tuple[str, str]] = {}
        downstream_of: dict[str, dict] = {}
        for u, v in fallback_edges:
            if u not in downstream_of:
                downstream_of[u] = ctx.reach([u], ("sync", "async"))
            downstream = downstream_of[u]
            for t in targets:
                # a caller upstream of the target fails over for it, or the target names its own backup
                # ("perception -fallback-> safety stop"); an alternative is no backup for itself
                if t != v and (t == u or t in downstream) and t not in protected:
                    protected[t] = (u, v)
        # a fallback alternative is itself the backup: it needs no backup of its own
        alternates = {v for _, v in fallback_edges}
        need = [t for t in targets if t not in alternates] or targets
        missing = [t for t in need if t not in protected]
        covered = [t for t in need if t in protected]
        alt = f" of kind {kinds_text(self.alternatives)}" if self.alternatives else ""
        if self.quantifier == "every" and missing:
            share = f" ({len(covered)} of {len(need)} have one)" if covered else ""
            return Outcome(False, f"no fallback{alt} for {id_list(missing)}{share}: add a `fallback` arrow from one "
                           "of its callers to an alternative", missing, credit=len(covered) / len(need))
        if not covered:
            return Outcome(False, f"no fallback{alt} for any of {id_list(need)}", need)
        t = covered[0]
        u, v = protected[t]
        return Outcome(True, f"{t} is backed by {v} (fallback arrow from {u})", covered, [u, v])
