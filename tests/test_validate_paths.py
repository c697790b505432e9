"""`validate PATH`: a rubric file is checked at its own scenario's traffic, never at an assumed peak."""
from pathlib import Path

import pytest

from simulator.cli.main import validate_paths
from simulator.errors import Problem, ScenarioError
from simulator.grading.library import Library
from simulator.grading.rubric import fixture_problems, load_rubric
from simulator.model.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def test_the_rubrics_folder_validates_like_the_whole_library():
    problems, _, count = validate_paths([str(ROOT / "rubrics")])
    assert [str(p) for p in problems] == []
    assert count == 5


def test_a_rubric_checked_without_its_scenario_differs_from_one_checked_with_it():
    # The vision pipeline's traffic profile (30 req/s per sensor) is what its sized fixtures are sized
    # for: at an assumed even split of 1,000 req/s some of them behave differently. Passing the
    # scenario's traffic is what makes them behave as declared.
    rubric = load_rubric(ROOT / "rubrics" / "vision-pipeline.yaml")
    scenario = load_scenario(ROOT / "scenarios" / "vision-pipeline.yaml")
    assert fixture_problems(rubric, scenario.peak_traffic) == []
    assert fixture_problems(rubric, None) != []


def test_a_scenario_that_failed_to_load_says_why_instead_of_unknown():
    lib = Library(problems=[Problem("check 'x': pass fixture #1 fails it", file="/tmp/rubrics/mine.yaml", line=7)])
    with pytest.raises(ScenarioError) as err:
        lib.get("mine")
    assert "did not load" in str(err.value) and "mine.yaml:7" in str(err.value)
    with pytest.raises(ScenarioError) as err:
        lib.get("other")
    assert "unknown scenario 'other'" in str(err.value)
