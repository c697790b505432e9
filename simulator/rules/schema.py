"""The JSON Schema of a rule, for editors, and the names a kind field accepts."""
from __future__ import annotations

from typing import Any

from simulator.model import catalog
from simulator.model.design import EDGE_KINDS
from simulator.model.roles import EXTRA_ROLES
from simulator.rules.arguments import SCHEMA_MARK
from simulator.rules.registry import OPERATORS


def kind_names() -> list[str]:
    """Every name a kind field accepts: catalog kinds and aliases, as written and in normal form."""
    names = set(catalog.ALIASES)
    for kind in catalog.KINDS.values():
        names.add(kind.name)
        names.update(catalog.normal_form(a) for a in kind.aliases)
    return sorted(names)


KIND_NOTE = ("a component kind or alias from the catalog (`python -m simulator kinds`); the simulator also "
             "accepts any letter case, and spaces or hyphens for '_'")


def _resolve_marks(node: Any) -> Any:
    """Replace the kind-field markers with "one name or a non-empty list of names" schemas."""
    if isinstance(node, list):
        return [_resolve_marks(v) for v in node]
    if not isinstance(node, dict):
        return node
    mark = node.get(SCHEMA_MARK)
    if mark in ("kinds", "edge_kinds"):
        ref = {"$ref": "#/$defs/role" if mark == "kinds" else "#/$defs/edge_kind"}
        out = {k: v for k, v in node.items() if k != SCHEMA_MARK}
        options = [ref, {"type": "array", "items": ref, "minItems": 1}]
        if mark == "edge_kinds":
            options.append({"type": "null"})
        out["anyOf"] = options
        return out
    return {k: _resolve_marks(v) for k, v in node.items()}


def rule_json_schema() -> dict:
    """JSON Schema of a rule (operators and combinators), for editors.

    A self-contained document: the rule itself is ``$defs.rule`` (combinators refer to it by
    ``#/$defs/rule``), next to ``$defs.kind`` and ``$defs.edge_kind``. To embed it, merge its
    ``$defs`` into the host document's ``$defs`` and point at ``#/$defs/rule``.
    """
    defs: dict[str, Any] = {}
    variants = []
    for op, cls in OPERATORS.items():
        schema = cls.model_json_schema(by_alias=True)
        defs.update(schema.pop("$defs", {}))
        schema.pop("title", None)
        schema["description"] = cls.summary
        variants.append({"type": "object", "properties": {op: schema}, "required": [op],
                         "additionalProperties": False, "description": f"{op}: {cls.summary}"})
    ref = {"$ref": "#/$defs/rule"}
    variants.append({"type": "object", "properties": {"all": {"type": "array", "items": ref, "minItems": 1}},
                     "required": ["all"], "additionalProperties": False,
                     "description": "all: every rule of the list holds"})
    variants.append({"type": "object", "properties": {"any": {"type": "array", "items": ref, "minItems": 1}},
                     "required": ["any"], "additionalProperties": False,
                     "description": "any: at least one rule of the list holds"})
    variants.append({"type": "object", "properties": {"not": ref}, "required": ["not"],
                     "additionalProperties": False, "description": "not: the rule does not hold"})
    variants = _resolve_marks(variants)
    defs = _resolve_marks(defs)
    defs["rule"] = {"oneOf": variants,
                    "description": "one operator (" + ", ".join(OPERATORS) + ") or combinator (all, any, not)"}
    defs["kind"] = {"type": "string", "enum": kind_names(), "description": KIND_NOTE}
    defs["role"] = {"type": "string", "enum": sorted({*kind_names(), *EXTRA_ROLES}),
                    "description": "a kind or alias, or a role beyond the kinds (docs/authoring.md, Roles)"}
    defs["edge_kind"] = {"type": "string", "enum": list(EDGE_KINDS),
                         "description": "an arrow kind (the simulator ignores letter case)"}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": "#/$defs/rule", "$defs": defs}
