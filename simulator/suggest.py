"""'Did you mean ...?': the one way the simulator suggests a name for a misspelt one."""
from __future__ import annotations

import difflib
from collections.abc import Iterable

CUTOFF = 0.6   # how close a known name must be (difflib ratio) to be suggested


def nearest(text: object, known: Iterable[str], n: int = 1, cutoff: float = CUTOFF) -> list[str]:
    """Up to `n` known names closest to `text`, best first; empty when none is close enough."""
    return difflib.get_close_matches(str(text), list(known), n=n, cutoff=cutoff)


def did_you_mean(text: object, known: Iterable[str], *, n: int = 1, prefix: str = "; ",
                 cutoff: float = CUTOFF) -> str:
    """A hint to append to a message: `'; did you mean through?'`, or '' when nothing is close."""
    near = nearest(text, known, n=n, cutoff=cutoff)
    return f"{prefix}did you mean {', '.join(near)}?" if near else ""
