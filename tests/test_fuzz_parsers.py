"""Fuzzing the two parsers a user can feed: the YAML/JSON design loader and the text notation.

Whatever the input, a parser either returns a design or raises a ``SimulatorError`` (a located
problem a user can act on), never a traceback. Every design one of them accepts survives the
downloads the app offers: the text notation, YAML and JSON give back the same design (grading
fingerprint, labels and extra properties). Regression tests pin the concrete cases that once
escaped (control characters, huge numbers, deep nesting, ids with a newline, ``=`` in a label, a
device as a design path).

Hypothesis runs derandomized (the same examples every run, so CI is stable) and without deadlines
(2 shared cores): 300 examples per property.
"""
from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.errors import DesignError, InputError, SimulatorError
from simulator.limits import MAX_FILE_BYTES, MAX_NESTING, MAX_NUMBER_DIGITS, MAX_REPLICAS
from simulator.model import catalog
from simulator.model.design import Design, design_from_dict, load_design_text
from simulator.model.notation import parse_dsl, to_dsl
from simulator.model.yamlio import load_text
from tests.cli_helpers import run_cli

FUZZ = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# --- strategies ----------------------------------------------------------------

KINDS = sorted(catalog.KINDS) + ["redis", "Postgres", "gpt-4", "kafka", "not_a_kind"]
TRICKY = "\t\n\u2028\u2029\ufeff\xa0\"'=:#-> {}[],&*!|>%@`\\?~"
CONTROLS = "\x00\x01\r\x0b\x0c\x1b\x7f\x80\x85\x9f\ufffe"
# printable text (tabs, newlines and the notation's and YAML's own punctuation made likely): mostly accepted
NICE_TEXT = st.text(alphabet=st.one_of(st.characters(exclude_categories=("Cc", "Cs")), st.sampled_from(TRICKY)),
                    max_size=30)
# any text at all, control characters made likely: mostly refused
ANY_TEXT = st.text(alphabet=st.one_of(st.characters(codec=None), st.sampled_from(TRICKY + CONTROLS)), max_size=40)
FIELD_TEXT = st.one_of(NICE_TEXT, NICE_TEXT, NICE_TEXT, NICE_TEXT, ANY_TEXT)   # one field in five may be bad
IDS = st.one_of(*[st.from_regex(r"[A-Za-z0-9_-]{1,8}", fullmatch=True)] * 6,
                st.sampled_from(["api\n", "a b", ""]), ANY_TEXT)
HUGE_INT = st.integers(min_value=10 ** (MAX_NUMBER_DIGITS - 5), max_value=10 ** (MAX_NUMBER_DIGITS + 5))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), NICE_TEXT, NICE_TEXT,
                    HUGE_INT, ANY_TEXT)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.one_of(NICE_TEXT, NICE_TEXT, ANY_TEXT, st.integers()), inner,
                                                 max_size=3)),
    max_leaves=8)
RARELY_BAD_VALUES = st.one_of(*[st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), NICE_TEXT)] * 4,
                              VALUES)


CLEAN_IDS = st.from_regex(r"[A-Za-z0-9_-]{1,8}", fullmatch=True)
CLEAN_KINDS = sorted(catalog.KINDS) + ["redis", "Postgres", "gpt-4", "kafka"]
CLEAN_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(10 ** 20), 10 ** 20), st.floats(), NICE_TEXT)
CLEAN_VALUES = st.recursive(CLEAN_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(NICE_TEXT, inner, max_size=3)), max_leaves=8)
CLEAN_KEYS = st.one_of(st.from_regex(r"[a-z_]{1,6}", fullmatch=True), NICE_TEXT).filter(
    lambda k: k not in ("id", "kind", "label", "replicas", "autoscale", "roles"))


@st.composite
def design_dicts(draw, clean: bool) -> dict[str, Any]:
    """Plain data shaped like a design: `clean`, a valid one (to test round trips); else with any values."""
    ids = draw(st.lists(CLEAN_IDS, max_size=5, unique=True) if clean else st.lists(IDS, max_size=5))
    nodes = []
    for node_id in ids:
        node: dict[str, Any] = {"id": node_id, "kind": draw(st.sampled_from(CLEAN_KINDS if clean else KINDS))}
        if draw(st.booleans()):
            text = NICE_TEXT if clean else FIELD_TEXT
            node["label"] = draw(st.one_of(text, st.integers(-(10 ** 9), 10 ** 9), st.floats(allow_nan=False)))
        if draw(st.booleans()):
            node["replicas"] = draw(st.integers(1, MAX_REPLICAS) if clean
                                    else st.one_of(*[st.integers(1, 2 * MAX_REPLICAS)] * 4, HUGE_INT))
        if draw(st.booleans()):
            node["autoscale"] = draw(st.booleans())
        for key in draw(st.lists(CLEAN_KEYS if clean else st.one_of(CLEAN_KEYS, FIELD_TEXT), max_size=2)):
            node.setdefault(key, draw(CLEAN_VALUES if clean else RARELY_BAD_VALUES))
        nodes.append(node)
    edges = []
    if len(ids) >= 2:
        pairs = draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids)), max_size=4,
                              unique=clean).map(lambda ps: [p for p in ps if p[0] != p[1]] if clean else ps))
        for a, b in pairs:
            edge: dict[str, Any] = {"from": a, "to": b}
            if draw(st.booleans()):
                edge["kind"] = draw(st.sampled_from(["sync", "async", "fallback", "replication", "Async"]
                                                    + ([] if clean else ["x"])))
            if draw(st.booleans()):
                edge["label"] = draw(NICE_TEXT if clean else FIELD_TEXT)
            edges.append(edge)
    return {"nodes": nodes, "edges": edges}


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def _compact(value: Any) -> str:
    """A value as the notation writes lists and mappings: JSON without spaces."""
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).replace(" ", "\\u0020")
    except ValueError:
        return "x"


@st.composite
def dsl_texts(draw, clean: bool) -> str:
    """Text notation assembled from its own tokens (ids, kinds, xN, labels, key=value, arrows): `clean`,
    mostly valid; else with bad values and lines of noise."""
    ids = draw(st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,5}", fullmatch=True), min_size=1, max_size=4,
                        unique=True))
    text = NICE_TEXT.filter(lambda t: not any(c in t for c in "\n\u2028\u2029")) if clean else FIELD_TEXT
    values = [st.from_regex(r"[A-Za-z0-9_.+-]{0,8}", fullmatch=True), st.integers().map(str),
              text.map(json.dumps), CLEAN_VALUES.map(_compact), st.integers(1, MAX_NESTING - 2).map(_deep)]
    if not clean:
        values += [RARELY_BAD_VALUES.map(_compact), HUGE_INT.map(str), st.integers(1, 3 * MAX_NESTING).map(_deep),
                   ANY_TEXT]
    piece = st.one_of(
        st.from_regex(r"[x×][0-9]{1,5}" if clean else r"[x×][0-9]{1,8}", fullmatch=True), st.just("autoscale"),
        text.map(json.dumps), text.map(lambda t: json.dumps(t, ensure_ascii=False)),
        text.filter(lambda t: "'" not in t).map(lambda t: f"'{t}'"),
        st.tuples(st.one_of(st.from_regex(r"[a-z_]{1,5}", fullmatch=True), text.map(json.dumps)),
                  st.one_of(*values)).map(lambda kv: f"{kv[0]}={kv[1]}"),
    )
    lines = []
    for node_id in ids:
        parts = [f"{node_id}: {draw(st.sampled_from(CLEAN_KINDS if clean else KINDS))}",
                 *draw(st.lists(piece, max_size=4))]
        lines.append(" ".join(parts))
    ends = ids if clean else ids * 3 + ["client", "redis", "nope"]
    arrows = ["->", "->", "-async->", "-fallback->", "-replication->"] + ([] if clean else ["-x->"])
    for _ in range(draw(st.integers(0, 4)) if len(ends) >= 2 else 0):
        chain = draw(st.lists(st.sampled_from(ends), min_size=2, max_size=4, unique=clean))
        if len(chain) < 2:
            continue
        line = chain[0] + "".join(f" {draw(st.sampled_from(arrows))} {b}" for b in chain[1:])
        if draw(st.booleans()):
            line += " " + json.dumps(draw(text))
        lines.append(line)
    if not clean and draw(st.integers(0, 4)) == 0:   # a line of noise
        lines.insert(draw(st.integers(0, len(lines))), draw(ANY_TEXT))
    return "\n".join(lines) + "\n"


# --- the properties ----------------------------------------------------------------

def canon(value: Any) -> str:
    """A value as comparable text: types kept apart (1, 1.0, '1', True), NaN equal to itself."""
    if isinstance(value, dict):
        return "{" + ",".join(sorted(f"{canon(k)}:{canon(v)}" for k, v in value.items())) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(canon(v) for v in value) + "]"
    if isinstance(value, float) and math.isnan(value):
        return "float:nan"
    return f"{type(value).__name__}:{value!r}"


def summary(d: Design) -> tuple:
    return (d.fingerprint(),
            sorted((n.id, n.label or "", canon(n.extra)) for n in d.nodes),
            sorted((e.source, e.target, e.label or "") for e in d.edges))


def assert_round_trips(d: Design) -> None:
    want = summary(d)
    dsl = to_dsl(d)
    assert summary(parse_dsl(dsl)) == want, dsl
    yml = d.to_yaml()
    assert summary(load_design_text(yml)) == want, yml
    js = json.dumps(d.to_dict(), ensure_ascii=False)
    assert summary(load_design_text(js)) == want, js
    assert summary(load_design_text(d.to_json())) == want


def parses_or_refuses(parse, text: str) -> Design | None:
    try:
        return parse(text)
    except SimulatorError as exc:
        assert exc.problems and all(p.message for p in exc.problems)
        return None


@FUZZ
@given(ANY_TEXT)
def test_loader_any_text(text):
    parses_or_refuses(load_design_text, text)
    parses_or_refuses(load_design_text, "nodes: [{id: a, kind: service, label: " + text + "}]")
    parses_or_refuses(load_design_text, '{"nodes": [{"id": "a", "kind": "service", "p": "' + text + '"}]}')


@FUZZ
@given(ANY_TEXT)
def test_notation_any_text(text):
    parses_or_refuses(parse_dsl, text)
    parses_or_refuses(parse_dsl, "a: service " + text)
    parses_or_refuses(parse_dsl, "a: service p=" + text)


@FUZZ
@given(st.one_of(design_dicts(clean=True), design_dicts(clean=False)), st.sampled_from(["json", "json-ascii", "yaml"]))
def test_loader_design_data_parses_or_refuses_and_round_trips(data, form):
    import yaml

    try:
        if form == "yaml":
            text = yaml.safe_dump(data, allow_unicode=True)
        else:
            text = json.dumps(data, ensure_ascii=form == "json-ascii")
    except (ValueError, yaml.YAMLError):   # json/yaml themselves cannot write it (a 5,000-digit number)
        return
    d = parses_or_refuses(load_design_text, text)
    if d is not None:
        assert_round_trips(d)


@FUZZ
@given(st.one_of(dsl_texts(clean=True), dsl_texts(clean=False)))
def test_notation_parses_or_refuses_and_round_trips(text):
    d = parses_or_refuses(parse_dsl, text)
    if d is not None:
        assert_round_trips(d)


@FUZZ
@given(st.integers(1, 5 * MAX_NESTING), st.sampled_from(["[", "{a: ", '{"a": ', "- "]))
def test_nesting_parses_or_refuses(depth, opener):
    closer = {"[": "]", "{a: ": "}", '{"a": ': "}", "- ": ""}[opener]
    if opener == "- ":
        value = "\n".join("  " * i + "- " for i in range(depth)) + "1"
    else:
        value = opener * depth + "1" + closer * depth
    parses_or_refuses(load_text, value)
    parses_or_refuses(parse_dsl, "a: service x=" + value.replace("\n", " "))


YAML_VALUES = ["2024-01-01", "2024-01-01T10:00:00Z", "!!binary aGVsbG8=", "!!set {a, b}", "!!omap [a: 1]",
               "!!pairs [a: 1]", "{1: 2}", "{null: x}", "{true: x}", "[{1.5: x}]", ".inf", "-.inf", ".nan", "1:20",
               "0x1F", "0o17", "0b101", "1_000", "~", "null", "yes", "'quoted'", '"\\u2028"', '"\\ud83d"',
               '"\\U0001F680"', "&a x", "*a", "!!python/object:os.system x", "|\n  text", "@x", "`x`", "%x",
               '"\\x85"', "1e400", "-0.0", "0." + "1" * 400]


@FUZZ
@given(st.lists(st.sampled_from(YAML_VALUES), min_size=1, max_size=3), st.booleans())
def test_yaml_values_in_properties_parse_or_refuse_and_round_trip(values, in_list):
    body = ", ".join(f"p{i}: {v}" for i, v in enumerate(values)) if not in_list else "p: [" + ", ".join(values) + "]"
    d = parses_or_refuses(load_design_text, "nodes:\n  - {id: a, kind: service, " + body + "}\n")
    if d is not None:
        assert_round_trips(d)


@pytest.mark.parametrize("value", ["!!binary aGVsbG8=", "!!set {a, b}", "{1: 2}", ".inf", ".nan"])
def test_values_json_cannot_carry_are_refused(value):
    message = refused(lambda t: load_design_text(t, "d.yaml"), "nodes:\n  - {id: a, kind: service, p: " + value + "}\n")
    assert message.startswith("d.yaml:2:")


def test_a_date_stays_the_text_it_was_written_as():
    d = load_design_text("nodes: [{id: a, kind: service, since: 2024-01-01}]")
    assert d.nodes[0].extra == {"since": "2024-01-01"}
    assert_round_trips(d)


@FUZZ
@given(design_dicts(clean=False), st.one_of(VALUES, st.just(10 ** 5000)),
       st.sampled_from(["id", "kind", "label", "replicas", "autoscale", "roles", "note", "from", "to"]))
def test_plain_data_parses_or_refuses(data, value, field):
    """design_from_dict (the canvas, a stored attempt) takes any plain data, even what no file can hold."""
    for items in (data["nodes"][:1], data["edges"][:1]):
        for item in items:
            item[field] = value
    try:
        design_from_dict(data)
    except SimulatorError as exc:
        assert exc.problems


# --- regressions: each case that once escaped as a traceback ---------------------------

def refused(parse, text: str, kind: type[SimulatorError] = SimulatorError) -> str:
    with pytest.raises(kind) as info:
        parse(text)
    return str(info.value)


@pytest.mark.parametrize("char", ["\x01", "\x1b", "\x7f", "\x80", "\x85", "\x9f"])
def test_raw_control_characters_are_located(char):
    as_json = '{\n  "nodes": [{"id": "a", "kind": "service", "label": "x' + char + 'y"}]\n}'
    message = refused(lambda t: load_design_text(t, "d.json"), as_json, InputError)
    assert message.startswith("d.json:2:") and f"U+{ord(char):04X}" in message
    message = refused(lambda t: parse_dsl(t, "d.txt"), 'a: service "x' + char + 'y"\n', DesignError)
    assert message.startswith("d.txt:1:") and f"U+{ord(char):04X}" in message


def test_escaped_control_character_in_label_is_refused_naming_the_field():
    message = refused(lambda t: load_design_text(t, "d.json"),
                      '{"nodes": [\n{"id": "a", "kind": "service", "label": "x\\u007fy"}]}', DesignError)
    assert "d.json:2" in message and "'label'" in message and "U+007F" in message
    message = refused(parse_dsl, 'a: service "x\\u007fy"\n', DesignError)
    assert "'label'" in message and "U+007F" in message
    message = refused(parse_dsl, 'a: service note="x\\u0001"\n', DesignError)
    assert "'note'" in message and "U+0001" in message


def test_tab_and_newline_in_a_label_round_trip():
    d = load_design_text('{"nodes": [{"id": "a", "kind": "service", "label": "x\\ty\\nz", "p": "q\\nr"}]}')
    assert d.nodes[0].label == "x\ty\nz"
    assert_round_trips(d)


def test_five_thousand_digit_number_is_located():
    big = "9" * 5000
    message = refused(lambda t: load_design_text(t, "d.json"),
                      '{"nodes": [\n{"id": "a", "kind": "service", "replicas": ' + big + "}]}", InputError)
    assert message.startswith("d.json:2:") and f"{MAX_NUMBER_DIGITS} digits" in message
    refused(load_design_text, "nodes: [{id: a, kind: service, size: " + big + "}]", InputError)
    assert "digits" in refused(parse_dsl, "a: service size=" + big, DesignError)
    assert "replicas" in refused(parse_dsl, "a: service x" + big, DesignError)


def test_deep_nesting_is_located():
    deep = _deep(100_000)
    message = refused(lambda t: load_design_text(t, "d.yaml"), "nodes:\n  - " + deep, InputError)
    assert message.startswith("d.yaml:2:") and "nested" in message
    message = refused(lambda t: parse_dsl(t, "d.txt"), "a: service x=" + "[" * 100_000, DesignError)
    assert message.startswith("d.txt:1:") and "'x'" in message and "nested" in message
    assert "nested" in refused(parse_dsl, "a: service x=" + deep, DesignError)


def test_id_with_a_trailing_newline_is_refused():
    assert "invalid" in refused(load_design_text, '{"nodes": [{"id": "api\\n", "kind": "service"}]}', DesignError)
    d = load_design_text('{"nodes": [{"id": "api", "kind": "service"}]}')
    assert d.ids == ["api"]


@pytest.mark.parametrize("label", ["a=b", "=", "x = y", 'k="v"', "a=b c=d", '"q"=r', "tier=gold"])
def test_label_with_equals_survives_the_notation(label):
    data = {"nodes": [{"id": "a", "kind": "service", "label": label, "tier": "gold", "weird key": "two words"}]}
    d = load_design_text(json.dumps(data))
    back = parse_dsl(to_dsl(d))
    assert back.nodes[0].label == label
    assert back.nodes[0].extra == {"tier": "gold", "weird key": "two words"}
    assert_round_trips(d)


def test_device_as_design_path_is_refused_with_exit_2():
    r = run_cli(["grade", "/dev/zero", "--scenario", "conversational-ai"])
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert "/dev/zero" in r.stderr and f"{MAX_FILE_BYTES:,}" in r.stderr


@pytest.mark.parametrize("line", [
    'a: service "' + '\\"' * 50_000,        # an unclosed quote full of escaped quotes (was quadratic: minutes)
    "a" + "->a" * 30_000,                    # one undeclared id used 30,001 times on a line (was 30,001 problems)
    "a: service " + '"x"=' * 25_000,
    "a: service " + "'" * 100_001,
], ids=["escaped-quotes", "glued-chain", "quoted-keys", "single-quotes"])
def test_pathological_notation_lines_are_read_or_refused(line):
    """No timing assertion (shared CI cores): a quadratic regression shows as a test that takes minutes."""
    parses_or_refuses(parse_dsl, line + "\n")
