"""The Design model: one component graph, whatever drew it.

A design file is YAML or JSON with ``scenario`` (optional), ``nodes`` and
``edges``. Canvas, text DSL, store and CLI all convert to and from this model.
``parse_design`` reports every problem at once, each with its line.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import yaml

from simulator.errors import DesignError, InputError, Problem
from simulator.limits import MAX_EDGES, MAX_LABEL, MAX_NODES, MAX_NUMBER_DIGITS, MAX_REPLICAS, MAX_ROLES
from simulator.model import catalog
from simulator.model.roles import lookup_role, unknown_role_message
from simulator.model.yamlio import control_char, load_mapping, locate, read_text_file, value_problem
from simulator.suggest import nearest

EDGE_KINDS = ("sync", "async", "fallback", "replication")
# Always used with fullmatch: with match, `$` also matches before a final newline and "api\n" would pass.
# (The pattern is also the JSON Schema's, hence ^ and $.)
ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
NODE_FIELDS = ("id", "kind", "label", "replicas", "autoscale", "roles")
EDGE_FIELDS = ("from", "to", "kind", "label")
TOP_FIELDS = ("scenario", "nodes", "edges", "layout", "rating")


@dataclass
class Node:
    id: str
    kind: str                       # canonical catalog kind
    label: str | None = None
    replicas: int = 1
    autoscale: bool = False
    written_kind: str | None = None  # the alias as written (``redis``), kept for round trips
    extra: dict[str, Any] = field(default_factory=dict)
    roles: tuple[str, ...] = ()      # roles declared in the ``roles`` property (canonical names)
    replicas_given: bool = False     # 'replicas' was written (even as 1): a managed service is then as drawn

    def __post_init__(self) -> None:
        if self.replicas != 1:   # more than one replica is always a written size
            self.replicas_given = True

    @property
    def display(self) -> str:
        return self.label or self.id

    @property
    def managed(self) -> bool:
        """A managed, highly available and elastic service (gateway, load balancer, CDN, stream, queue,
        object store, or a product that is a replicated cluster by construction: Cassandra, DynamoDB,
        Kafka...) the candidate did not size: one box on a whiteboard is not one machine."""
        if self.sized:
            return False
        kind = catalog.KINDS.get(self.kind)
        if kind is not None and kind.managed:
            return True
        return catalog.names_ha_product(" ".join(filter(None, (self.written_kind, self.label))))

    @property
    def redundant(self) -> bool:
        """Losing one machine does not lose this component: replicas, autoscaling or a managed service."""
        return self.replicas >= 2 or self.autoscale or self.managed

    @property
    def sized(self) -> bool:
        """The candidate said how big it is: replicas written, autoscaling, or a capacity per replica."""
        return self.replicas_given or self.autoscale or "capacity" in self.extra or "max_replicas" in self.extra

    @property
    def elastic(self) -> bool:
        """The component grows with its load: it autoscales, or it is a managed service."""
        return self.autoscale or self.managed

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.written_kind or self.kind}
        if self.label:
            out["label"] = self.label
        if self.replicas != 1 or self.replicas_given:
            out["replicas"] = self.replicas
        if self.autoscale:
            out["autoscale"] = True
        if self.roles:
            out["roles"] = list(self.roles)
        out.update(self.extra)
        return out


@dataclass
class Edge:
    source: str
    target: str
    kind: str = "sync"
    label: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"from": self.source, "to": self.target}
        if self.kind != "sync":
            out["kind"] = self.kind
        if self.label:
            out["label"] = self.label
        return out


@dataclass
class Design:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    scenario: str | None = None
    warnings: list[Problem] = field(default_factory=list, compare=False, repr=False)
    # canvas positions {node id: (x, y)}: a drawing hint, never graded
    layout: dict[str, tuple[float, float]] = field(default_factory=dict, compare=False, repr=False)

    # --- lookups -------------------------------------------------------
    def node(self, node_id: str) -> Node:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    @property
    def ids(self) -> list[str]:
        return [n.id for n in self.nodes]

    def is_empty(self) -> bool:
        return not self.nodes

    # --- conversions ---------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.scenario:
            out["scenario"] = self.scenario
        out["nodes"] = [n.to_dict() for n in self.nodes]
        out["edges"] = [e.to_dict() for e in self.edges]
        layout = self.clean_layout()
        if layout:
            out["layout"] = {k: [round(x, 1), round(y, 1)] for k, (x, y) in layout.items()}
        return out

    def clean_layout(self) -> dict[str, tuple[float, float]]:
        ids = set(self.ids)
        return {k: v for k, v in self.layout.items() if k in ids}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def to_yaml(self) -> str:
        """YAML in the compact style of the examples: one flow mapping per node/edge."""
        lines: list[str] = []
        if self.scenario:
            lines.append(f"scenario: {self.scenario}")
        lines.append("nodes:" if self.nodes else "nodes: []")
        for n in self.nodes:
            lines.append(f"  - {_flow(n.to_dict())}")
        lines.append("edges:" if self.edges else "edges: []")
        for e in self.edges:
            lines.append(f"  - {_flow(e.to_dict())}")
        layout = self.to_dict().get("layout")
        if layout:
            lines.append("layout:  # canvas positions, not graded")
            for k, xy in layout.items():
                lines.append(f"  {_flow({k: xy})[1:-1]}")
        return "\n".join(lines) + "\n"

    def to_graph(self) -> nx.DiGraph:
        graph = nx.DiGraph()
        for n in self.nodes:
            graph.add_node(n.id, kind=n.kind, replicas=n.replicas, autoscale=n.autoscale)
        for e in self.edges:
            graph.add_edge(e.source, e.target, kind=e.kind)
        return graph

    def copy(self) -> Design:
        return Design(
            nodes=[Node(n.id, n.kind, n.label, n.replicas, n.autoscale, n.written_kind, dict(n.extra),
                        n.roles, n.replicas_given) for n in self.nodes],
            edges=[Edge(e.source, e.target, e.kind, e.label) for e in self.edges],
            scenario=self.scenario,
            layout=dict(self.layout),
        )

    def fingerprint(self) -> tuple:
        """What matters for grading, independent of order: equal designs grade equal."""
        return (
            tuple(sorted((n.id, n.kind, n.replicas, n.autoscale, n.label or "", n.roles, n.replicas_given)
                         for n in self.nodes)),
            tuple(sorted((e.source, e.target, e.kind) for e in self.edges)),
        )


def _flow(mapping: dict[str, Any]) -> str:
    return yaml.safe_dump(mapping, default_flow_style=True, sort_keys=False, allow_unicode=True,
                          width=10_000).strip()


# ---------------------------------------------------------------------------
# parsing
# ---------------------------------------------------------------------------

def _where(source: str | None, data: Any, loc: Iterable[Any]) -> dict[str, Any]:
    pos = locate(data, loc) if data is not None else None
    return {"file": source, "line": pos[0] if pos else None, "column": pos[1] if pos else None}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_design(data: Any, source: str | None = None) -> Design:
    """Validate plain (ideally located) data as a design; raise DesignError listing every problem."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise DesignError(Problem("a design must be a mapping with 'nodes' and 'edges'", source, 1, 1))
    huge = _huge_number_at(data)
    if huge is not None:   # only plain data can hold one (the loader stops sooner); str() of it would raise
        raise DesignError(Problem(f"'{'.'.join(map(str, huge)) or 'design'}' holds a number with more than "
                                  f"{MAX_NUMBER_DIGITS} digits", **_where(source, data, huge)))
    reader = _DesignReader(data, source)
    scenario = reader.top_level()
    raw_nodes, raw_edges = reader.lists()
    nodes, seen, broken = reader.read_nodes(raw_nodes)
    edges = reader.read_edges(raw_edges, seen, broken)
    layout = _parse_layout(data.get("layout"), seen, reader.bad, reader.warn)
    if reader.problems:
        raise DesignError(reader.problems)
    return Design(nodes=nodes, edges=edges, scenario=scenario, warnings=reader.warnings, layout=layout)


def _huge_number_at(data: Any) -> tuple | None:
    """Where the first whole number of more than MAX_NUMBER_DIGITS digits sits (as a key or a value), if any."""
    stack: list[tuple[Any, tuple]] = [(data, ())]
    while stack:
        item, loc = stack.pop()
        if _is_int(item) and item.bit_length() > MAX_NUMBER_DIGITS * 3.33:
            return loc
        if isinstance(item, dict):
            for key, value in item.items():
                if _is_int(key) and key.bit_length() > MAX_NUMBER_DIGITS * 3.33:
                    return loc
                stack.append((value, (*loc, key if isinstance(key, str) else "?")))
        elif isinstance(item, (list, tuple)):
            stack.extend((value, (*loc, i)) for i, value in enumerate(item))
    return None


class _DesignReader:
    """One design mapping being checked, with the problems and warnings found so far."""

    def __init__(self, data: dict, source: str | None) -> None:
        self.data = data
        self.source = source
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def bad(self, message: str, *loc: Any) -> None:
        self.problems.append(Problem(message, **_where(self.source, self.data, loc)))

    def warn(self, message: str, *loc: Any) -> None:
        self.warnings.append(Problem("warning: " + message, **_where(self.source, self.data, loc)))

    def top_level(self) -> str | None:
        """Report unknown top-level fields; the scenario id, when it is text."""
        for key in self.data:
            if key not in TOP_FIELDS:
                self.bad(f"unknown top-level field '{key}'; a design has {', '.join(TOP_FIELDS)}", key)
        scenario = self.data.get("scenario")
        if scenario is not None and (not isinstance(scenario, str) or control_char(scenario)):
            self.bad("'scenario' must be a scenario id (text)", "scenario")
            scenario = None
        return scenario

    def lists(self) -> tuple[list, list]:
        """The raw node and edge lists (empty when missing or not lists); too many stops the parse."""
        raw_nodes = self.data.get("nodes", [])
        raw_edges = self.data.get("edges", [])
        if raw_nodes is None:
            raw_nodes = []
        if raw_edges is None:
            raw_edges = []
        if not isinstance(raw_nodes, list):
            self.bad("'nodes' must be a list of components", "nodes")
            raw_nodes = []
        if not isinstance(raw_edges, list):
            self.bad("'edges' must be a list of connections", "edges")
            raw_edges = []
        if len(raw_nodes) > MAX_NODES:
            raise DesignError(Problem(f"too many nodes ({len(raw_nodes):,}; the limit is {MAX_NODES:,})",
                                      **_where(self.source, self.data, ["nodes"])))
        if len(raw_edges) > MAX_EDGES:
            raise DesignError(Problem(f"too many edges ({len(raw_edges):,}; the limit is {MAX_EDGES:,})",
                                      **_where(self.source, self.data, ["edges"])))
        return raw_nodes, raw_edges

    def read_nodes(self, raw_nodes: list) -> tuple[list[Node], dict[str, int], set[str]]:
        """The valid nodes, their ids by index, and the ids of nodes already reported as broken."""
        nodes: list[Node] = []
        seen: dict[str, int] = {}
        broken: set[str] = set()   # ids of nodes already reported: their edges need no second error
        for i, raw in enumerate(raw_nodes):
            node = _parse_node(raw, i, self.bad, self.warn)
            if node is None:
                if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                    broken.add(raw["id"])
                continue
            if node.id in seen:
                first = locate(self.data, ["nodes", seen[node.id]])
                self.bad(f"duplicate node id '{node.id}' (first defined on line {first[0] if first else '?'})",
                         "nodes", i, "id")
                continue
            seen[node.id] = i
            nodes.append(node)
        return nodes, seen, broken

    def read_edges(self, raw_edges: list, seen: dict[str, int], broken: set[str]) -> list[Edge]:
        edges: list[Edge] = []
        pairs: dict[tuple[str, str], int] = {}
        for i, raw in enumerate(raw_edges):
            edge = _parse_edge(raw, i, self.bad, seen, broken)
            if edge is None:
                continue
            pair = (edge.source, edge.target)
            if pair in pairs:
                first = locate(self.data, ["edges", pairs[pair]])
                self.bad(f"duplicate edge {edge.source} -> {edge.target} (first given on line "
                         f"{first[0] if first else '?'}); one connection per pair", "edges", i)
                continue
            pairs[pair] = i
            edges.append(edge)
        return edges


def _parse_layout(raw: Any, known: dict[str, int], bad, warn) -> dict[str, tuple[float, float]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        bad("'layout' must map node ids to [x, y] positions", "layout")
        return {}
    out: dict[str, tuple[float, float]] = {}
    for key, value in raw.items():
        if key not in known:
            warn(f"layout names a missing node '{key}'; its position is ignored", "layout", key)
            continue
        if (not isinstance(value, list) or len(value) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                           for v in value)):
            bad(f"layout of '{key}' must be [x, y] numbers, not {value!r}", "layout", key)
            continue
        out[key] = (float(value[0]), float(value[1]))
    return out


def _parse_node(raw: Any, i: int, bad, warn) -> Node | None:
    where = ("nodes", i)
    if not isinstance(raw, dict):
        bad(f"node #{i + 1} must be a mapping like {{id: api, kind: service}}", *where)
        return None
    node_id = raw.get("id")
    id_ok = _check_node_id(node_id, i, bad)
    name = node_id if isinstance(node_id, str) else f"#{i + 1}"
    kind_text = raw.get("kind")
    kind = _node_kind(kind_text, name, where, bad)
    label, label_ok = _node_label(raw.get("label"), name, where, bad)
    replicas = raw.get("replicas", 1)
    replicas_ok = _check_replicas(replicas, name, where, bad)
    autoscale = raw.get("autoscale", False)
    autoscale_ok = isinstance(autoscale, bool)
    if not autoscale_ok:
        bad(f"node '{name}': 'autoscale' must be true or false, not {autoscale!r}", *where, "autoscale")
    roles, roles_ok = _node_roles(raw.get("roles"), name, where, bad)
    extra = {k: v for k, v in raw.items() if k not in NODE_FIELDS}
    extra_ok = _check_extra(extra, name, where, bad, warn)
    ok = id_ok and kind is not None and label_ok and replicas_ok and autoscale_ok and extra_ok and roles_ok
    if not ok or not isinstance(node_id, str) or kind is None:
        return None
    # keep the alias as written (redis, gpt-4) for round trips, in the catalog's normal form
    normal = catalog.normal_form(str(kind_text))
    written = normal if normal != kind else None
    return Node(node_id, kind, label or None, replicas, autoscale, written, _plain(extra), roles,
                "replicas" in raw)


def _node_roles(value: Any, name: str, where: tuple, bad) -> tuple[tuple[str, ...], bool]:
    """Declared roles (a list, or text separated by commas) in canonical form, and whether all are known."""
    if value is None:
        return (), True
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or len(items) > MAX_ROLES:
        bad(f"node '{name}': 'roles' must be a list of at most {MAX_ROLES} role names, like "
            "[feature_store, cache]", *where, "roles")
        return (), False
    out: list[str] = []
    ok = True
    for item in items:
        role = lookup_role(item.strip()) if isinstance(item, str) else None
        if role is None:
            bad(f"node '{name}': {unknown_role_message(str(item).strip())}", *where, "roles")
            ok = False
        elif role not in out:
            out.append(role)
    return tuple(out), ok


def _check_node_id(node_id: Any, i: int, bad) -> bool:
    where = ("nodes", i)
    if node_id is None:
        bad(f"node #{i + 1} has no 'id'", *where)
        return False
    if not isinstance(node_id, str) or not ID_RE.fullmatch(node_id):
        bad(f"node id {node_id!r} is invalid: use 1-64 letters, digits, '_' or '-'", *where, "id")
        return False
    return True


def _node_kind(kind_text: Any, name: str, where: tuple, bad) -> str | None:
    """The canonical kind, or None once reported."""
    if kind_text is None:
        bad(f"node '{name}' has no 'kind'", *where)
        return None
    kind = catalog.lookup(kind_text) if isinstance(kind_text, str) else None
    if kind is None:
        bad(f"node '{name}': {catalog.unknown_kind_message(str(kind_text))}", *where, "kind")
    return kind


def _node_label(label: Any, name: str, where: tuple, bad) -> tuple[Any, bool]:
    """The label (a number reads as text) and whether it is valid."""
    if label is None:
        return None, True
    problem = value_problem(label)
    if problem:
        bad(f"node '{name}': 'label' {problem}", *where, "label")
        return label, False
    if isinstance(label, (int, float)) and not isinstance(label, bool):
        label = str(label)
    if not isinstance(label, str):
        bad(f"node '{name}': 'label' must be text", *where, "label")
        return label, False
    if len(label) > MAX_LABEL:
        bad(f"node '{name}': 'label' is longer than {MAX_LABEL} characters", *where, "label")
        return label, False
    return label, True


def _check_replicas(replicas: Any, name: str, where: tuple, bad) -> bool:
    if not _is_int(replicas) or replicas < 1:
        bad(f"node '{name}': 'replicas' must be a whole number >= 1, not {replicas!r}", *where, "replicas")
        return False
    if replicas > MAX_REPLICAS:
        bad(f"node '{name}': 'replicas' of {replicas:,} is absurd (limit {MAX_REPLICAS:,})", *where, "replicas")
        return False
    return True


def _check_extra(extra: dict, name: str, where: tuple, bad, warn) -> bool:
    """Properties beyond the node fields: text names, no runaway values; warn about a split label."""
    ok = True
    for key, value in extra.items():
        if isinstance(key, str) and value is None and not re.match(r"^[A-Za-z_][\w.-]*$", key):
            warn(f"node '{name}': property '{key}' has no value; an unquoted comma inside "
                 "{...} splits a label in two: put the label in quotes", *where, key)
        if not isinstance(key, str):
            bad(f"node '{name}': property names must be text", *where)
            ok = False
            continue
        problem = value_problem({key: value})   # first: json.dumps below must not meet a bad value
        if problem:
            bad(f"node '{name}': property '{_printable(key)}' {problem}", *where, key)
            ok = False
        elif isinstance(value, (dict, list)) and len(json.dumps(value, default=str)) > 2_000:
            bad(f"node '{name}': property '{key}' is too large", *where, key)
            ok = False
    return ok


def _printable(text: str) -> str:
    """Text for a message: control characters shown as escapes."""
    return text if control_char(text) is None else text.encode("unicode_escape").decode("ascii")


def _plain(value: Any) -> Any:
    """Strip located containers down to dict/list so models hold plain data."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _parse_edge(raw: Any, i: int, bad, known: dict[str, int], broken: frozenset[str] | set[str] = frozenset()
                ) -> Edge | None:
    where = ("edges", i)
    if not isinstance(raw, dict):
        bad(f"edge #{i + 1} must be a mapping like {{from: a, to: b}}", *where)
        return None
    ok = True
    for key in raw:
        if key not in EDGE_FIELDS:
            bad(f"edge #{i + 1}: unknown field '{key}'; an edge has {', '.join(EDGE_FIELDS)}", *where, key)
            ok = False
    ends = []
    for end in ("from", "to"):
        value = raw.get(end)
        if value is None:
            bad(f"edge #{i + 1} has no '{end}'", *where)
            ok = False
        elif isinstance(value, str) and value in broken:
            ok = False
        elif not isinstance(value, str) or value not in known:
            near = _near_ids(str(value), known)
            hint = f"; did you mean {near}?" if near else ""
            bad(f"edge #{i + 1} '{end}' names a missing node '{value}'{hint}", *where, end)
            ok = False
        ends.append(value)
    kind = raw.get("kind", "sync")
    kind_norm = kind.strip().lower() if isinstance(kind, str) else None
    if kind_norm not in EDGE_KINDS:
        bad(f"edge #{i + 1}: unknown edge kind {kind!r}; use one of {', '.join(EDGE_KINDS)}", *where, "kind")
        ok = False
    label = raw.get("label")
    if label is not None and not isinstance(label, (str, int, float)):
        bad(f"edge #{i + 1}: 'label' must be text", *where, "label")
        ok = False
    elif value_problem(label):
        bad(f"edge #{i + 1}: 'label' {value_problem(label)}", *where, "label")
        ok = False
    if ok and ends[0] == ends[1]:
        bad(f"edge #{i + 1} connects '{ends[0]}' to itself", *where)
        ok = False
    if not ok or kind_norm is None:
        return None
    return Edge(str(ends[0]), str(ends[1]), kind_norm, str(label) if label not in (None, "") else None)


def _near_ids(text: str, known: dict[str, int]) -> str | None:
    near = nearest(text, known)
    return near[0] if near else None


def load_design_text(text: str, source: str | None = None) -> Design:
    data = load_mapping(text, source, "design")
    return parse_design(data, source)


def load_design(path) -> Design:
    return load_design_text(read_text_file(path), str(path))


def design_from_dict(data: dict[str, Any]) -> Design:
    """A design from plain data (a stored attempt, a canvas); raises DesignError."""
    return parse_design(data, None)


__all__ = [
    "EDGE_KINDS",
    "Design",
    "DesignError",
    "Edge",
    "InputError",
    "Node",
    "design_from_dict",
    "load_design",
    "load_design_text",
    "parse_design",
]
