"""A design beside the scenario's reference: which kinds of components and connections are missing."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from simulator.model import catalog
from simulator.model.design import Design


@dataclass
class ReferenceDiff:
    missing_kinds: list[dict] = field(default_factory=list)      # kind, reference count, yours, example ids
    extra_kinds: list[dict] = field(default_factory=list)        # kinds you used that the reference does not
    missing_connections: list[dict] = field(default_factory=list)  # from kind, to kind, edge kind, example

    @property
    def empty(self) -> bool:
        return not (self.missing_kinds or self.missing_connections)


def compare(design: Design, reference: Design) -> ReferenceDiff:
    """Compare by kinds, not ids: nobody names components like the reference does."""
    mine = Counter(n.kind for n in design.nodes)
    ref = Counter(n.kind for n in reference.nodes)
    diff = ReferenceDiff()
    for kind, count in ref.items():
        if mine[kind] < count:
            ids = [n.id for n in reference.nodes if n.kind == kind]
            diff.missing_kinds.append({"kind": kind, "display": catalog.display_name(kind), "reference": count,
                                       "yours": mine[kind], "reference_ids": ids})
    for kind, count in mine.items():
        if kind not in ref:
            diff.extra_kinds.append({"kind": kind, "display": catalog.display_name(kind), "yours": count})
    kind_of = {n.id: n.kind for n in design.nodes}
    ref_kind = {n.id: n.kind for n in reference.nodes}
    my_pairs = {(kind_of[e.source], kind_of[e.target], e.kind) for e in design.edges}
    my_pairs_any = {(a, b) for a, b, _ in my_pairs}
    seen = set()
    for e in reference.edges:
        a, b = ref_kind[e.source], ref_kind[e.target]
        key = (a, b, e.kind)
        if key in seen:
            continue
        seen.add(key)
        present = (a, b) in my_pairs_any if e.kind == "sync" else key in my_pairs
        if not present:
            diff.missing_connections.append({
                "from": a, "to": b, "kind": e.kind,
                "text": f"{catalog.display_name(a)} -{'' if e.kind == 'sync' else e.kind + '-'}> "
                        f"{catalog.display_name(b)}",
                "example": f"{e.source} -> {e.target}"})
    return diff
