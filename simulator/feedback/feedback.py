"""The ``Feedback`` result both graders give: its fields, its dict forms and its plain text for a terminal.

``status`` is ``ok`` (the model's text), ``unavailable`` (the model failed; the rule
grader's text and a reason) or ``off`` (no model configured; the rule grader's text).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from simulator.feedback.scoring import ADJUSTMENT_NAME
from simulator.feedback.usage import Usage


@dataclass
class Feedback:
    status: str                                   # ok | unavailable | off
    reason: str | None
    grader: str                                   # "rules" or "llm:<model>": who wrote the text
    model: str | None
    summary: str
    strengths: list[str]
    gaps: list[dict[str, Any]]                    # {text, node_ids}
    follow_up_questions: list[str]
    categories: list[dict[str, Any]]              # {category, title, rule_score, rating, comment}
    rule_score: float
    adjustment: float = 0.0
    final_score: float = 0.0
    adjustment_name: str = ADJUSTMENT_NAME
    communication: dict[str, Any] | None = None   # {score, comment}
    trade_offs: dict[str, Any] | None = None
    hire_signal: str | None = None
    reasoning: str | None = None
    usage: Usage | None = None
    cost_usd: float | None = None
    host: str | None = None
    response_format: str | None = None
    notes_truncated: bool = False
    prompt_tokens_estimate: int | None = None
    elapsed_s: float | None = None
    rule_feedback: dict[str, Any] | None = None   # the rule grader's text, kept beside the model's

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["usage"] = self.usage.to_dict() if self.usage else None
        return out

    def llm_dict(self) -> dict[str, Any]:
        """The CLI's ``"llm"`` object."""
        d = self.to_dict()
        keys = ("status", "reason", "model", "host", "summary", "strengths", "gaps", "follow_up_questions",
                "categories", "communication", "trade_offs", "hire_signal", "rule_score", "adjustment_name",
                "adjustment", "final_score", "usage", "cost_usd", "response_format", "notes_truncated")
        return {k: d[k] for k in keys}

    def token_usage(self) -> dict[str, int] | None:
        return self.usage.for_store() if self.usage else None


def _heading(feedback: Feedback) -> str:
    if feedback.status == "ok":
        return f"Interviewer feedback ({feedback.model}):"
    if feedback.status == "unavailable":
        return f"LLM feedback unavailable ({feedback.reason}); the rule grader's notes:"
    return "Interviewer notes (rule grader" + (f"; {feedback.reason}" if feedback.reason else "") + "):"


def _notes_lines(feedback: Feedback) -> list[str]:
    """Strengths, gaps, follow-up questions and the comment per category."""
    lines: list[str] = []
    if feedback.strengths:
        lines += ["", "Strong:"] + [f"  + {s}" for s in feedback.strengths]
    if feedback.gaps:
        lines += ["", "Missing:"]
        for g in feedback.gaps:
            nodes = f" [{', '.join(g['node_ids'])}]" if g.get("node_ids") else ""
            lines.append(f"  - {g['text']}{nodes}")
    if feedback.follow_up_questions:
        lines += ["", "Follow-up questions:"] + [f"  ? {q}" for q in feedback.follow_up_questions]
    if feedback.categories:
        lines += ["", "By category:"]
        for c in feedback.categories:
            rating = f", rated {c['rating']}/5" if c.get("rating") else ""
            lines.append(f"  {c['title']} ({c['rule_score']:g}/100{rating}): {c['comment']}")
    return lines


def _model_lines(feedback: Feedback) -> list[str]:
    """What only the model gives: communication, trade-offs, hire signal, the score's sum, tokens."""
    lines: list[str] = []
    for name, part in (("Communication", feedback.communication), ("Trade-offs", feedback.trade_offs)):
        if part:
            lines.append(f"  {name} ({part['score']}/5): {part['comment']}")
    lines += ["", f"Hire signal: {feedback.hire_signal}",
              f"Score: rule {feedback.rule_score:g} {feedback.adjustment:+g} ({feedback.adjustment_name}) "
              f"= {feedback.final_score:g} / 100"]
    if feedback.usage:
        u = feedback.usage
        cost = f", about ${feedback.cost_usd:.4f}" if feedback.cost_usd is not None else ""
        lines.append(f"Tokens: {u.prompt_tokens} prompt + {u.completion_tokens} completion"
                     f"{' (estimated)' if u.estimated else ''}{cost}")
    return lines


def format_feedback(feedback: Feedback) -> str:
    """Plain text of the feedback for a terminal."""
    lines = [_heading(feedback), "", feedback.summary, *_notes_lines(feedback)]
    if feedback.status == "ok":
        lines += _model_lines(feedback)
    return "\n".join(lines)
