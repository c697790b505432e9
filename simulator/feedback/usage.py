"""Tokens and their price: a review's ``Usage`` (reported by the server or estimated) and its cost in USD.

Without a server's count, tokens are estimated at about four characters each.
"""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Any

CHARS_PER_TOKEN = 4.0

# USD per 1 M tokens (input, output), list prices; None for models not listed here.
PRICES_PER_1M: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "o4-mini": (1.10, 4.40),
    "o3-mini": (1.10, 4.40),
    "o3": (2.00, 8.00),
}


def estimate_tokens(text: str) -> int:
    """About one token per four characters (English prose and code)."""
    return chars_to_tokens(len(text))


def chars_to_tokens(chars: int) -> int:
    """The estimated tokens of ``chars`` characters."""
    return math.ceil(chars / CHARS_PER_TOKEN)


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    estimated: bool = False

    def add(self, other: Usage) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.total_tokens += other.total_tokens
        self.estimated = self.estimated or other.estimated

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def for_store(self) -> dict[str, int]:
        """Numbers only, as Store.set_feedback(token_usage=...) wants them (estimated as 0/1)."""
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "total_tokens": self.total_tokens, "estimated": int(self.estimated)}


def estimated_usage(prompt_chars: int, completion_chars: int) -> Usage:
    """Usage estimated from characters, for servers that report none (or streams cut short)."""
    p, c = chars_to_tokens(prompt_chars), chars_to_tokens(completion_chars)
    return Usage(p, c, p + c, True)


def _price_key(model: str | None) -> str | None:
    if not model:
        return None
    name = model.lower().rsplit("/", 1)[-1]
    name = re.sub(r"-\d{4}-\d{2}-\d{2}$", "", name)
    return name if name in PRICES_PER_1M else None


def estimate_cost(model: str | None, prompt_tokens: int | None, completion_tokens: int | None) -> float | None:
    """USD for a known OpenAI model (list prices in PRICES_PER_1M); None for others."""
    key = _price_key(model)
    if key is None or prompt_tokens is None or completion_tokens is None:
        return None
    inp, outp = PRICES_PER_1M[key]
    return round((prompt_tokens * inp + completion_tokens * outp) / 1_000_000, 6)
