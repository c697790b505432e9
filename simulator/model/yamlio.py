"""Safe YAML/JSON reading that remembers where every value came from.

Mappings load as ``LocatedDict`` and sequences as ``LocatedList``: ordinary
dicts and lists that also know the line and column of each key and item, so a
validation error deep inside a file can name the line a user must fix.
Only plain data is built (safe loading): tags that would create Python objects
are refused, duplicate keys are refused, and size limits stop absurd inputs.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from simulator.errors import InputError, Problem
from simulator.limits import MAX_ALIASES, MAX_ELEMENTS, MAX_FILE_BYTES

Pos = tuple[int, int]  # 1-based line and column


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

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.alias_count += 1
            if self.alias_count > MAX_ALIASES:
                event = self.peek_event()
                raise InputError(Problem(
                    f"too many YAML aliases (more than {MAX_ALIASES}); write the values out",
                    self.source, event.start_mark.line + 1, event.start_mark.column + 1))
        return super().compose_node(parent, index)


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
    loader = _Loader(text, source)
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
        raise InputError(Problem(f"malformed YAML: {what}", source, *(_pos_of(mark)))) from None
    except yaml.YAMLError as exc:
        raise InputError(Problem(f"malformed YAML: {exc}", source)) from None
    except RecursionError:
        raise InputError(Problem("input is nested too deeply", source)) from None
    finally:
        loader.dispose()
    if _count_elements(data, MAX_ELEMENTS) > MAX_ELEMENTS:
        raise InputError(Problem(f"input has more than {MAX_ELEMENTS:,} values: too large", source))
    return data


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
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(Problem(f"cannot read file: {exc.strerror or exc}", name)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(Problem(
            f"not UTF-8 text (invalid byte 0x{raw[exc.start]:02x} at offset {exc.start})", name)) from None
    return text


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
