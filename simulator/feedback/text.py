"""Short text for prompts and messages: whitespace collapsed, long text cut with an ellipsis."""
from __future__ import annotations

from typing import Any


def shorten(text: Any, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters (the last one an ellipsis when cut)."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
