"""The numbers a brief sets for latency, read from its own words (`scale.latency_target`).

Briefs state their latency target as text ("p99 fraud decision < 100 ms; p99 model inference < 20 ms",
"p95 time to first token < 1.5 s"). The first "< N ms" or "< N s" is the end-to-end target the
Simulate panel shows beside its p99.
"""
from __future__ import annotations

import re

_TARGET = re.compile(r"<\s*([0-9]+(?:[.,][0-9]+)?)\s*(ms|milliseconds?|s|sec|seconds?)\b", re.IGNORECASE)


def latency_target_ms(text: str | None) -> float | None:
    """The first latency bound in ``text``, in milliseconds; None when the text states none."""
    if not text:
        return None
    m = _TARGET.search(text)
    if m is None:
        return None
    value = float(m.group(1).replace(",", "."))
    return value if m.group(2).lower().startswith("m") else value * 1000.0
