"""The model's answer: the ``Assessment`` it must return (flat, bounded) and its strict JSON schema.

``LIMITS`` bounds every string and list of the answer; ``response_schema`` turns the
pydantic model into the schema sent as the structured-output format (or in the prompt).
"""
from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

LIMITS = {
    "reasoning": 600, "summary": 400, "strength": 160, "gap": 180, "node_id": 64, "question": 160,
    "category": 40, "comment": 160,
    "strengths": 5, "gaps": 5, "node_ids": 3, "follow_up_questions": 4, "categories": 8,
}
MAX_NODE_ENUM = 100   # designs up to this size get their node ids as an enum in the schema

Rating = Literal[1, 2, 3, 4, 5]
HireSignal = Literal["strong_no", "no", "lean_no", "lean_yes", "yes", "strong_yes"]
HIRE_SIGNALS: tuple[str, ...] = get_args(HireSignal)

ReasoningText = Annotated[str, StringConstraints(max_length=LIMITS["reasoning"])]
SummaryText = Annotated[str, StringConstraints(max_length=LIMITS["summary"])]
StrengthText = Annotated[str, StringConstraints(max_length=LIMITS["strength"])]
GapText = Annotated[str, StringConstraints(max_length=LIMITS["gap"])]
NodeIdText = Annotated[str, StringConstraints(max_length=LIMITS["node_id"])]
QuestionText = Annotated[str, StringConstraints(max_length=LIMITS["question"])]
CategoryText = Annotated[str, StringConstraints(max_length=LIMITS["category"])]
CommentText = Annotated[str, StringConstraints(max_length=LIMITS["comment"])]


class GapItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: GapText = Field(description="what is missing or weak, and why it matters")
    node_ids: list[NodeIdText] = Field(max_length=LIMITS["node_ids"],
                                       description="ids of the design's nodes concerned; [] if none")


class CategoryItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: CategoryText = Field(description="a rubric category name")
    score: Rating = Field(description="1 poor, 3 meets the bar, 5 exceptional")
    comment: CommentText


class Assessment(BaseModel):
    """What the model must return. Field order matters: reasoning comes first."""
    model_config = ConfigDict(extra="forbid")
    reasoning: ReasoningText = Field(description="brief private reasoning before any score")
    summary: SummaryText = Field(description="two or three sentences to the candidate")
    strengths: list[StrengthText] = Field(max_length=LIMITS["strengths"])
    gaps: list[GapItem] = Field(max_length=LIMITS["gaps"])
    follow_up_questions: list[QuestionText] = Field(max_length=LIMITS["follow_up_questions"])
    categories: list[CategoryItem] = Field(max_length=LIMITS["categories"])
    communication_score: Rating
    communication_comment: CommentText
    trade_offs_score: Rating
    trade_offs_comment: CommentText
    hire_signal: HireSignal


def _strict(node: Any, defs: dict[str, Any], *, bounded: bool, string_bounds: bool) -> Any:
    """A schema node with $refs inlined, titles and defaults dropped, every object closed and fully required."""
    if isinstance(node, list):
        return [_strict(x, defs, bounded=bounded, string_bounds=string_bounds) for x in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _strict(dict(defs[node["$ref"].rsplit("/", 1)[-1]]), defs, bounded=bounded,
                       string_bounds=string_bounds)
    out = {}
    for key, value in node.items():
        if key in ("title", "default"):
            continue
        if not bounded and key in ("maxLength", "maxItems", "minLength", "minItems"):
            continue
        if not string_bounds and key in ("maxLength", "minLength"):
            continue
        out[key] = _strict(value, defs, bounded=bounded, string_bounds=string_bounds) if key != "required" else value
    if out.get("type") == "object" and "properties" in out:
        out["additionalProperties"] = False
        out["required"] = list(out["properties"])
    return out


def response_schema(categories: list[str] | None = None, *, bounded: bool = True,
                    string_bounds: bool = True, node_ids: list[str] | None = None) -> dict[str, Any]:
    """The strict JSON schema of ``Assessment``: inlined, every field required, no extra fields.

    ``categories`` narrows the category names to the rubric's enum, ``node_ids`` the gaps'
    node ids to the design's (up to MAX_NODE_ENUM nodes). ``string_bounds=False``
    drops the strings' maxLength (kept: list maxItems, enums); ``bounded=False`` drops every
    length and item bound. Replies are validated here whatever the server enforced.
    """
    raw = Assessment.model_json_schema()
    defs = raw.pop("$defs", {})
    schema = _strict(raw, defs, bounded=bounded, string_bounds=string_bounds)
    if categories:
        item = schema["properties"]["categories"]["items"]["properties"]["category"]
        item.pop("maxLength", None)
        item["enum"] = list(categories)
        if bounded:
            schema["properties"]["categories"]["maxItems"] = len(categories)
    if node_ids and len(node_ids) <= MAX_NODE_ENUM:
        item = schema["properties"]["gaps"]["items"]["properties"]["node_ids"]["items"]
        item.pop("maxLength", None)
        item["enum"] = list(node_ids)
    return schema
