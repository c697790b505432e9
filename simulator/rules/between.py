"""What several operators check between two kinds of nodes: the nodes at either end (or the failing
outcome when a side has none), and whether some or every path between them passes a guard node."""
from __future__ import annotations

from collections.abc import Callable, Iterable

from simulator.rules.context import Context, Outcome
from simulator.rules.evidence import arrow, kinds_text
from simulator.rules.walks import path_to


def endpoints(ctx: Context, source_kinds: list[str], target_kinds: list[str]
              ) -> tuple[list[str], list[str], Outcome | None]:
    """Nodes of the source and target kinds, or the failing outcome when either side has none."""
    sources, targets = ctx.of(source_kinds), ctx.of(target_kinds)
    if not sources:
        return sources, targets, Outcome(False, f"no {kinds_text(source_kinds)} node")
    if not targets:
        return sources, targets, Outcome(False, f"no {kinds_text(target_kinds)} node")
    return sources, targets, None


def paths_through(ctx: Context, edge_kinds: Iterable[str] | None, sources: list[str], targets: list[str],
                  guard: set[str], quantifier: str, skinds: list[str], tkinds: list[str], what: str,
                  extra_ok: Callable[[set[str], set[str]], list[str] | None] | None = None,
                  describe: Callable[[str], str] | None = None,
                  around_edge_kinds: Iterable[str] | None = None) -> Outcome:
    """Whether some (quantifier "some") or every path from ``sources`` to ``targets`` passes a ``guard`` node.

    ``what`` names the guard in the evidence, ``describe`` a guard found on a path; ``extra_ok(fwd, back)``
    may accept a path another way (an async arrow) when no guard is on one; with "every", the search
    around the guards follows ``around_edge_kinds`` when given.
    """
    if not sources:
        return Outcome(False, f"no {kinds_text(skinds)} node")
    if not targets:
        return Outcome(False, f"no {kinds_text(tkinds)} node")
    fwd = ctx.reach(sources, edge_kinds)
    reached = [t for t in targets if t in fwd]
    if not reached:
        return Outcome(False, f"no path from {kinds_text(skinds)} to {kinds_text(tkinds)} at all "
                       "(are arrows missing or reversed?)", sources + targets)
    back = ctx.reach(targets, edge_kinds, reverse=True)
    on_paths = set(fwd) & set(back)
    if quantifier == "some":
        hits = [g for g in ctx.sort(on_paths & guard)]
        if hits:
            g = hits[0]
            path = path_to(fwd, g) + path_to(back, g)[::-1][1:]
            said = describe(g) if describe else f"{g} ({ctx.kind[g]})"
            return Outcome(True, f"{said} on the way: {arrow(path)}", hits, path)
        if extra_ok is not None:
            found = extra_ok(set(fwd), set(back))
            if found:
                return Outcome(True, f"decoupled by an async arrow: {arrow(found)}", found, found)
        example = path_to(fwd, reached[0])
        return Outcome(False, f"no path from {kinds_text(skinds)} to {kinds_text(tkinds)} passes through {what}; "
                       f"e.g. {arrow(example)}", example, example)
    # every path must pass a guard: search around the guards
    blocked = set(guard)
    around = ctx.reach([s for s in sources if s not in blocked], around_edge_kinds or edge_kinds,
                       blocked=frozenset(blocked))
    leaks = [t for t in targets if t in around]
    if leaks:
        path = path_to(around, leaks[0])
        return Outcome(False, f"a path avoids {what}: {arrow(path)}", ctx.sort(path), path)
    return Outcome(True, f"every path from {kinds_text(skinds)} to {kinds_text(tkinds)} passes through {what}",
                   ctx.sort(on_paths & guard))
