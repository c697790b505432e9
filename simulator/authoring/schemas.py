"""JSON Schema for the three file formats, generated from the models that validate them.

Editors that speak the yaml-language-server protocol (VS Code's YAML extension, JetBrains IDEs,
Neovim with yamlls) read the first line ``# yaml-language-server: $schema=<path>`` of a file and
then complete field names, list the kinds and flag mistakes as you type. The schemas are a
convenience: ``python -m simulator validate`` stays the authority (it also runs the fixtures,
grades the reference design and catches what a schema cannot say, e.g. weights adding up to 100).

``python -m simulator schema --out DIR`` writes them; the shipped copies live in ``schemas/``.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from simulator.grading.rubric import RubricSpec
from simulator.limits import MAX_EDGES, MAX_LABEL, MAX_NODES, MAX_REPLICAS, MAX_ROLES
from simulator.model import design as design_mod
from simulator.model.scenario import ScenarioSpec
from simulator.paths import SCHEMAS_DIR
from simulator.rules.schema import KIND_NOTE, kind_names, rule_json_schema

DRAFT = "https://json-schema.org/draft/2020-12/schema"
FILES = {"scenario": "scenario.schema.json", "rubric": "rubric.schema.json", "design": "design.schema.json"}
SCHEMAS_DIR_DEFAULT = SCHEMAS_DIR


def scenario_schema() -> dict[str, Any]:
    schema = ScenarioSpec.model_json_schema()
    schema["title"] = "Scenario"
    schema["description"] = ("An interview scenario: brief, requirements, scale, phases, hints, follow-ups, "
                             "estimates and the path of its reference design. docs/authoring.md describes "
                             "every field; `python -m simulator validate` checks what a schema cannot.")
    return {"$schema": DRAFT, **schema}


def _design_parts() -> tuple[dict[str, Any], dict[str, Any]]:
    """The design object and the $defs it refers to (node, edge, kind)."""
    node = {
        "type": "object",
        "description": "a component; extra properties (zone, capacity...) are allowed and kept",
        "required": ["id", "kind"],
        "properties": {
            "id": {"type": "string", "pattern": design_mod.ID_RE.pattern,
                   "description": "unique in the design: 1-64 letters, digits, '_' or '-'"},
            "kind": {"$ref": "#/$defs/kind"},
            "label": {"type": ["string", "number"], "maxLength": MAX_LABEL,
                      "description": "free text shown on the diagram; quote it when it contains a comma"},
            "replicas": {"type": "integer", "minimum": 1, "maximum": MAX_REPLICAS, "default": 1},
            "autoscale": {"type": "boolean", "default": False},
            "roles": {"description": "what the component does beyond its kind (docs/authoring.md, Roles): a list "
                                     "of kinds or roles, or text separated by commas",
                      "anyOf": [{"type": "array", "items": {"type": "string"}, "maxItems": MAX_ROLES},
                                {"type": "string"}]},
        },
        "additionalProperties": True,
    }
    edge = {
        "type": "object",
        "description": "a connection, pointing the way the request or the data goes",
        "required": ["from", "to"],
        "properties": {
            "from": {"type": "string", "description": "id of a node"},
            "to": {"type": "string", "description": "id of another node"},
            "kind": {"type": "string", "enum": list(design_mod.EDGE_KINDS), "default": "sync",
                     "description": "sync (default), async, fallback or replication; letter case is ignored"},
            "label": {"type": ["string", "number"]},
        },
        "additionalProperties": False,
    }
    body = {
        "type": "object",
        "description": "A design: components (nodes) and connections (edges). The canvas, the text notation, "
                       "the store and the CLI all read and write this format.",
        "properties": {
            "scenario": {"type": "string", "description": "optional: the id of the scenario it answers"},
            "nodes": {"type": ["array", "null"], "items": {"$ref": "#/$defs/node"},
                      "maxItems": MAX_NODES},
            "edges": {"type": ["array", "null"], "items": {"$ref": "#/$defs/edge"},
                      "maxItems": MAX_EDGES},
            "layout": {"type": ["object", "null"], "description": "canvas positions {node id: [x, y]}; never graded",
                       "additionalProperties": {"type": "array", "items": {"type": "number"},
                                                "minItems": 2, "maxItems": 2}},
            "rating": {"type": ["object", "null"],
                       "description": "an interviewer's rating of this design for `calibrate` "
                                      "({overall: 0-100, categories: {id: 0-100}}); never graded"},
        },
        "additionalProperties": False,
    }
    defs = {"node": node, "edge": edge,
            "kind": {"type": "string", "enum": kind_names(), "description": KIND_NOTE}}
    return body, defs


def design_schema() -> dict[str, Any]:
    body, defs = _design_parts()
    return {"$schema": DRAFT, "title": "Design", **body, "$defs": defs}


def rubric_schema() -> dict[str, Any]:
    schema = RubricSpec.model_json_schema(by_alias=True)
    defs = schema.setdefault("$defs", {})
    rule = rule_json_schema()
    defs.update(rule["$defs"])
    design_body, design_defs = _design_parts()
    defs.update(design_defs)
    defs["design"] = design_body
    check = defs["CheckSpec"]["properties"]
    check["rule"] = {"$ref": "#/$defs/rule", "description": "one rule operator or combinator"}
    fixture = {"anyOf": [{"type": "string", "description": "a design in the text notation"},
                         {"$ref": "#/$defs/design"}]}
    for key in ("pass", "fail"):
        prop = defs["Fixtures"]["properties"][key]
        prop["items"] = copy.deepcopy(fixture)
    schema["title"] = "Rubric"
    schema["description"] = ("A rubric: weighted categories (weights add up to 100) and checks, each with a rule, "
                             "a hint, a follow-up question and fixtures. docs/authoring.md lists every rule.")
    return {"$schema": DRAFT, **schema}


def all_schemas() -> dict[str, dict[str, Any]]:
    return {FILES["scenario"]: scenario_schema(), FILES["rubric"]: rubric_schema(), FILES["design"]: design_schema()}


def dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_schemas(out_dir: str | Path) -> list[Path]:
    """Write the three schema files into ``out_dir`` (created if needed); returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in all_schemas().items():
        path = out / name
        path.write_text(dump(schema), encoding="utf-8")
        written.append(path)
    return written
