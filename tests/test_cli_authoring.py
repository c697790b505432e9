"""`python -m simulator schema` and `new-scenario` as a user runs them (in-process), and the shipped schemas."""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
import yaml

from simulator.authoring.schemas import FILES, all_schemas, dump
from tests.cli_helpers import ROOT, CliResult, run_cli

SCHEMAS = ROOT / "schemas"
SHIPPED = ([(p, "scenario") for p in sorted((ROOT / "scenarios").glob("*.yaml"))]
           + [(p, "design") for p in sorted((ROOT / "scenarios" / "reference").glob("*.yaml"))]
           + [(p, "rubric") for p in sorted((ROOT / "rubrics").glob("*.yaml"))])

try:
    import jsonschema
except ImportError:  # pragma: no cover - jsonschema ships with streamlit's dependencies (altair)
    jsonschema = None
needs_jsonschema = pytest.mark.skipif(jsonschema is None, reason="the jsonschema package is not installed")


def run(*args: str, user_dir: Path | None = None) -> CliResult:
    r = run_cli(args, env={"SIMULATOR_SCENARIOS_DIR": None if user_dir is None else str(user_dir)})
    assert "Traceback" not in r.stdout + r.stderr, r.stderr
    return r


# --- schema ---------------------------------------------------------------------------------

def test_schema_writes_three_json_schema_files(tmp_path):
    out = tmp_path / "out" / "nested"
    r = run("schema", "--out", str(out))
    assert r.returncode == 0, r.stderr
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(FILES.values())
    assert r.stdout.split() == [str(out / name) for name in FILES.values()]
    for name in written:
        schema = json.loads((out / name).read_text())
        assert schema["$schema"].endswith("2020-12/schema")
        assert schema["type"] == "object" and schema["properties"]
        if jsonschema is not None:
            jsonschema.Draft202012Validator.check_schema(schema)
    rubric = json.loads((out / FILES["rubric"]).read_text())
    assert rubric["$defs"]["CheckSpec"]["properties"]["rule"]["$ref"] == "#/$defs/rule"
    ops = {next(iter(v["properties"])) for v in rubric["$defs"]["rule"]["oneOf"]}
    assert {"present", "via", "fallback", "no_spof", "all", "any", "not"} <= ops
    design = json.loads((out / FILES["design"]).read_text())
    kinds = design["$defs"]["kind"]["enum"]
    assert {"cache", "redis", "llm", "gpt-4"} <= set(kinds)
    assert "case" in design["$defs"]["kind"]["description"]


def test_the_shipped_schemas_are_up_to_date():
    for name, schema in all_schemas().items():
        shipped = SCHEMAS / name
        assert shipped.is_file(), f"{shipped} is missing: run python -m simulator schema"
        assert shipped.read_text() == dump(schema), (
            f"{shipped} is out of date: run `python -m simulator schema` and commit the result")


@pytest.mark.parametrize("path, kind", SHIPPED, ids=[str(p.relative_to(ROOT)) for p, _ in SHIPPED])
def test_every_shipped_file_points_at_its_schema(path, kind):
    first = path.read_text().splitlines()[0]
    m = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
    assert m, f"{path} must start with the yaml-language-server schema line"
    target = (path.parent / m.group(1)).resolve()
    assert target == (SCHEMAS / FILES[kind]).resolve()


@needs_jsonschema
@pytest.mark.parametrize("path, kind", SHIPPED, ids=[str(p.relative_to(ROOT)) for p, _ in SHIPPED])
def test_every_shipped_file_validates_against_its_schema(path, kind):
    schema = json.loads((SCHEMAS / FILES[kind]).read_text())
    errors = [f"{list(e.absolute_path)}: {e.message[:200]}"
              for e in jsonschema.Draft202012Validator(schema).iter_errors(yaml.safe_load(path.read_text()))]
    assert not errors, errors


@needs_jsonschema
def test_the_schemas_catch_mistakes():
    rubric = json.loads((SCHEMAS / FILES["rubric"]).read_text())
    design = json.loads((SCHEMAS / FILES["design"]).read_text())
    scenario = json.loads((SCHEMAS / FILES["scenario"]).read_text())

    def ok(schema, data) -> bool:
        return jsonschema.Draft202012Validator(schema).is_valid(data)

    check = {"id": "c", "category": "caching", "points": 5, "title": "A cache", "hint": "add one",
             "follow_up": "why?", "rule": {"present": {"kind": "redis"}},
             "fixtures": {"pass": ["client -> redis", {"nodes": [{"id": "r", "kind": "cache"}]}], "fail": []}}
    base = {"scenario": "x", "categories": {"caching": {"weight": 100}}, "checks": [check]}
    assert ok(rubric, base)
    for rule in ({"presnt": {"kind": "redis"}}, {"present": {"kind": "reddis"}},
                 {"via": {"from": "client", "to": "llm", "thrugh": "cache"}}, {"not": [{"present": {"kind": "x"}}]}):
        assert not ok(rubric, {**base, "checks": [{**check, "rule": rule}]}), rule
    assert ok(rubric, {**base, "checks": [{**check, "rule": {"all": [{"present": {"kind": ["cache", "cdn"]}},
                                                                     {"not": {"edge": {"from": "client",
                                                                                       "to": "database"}}}]}}]})
    assert not ok(rubric, {**base, "checks": [{**check, "fixtures": {"pass": [{"nodes": [{"id": "r"}]}]}}]})
    assert ok(design, {"nodes": [{"id": "a", "kind": "kafka", "zone": "eu-1"}], "edges": []})
    assert not ok(design, {"nodes": [{"id": "a", "kind": "service", "replicas": 0}]})
    assert not ok(design, {"nodes": [], "edges": [{"from": "a", "to": "b", "kind": "sideways"}]})
    assert not ok(design, {"nodes": [], "nodez": []})
    shipped = yaml.safe_load((ROOT / "scenarios" / "fraud-detection.yaml").read_text())
    assert ok(scenario, shipped)
    assert not ok(scenario, {**shipped, "difficulty": "brutal"})
    assert not ok(scenario, {**shipped, "surprise": 1})


# --- new-scenario ----------------------------------------------------------------------------

def test_new_scenario_validates_at_once_and_is_listed(tmp_path):
    user = tmp_path / "mine"
    r = run("new-scenario", "ride-eta", "--title", "Design ride ETA prediction", user_dir=user)
    assert r.returncode == 0, r.stderr
    paths = [user / "scenarios" / "ride-eta.yaml", user / "scenarios" / "reference" / "ride-eta.yaml",
             user / "rubrics" / "ride-eta.yaml"]
    assert r.stdout.split() == [str(p) for p in paths]
    scenario = yaml.safe_load(paths[0].read_text())
    assert scenario["title"] == "Design ride ETA prediction"
    assert sum(p["minutes"] for p in scenario["phases"]) == 45
    rubric = yaml.safe_load(paths[2].read_text())
    assert set(rubric["categories"]) >= {"caching", "fallback", "monitoring", "scaling"}
    assert sum(c["weight"] for c in rubric["categories"].values()) == 100
    for category in ("caching", "fallback", "monitoring", "scaling"):
        mine = [c for c in rubric["checks"] if c["category"] == category]
        assert mine and all(c["fixtures"]["pass"] and c["fixtures"]["fail"] for c in mine), category
    assert "#" in paths[2].read_text() and "docs/authoring.md" in paths[0].read_text()

    for args in (["validate"], ["validate", *map(str, paths)], ["validate", str(user)]):
        v = run(*args, user_dir=user)
        assert v.returncode == 0, (args, v.stdout, v.stderr)
        assert v.stdout == ""
    listed = run("list", "--json", user_dir=user)
    assert "ride-eta" in [row["id"] for row in json.loads(listed.stdout)]
    # its schema line resolves from the user folder too
    first = paths[0].read_text().splitlines()[0]
    assert (paths[0].parent / first.split("$schema=")[1]).resolve() == (SCHEMAS / FILES["scenario"]).resolve()


@pytest.mark.parametrize("sid, fragment", [
    ("Bad_Id", "not a valid scenario id"),
    ("../escape", "not a valid scenario id"),
    ("a/b", "not a valid scenario id"),
    ("with space", "not a valid scenario id"),
    ("x" * 65, "not a valid scenario id"),
    ("fraud-detection", "shipped scenario"),
])
def test_new_scenario_refuses_bad_and_taken_ids(tmp_path, sid, fragment):
    user = tmp_path / "mine"
    r = run("new-scenario", sid, user_dir=user)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert fragment in r.stderr and r.stderr.startswith("error: ")
    assert r.stdout == ""
    assert not user.exists() or not any(user.rglob("*.yaml"))


def test_new_scenario_refuses_an_id_the_user_already_has(tmp_path):
    user = tmp_path / "mine"
    assert run("new-scenario", "twice", user_dir=user).returncode == 0
    before = (user / "rubrics" / "twice.yaml").read_text()
    r = run("new-scenario", "twice", user_dir=user)
    assert r.returncode == 2
    assert "already exists" in r.stderr and "twice-2" in r.stderr
    assert (user / "rubrics" / "twice.yaml").read_text() == before


# --- validate: one scenario file on its own; the user folder ----------------------------------

def test_validate_one_scenario_file_on_its_own(tmp_path):
    (tmp_path / "reference").mkdir()
    shutil.copy(ROOT / "scenarios" / "fraud-detection.yaml", tmp_path / "fraud-detection.yaml")
    shutil.copy(ROOT / "scenarios" / "reference" / "fraud-detection.yaml", tmp_path / "reference")
    r = run("validate", str(tmp_path / "fraud-detection.yaml"))
    assert r.returncode == 0, (r.stdout, r.stderr)
    r = run("validate", str(ROOT / "scenarios" / "fraud-detection.yaml"))
    assert r.returncode == 0, (r.stdout, r.stderr)


def test_validate_without_paths_covers_the_user_folder(tmp_path):
    user = tmp_path / "mine"
    assert run("new-scenario", "broken-later", user_dir=user).returncode == 0
    rubric = user / "rubrics" / "broken-later.yaml"
    text = rubric.read_text().replace("weight: 25, description: \"Someone", "weight: 20, description: \"Someone")
    rubric.write_text(text)
    # The library re-reads a file whose size or mtime changed. This edit keeps the size, and in one
    # process it may land in the same mtime tick as the write above: date it a second later, as a
    # person's edit would be.
    stat = rubric.stat()
    os.utime(rubric, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    r = run("validate", user_dir=user)
    assert r.returncode == 1
    # reported on the `categories:` line, with the sum and the fix
    line = next(i for i, s in enumerate(text.splitlines(), start=1) if s.startswith("categories:"))
    assert f"{rubric}:{line}:" in r.stdout
    assert "= 95, not 100" in r.stdout and "add 5" in r.stdout
    (user / "rubrics" / "orphan.yaml").write_text(text.replace("scenario: broken-later", "scenario: orphan"))
    r = run("validate", user_dir=user)
    assert "rubric without a scenario" in r.stdout


# --- the library reloads edited user files ---------------------------------------------------

def test_the_library_reloads_when_a_reference_design_changes(tmp_path, monkeypatch):
    from simulator.authoring.drafts import SHIPPED, Target, save_drafts, scaffold
    from simulator.grading.library import load_library

    user = tmp_path / "mine"
    monkeypatch.setenv("SIMULATOR_SCENARIOS_DIR", str(user))
    where = Target(user / "scenarios", user / "rubrics", True)
    save_drafts(scaffold("reload-me", where=where), "reload-me", where)
    assert where != SHIPPED
    lib = load_library()
    assert "reload-me" in lib.scenarios and not lib.problems
    ref = user / "scenarios" / "reference" / "reload-me.yaml"
    ref.write_text(ref.read_text().replace("  - {from: api, to: fallback_model, kind: fallback, "
                                           "label: \"model down or too slow\"}\n", ""))
    lib = load_library()
    assert "reload-me" in lib.scenarios
    assert any("reference design covers" in p.message and "model-fallback" in p.message for p in lib.problems), \
        [str(p) for p in lib.problems]
