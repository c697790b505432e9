"""The rule operator `reaches`: nodes of one kind reach nodes of another along the arrows."""
from __future__ import annotations

from collections import deque
from typing import ClassVar, Literal

from pydantic import Field

from simulator.rules.arguments import Arguments, EdgeKinds, Kinds
from simulator.rules.between import endpoints
from simulator.rules.context import Context, Outcome
from simulator.rules.evidence import arrow, kinds_text
from simulator.rules.walks import path_to
from simulator.simulation.formatting import id_list


class Reaches(Arguments):
    op: ClassVar[str] = "reaches"
    summary: ClassVar[str] = "nodes of one kind reach nodes of another along the arrows"
    source: Kinds = Field(alias="from")
    target: Kinds = Field(alias="to")
    quantifier: Literal["some", "every"] = "every"
    edges: EdgeKinds = None
    via_only: Kinds | None = Field(None, description="the path may only pass through nodes of these roles "
                                   "(e.g. telemetry pipes: a service reports its own metrics, not through "
                                   "the services it calls)")

    def evaluate(self, ctx: Context) -> Outcome:
        sources, targets, missing_side = endpoints(ctx, self.source, self.target)
        if missing_side:
            return missing_side
        back = (ctx.reach(targets, self.edges, reverse=True) if self.via_only is None   # who reaches a target
                else self._reach_through(ctx, targets, set(self.via_only)))
        reaching = [s for s in sources if s in back]
        missing = [s for s in sources if s not in back]
        if self.quantifier == "every" and missing:
            share = f" ({len(reaching)} of {len(sources)} do)" if reaching else ""
            return Outcome(False, f"no path to any {kinds_text(self.target)} from: {id_list(missing)}{share}",
                           missing, credit=len(reaching) / len(sources))
        if not reaching:
            return Outcome(False, f"no {kinds_text(self.source)} node reaches a {kinds_text(self.target)} node "
                           "along the arrows (are any arrows reversed?)", sources)
        path = path_to(back, reaching[0])[::-1]
        who = "every" if self.quantifier == "every" else "a"
        return Outcome(True, f"{who} {kinds_text(self.source)} node reaches a {kinds_text(self.target)}, "
                       f"e.g. {arrow(path)}", reaching, path)

    def _reach_through(self, ctx: Context, targets: list[str], pipes: set[str]) -> dict[str, str | None]:
        """Reverse walk from the targets that only continues through the allowed intermediate nodes."""
        pred = ctx.adj(self.edges, reverse=True)
        back: dict[str, str | None] = {t: None for t in targets}
        todo = deque(targets)
        while todo:
            node = todo.popleft()
            if back[node] is not None and not ctx.has(node, pipes):
                continue   # reached, but requests do not pass through it on the way to a target
            for p in pred[node]:
                if p not in back:
                    back[p] = node
                    todo.append(p)
        return back
