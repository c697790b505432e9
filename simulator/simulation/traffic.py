"""The traffic that enters a design: a scenario's traffic profile (req/s per source, by entry kind) and
the rate entering at each entry node."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulator.errors import Problem, SimulatorError
from simulator.limits import MAX_RPS
from simulator.model import catalog
from simulator.simulation.compiler import Compiled
from simulator.simulation.formatting import id_list, num
from simulator.simulation.inputs import bounded_number


def normalise_entry_rates(entry_rates: Mapping[str, Any] | None) -> dict[str, float]:
    """A traffic profile's ``{kind: req/s per source}`` with kinds in canonical form (aliases such as
    camera -> sensor are accepted). Raises SimulatorError for an unknown kind or a bad rate."""
    if entry_rates is None:
        return {}
    if not isinstance(entry_rates, Mapping):
        raise SimulatorError(f"entry rates must be a mapping of node kind to req/s, not {entry_rates!r}")
    out: dict[str, float] = {}
    problems: list[Problem] = []
    for key, value in entry_rates.items():
        kind = catalog.lookup(key) if isinstance(key, str) else None
        if kind is None:
            problems.append(Problem(f"entry rates: {catalog.unknown_kind_message(str(key))}"))
            continue
        rate = bounded_number(value, 0.0, MAX_RPS)
        if rate is None:
            problems.append(Problem(f"entry rates: the rate of '{key}' must be a number from 0 to "
                                    f"{MAX_RPS:g} req/s, not {value!r}"))
            continue
        out[kind] = rate
    if problems:
        raise SimulatorError(problems)
    return out


def entry_loads(m: Compiled, peak_rps: float, load: float, spike: float,
                rates_by_kind: Mapping[str, float]) -> tuple[list[float], list[str]]:
    """The req/s entering at each entry node, and notes on the traffic profile.

    Without a profile the peak is split evenly between the entries. With one, an entry whose kind the
    profile lists gets that rate for each of its replicas (``cams: camera x8`` is eight cameras); the
    other entries split the peak evenly. Both scale with ``load`` and the chaos spike."""
    entries = m.entries
    if not entries:
        return [], []
    offered = peak_rps * load * spike
    if not rates_by_kind:
        share = offered / len(entries)
        return [share] * len(entries), []
    rest = [e for e in entries if m.kinds[e] not in rates_by_kind]
    split = offered / len(rest) if rest else 0.0
    rates = []
    for e in entries:
        if m.kinds[e] in rates_by_kind:
            rates.append(rates_by_kind[m.kinds[e]] * m.reps[e] * load * spike)
        else:
            rates.append(split)
    notes = []
    shown = []
    for e, rate in zip(entries, rates, strict=True):
        if m.kinds[e] in rates_by_kind:
            each = f"{m.kinds[e]} {num(rates_by_kind[m.kinds[e]])}"
            each += f" x {m.reps[e]}" if m.reps[e] > 1 else ""
            shown.append(f"{m.ids[e]} {num(rate)} req/s ({each})")
    if shown:
        text = "traffic profile: " + id_list(shown, 6)
        if rest:
            text += (f"; {id_list([m.ids[e] for e in rest])} share{'s' if len(rest) == 1 else ''} "
                     f"the peak {num(offered)} req/s")
        notes.append(text)
    unused = [k for k in rates_by_kind if k not in {m.kinds[e] for e in entries}]
    if unused:
        notes.append(f"traffic profile: no entry node of kind {', '.join(unused)} (its rate is unused)")
    return rates, notes
