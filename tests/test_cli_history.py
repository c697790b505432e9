"""`python -m simulator history` as a user runs it (in-process, a SQLite file per test; one real subprocess)."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from simulator.grading.library import load_library
from simulator.grading.rubric import evaluate
from simulator.model.design import design_from_dict
from simulator.store.repository import Store
from tests.cli_helpers import ROOT, CliResult, run_cli

T0 = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)


def cli(args: list[str], url: str, stdin: str = "") -> CliResult:
    return run_cli(["history", *args], env={"SIMULATOR_DATABASE_URL": url, "SIMULATOR_USER": None}, stdin=stdin)


def assert_clean_error(result: CliResult, *needles: str) -> None:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.fixture(scope="module")
def lib():
    return load_library()


@pytest.fixture()
def source(tmp_path, lib) -> str:
    """A database with six graded attempts (reference and weakened designs of three scenarios,
    graded for real), one of them by another user, and one open attempt."""
    url = f"sqlite:///{tmp_path / 'source.sqlite'}"
    with Store(url) as store:
        for i, sid in enumerate(["fraud-detection", "conversational-ai", "vision-pipeline"]):
            scenario, rubric = lib.get(sid)
            weak = scenario.reference.copy()
            gone = {n.id for n in weak.nodes if n.kind in ("cache", "monitoring")}
            weak.nodes = [n for n in weak.nodes if n.id not in gone]
            weak.edges = [e for e in weak.edges if e.source not in gone and e.target not in gone]
            for j, design in enumerate([design_from_dict(weak.to_dict()), scenario.reference]):
                report = evaluate(design, rubric, scenario.peak_traffic)
                started = T0 + timedelta(days=3 * i + j)
                store.add_graded(sid, scenario.content_hash(rubric), design=design.to_dict(),
                                 report=report.to_dict(), overall_score=report.score,
                                 category_scores=report.category_scores(),
                                 notes={"tradeoffs": "=cache, then fall back"}, user="local" if i < 2 else "sam",
                                 started_at=started, ended_at=started + timedelta(minutes=41))
        store.start_attempt("model-monitoring", "hash", started_at=T0 + timedelta(days=20),
                            deadline=T0 + timedelta(days=20, minutes=45))
    return url


def test_json_export_imports_into_an_empty_database_with_the_same_attempts(source, tmp_path):
    out = tmp_path / "attempts.json"
    exported = cli(["export", "--format", "json", "--out", str(out)], source)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == ""
    assert "exported 7 attempt(s)" in exported.stderr
    assert json.loads(out.read_text())["format"] == "ml-sd-simulator-attempts"

    target = f"sqlite:///{tmp_path / 'target.sqlite'}"
    first = cli(["import", str(out)], target)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "added 7, skipped 0"
    with Store(source) as a, Store(target) as b:
        assert b.list_attempts() == a.list_attempts()  # every field: ids, times, scores, reports, designs
        assert [r.overall_score for r in b.list_attempts()] == [r.overall_score for r in a.list_attempts()]

    second = cli(["import", str(out)], target)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "added 0, skipped 7"
    with Store(target) as b:
        assert b.count() == 7


def test_csv_export_has_a_row_per_attempt_with_its_scores(source, tmp_path):
    out = tmp_path / "attempts.csv"
    result = cli(["export", "--format", "csv", "--out", str(out)], source)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    with Store(source) as store:
        records = {r.id: r for r in store.list_attempts(columns="summary")}
    assert {row["id"] for row in rows} == set(records)
    for row in rows:
        record = records[row["id"]]
        assert row["scenario"] == record.scenario_id
        if record.overall_score is None:
            assert row["overall"] == "" and row["end_reason"] == ""
            continue
        assert float(row["overall"]) == pytest.approx(record.overall_score)
        for key, score in record.category_scores.items():
            assert float(row[f"cat_{key}"]) == pytest.approx(score)
        assert row["notes"].startswith("'=")  # a formula-looking note is neutralised


def test_export_to_stdout_filters_by_scenario_and_user(source):
    by_scenario = cli(["export", "--format", "json", "--scenario", "fraud-detection"], source)
    assert by_scenario.returncode == 0, by_scenario.stderr
    attempts = json.loads(by_scenario.stdout)["attempts"]
    assert len(attempts) == 2 and {a["scenario_id"] for a in attempts} == {"fraud-detection"}

    by_user = cli(["export", "--format", "csv", "--user", "sam"], source)
    assert by_user.returncode == 0, by_user.stderr
    rows = list(csv.DictReader(io.StringIO(by_user.stdout)))
    assert len(rows) == 2 and {r["scenario"] for r in rows} == {"vision-pipeline"}

    since = cli(["export", "--since", "2025-05-07", "--until", "2025-05-07"], source)
    assert [a["scenario_id"] for a in json.loads(since.stdout)["attempts"]] == ["vision-pipeline"]


def test_list_shows_id_scenario_start_and_overall(source):
    text = cli(["list"], source)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.strip().splitlines()
    assert lines[0].split()[:3] == ["id", "scenario", "started"]
    assert len(lines) == 1 + 7
    assert "model-monitoring" in lines[1] and "in progress" in lines[1]  # newest first

    as_json = cli(["list", "--json", "--scenario", "conversational-ai"], source)
    items = json.loads(as_json.stdout)
    with Store(source) as store:
        stored = store.list_attempts(scenario_id="conversational-ai", columns="summary")
    assert [(i["id"], i["scenario"], i["overall"]) for i in items] == [
        (r.id, "conversational-ai", r.overall_score) for r in stored]
    assert items[0]["started_at"] > items[1]["started_at"]
    assert items[0]["overall"] > items[1]["overall"]  # the reference design, graded after the weakened one


@pytest.mark.parametrize("content, needle", [
    ("this is not json", "not valid JSON"),
    ('{"format": "something-else", "version": 1, "attempts": []}', "not an attempts export"),
    ('{"format": "ml-sd-simulator-attempts", "version": 1, "attempts": [{"id": "x"}]}', "attempt #0"),
])
def test_a_bad_import_file_is_one_clear_line_and_exit_2(tmp_path, content, needle):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    assert_clean_error(cli(["import", str(bad)], url), str(bad), needle)
    with Store(url) as store:
        assert store.count() == 0


def test_missing_import_file_and_unwritable_output_are_clear_errors(tmp_path, source):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    assert_clean_error(cli(["import", str(tmp_path / "nope.json")], url), "nope.json", "cannot read")
    assert_clean_error(cli(["export", "--out", str(tmp_path / "missing-dir" / "x.json")], source), "cannot write")
    assert not (tmp_path / "missing-dir").exists()
    assert_clean_error(cli([], url), "list, export or import")


def test_import_reads_standard_input(source, tmp_path):
    exported = cli(["export"], source)
    target = f"sqlite:///{tmp_path / 'target.sqlite'}"
    result = cli(["import", "-"], target, stdin=exported.stdout)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "added 7, skipped 0"


def test_a_design_graded_with_save_shows_up_in_the_export(tmp_path, lib):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    design = lib.scenarios["fraud-detection"].reference
    path = tmp_path / "design.yaml"
    path.write_text(design.to_yaml())
    graded = run_cli(["grade", str(path), "--scenario", "fraud-detection", "--save", "--json"],
                     env={"SIMULATOR_DATABASE_URL": url})
    assert graded.returncode == 0, graded.stderr
    result = json.loads(graded.stdout)

    exported = cli(["export", "--format", "json"], url)
    [attempt] = json.loads(exported.stdout)["attempts"]
    assert attempt["id"] == result["attempt_id"]
    assert attempt["scenario_id"] == "fraud-detection"
    assert attempt["overall_score"] == result["score"]
    assert attempt["report"]["score"] == result["score"]
    listed = cli(["list"], url)
    assert result["attempt_id"] in listed.stdout


@pytest.mark.slow
def test_python_m_simulator_history_export(source, tmp_path):
    """The real entry point, once: a subprocess exports what the in-process runs see."""
    env = {**os.environ, "SIMULATOR_DATABASE_URL": source}
    env.pop("SIMULATOR_USER", None)
    proc = subprocess.run([sys.executable, "-m", "simulator", "history", "export", "--format", "json"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == json.loads(cli(["export", "--format", "json"], source).stdout)
