"""docs/authoring.md stays true: its worked example validates, and every rule example behaves as it says."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from simulator.grading.library import check_texts, load_library
from simulator.grading.rubric import evaluate, fixture_problems, parse_rubric
from simulator.model.notation import parse_dsl
from simulator.model.yamlio import load_text
from simulator.rules.parse import COMBINATORS
from simulator.rules.registry import OPERATORS

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "authoring.md").read_text()
YAML_BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC, re.S)
FILES = {m.group(1): block for block in YAML_BLOCKS if (m := re.match(r"# file: (\S+)\n", block))}
RULES = [block for block in YAML_BLOCKS if block.startswith("rule:")]


def example_files() -> tuple[str, str, str, str]:
    scen = next(k for k in FILES if k.startswith("scenarios/") and "/reference/" not in k)
    sid = Path(scen).stem
    return sid, FILES[scen], FILES[f"rubrics/{sid}.yaml"], FILES[f"scenarios/reference/{sid}.yaml"]


def test_the_worked_example_validates():
    assert len(FILES) == 3, list(FILES)
    sid, scenario_text, rubric_text, reference_text = example_files()
    problems, scenario, rubric = check_texts(scenario_text, rubric_text, reference_text)
    assert not problems, [str(p) for p in problems]
    assert scenario.spec.id == sid and rubric.scenario == sid
    assert sum(p.minutes for p in scenario.spec.phases) == 45
    assert sum(c.weight for c in rubric.categories.values()) == 100
    assert evaluate(scenario.reference, rubric, scenario.peak_traffic).score == 100


def test_the_worked_example_loads_from_a_user_folder(tmp_path, monkeypatch):
    for rel, text in FILES.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    monkeypatch.setenv("SIMULATOR_SCENARIOS_DIR", str(tmp_path))
    lib = load_library()
    sid = example_files()[0]
    assert not lib.problems, [str(p) for p in lib.problems]
    assert sid in lib.scenarios and sid in lib.rubrics


def test_the_worked_scores_are_what_the_doc_says():
    _, scenario_text, rubric_text, reference_text = example_files()
    _, scenario, rubric = check_texts(scenario_text, rubric_text, reference_text)
    design_text = re.search(r"draws only\n\n```text\n(.*?)```", DOC, re.S)
    assert design_text, "the worked scoring example is missing"
    report = evaluate(parse_dsl(design_text.group(1)), rubric, scenario.peak_traffic)
    scores = {name: c.score for name, c in report.categories.items()}
    assert scores == {"caching": 100, "fallback": 0, "monitoring": 70, "scaling": 0, "review": 0}
    assert report.coverage == 34 and report.score == 42.6      # 13 + 0.87 x 34
    assert "= **42.6**" in DOC


@pytest.mark.parametrize("block", RULES, ids=[next(iter(load_text(b)["rule"])) for b in RULES])
def test_each_rule_example_behaves_as_its_fixtures_say(block):
    data = load_text(block)
    assert set(data) == {"rule", "fixtures"}
    assert data["fixtures"]["pass"] and data["fixtures"]["fail"]
    rubric = parse_rubric({"scenario": "doc", "categories": {"c": {"weight": 100}},
                           "checks": [{"id": "example", "category": "c", "points": 1, "title": "An example",
                                       "hint": "a hint", "follow_up": "why?", **data}]})
    assert not fixture_problems(rubric, None), [str(p) for p in fixture_problems(rubric, None)]


def test_every_operator_is_documented_with_an_example():
    used = {next(iter(load_text(b)["rule"])) for b in RULES}
    headings = " ".join(re.findall(r"^### (.*)$", DOC, re.M))
    for op in [*OPERATORS, *COMBINATORS]:
        assert f"`{op}`" in headings, f"no section for `{op}`"
        assert op in used, f"no example for `{op}`"


def test_the_doc_links_resolve():
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", DOC):
        assert (ROOT / "docs" / target).resolve().exists(), target
    assert "## The design file" in (ROOT / "README.md").read_text()
