"""From the model's reply text to an ``Assessment``: find the JSON, bring it within bounds, validate it.

Over-long strings and lists are clipped and "4" or 4.0 become 4 before pydantic decides,
so a reply that is only a little off is still usable; anything else is a ``ValueError``
with a short reason.
"""
from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from simulator.feedback.answer import LIMITS, Assessment
from simulator.feedback.text import shorten


def _extract_json(text: str) -> Any:
    t = text.strip()
    fence = re.match(r"^```(?:json)?\s*(.*?)\s*```$", t, re.DOTALL)
    if fence:
        t = fence.group(1)
    try:
        return json.loads(t, strict=False)
    except ValueError:
        i, j = t.find("{"), t.rfind("}")
        if 0 <= i < j:
            return json.loads(t[i:j + 1], strict=False)
        raise


def _clip(value: Any, limit: str) -> Any:
    return value[:LIMITS[limit]] if isinstance(value, str) else value


def _rating(value: Any) -> Any:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _gap(g: Any) -> Any:
    if isinstance(g, dict):
        g = dict(g)
        g["text"] = _clip(g.get("text"), "gap")
        if isinstance(g.get("node_ids"), list):
            g["node_ids"] = [_clip(x, "node_id") for x in g["node_ids"][: LIMITS["node_ids"]]]
    return g


def _category(c: Any) -> Any:
    if isinstance(c, dict):
        c = dict(c)
        c["comment"] = _clip(c.get("comment"), "comment")
        c["category"] = _clip(c.get("category"), "category")
        c["score"] = _rating(c.get("score"))
    return c


def _normalise(data: Any) -> Any:
    """Clip over-long strings and lists, turn "4" or 4.0 into 4: then pydantic decides."""
    if not isinstance(data, dict):
        return data
    out = dict(data)
    for key, limit in (("reasoning", "reasoning"), ("summary", "summary"), ("communication_comment", "comment"),
                       ("trade_offs_comment", "comment")):
        out[key] = _clip(out.get(key), limit) if key in out else out.get(key)
    for key, item_limit, count in (("strengths", "strength", "strengths"),
                                   ("follow_up_questions", "question", "follow_up_questions")):
        if isinstance(out.get(key), list):
            out[key] = [_clip(x, item_limit) for x in out[key][: LIMITS[count]]]
    if isinstance(out.get("gaps"), list):
        out["gaps"] = [_gap(g) for g in out["gaps"][: LIMITS["gaps"]]]
    if isinstance(out.get("categories"), list):
        out["categories"] = [_category(c) for c in out["categories"][: LIMITS["categories"]]]
    for key in ("communication_score", "trade_offs_score"):
        if key in out:
            out[key] = _rating(out[key])
    if isinstance(out.get("hire_signal"), str):
        out["hire_signal"] = out["hire_signal"].strip().lower().replace(" ", "_").replace("-", "_")
    return out


def parse_assessment(content: str) -> Assessment:
    """The model's reply as an Assessment; ValueError (with a short reason) when it is not one."""
    try:
        data = _extract_json(content)
    except ValueError as exc:
        raise ValueError(f"not JSON ({shorten(str(exc), 120)})") from None
    try:
        return Assessment.model_validate(_normalise(data))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'reply'}: {e['msg']}" for e in exc.errors()[:4])
        raise ValueError(f"JSON that does not match the schema ({shorten(problems, 300)})") from None
