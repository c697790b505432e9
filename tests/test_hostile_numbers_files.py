"""Hostile numbers and paths a user can hand the simulator (issue 16, items 6 and 14): each is refused
with a message naming the problem (exit 2), never an overflow, an `Infinity` in JSON, a replaced
database or device node, a file read outside a scenario's folder, or a database written elsewhere."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from simulator.errors import ScenarioError, SimulatorError
from simulator.model.notation import parse_dsl
from simulator.model.scenario import load_scenario
from simulator.simulation.run import simulate
from simulator.store.repository import Store
from tests.cli_helpers import ROOT, CliResult, run_cli

REFERENCE = ROOT / "scenarios" / "reference" / "conversational-ai.yaml"


def strict_json(text: str):
    """json.loads that refuses NaN, Infinity and -Infinity (not JSON)."""
    def refuse(name: str):
        raise AssertionError(f"{name} in JSON output")
    return json.loads(text, parse_constant=refuse)


def assert_refused(result: CliResult, *needles: str) -> None:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


def design_file(tmp_path: Path, api_props: str) -> Path:
    path = tmp_path / "design.yaml"
    path.write_text("scenario: conversational-ai\nnodes:\n  - {id: c, kind: client}\n"
                    f"  - {{id: api, kind: service, replicas: 2, {api_props}}}\n  - {{id: db, kind: database}}\n"
                    "edges:\n  - {from: c, to: api}\n  - {from: api, to: db}\n", encoding="utf-8")
    return path


# --- item 1: numbers that enter the simulation ----------------------------------------------------------


@pytest.mark.parametrize("args, needle", [
    (["--load", "1e308"], "load must be a number from 0 to"),
    (["--load", "inf"], "load must be a number from 0 to"),
    (["--load", "nan"], "load must be a number from 0 to"),
    (["--load", "-1"], "load must be a number from 0 to"),
    (["--chaos", "spike=1e300"], "chaos spike must be a positive number"),
    (["--chaos", "spike=inf"], "chaos spike must be a positive number"),
])
def test_absurd_load_or_spike_is_refused_not_an_internal_error(args, needle):
    assert_refused(run_cli(["simulate", REFERENCE, *args]), needle)


def test_the_largest_allowed_load_and_spike_still_give_strict_json():
    result = run_cli(["simulate", REFERENCE, "--load", "1e6", "--chaos", "spike=1e6", "--json"])
    assert result.returncode == 0, result
    strict_json(result.stdout)


@pytest.mark.parametrize("props, needle", [
    ("capacity: 1.0e-320", "capacity=1e-320 is below the smallest usable value"),
    ("capacity: .inf", "property 'capacity' has a number that is not finite"),   # refused where it is read
    ("capacity: 1.0e+300", "capacity=1e+300 is above the limit"),
    ("latency_ms: 1.0e+300", "latency_ms=1e+300 is above the limit"),
    ("cost_per_hour: .nan", "property 'cost_per_hour' has a number that is not finite"),
    ("max_replicas: 1.0e+300", "max_replicas=1e+300 is above the limit"),
])
def test_node_numbers_beyond_the_limits_are_refused_naming_the_node(tmp_path, props, needle):
    path = design_file(tmp_path, props)
    for args in (["simulate", path], ["simulate", path, "--json"]):
        assert_refused(run_cli(args), "node 'api'", needle)


def test_a_denormal_capacity_never_reaches_json_as_infinity(tmp_path):
    path = design_file(tmp_path, "capacity: 1.0e-320")
    graded = run_cli(["grade", path, "--json"])
    assert graded.returncode == 0, graded
    report = strict_json(graded.stdout)                 # the simulate checks say why, in plain JSON
    assert "below the smallest usable value" in json.dumps(report)


def test_a_tiny_but_usable_capacity_gives_finite_figures(tmp_path):
    result = run_cli(["simulate", design_file(tmp_path, "capacity: 1.0e-6"), "--json"])
    assert result.returncode == 0, result
    out = strict_json(result.stdout)
    assert out["max_utilization"] > 1e6 and out["served_share"] < 1e-6


def test_simulate_api_refuses_a_peak_beyond_the_limit():
    design = parse_dsl("client -> api\napi: service capacity=100")
    with pytest.raises(SimulatorError, match="peak_rps must be a number from 0 to"):
        simulate(design, 1e300)
    with pytest.raises(SimulatorError, match="entry rates"):
        simulate(design, 100, entry_rates={"client": 1e300})


def test_a_scenario_peak_beyond_the_limit_is_a_located_problem(tmp_path):
    folder = tmp_path / "scenarios"
    shutil.copytree(ROOT / "scenarios", folder)
    path = folder / "conversational-ai.yaml"
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    line = next(i for i, t in enumerate(lines, 1) if t.strip().startswith("peak_rps:"))
    lines[line - 1] = lines[line - 1].split("peak_rps:")[0] + "peak_rps: 1.0e+300"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert err.value.first.line == line and "peak_rps" in str(err.value)


# --- item 3: history export --out ------------------------------------------------------------------------


@pytest.fixture()
def data_dir(tmp_path):
    folder = tmp_path / "data"
    env = {"SIMULATOR_DATA_DIR": str(folder), "SIMULATOR_DATABASE_URL": None, "SIMULATOR_USER": None}
    saved = run_cli(["grade", REFERENCE, "--save"], env=env)
    assert saved.returncode == 0, saved
    return folder, env


def stored_ids(folder: Path) -> list[str]:
    with Store(f"sqlite:///{folder / 'attempts.sqlite'}") as store:
        return [r.id for r in store.list_attempts(columns="summary")]


def test_export_onto_the_live_database_is_refused_and_the_database_is_intact(data_dir, tmp_path):
    folder, env = data_dir
    db = folder / "attempts.sqlite"
    before = stored_ids(folder)
    assert len(before) == 1
    link = tmp_path / "link.sqlite"
    link.symlink_to(db)
    hard = tmp_path / "hard.sqlite"
    os.link(db, hard)
    for out in (db, link, hard, folder / ".." / "data" / "attempts.sqlite"):
        for fmt in ("json", "csv"):
            result = run_cli(["history", "export", "--format", fmt, "--out", out], env=env)
            assert_refused(result, "is the attempts database in use")
    assert stored_ids(folder) == before
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_export_onto_a_fifo_or_a_folder_is_refused(data_dir, tmp_path):
    _, env = data_dir
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert_refused(run_cli(["history", "export", "--out", fifo], env=env), "not a regular file")
    assert fifo.is_fifo()
    assert_refused(run_cli(["history", "export", "--out", tmp_path], env=env), "is a folder")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_export_to_a_regular_file_replaces_it_with_strict_json(data_dir, tmp_path):
    folder, env = data_dir
    out = tmp_path / "attempts.json"
    out.write_text("old", encoding="utf-8")
    result = run_cli(["history", "export", "--out", out], env=env)
    assert result.returncode == 0, result
    assert [a["id"] for a in strict_json(out.read_text(encoding="utf-8"))["attempts"]] == stored_ids(folder)
    listed = run_cli(["history", "list", "--json"], env=env)
    assert listed.returncode == 0 and len(strict_json(listed.stdout)) == 1
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_an_export_into_a_missing_folder_leaves_nothing_behind(data_dir, tmp_path):
    _, env = data_dir
    assert_refused(run_cli(["history", "export", "--out", tmp_path / "nope" / "a.json"], env=env), "cannot write")
    assert not (tmp_path / "nope").exists()


# --- item 4: a scenario's reference design ---------------------------------------------------------------


def scenario_with_reference(tmp_path: Path, reference: str) -> tuple[Path, int]:
    folder = tmp_path / "s"
    folder.mkdir(exist_ok=True)
    lines = (ROOT / "scenarios" / "conversational-ai.yaml").read_text(encoding="utf-8").splitlines()
    line = next(i for i, t in enumerate(lines, 1) if t.startswith("reference_design:"))
    lines[line - 1] = f"reference_design: {reference}"
    path = folder / "conversational-ai.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, line


@pytest.mark.parametrize("reference", ["../../x.yaml", "../outside.yaml", "/dev/zero", "/etc/passwd"])
def test_a_reference_outside_the_scenario_folder_is_a_located_problem(tmp_path, reference):
    (tmp_path / "outside.yaml").write_text(REFERENCE.read_text(encoding="utf-8"), encoding="utf-8")
    path, line = scenario_with_reference(tmp_path, reference)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert err.value.first.line == line and "outside the scenario's folder" in err.value.first.message
    result = run_cli(["validate", path])
    assert result.returncode == 1 and f"{path}:{line}:" in result.stdout and "Traceback" not in result.stderr


def test_a_symlink_out_of_the_folder_or_to_a_device_is_refused(tmp_path):
    path, line = scenario_with_reference(tmp_path, "ref.yaml")
    (path.parent / "ref.yaml").symlink_to(REFERENCE)        # resolves outside the folder
    with pytest.raises(ScenarioError, match="outside the scenario's folder"):
        load_scenario(path)
    os.mkfifo(path.parent / "pipe.yaml")
    path, line = scenario_with_reference(tmp_path, "pipe.yaml")
    with pytest.raises(ScenarioError, match="not a regular file") as err:
        load_scenario(path)
    assert err.value.first.line == line


def test_a_reference_inside_the_folder_still_loads(tmp_path):
    path, _ = scenario_with_reference(tmp_path, "reference/conversational-ai.yaml")
    (path.parent / "reference").mkdir()
    shutil.copy(REFERENCE, path.parent / "reference" / "conversational-ai.yaml")
    assert load_scenario(path).reference.nodes


def test_the_authoring_editor_never_shows_a_file_outside_the_folder(tmp_path, monkeypatch):
    from simulator.authoring import drafts

    secret = tmp_path / "secret.yaml"
    secret.write_text("top secret\n", encoding="utf-8")
    user = tmp_path / "user"
    (user / "scenarios").mkdir(parents=True)
    (user / "rubrics").mkdir()
    lines = (ROOT / "scenarios" / "conversational-ai.yaml").read_text(encoding="utf-8").splitlines()
    text = "\n".join("reference_design: ../../secret.yaml" if t.startswith("reference_design:") else
                     t.replace("conversational-ai", "my-scenario") if t.startswith("id:") else t for t in lines)
    (user / "scenarios" / "my-scenario.yaml").write_text(text + "\n", encoding="utf-8")
    monkeypatch.setenv("SIMULATOR_SCENARIOS_DIR", str(user))
    opened, _ = drafts.read_drafts("my-scenario")
    assert "top secret" not in opened.reference


# --- item 5: the data directory's name -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["we?ird", "per%41cent", "hash#tag?x=1%2F"])
def test_the_database_lands_inside_a_data_dir_with_url_characters(tmp_path, name):
    folder = tmp_path / name
    env = {"SIMULATOR_DATA_DIR": str(folder), "SIMULATOR_DATABASE_URL": None, "SIMULATOR_USER": None}
    result = run_cli(["grade", REFERENCE, "--save"], env=env)
    assert result.returncode == 0, result
    assert (folder / "attempts.sqlite").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    listed = run_cli(["history", "list", "--json"], env=env)
    assert listed.returncode == 0 and len(strict_json(listed.stdout)) == 1
