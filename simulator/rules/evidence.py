"""How rule evidence names what it found: a list of kinds ("cache or cdn") and a path ("a -> b -> c").
Lists of node ids are shortened as the simulation does (``simulator.simulation.formatting.id_list``)."""
from __future__ import annotations


def kinds_text(kinds: list[str]) -> str:
    """``cache or cdn``; ``a, b, c or d`` for more than three."""
    return " or ".join(kinds) if len(kinds) <= 3 else ", ".join(kinds[:-1]) + " or " + kinds[-1]


def arrow(path: list[str]) -> str:
    """A path as ``a -> b -> c``."""
    return " -> ".join(path)
