"""What a rule operator takes: the base model of every operator's arguments, and the field types of
kind lists (catalog kinds and aliases) and edge-kind lists."""
from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema

from simulator.model.design import EDGE_KINDS
from simulator.model.roles import lookup_role, unknown_role_message
from simulator.rules.context import Context, Outcome


def _kind_list(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ValueError("expected a role (a kind or alias) or a non-empty list of them")
    out: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise ValueError(f"expected kind names, got {item!r}")
        kind = lookup_role(item)
        if kind is None:
            raise ValueError(unknown_role_message(item))
        if kind not in out:
            out.append(kind)
    return out


def _edge_kinds(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ValueError("expected an edge kind or a list of them")
    out = []
    for item in value:
        norm = item.strip().lower() if isinstance(item, str) else None
        if norm not in EDGE_KINDS:
            raise ValueError(f"unknown edge kind {item!r}; use one of {', '.join(EDGE_KINDS)}")
        out.append(norm)
    return out


# In JSON Schema a kind field takes one kind or a list of them (the validators accept both).
# rule_json_schema() replaces these markers with references to its $defs.kind and $defs.edge_kind.
SCHEMA_MARK = "x-simulator-type"
Kinds = Annotated[list[str], BeforeValidator(_kind_list), WithJsonSchema({
    SCHEMA_MARK: "kinds", "description": "a kind or alias, or a list of them"})]
EdgeKinds = Annotated[list[str] | None, BeforeValidator(_edge_kinds), WithJsonSchema({
    SCHEMA_MARK: "edge_kinds", "description": "only follow arrows of these kinds (default: all)"})]


class Arguments(BaseModel):
    """Base of every rule operator: its arguments as a frozen pydantic model (unknown fields rejected),
    its `op` name and one-line summary, and ``evaluate`` on a Context."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)
    op: ClassVar[str] = ""
    summary: ClassVar[str] = ""

    def evaluate(self, ctx: Context) -> Outcome:
        raise NotImplementedError(f"the `{self.op}` operator does not say how to evaluate itself")
