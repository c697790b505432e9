"""The conditions a simulation runs under: the nodes failed by hand and the effects of the chaos presets
(nodes taken down, hit rates flushed), with notes on what each did."""
from __future__ import annotations

from collections.abc import Iterable

from simulator.errors import DesignError, Problem
from simulator.simulation.chaos import Chaos
from simulator.simulation.compiler import Compiled
from simulator.simulation.constants import MODEL_KINDS
from simulator.simulation.formatting import id_list
from simulator.suggest import nearest


def resolve_failed(m: Compiled, failed: Iterable[str]) -> list[str]:
    """The distinct ids of the nodes to fail (one id or several); DesignError naming each id the design
    lacks, with the nearest one."""
    if isinstance(failed, str):
        failed = [failed]
    out: list[str] = []
    problems: list[Problem] = []
    for nid in failed:
        if nid not in m.index:
            near = nearest(nid, m.ids, cutoff=0.5)
            hint = f"; did you mean '{near[0]}'?" if near else (
                f"; the design's nodes are {id_list(m.ids)}" if m.ids else "; the design has no nodes")
            problems.append(Problem(f"cannot fail node '{nid}': the design has no such node{hint}"))
        elif nid not in out:
            out.append(nid)
    if problems:
        raise DesignError(problems)
    return out


def conditions(m: Compiled, failed: Iterable[str], chaos: Chaos) -> tuple[list[bool], list[float], list[str]]:
    """The failed mask, hit rates and notes of a hand-made failure set under a chaos preset."""
    names = resolve_failed(m, failed)
    mask = m.failed_mask(names)
    notes: list[str] = []
    hit = list(m.hit)
    if chaos.cache_flush:
        flushed = [m.ids[i] for i in range(m.n) if m.has_hit[i]]
        hit = [0.0] * m.n
        notes.append(f"cache flush: hit rate 0 at {id_list(flushed)}" if flushed
                     else "cache flush: the design has no cache or CDN")
    if chaos.primary_model_down:
        down = [i for i in range(m.n) if m.kinds[i] in MODEL_KINDS and m.sync_in[i]]
        for i in down:
            mask[i] = True
        notes.append(f"primary models down: {id_list([m.ids[i] for i in down])}" if down
                     else "primary models down: no model_server or llm is called by a sync arrow")
    if chaos.zone_lost is not None:
        down = [i for i in range(m.n) if m.zone[i] == chaos.zone_lost]
        for i in down:
            mask[i] = True
        if down:
            notes.append(f"zone {chaos.zone_lost} lost: {id_list([m.ids[i] for i in down])}")
        else:
            zones = sorted({z for z in m.zone if z is not None})
            notes.append(f"zone {chaos.zone_lost} lost: no node has zone={chaos.zone_lost}"
                         + (f" (zones in the design: {', '.join(zones)})" if zones else
                            " (no node has a zone property)"))
    return mask, hit, notes
