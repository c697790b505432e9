"""Safe YAML/JSON reading that remembers where every value came from.

Mappings load as ``LocatedDict`` and sequences as ``LocatedList``: ordinary
dicts and lists that also know the line and column of each key and item, so a
validation error deep inside a file can name the line a user must fix.
Only plain data is built (safe loading): tags that would create Python objects
are refused, duplicate keys are refused, and size limits stop absurd inputs.
"""
from __future__ import annotations

import math
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from simulator.errors import InputError, MalformedInput, Problem
from simulator.limits import MAX_ALIASES, MAX_ELEMENTS, MAX_FILE_BYTES, MAX_NESTING, MAX_NUMBER_DIGITS

Pos = tuple[int, int]  # 1-based line and column

# Characters no input may contain as raw text: C0 controls other than tab, newline and carriage return,
# DEL, C1 controls (U+0080-U+009F, NEL included: YAML would turn it into a line break), lone surrogates and
# the non-characters U+FFFE/U+FFFF. YAML refuses them anyway; JSON allows C1 inside strings, so one rule
# for both: they are refused with their line and column.
RAW_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# Inside a value (a label, a property), written as an escape ("\x7f"): the same, and a carriage return too.
# Tab and newline are text; anything else would not survive a download and re-upload intact.
VALUE_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def control_char(text: str) -> str | None:
    """The first control character of a value as U+XXXX, or None when it is plain text."""
    m = VALUE_CONTROL_RE.search(text)
    return f"U+{ord(m.group(0)):04X}" if m else None


def value_problem(value: Any) -> str | None:
    """Why plain data (a property value, with its keys) cannot be kept, or None: a control character,
    a number with more than MAX_NUMBER_DIGITS digits or not finite, a mapping key that is not text,
    nesting deeper than MAX_NESTING -- anything the YAML, JSON and notation downloads could not give back
    unchanged (walked without recursion, so any input is safe to check)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_NESTING:
            return f"is nested more than {MAX_NESTING} deep"
        if isinstance(item, str):
            bad = control_char(item)
            if bad:
                return f"contains the control character {bad}; only printable text, tabs and newlines are allowed"
        elif isinstance(item, int) and not isinstance(item, bool):
            if item.bit_length() > MAX_NUMBER_DIGITS * 3.33:
                return f"has a number with more than {MAX_NUMBER_DIGITS} digits"
        elif isinstance(item, float):
            if not math.isfinite(item):   # JSON has no infinity or NaN: the JSON download would change it
                return f"has a number that is not finite ({item}); write it as text in quotes"
        elif isinstance(item, dict):
            for key in item:   # JSON keys are text: {1: x} would come back as {"1": x}
                if not isinstance(key, str):
                    return f"has a mapping key that is not text ({key!r}); put it in quotes"
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif item is not None and not isinstance(item, (bool, list, tuple)):
            return f"has a value that is not plain data ({type(item).__name__})"
        elif isinstance(item, (list, tuple)):
            stack.extend((v, depth + 1) for v in item)
    return None


class LocatedDict(dict):
    __slots__ = ("key_pos", "pos")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pos: Pos | None = None
        self.key_pos: dict[Any, Pos] = {}


class LocatedList(list):
    __slots__ = ("item_pos", "pos")

    def __init__(self, *args):
        super().__init__(*args)
        self.pos: Pos | None = None
        self.item_pos: list[Pos] = []


def _mark(node) -> Pos:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Loader(yaml.SafeLoader):
    """SafeLoader that records positions and refuses alias bombs."""

    def __init__(self, stream, source: str | None):
        super().__init__(stream)
        self.source = source
        self.alias_count = 0
        self.depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.alias_count += 1
            if self.alias_count > MAX_ALIASES:
                event = self.peek_event()
                raise InputError(Problem(
                    f"too many YAML aliases (more than {MAX_ALIASES}); write the values out",
                    self.source, event.start_mark.line + 1, event.start_mark.column + 1))
        if self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent):
            if self.depth >= MAX_NESTING:
                event = self.peek_event()
                raise InputError(Problem(
                    f"lists and mappings are nested more than {MAX_NESTING} deep",
                    self.source, event.start_mark.line + 1, event.start_mark.column + 1))
            self.depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1
        return super().compose_node(parent, index)

    def construct_yaml_int(self, node):
        # Python refuses to read a whole number of more than 4,300 digits (ValueError); stop far sooner,
        # at the number's own line. Binary, octal and hex forms count their digits as decimal ones would.
        text = str(node.value).replace("_", "").lstrip("+-")
        if len(text) > MAX_NUMBER_DIGITS:
            raise InputError(Problem(
                f"a number has more than {MAX_NUMBER_DIGITS} digits; write it as text in quotes if it is an id",
                self.source, *_mark(node)))
        value = super().construct_yaml_int(node)
        if isinstance(value, int) and value.bit_length() > MAX_NUMBER_DIGITS * 3.33:
            raise InputError(Problem(f"a number has more than {MAX_NUMBER_DIGITS} digits",
                                     self.source, *_mark(node)))
        return value


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LocatedDict:
    loader.flatten_mapping(node)
    data = LocatedDict()
    data.pos = _mark(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise InputError(Problem("a mapping key must be a plain value, not a list or mapping",
                                     loader.source, *_mark(key_node))) from None
        if key in data:
            first = data.key_pos.get(key, (None, None))[0]
            raise InputError(Problem(f"duplicate key '{key}' (first given on line {first})",
                                     loader.source, *_mark(key_node)))
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_pos[key] = _mark(key_node)
    return data


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LocatedList:
    data = LocatedList()
    data.pos = _mark(node)
    for child in node.value:
        data.append(loader.construct_object(child, deep=True))
        data.item_pos.append(_mark(child))
    return data


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)


def _construct_text(loader: _Loader, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))


def _refuse_tag(loader: _Loader, node: yaml.Node) -> Any:
    raise yaml.constructor.ConstructorError(None, None, f"found unsupported tag {node.tag}", node.start_mark)


# A date stays the text it was written as; binary, sets and ordered pairs are not plain data (no JSON for them).
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_text)
for _tag in ("binary", "set", "omap", "pairs"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse_tag)


def _count_elements(data: Any, budget: int) -> int:
    """Count containers and items up to ``budget`` (stops early)."""
    stack = [data]
    seen = 0
    while stack and seen <= budget:
        item = stack.pop()
        seen += 1
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return seen


def load_text(text: str, source: str | None = None) -> Any:
    """Parse YAML (JSON is a subset) into located plain data."""
    if len(text.encode("utf-8", errors="ignore")) > MAX_FILE_BYTES:
        raise InputError(Problem(
            f"input is too large ({len(text):,} characters; the limit is {MAX_FILE_BYTES:,} bytes)", source))
    if "\x00" in text:
        raise InputError(Problem("input contains NUL bytes: it is not a text file", source))
    raw_control(text, source)
    try:
        loader = _Loader(text, source)
    except yaml.YAMLError as exc:   # the reader's own check of the characters (the scan above is stricter)
        raise MalformedInput(Problem(f"malformed YAML: {exc}", source)) from None
    try:
        data = loader.get_single_data()
    except InputError:
        raise
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark or exc.context_mark
        tag = getattr(exc, "problem", "") or ""
        message = "unsupported YAML tag: only plain data (mappings, lists, text, numbers, booleans) is allowed"
        if "tag" in tag:
            message += f" ({tag.strip()})"
        raise InputError(Problem(message, source, *(_pos_of(mark)))) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = (exc.problem or exc.context or "cannot parse").strip()
        raise MalformedInput(Problem(f"malformed YAML: {what}", source, *(_pos_of(mark)))) from None
    except yaml.YAMLError as exc:
        raise MalformedInput(Problem(f"malformed YAML: {exc}", source)) from None
    except RecursionError:
        raise InputError(Problem("input is nested too deeply", source)) from None
    finally:
        loader.dispose()
    if _count_elements(data, MAX_ELEMENTS) > MAX_ELEMENTS:
        raise InputError(Problem(f"input has more than {MAX_ELEMENTS:,} values: too large", source))
    return data


def raw_control(text: str, source: str | None) -> None:
    """Refuse a control character written as raw text, with its line and column."""
    m = RAW_CONTROL_RE.search(text)
    if m is None:
        return
    line = text.count("\n", 0, m.start()) + 1
    column = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
    raise InputError(Problem(
        f"the control character U+{ord(m.group(0)):04X} is not allowed in text; remove it "
        "(only printable text, tabs and line breaks are)", source, line, column))


def _pos_of(mark) -> tuple[int | None, int | None]:
    if mark is None:
        return (None, None)
    return (mark.line + 1, mark.column + 1)


def read_text_file(path: str | Path) -> str:
    """Read a UTF-8 text file with the size limit, as an ``InputError`` on any problem."""
    p = Path(path)
    name = str(path)
    if not p.exists():
        raise InputError(Problem("no such file", name))
    if p.is_dir():
        raise InputError(Problem("is a directory, not a file", name))
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(Problem(
                f"file is too large ({size:,} bytes; the limit is {MAX_FILE_BYTES:,})", name))
        raw = _read_at_most(p, MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InputError(Problem(f"cannot read file: {exc.strerror or exc}", name)) from None
    if len(raw) > MAX_FILE_BYTES:
        # a device (/dev/zero), a pipe or a file still growing: stat said less, the read says more
        what = "file" if stat.S_ISREG(p.stat().st_mode) else "input (not a regular file)"
        raise InputError(Problem(f"{what} is too large (more than {MAX_FILE_BYTES:,} bytes)", name))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(Problem(
            f"not UTF-8 text (invalid byte 0x{raw[exc.start]:02x} at offset {exc.start})", name)) from None
    return text


def _read_at_most(path: Path, limit: int) -> bytes:
    """At most ``limit`` bytes of a file: stat's size means nothing for a device or a pipe."""
    chunks: list[bytes] = []
    got = 0
    fd = os.open(path, os.O_RDONLY)
    try:
        while got < limit:
            chunk = os.read(fd, min(1 << 16, limit - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)


def load_file(path: str | Path) -> Any:
    return load_text(read_text_file(path), str(path))


def load_mapping(text: str, source: str | None, what: str) -> dict[str, Any]:
    data = load_text(text, source)
    if data is None:
        raise InputError(Problem(f"the {what} is empty: expected a mapping with keys", source))
    if not isinstance(data, dict):
        pos = getattr(data, "pos", None) or (1, 1)
        raise InputError(Problem(
            f"the top level of a {what} must be a mapping (key: value), not {_type_name(data)}",
            source, *pos))
    return data


def _type_name(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return type(value).__name__


def locate(data: Any, loc: Iterable[Any]) -> Pos | None:
    """Best known position for a path of keys/indexes into located data."""
    best: Pos | None = getattr(data, "pos", None)
    current = data
    for part in loc:
        if isinstance(current, LocatedDict) and part in current:
            best = current.key_pos.get(part, best)
            current = current[part]
        elif isinstance(current, LocatedList) and isinstance(part, int) and 0 <= part < len(current):
            best = current.item_pos[part] if part < len(current.item_pos) else best
            current = current[part]
        else:
            break
        inner = getattr(current, "pos", None)
        if inner is not None and isinstance(current, LocatedDict):
            # a mapping item: point at its first key rather than the dash
            best = inner
    return best
