"""Keeping the API key out of every output: the ``Secret`` holder and ``scrub`` for text.

The key never appears in any output, log, exception text or stored attempt: the
configuration holds it as a ``Secret`` (prints as ***, refuses to be pickled), and every
message built from a server's reply or an exception goes through ``scrub``.
"""
from __future__ import annotations

import re
from typing import Any, NoReturn


class Secret:
    """A value that prints as *** (repr, str, dataclasses.asdict copies) and is not JSON-serialisable."""
    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "***"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __deepcopy__(self, memo: dict) -> Secret:
        return self

    def __reduce__(self) -> NoReturn:  # pickling (e.g. a session cache) would write the key out: refuse
        raise TypeError("a Secret cannot be pickled")


_KEYLIKE = re.compile(r"(sk-[A-Za-z0-9_\-*.]{4,}|Bearer\s+\S+|(?i:api[_-]?key)[\"'=:\s]+[^\s\"',}]{6,})")


def scrub(text: Any, key: str | None = None) -> str:
    """Text with the API key (and anything that looks like a key) replaced by ***."""
    out = str(text)
    if key:
        out = out.replace(key, "***")
        if len(key) >= 12:  # providers echo keys partly masked: drop long fragments of it too
            for size in (12, 8):
                for i in range(0, len(key) - size + 1):
                    frag = key[i:i + size]
                    if frag in out and not frag.startswith("sk-"):
                        out = out.replace(frag, "***")
    return _KEYLIKE.sub("***", out)
