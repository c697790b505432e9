"""Untrusted text inside Markdown: escaped so it shows as the characters typed, never as markup.

Labels, notes, imported reports and whatever a model writes are shown by Markdown renderers (Streamlit,
the canvas). Rendered as Markdown, `<img src=...>` makes the browser fetch an attacker's URL and
`[x](http://...)` becomes a link. ``literal`` makes such text inert: HTML is entity-escaped and every
Markdown punctuation character is backslash-escaped, so it reads exactly as written. ``no_links`` is for
authored text that keeps its emphasis and `code` (rubric hints) but may have travelled through an
import: HTML, links, images and Streamlit's `:color[...]` directives are made inert.
"""
from __future__ import annotations

import re
from typing import Any

_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:$=\"'])")


def literal(text: Any) -> str:
    """``text`` as plain text for a Markdown renderer (line breaks kept as hard breaks)."""
    value = "".join(_HTML.get(ch, ch) for ch in str(text))
    value = _MARKDOWN.sub(r"\\\1", value)
    return value.replace("\n", "  \n")


_LINKISH = re.compile(r"([\[\]$])")


def no_links(text: Any) -> str:
    """``text`` for a Markdown renderer with emphasis and code kept, and no HTML, link or image."""
    value = "".join(_HTML.get(ch, ch) for ch in str(text))
    return _LINKISH.sub(r"\\\1", value)
