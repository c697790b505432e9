"""`python -m simulator` as a user runs it (in-process, and a few real subprocesses), and the component catalog."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.model import catalog
from tests.cli_helpers import ROOT, CliResult, run_cli
from tests.expected_scores import REALTIME_FAILS, REALTIME_PARTLY, REALTIME_SCORE, hand_scores

REALTIME = ROOT / "tests" / "examples" / "realtime-llm-application.yaml"
SCENARIO = "conversational-ai"

BAD_RUBRIC = """\
scenario: conversational-ai
categories:
  caching: {title: Caching, weight: 1}
checks:
  - id: has-cache
    category: caching
    points: 5
    title: A cache exists
    rule:
      presnt: {kind: cache}                       # OPERATOR
    hint: Add a cache.
    follow_up: Why?
  - id: known-kind
    category: caching
    points: 5
    title: The kind is known
    rule:
      present: {kind: reddis}                     # KIND
    hint: Add a cache.
    follow_up: Why?
  - id: via-cache
    category: caching
    points: 5
    title: Through the cache
    rule:
      via: {from: client, to: llm, thrugh: cache} # FIELD
    hint: Add a cache.
    follow_up: Why?
  - id: has-cache                                 # DUPLICATE
    category: scaling                             # CATEGORY
    points: 5
    title: Duplicate id, undeclared category
    rule:
      present: {kind: cache}
    hint: Add a cache.
    follow_up: Why?
"""


def marker_line(text: str, marker: str) -> int:
    (line,) = [i for i, s in enumerate(text.splitlines(), start=1) if s.rstrip().endswith(f"# {marker}")]
    return line


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("cli")
    out = {"bad_rubric": base / "bad-rubric.yaml", "empty_design": base / "empty.yaml"}
    out["bad_rubric"].write_text(BAD_RUBRIC)
    out["empty_design"].write_text("nodes: []\nedges: []\n")
    return out


@pytest.fixture(scope="module")
def cli(files) -> dict[str, CliResult]:
    """Every command of this module, run once."""
    commands = {
        "list": ["list"],
        "list_json": ["list", "--json"],
        "kinds_json": ["kinds", "--json"],
        "validate_all": ["validate"],
        "validate_bad_rubric": ["validate", str(files["bad_rubric"])],
        "validate_design": ["validate", str(REALTIME)],
        "grade_json": ["grade", str(REALTIME), "--scenario", SCENARIO, "--json"],
        "grade_json_again": ["grade", str(REALTIME), "--scenario", SCENARIO, "--json"],
        "grade_text": ["grade", str(REALTIME), "--scenario", SCENARIO],
        "grade_empty": ["grade", str(files["empty_design"]), "--scenario", SCENARIO, "--json"],
    }
    results = {name: run_cli(args) for name, args in commands.items()}
    for name, r in results.items():
        assert "Traceback" not in r.stderr + r.stdout, (name, r.stderr)
    return results


# --- list and kinds ---------------------------------------------------------------

def test_list_json_gives_scenario_objects(cli):
    r = cli["list_json"]
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert isinstance(rows, list) and rows
    for row in rows:
        assert isinstance(row["id"], str) and re.match(r"^[a-z0-9-]+$", row["id"])
        assert isinstance(row["title"], str) and row["title"].strip()
        assert row["difficulty"] in ("easy", "medium", "hard")
    assert SCENARIO in [row["id"] for row in rows]
    assert len({row["id"] for row in rows}) == len(rows)


def test_list_text_names_every_scenario(cli):
    r = cli["list"]
    assert r.returncode == 0, r.stderr
    ids = [row["id"] for row in json.loads(cli["list_json"].stdout)]
    lines = r.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ids
    for line, row in zip(lines, json.loads(cli["list_json"].stdout)):
        assert row["title"] in line and row["difficulty"] in line


def test_kinds_json_covers_the_catalog(cli):
    r = cli["kinds_json"]
    assert r.returncode == 0, r.stderr
    groups = json.loads(r.stdout)
    listed = {entry["kind"]: entry for entries in groups.values() for entry in entries}
    assert set(listed) == set(catalog.KINDS)
    assert listed["cache"]["display"] == catalog.KINDS["cache"].display
    assert "redis" in listed["cache"]["aliases"]


# --- validate -------------------------------------------------------------------------

def test_validate_shipped_files(cli):
    r = cli["validate_all"]
    shipped = len(list((ROOT / "scenarios").glob("*.yaml")))   # each with its reference design and rubric
    assert (r.returncode, r.stdout) == (0, ""), r.stdout
    assert r.stderr == f"ok: {3 * shipped} file(s) valid\n"


def test_validate_bad_rubric_reports_every_problem_with_its_line(cli, files):
    r = cli["validate_bad_rubric"]
    assert r.returncode == 1, (r.stdout, r.stderr)
    path = str(files["bad_rubric"])
    lines = r.stdout.splitlines()
    located = [re.match(rf"^{re.escape(path)}:(\d+):(\d+): (.+)$", line) for line in lines]
    assert all(located), lines
    found = [(int(m.group(1)), m.group(3)) for m in located]

    def problem_on(marker: str, *needles: str) -> str:
        line = marker_line(BAD_RUBRIC, marker)
        hits = [msg for n, msg in found if n == line and all(s in msg for s in needles)]
        assert hits, f"no problem with {needles} on line {line}: {lines}"
        return hits[0]

    msg = problem_on("OPERATOR", "presnt")
    assert "present" in msg.replace("presnt", ""), "should suggest `present`"
    problem_on("KIND", "reddis")
    msg = problem_on("FIELD", "thrugh")
    assert "through" in msg, "should suggest `through`"
    msg = problem_on("DUPLICATE", "has-cache")
    assert "duplicate" in msg.lower()
    msg = problem_on("CATEGORY", "scaling")
    assert "caching" in msg, "should name the declared categories"
    assert "problem" in r.stderr


def test_validate_good_design(cli):
    r = cli["validate_design"]
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert r.stdout == ""


# --- grade ----------------------------------------------------------------------------------

def test_grade_json_is_one_complete_object(cli):
    r = cli["grade_json"]
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)  # fails on anything but exactly one JSON document
    assert isinstance(report, dict)
    assert report["scenario"] == SCENARIO
    overall, categories = hand_scores(SCENARIO, REALTIME_FAILS, REALTIME_PARTLY)
    assert report["score"] == overall == REALTIME_SCORE
    assert {name: cat["score"] for name, cat in report["categories"].items()} == categories
    assert {c["id"] for c in report["checks"] if not c["passed"]} == REALTIME_FAILS
    for check in report["checks"]:
        assert {"id", "category", "passed", "points", "evidence", "hint"} <= set(check), check
        assert isinstance(check["passed"], bool)
        assert isinstance(check["points"], int) and check["points"] > 0
        assert check["category"] in report["categories"]
        assert check["evidence"].strip() and check["hint"].strip()
    assert len({c["id"] for c in report["checks"]}) == len(report["checks"])


def test_grade_text_shows_score_and_every_failed_check(cli):
    r = cli["grade_text"]
    assert r.returncode == 0, r.stderr
    report = json.loads(cli["grade_json"].stdout)
    (overall,) = [line for line in r.stdout.splitlines() if "Overall score" in line]
    assert overall == f"Overall score: {REALTIME_SCORE:g} / 100"
    failed = [c for c in report["checks"] if not c["passed"]]
    assert len(failed) == len(REALTIME_FAILS) and f"Failed checks ({len(REALTIME_FAILS)}):" in r.stdout
    for check in failed:
        assert check["evidence"] in r.stdout, check["id"]
        assert check["hint"] in r.stdout, check["id"]
        assert check["id"] in r.stdout


def test_grading_is_deterministic(cli):
    a, b = cli["grade_json"], cli["grade_json_again"]
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout


def test_empty_design_scores_zero(cli):
    r = cli["grade_empty"]
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["score"] == 0
    assert all(c["score"] == 0 for c in report["categories"].values())
    assert not any(c["passed"] for c in report["checks"])


# --- the catalog --------------------------------------------------------------------------------

ALIASES = {
    "redis": "cache", "memcached": "cache",
    "kafka": "stream", "kinesis": "stream", "pubsub": "stream",
    "sqs": "queue", "rabbitmq": "queue",
    "postgres": "database", "mysql": "database", "dynamodb": "database", "cassandra": "database",
    "bigtable": "database",
    "s3": "object_store", "gcs": "object_store",
    "nginx": "load_balancer", "envoy": "load_balancer", "elb": "load_balancer",
    "prometheus": "monitoring", "datadog": "monitoring",
    "grafana": "dashboard",
    "pagerduty": "alerting",
    "pinecone": "vector_db", "weaviate": "vector_db", "faiss": "vector_db",
    "feast": "feature_store",
    "flink": "stream_processor", "dataflow": "stream_processor",
    "spark": "batch_processor",
    "airflow": "orchestrator", "kubeflow": "orchestrator",
    "triton": "model_server", "torchserve": "model_server",
    "gpt-4": "llm", "gemini": "llm", "llama": "llm",
    "evidently": "drift_detector", "whylabs": "drift_detector",
    "mlflow": "experiment_tracker",
}

REQUIRED_KINDS = ["client", "cdn", "api_gateway", "auth", "rate_limiter", "load_balancer", "service", "cache", "database", "object_store", "queue", "stream", "stream_processor", "batch_processor", "orchestrator", "feature_store", "model_server", "llm", "vector_db", "model_registry", "experiment_tracker", "trainer", "labeling", "data_warehouse", "monitoring", "dashboard", "alerting", "logging", "drift_detector", "guardrails", "ab_testing", "sensor", "edge_device"]

GRAPHVIZ_SHAPES = {
    "box", "polygon", "ellipse", "oval", "circle", "point", "egg", "triangle", "plaintext", "plain", "diamond",
    "trapezium", "parallelogram", "house", "pentagon", "hexagon", "septagon", "octagon", "doublecircle",
    "doubleoctagon", "tripleoctagon", "invtriangle", "invtrapezium", "invhouse", "Mdiamond", "Msquare",
    "Mcircle", "rect", "rectangle", "square", "star", "none", "underline", "cylinder", "note", "tab", "folder",
    "box3d", "component", "promoter", "cds", "terminator", "utr", "primersite", "restrictionsite",
    "fivepoverhang", "threepoverhang", "noverhang", "assembly", "signature", "insulator", "ribosite",
    "rnastab", "proteasesite", "proteinstab", "rpromoter", "rarrow", "larrow", "lpromoter",
}


@pytest.mark.parametrize("alias, kind", sorted(ALIASES.items()))
def test_alias_resolves(alias, kind):
    assert catalog.lookup(alias) == kind


@pytest.mark.parametrize("text, kind", [("Redis", "cache"), ("GPT-4", "llm"), ("REDIS", "cache"),
                                        ("Gpt-4", "llm"), ("PostgreS", "database"), ("Cache", "cache")])
def test_lookup_is_case_insensitive(text, kind):
    assert catalog.lookup(text) == kind


def test_unknown_kinds_do_not_resolve():
    for text in ("reddis", "", "not a kind", "cache2"):
        assert catalog.lookup(text) is None, text
    assert any("redis" in s for s in catalog.suggest("reddis"))


@pytest.mark.parametrize("name", REQUIRED_KINDS)
def test_required_kind_exists_with_looks(name):
    kind = catalog.KINDS[name]
    assert catalog.lookup(name) == name
    assert isinstance(kind.display, str) and kind.display.strip()
    assert kind.shape in GRAPHVIZ_SHAPES
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", kind.color), kind.color


# --- the real entry point: a few subprocess smoke tests --------------------------------------

def _python_m_simulator(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simulator", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.slow
def test_python_m_simulator_list_and_validate(cli):
    listed = _python_m_simulator("list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout == cli["list_json"].stdout
    validated = _python_m_simulator("validate", str(REALTIME))
    assert (validated.returncode, validated.stdout) == (0, "")
    assert "Traceback" not in validated.stderr


@pytest.mark.slow
def test_python_m_simulator_grade_bad_input_exits_2(files, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("nodes:\n  - {id: a, kind: reddis}\n")
    r = _python_m_simulator("grade", str(bad), "--scenario", SCENARIO)
    assert r.returncode == 2
    assert r.stdout == ""
    (line,) = r.stderr.splitlines()
    assert line.startswith(f"error: {bad}:2:") and "reddis" in line
    usage = _python_m_simulator("grade")  # argparse: a missing argument is also exit 2
    assert usage.returncode == 2 and "usage:" in usage.stderr


def test_roles_lists_every_role_with_the_words_that_give_it():
    r = run_cli(["roles"])
    assert r.returncode == 0
    assert "rules_engine: deterministic rules" in r.stdout and "chargeback*" in r.stdout
    data = json.loads(run_cli(["roles", "--json"]).stdout)
    assert "rules engine" in data["rules_engine"]["words"] and "online feature" in data["feature_store"]["words"]
    assert data["client"]["words"] == []            # callers take no role from their labels
