"""A corpus of broken scenario and rubric files: each problem is found, on its line, with a useful message.

Every file in tests/authoring_corpus/ (a folder there is laid out like SIMULATOR_SCENARIOS_DIR) that
starts with `# expect: LINE: fragment` comments is validated as `python -m simulator validate FILE`
does it; each expectation must match a problem on that line of that file whose message contains the
fragment.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from simulator.cli.main import validate_paths
from tests.cli_helpers import ROOT, run_cli

CORPUS = ROOT / "tests" / "authoring_corpus"
EXPECT = re.compile(r"^# expect: (\d+): (.+)$")


def expectations(path: Path) -> list[tuple[int, str]]:
    out = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        m = EXPECT.match(line)
        if m:
            out.append((int(m.group(1)), m.group(2).strip()))
    return out


CASES = sorted(p for p in CORPUS.rglob("*.yaml") if expectations(p))


@pytest.mark.parametrize("path", CASES, ids=[str(p.relative_to(CORPUS)) for p in CASES])
def test_each_broken_file_reports_its_problem_on_its_line(path):
    problems, _, count = validate_paths([str(path)])
    assert count == 1
    assert problems, f"{path.name}: no problem found"
    for problem in problems:
        assert problem.file == str(path), problem
        assert problem.line, f"not located: {problem}"
        if "skeleton" not in problem.message:      # a line inside the text notation has no column
            assert problem.column, f"no column: {problem}"
    for line, fragment in expectations(path):
        hits = [p for p in problems if p.line == line and fragment in p.message]
        assert hits, (f"{path.name}: expected a problem on line {line} containing {fragment!r}; got:\n"
                      + "\n".join(str(p) for p in problems))


def test_the_corpus_is_broad():
    fragments = {f for p in CASES for _, f in expectations(p)}
    assert len(CASES) >= 15 and len(fragments) >= 20
    wanted = ["malformed YAML", "unknown kind 'reddis'; did you mean redis", "unknown rule operator",
              "did you mean through", "Input should be a valid integer", "duplicate check id",
              "is not declared under `categories`", "do not add up", "phase budgets add up to 40",
              "unknown field 'hint'", "missing field", "is missing 'hint'", "fixture #2 fails it",
              "reference design covers", "can never pass", "unsupported YAML tag",
              "must match its file name", "'difficulty'"]
    text = " | ".join(fragments)
    for w in wanted:
        assert w in text, f"the corpus has no case for {w!r}"


def test_the_cli_prints_the_same_problems_as_file_line_column(tmp_path):
    r = run_cli(["validate", str(CORPUS)])
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    for path in CASES:
        for line, fragment in expectations(path):
            prefix = f"{path}:{line}:"
            assert any(out.startswith(prefix) and fragment in out for out in r.stdout.splitlines()), \
                (prefix, fragment)


# --- the static check for impossible rules: certain cases only --------------------------------

from simulator.rules.feasibility import never_passes  # noqa: E402
from simulator.rules.parse import parse_rule  # noqa: E402


def rule(raw):
    parsed, problems = parse_rule(raw)
    assert not problems, problems
    return parsed


@pytest.mark.parametrize("raw", [
    {"present": {"kind": "cache", "min": 2, "max": 1}},
    {"present": {"kind": "cache", "max": 0}},                       # min is 1 unless given
    {"not": {"present": {"kind": "cache", "min": 0}}},
    {"not": {"any": [{"present": {"kind": "cdn"}}, {"present": {"kind": "cache", "min": 0}}]}},
    {"any": [{"present": {"kind": "cache", "min": 3, "max": 2}}, {"not": {"present": {"kind": "llm", "min": 0}}}]},
    {"all": [{"present": {"kind": ["cache", "cdn"], "min": 0, "max": 1}}, {"present": {"kind": "cache", "min": 2}}]},
    {"all": [{"not": {"present": {"kind": "queue"}}}, {"decoupled": {"producer": "service", "consumer": "trainer",
                                                                    "through": "queue", "async_edges": False}}]},
    {"all": [{"present": {"kind": "llm", "min": 0, "max": 0}}, {"all": [{"fallback": {"target": "gpt-4"}}]}]},
])
def test_impossible_rules_are_found(raw):
    assert never_passes(rule(raw)) is not None


@pytest.mark.parametrize("raw", [
    {"present": {"kind": "cache", "min": 0, "max": 0}},
    {"not": {"present": {"kind": "cache"}}},
    {"all": [{"present": {"kind": "cache", "min": 0, "max": 1}}, {"present": {"kind": ["cache", "cdn"], "min": 2}}]},
    {"all": [{"not": {"present": {"kind": "queue"}}}, {"decoupled": {"producer": "service", "consumer": "trainer"}}]},
    {"any": [{"present": {"kind": "cache", "min": 3, "max": 2}}, {"present": {"kind": "cdn"}}]},
    {"not": {"not": {"present": {"kind": "cache", "min": 0}}}},
    {"all": [{"edge": {"from": "service", "to": "monitoring"}}, {"present": {"kind": "service", "max": 1}}]},
])
def test_possible_rules_are_not_flagged(raw):
    assert never_passes(rule(raw)) is None
