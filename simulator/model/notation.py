"""A compact text notation for designs that round-trips with the Design model.

    # components: id ':' kind [xN] [autoscale] ["label"] [key=value ...]
    api: service x3 autoscale "Chat API"
    cache: redis
    # connections: id -> id (chains allowed); -async->, -fallback->, -replication->
    client -> gateway -> api -> cache
    router -fallback-> small_llm "when the primary is down"

An id used in a connection without a declaration is fine when it is itself a
kind or alias (``client``, ``redis``, ``llm``): it becomes a node of that kind.
Every error names its line.
"""
from __future__ import annotations

import json
import re
from typing import Any

import yaml

from simulator.errors import DesignError, InputError, MalformedInput, Problem
from simulator.limits import MAX_FILE_BYTES, MAX_NOTATION_LINES, MAX_REPLICAS
from simulator.model import catalog
from simulator.model.design import EDGE_KINDS, ID_RE, Design, parse_design
from simulator.model.yamlio import LocatedDict, LocatedList, load_text, raw_control

_QUOTED = r'"(?:[^"\\]|\\.)*"'
_TOKEN = re.compile(rf"(?:{_QUOTED}|[^\s=\"']+)=(?:{_QUOTED}|'[^']*'|\S*)|{_QUOTED}|'[^']*'|\S+")
_ONE_QUOTED = re.compile(rf"{_QUOTED}|'[^']*'")
_ARROW = re.compile(r"^(?:->|-(sync|async|fallback|replication)->)$")
_ANY_ARROW = re.compile(r"(-[A-Za-z_]*->|->)")
_REPLICAS = re.compile(r"^[x×](\d+)$", re.IGNORECASE)


def _tokens(line: str) -> list[str]:
    out = []
    for tok in _TOKEN.findall(line):
        if tok.startswith("#"):
            break
        out.append(tok)
    return out


def _unquote(tok: str) -> str | None:
    """The text of a token that is one quoted string, else None. `"a b"="c d"` (a property with a quoted
    name and value) starts and ends with a quote but is not one string: it is not a label."""
    if _ONE_QUOTED.fullmatch(tok):
        body = tok[1:-1]
        if tok[0] == "'":
            return body
        try:
            value = json.loads(tok)   # "..." follows JSON string escapes (\n, \", \\, \u2028)
            if isinstance(value, str):
                return value
        except ValueError:
            pass
        return body.replace('\\"', '"').replace("\\\\", "\\")
    return None


def _split_arrows(line: str) -> list[str]:
    """Separate arrows glued to ids (``a->b``) without touching quoted text."""
    parts = []
    for tok in _tokens(line):
        if _unquote(tok) is not None:
            parts.append(tok)
            continue
        pieces = _ANY_ARROW.split(tok)
        parts.extend(p for p in pieces if p)
    return parts


def _scalar(text: str) -> Any:
    """A property value: quoted text, or a YAML value read with the file loader's limits (nesting,
    digits, control characters raise InputError); text that is not valid YAML stays text."""
    quoted = _unquote(text)
    if quoted is not None:
        return quoted
    try:
        value = load_text(text)
    except MalformedInput:
        return text
    return value if isinstance(value, (str, int, float, bool, list, dict)) or value is None else text


def parse_dsl(text: str, source: str | None = None) -> Design:
    """Parse DSL text into a Design; DesignError lists every bad line."""
    if len(text) > MAX_FILE_BYTES:
        raise DesignError(Problem(f"the text is too large ({len(text):,} characters; the limit is "
                                  f"{MAX_FILE_BYTES:,})", source))
    try:
        raw_control(text, source)
    except InputError as exc:
        raise DesignError(exc.problems) from None
    lines = text.splitlines()
    if len(lines) > MAX_NOTATION_LINES:
        raise DesignError(Problem(f"too many lines ({len(lines):,}; the limit is {MAX_NOTATION_LINES:,})", source))
    reader = _DslReader(source)
    edge_lines: list[tuple[int, str]] = []
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "->" in _strip_quoted(line):
            edge_lines.append((lineno, line))
            continue
        reader.declare(lineno, line)
    for lineno, line in edge_lines:
        reader.connect(lineno, line)
    return reader.design()


class _DslReader:
    """The state of one parse: the components and connections read so far and the problems found."""

    def __init__(self, source: str | None) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.nodes = LocatedList()
        self.nodes.pos = (1, 1)
        self.edges = LocatedList()
        self.edges.pos = (1, 1)
        self.declared: dict[str, int] = {}
        self.failed: set[str] = set()  # declarations already reported: no second error where they are used

    def bad(self, lineno: int, message: str) -> None:
        self.problems.append(Problem(message, self.source, lineno))

    def _add_node(self, node: LocatedDict, lineno: int) -> None:
        self.declared[node["id"]] = lineno
        self.nodes.append(node)
        self.nodes.item_pos.append((lineno, 1))

    def declare(self, lineno: int, line: str) -> None:
        """A component line: `id: kind ...`, or a lone kind name."""
        m = re.match(r"^([^\s:]+)\s*:\s*(.*)$", line)
        if not m and catalog.lookup(line) and ID_RE.fullmatch(line):
            m = re.match(r"^(.*)()$", line)   # a lone kind name: a component of that kind
            rest_kind = line
        else:
            rest_kind = None
        if not m:
            self.bad(lineno, f"cannot read '{_short(line)}': write `id: kind` for a component or `a -> b` "
                             "for a connection")
            return
        node_id, rest = m.group(1), rest_kind or m.group(2)
        if not ID_RE.fullmatch(node_id):
            self.bad(lineno, f"component id '{node_id}' is invalid: use letters, digits, '_' or '-'")
            return
        if node_id in self.declared:
            self.bad(lineno, f"component '{node_id}' is declared twice (first on line {self.declared[node_id]})")
            return
        node = _parse_node_line(node_id, rest, lineno, self.bad)
        if node is None:
            self.failed.add(node_id)
            return
        self._add_node(node, lineno)

    def connect(self, lineno: int, line: str) -> None:
        """A connection line: `a -> b -> c ["label"]`."""
        if re.search(r"[^\s:]:(\s|$)", _strip_quoted(line)):
            self.bad(lineno, f"cannot read connection '{_short(line)}': declare components on their own line "
                             "(`model: model_server x3`), then connect them (`scoring -> model`)")
            return
        parts = _split_arrows(line)
        label = None
        if parts and _unquote(parts[-1]) is not None:
            label = _unquote(parts.pop())
        if len(parts) < 3 or len(parts) % 2 == 0:
            self.bad(lineno, f"cannot read connection '{_short(line)}': write `a -> b` (or -async->, "
                             "-fallback->, -replication->)")
            return
        arrows_ok = self._check_arrows(lineno, parts[1::2])
        ends_ok = self._resolve_ends(lineno, parts[0::2])
        if arrows_ok and ends_ok:
            self._add_edges(lineno, parts, label)

    def _check_arrows(self, lineno: int, arrows: list[str]) -> bool:
        ok = True
        for arrow in arrows:
            if not _ARROW.match(arrow):
                self.bad(lineno, f"unknown arrow '{arrow}': use ->, " + ", ".join(f"-{k}->" for k in EDGE_KINDS))
                ok = False
        return ok

    def _resolve_ends(self, lineno: int, ids: list[str]) -> bool:
        """Every id of a connection is declared, or is a kind that becomes a component of that kind."""
        ok = True
        reported: set[str] = set()   # once per line: `a->a->a...` is one problem, not 20,000 (each with a search)
        for node_id in ids:
            if node_id in self.declared:
                continue
            if node_id in self.failed or node_id in reported:
                ok = False
                continue
            reported.add(node_id)
            if not ID_RE.fullmatch(node_id):
                self.bad(lineno, f"'{node_id}' is not a valid component id")
                ok = False
                continue
            kind = catalog.lookup(node_id)
            if kind is None:
                near = catalog.suggest(node_id)
                hint = f" (or did you mean the kind {', '.join(near)}?)" if near else ""
                self.bad(lineno, f"'{node_id}' is not declared: add a line `{node_id}: <kind>`{hint}")
                ok = False
                continue
            node = LocatedDict(id=node_id, kind=node_id)
            node.pos = (lineno, 1)
            self._add_node(node, lineno)
        return ok

    def _add_edges(self, lineno: int, parts: list[str], label: str | None) -> None:
        for k in range(0, len(parts) - 2, 2):
            arrow_kind = _ARROW.match(parts[k + 1])
            edge = LocatedDict({"from": parts[k], "to": parts[k + 2]})
            if arrow_kind is not None and arrow_kind.group(1):
                edge["kind"] = arrow_kind.group(1)
            if label:
                edge["label"] = label
            edge.pos = (lineno, 1)
            self.edges.append(edge)
            self.edges.item_pos.append((lineno, 1))

    def design(self) -> Design:
        """The design read, checked by parse_design; DesignError lists every problem by line."""
        data = LocatedDict(nodes=self.nodes, edges=self.edges)
        data.pos = (1, 1)
        data.key_pos = {"nodes": (1, 1), "edges": (1, 1)}
        problems = list(self.problems)
        try:
            design = parse_design(data, self.source)
        except DesignError as exc:
            problems.extend(exc.problems)
        if problems:
            raise DesignError(sorted(problems, key=lambda p: p.line or 0))
        return design


# An unclosed quote runs to the end of the line: were it to fail, the search would start again at every
# later quote and scan to the end each time (quadratic: a 40 kB line of \" took 12 s).
_QUOTED_OR_OPEN = re.compile(r'"(?:[^"\\]|\\.)*(?:"|\\?$)|\'[^\']*(?:\'|$)')


def _strip_quoted(line: str) -> str:
    return _QUOTED_OR_OPEN.sub('""', line)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _parse_node_line(node_id: str, rest: str, lineno: int, bad) -> LocatedDict | None:
    toks = _tokens(rest)
    if not toks:
        bad(lineno, f"component '{node_id}' has no kind: write `{node_id}: service` (or another kind)")
        return None
    node = LocatedDict(id=node_id, kind=toks[0])
    node.pos = (lineno, 1)
    node.key_pos = {"id": (lineno, 1), "kind": (lineno, 1)}
    if catalog.lookup(toks[0]) is None:
        bad(lineno, f"component '{node_id}': {catalog.unknown_kind_message(toks[0])}")
        return None
    for tok in toks[1:]:
        quoted = _unquote(tok)
        m = _REPLICAS.match(tok)
        if quoted is not None:
            node["label"] = quoted
        elif m:
            if len(m.group(1)) > len(str(MAX_REPLICAS)):   # int() refuses 4,300 digits; no need to get there
                bad(lineno, f"component '{node_id}': replicas '{_short(tok, 20)}' is absurd "
                            f"(limit {MAX_REPLICAS:,})")
                return None
            node["replicas"] = int(m.group(1))
        elif tok.lower() == "autoscale":
            node["autoscale"] = True
        elif "=" in tok:
            kv = re.match(rf"^({_QUOTED}|[^=]+)=(.*)$", tok)
            if kv is None:   # `=value` or a lone `=`: a property without a name
                bad(lineno, f"component '{node_id}': property '{tok}' has no name; write name=value")
                return None
            key = _unquote(kv.group(1))
            if key is None:
                key = kv.group(1)
            if key in ("id", "kind", "label", "replicas", "autoscale"):
                bad(lineno, f"component '{node_id}': write {key} in its own notation, not {key}=...")
                return None
            try:
                node[key] = _scalar(kv.group(2))
            except InputError as exc:
                bad(lineno, f"component '{node_id}': property '{_short(key, 30)}': {exc.first.message}")
                return None
        else:
            bad(lineno, f"component '{node_id}': cannot read '{tok}'; expected xN (replicas), autoscale, "
                        "\"a label\" or key=value")
            return None
        for key in node:
            node.key_pos.setdefault(key, (lineno, 1))
    return node


def _fmt_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        if "e" in text and "." not in text.split("e")[0]:   # YAML 1.1 floats need a dot and a signed exponent
            mantissa, exp = text.split("e")
            text = f"{mantissa}.0e{exp if exp[0] in '+-' else '+' + exp}"
        if text in ("inf", "-inf", "nan"):
            return {"inf": ".inf", "-inf": "-.inf", "nan": ".nan"}[text]
        return text
    if isinstance(value, int):
        return repr(value)
    if value is None:
        return "null"
    if isinstance(value, str):
        if re.match(r"^[A-Za-z_][\w.-]*$", value) and not isinstance(yaml.safe_load(value), (bool, int, float)) \
                and yaml.safe_load(value) is not None:
            return value
        return _quote(value)
    # lists and mappings: compact JSON with no whitespace, which YAML reads back as the same structure.
    # Not ensure_ascii: YAML reads "\ud83d\ude80" as two lone surrogates, not the one character it is.
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return re.sub(r"\s", lambda m: f"\\u{ord(m.group(0)):04x}", text)


_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _quote(text: str) -> str:
    """A JSON string literal, with every character that splits lines escaped."""
    out = json.dumps(text, ensure_ascii=False)
    for raw, escaped in _LINE_BREAKS.items():
        out = out.replace(raw, escaped)
    return out


def to_dsl(design: Design) -> str:
    """Text for a design; parse_dsl(to_dsl(d)) gives back an equal design."""
    out: list[str] = []
    for n in design.nodes:
        written = n.written_kind if n.written_kind and re.match(r"^[\w.+-]+$", n.written_kind) else None
        parts = [f"{n.id}: {written or n.kind}"]
        if n.replicas != 1 or n.replicas_given:
            parts.append(f"x{n.replicas}")
        if n.autoscale:
            parts.append("autoscale")
        if n.label:
            parts.append(_quote(n.label))
        if n.roles:
            parts.append("roles=" + ",".join(n.roles))
        for key, value in n.extra.items():
            name = key if re.match(r"^[A-Za-z_][\w.-]*$", key) else _quote(key)
            parts.append(f"{name}={_fmt_value(value)}")
        out.append(" ".join(parts))
    if design.nodes and design.edges:
        out.append("")
    for e in design.edges:
        arrow = "->" if e.kind == "sync" else f"-{e.kind}->"
        line = f"{e.source} {arrow} {e.target}"
        if e.label:
            line += f" {_quote(e.label)}"
        out.append(line)
    return "\n".join(out) + ("\n" if out else "")
