"""Behaviour the scores must show, checked over every shipped scenario's reference design."""
import pytest

from simulator.grading.library import load_library
from simulator.grading.rubric import evaluate, fixture_problems
from simulator.model.design import Design

from .ablations import ABLATIONS, reversed_edges, without_edges

CORE = ("caching", "fallback", "monitoring", "scaling")
LIB = load_library()
IDS = list(LIB.scenarios)


def test_the_five_scenarios_ship_and_load_cleanly():
    assert LIB.problems == []
    assert set(IDS) >= {"recommendation-system", "fraud-detection", "conversational-ai",
                        "vision-pipeline", "model-monitoring"}


@pytest.mark.parametrize("sid", IDS)
def test_reference_design_passes_every_check(sid):
    """The shipped reference designs are model answers: every check passes, so every category is 100."""
    scenario, rubric = LIB.get(sid)
    report = evaluate(scenario.reference, rubric, scenario.peak_traffic)
    assert [c.id for c in report.failed()] == []
    assert report.score == 100
    assert report.category_scores() == {name: 100 for name in rubric.categories}


@pytest.mark.parametrize("sid", IDS)
def test_rubric_has_the_core_categories(sid):
    _, rubric = LIB.get(sid)
    assert set(CORE) <= set(rubric.categories)


@pytest.mark.parametrize("sid", IDS)
@pytest.mark.parametrize("concern", CORE)
def test_taking_out_one_concern_hits_only_its_category(sid, concern):
    scenario, rubric = LIB.get(sid)
    before = evaluate(scenario.reference, rubric, scenario.peak_traffic).categories
    after = evaluate(ABLATIONS[concern](scenario.reference), rubric, scenario.peak_traffic).categories
    drop = before[concern].score - after[concern].score
    assert drop >= 0.6 * before[concern].score, f"{concern} fell only {drop} points"
    for other in CORE:
        if other != concern:
            moved = abs(before[other].score - after[other].score)
            assert moved <= 20, f"removing {concern} moved {other} by {moved}"


@pytest.mark.parametrize("sid", IDS)
@pytest.mark.parametrize("transform", [without_edges, reversed_edges], ids=["no-edges", "reversed"])
def test_presence_is_not_enough_and_direction_matters(sid, transform):
    scenario, rubric = LIB.get(sid)
    assert evaluate(transform(scenario.reference), rubric, scenario.peak_traffic).coverage <= 35


@pytest.mark.parametrize("sid", IDS)
def test_empty_design_scores_zero(sid):
    scenario, rubric = LIB.get(sid)
    report = evaluate(Design(), rubric, scenario.peak_traffic)
    assert report.score == 0
    assert all(not c.passed for c in report.checks)


@pytest.mark.parametrize("sid", IDS)
def test_every_check_has_fixtures_that_behave(sid):
    scenario, rubric = LIB.get(sid)
    for check in rubric.checks:
        assert check.passing and check.failing, f"{check.id} needs a pass and a fail fixture"
    assert fixture_problems(rubric, scenario.peak_traffic) == []


@pytest.mark.parametrize("sid", IDS)
def test_grading_is_deterministic(sid):
    scenario, rubric = LIB.get(sid)
    shuffled = scenario.reference.copy()
    shuffled.nodes.reverse()
    shuffled.edges.reverse()
    a = evaluate(scenario.reference, rubric, scenario.peak_traffic)
    b = evaluate(shuffled, rubric, scenario.peak_traffic)
    assert a.score == b.score
    assert [c.passed for c in a.checks] == [c.passed for c in b.checks]


@pytest.mark.parametrize("sid", IDS)
def test_reference_design_has_no_warnings(sid):
    scenario, _ = LIB.get(sid)
    assert [str(w) for w in scenario.reference.warnings] == []
