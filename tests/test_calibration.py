"""`python -m simulator calibrate`: the agreement figures on hand-worked examples, and the command on a small
folder of rated designs (scores are taken from `grade`, so the tests hold while the rubrics change)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from simulator.grading.calibration import (
    GradedDesign,
    Rating,
    average_ranks,
    interview_scale_fit,
    mean_absolute_error,
    pairwise_agreement,
    spearman,
    summarise,
)
from simulator.grading.scale import interview_score
from tests.cli_helpers import ROOT, run_cli

# --- the figures, worked by hand ----------------------------------------------------------------


def test_spearman_of_one_swapped_pair_is_0_8():
    # ranks equal the values; d = 0, 1, 1, 0, so 1 - 6 * 2 / (4 * (16 - 1)) = 0.8
    assert spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)


def test_spearman_gives_tied_values_their_average_rank():
    # x ranks 1, 2.5, 2.5, 4 against 1, 2, 3, 4: deviations from 2.5 are (-1.5, 0, 0, 1.5) and
    # (-1.5, -0.5, 0.5, 1.5); covariance 4.5, variances 4.5 and 5, so r = 4.5 / sqrt(22.5) = 3 / sqrt(10)
    assert average_ranks([1, 2, 2, 3]) == [1, 2.5, 2.5, 4]
    assert average_ranks([7, 5, 7, 1]) == [3.5, 2, 3.5, 1]
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(3 / math.sqrt(10))


def test_spearman_reversed_is_minus_one_and_undefined_without_an_order():
    assert spearman([10, 20, 30], [90, 50, 10]) == pytest.approx(-1.0)
    assert spearman([55], [60]) is None                 # fewer than two designs
    assert spearman([50, 50, 50], [10, 20, 30]) is None  # every rating equal: nothing to rank
    assert spearman([], []) is None


def test_pairwise_agreement_counts_a_tied_score_half_and_skips_tied_ratings():
    # (10, 20): scores tie -> 0.5; (10, 30) and (20, 30) agree -> 1 each: 2.5 of 3 pairs
    share, pairs = pairwise_agreement([10, 20, 30], [15, 15, 40])
    assert (share, pairs) == (pytest.approx(2.5 / 3), 3)
    # the two 10s are no pair; first vs third agrees (5 < 25), second vs third does not (50 > 25): 1 of 2
    assert pairwise_agreement([10, 10, 30], [5, 50, 25]) == (0.5, 2)
    assert pairwise_agreement([40, 40], [1, 2]) == (None, 0)


def test_mean_absolute_error():
    assert mean_absolute_error([50, 70], [60, 40]) == 20   # (10 + 30) / 2
    assert mean_absolute_error([], []) is None


def graded(file: str, scenario: str, rating: float, score: float, rated: dict[str, float],
           scores: dict[str, float]) -> GradedDesign:
    return GradedDesign(file, scenario, Rating(rating, rated), score, scores)


def test_summary_finds_the_worst_design_and_the_error_per_category_and_scenario():
    designs = [graded("a.yaml", "s1", 50, 60, {"caching": 40}, {"caching": 100, "fallback": 0}),
               graded("b.yaml", "s1", 80, 70, {}, {"caching": 0, "fallback": 0}),
               graded("c.yaml", "s2", 20, 50, {"caching": 100, "fallback": 10}, {"caching": 0, "fallback": 0})]
    result = summarise(designs, [], [], 3)
    assert result.mae == pytest.approx((10 + 10 + 30) / 3)
    assert result.worst is designs[2] and result.worst.gap == 30
    assert designs[1].gap == -10
    # caching is rated by a (100 - 40 = 60) and c (0 - 100 = -100), never by b
    assert (result.categories["caching"].mae, result.categories["caching"].designs) == (80, 2)
    assert (result.categories["fallback"].mae, result.categories["fallback"].designs) == (10, 1)
    assert {sid: (f.mae, f.designs) for sid, f in result.scenarios.items()} == {"s1": (10, 2), "s2": (30, 1)}
    # ratings 20 < 50 < 80 against scores 50 < 60 < 70: same order
    assert result.spearman == pytest.approx(1.0) and (result.pairwise, result.pairs) == (1.0, 3)


def test_summary_of_one_design_has_null_figures_in_strict_json():
    result = summarise([graded("a.yaml", "s1", 50, 60, {}, {})], [], [], 1)
    text = json.dumps(result.to_dict(), allow_nan=False)
    data = json.loads(text)
    assert data["spearman"] is None and data["pairwise_agreement"] is None and data["pairs"] == 0
    assert data["mae"] == 10 and data["worst"] == {"file": "a.yaml", "gap": 10}


# --- the command ----------------------------------------------------------------------------------

SMALL = """\
scenario: fraud-detection
rating:
  overall: 15
  categories: {caching: 0, fallback: 10}
nodes:
  - {id: network, kind: client}
  - {id: scoring, kind: service}
  - {id: model, kind: model_server}
edges:
  - {from: network, to: scoring}
  - {from: scoring, to: model}
"""

MIDDLE = """\
scenario: fraud-detection
rating: {overall: 50, categories: {caching: 80}}
nodes:
  - {id: network, kind: client}
  - {id: scoring, kind: service, replicas: 3, autoscale: true}
  - {id: cache, kind: redis}
  - {id: features, kind: feature_store}
  - {id: model, kind: model_server, replicas: 2}
  - {id: rules, kind: service}
  - {id: metrics, kind: prometheus}
edges:
  - {from: network, to: scoring}
  - {from: scoring, to: cache}
  - {from: scoring, to: features}
  - {from: scoring, to: model}
  - {from: scoring, to: rules, kind: fallback}
  - {from: scoring, to: metrics}
"""

BAD_RATING = """\
scenario: fraud-detection
rating:
  overall: 120
  categories: {cachng: 50}
nodes:
  - {id: network, kind: client}
edges: []
"""

NO_RATING = """\
scenario: fraud-detection
nodes:
  - {id: network, kind: client}
edges: []
"""


@pytest.fixture
def rated(tmp_path: Path) -> Path:
    """A folder of three rated designs: a thin one, a middling one, and the shipped reference design."""
    (tmp_path / "a-small.yaml").write_text(SMALL)
    (tmp_path / "b-middle.yml").write_text(MIDDLE)
    reference = (ROOT / "scenarios" / "reference" / "fraud-detection.yaml").read_text()
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "c-reference.yaml").write_text(reference + "rating: {overall: 90}\n")
    return tmp_path


def grade_score(path: Path) -> float:
    result = run_cli(["grade", path, "--json"])
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["score"]


def test_calibrate_lists_each_design_with_rating_score_and_signed_gap(rated):
    result = run_cli(["calibrate", rated])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    files = [rated / "a-small.yaml", rated / "b-middle.yml", rated / "more" / "c-reference.yaml"]
    gaps = []
    for line, path, rating in zip(lines, files, [15, 50, 90]):   # one line per design, in sorted order
        score = grade_score(path)
        gaps.append(score - rating)
        assert line.startswith(str(path)) and "fraud-detection" in line
        assert f"rating {rating:5.1f}" in line and f"score {score:5.1f}" in line
        assert f"gap {score - rating:+6.1f}" in line
    mae = sum(abs(g) for g in gaps) / 3
    assert f"mean absolute error  {mae:.1f} points" in result.stdout
    assert "Spearman" in result.stdout and "pairwise agreement" in result.stdout
    worst = files[max(range(3), key=lambda i: abs(gaps[i]))]
    assert f"worst design         {worst}:" in result.stdout
    assert "Per category" in result.stdout and "  caching" in result.stdout and "  fallback" in result.stdout


def test_calibrate_json_is_one_strict_document_with_every_figure(rated):
    result = run_cli(["calibrate", rated, "--json"])
    assert result.returncode == 0, result.stderr

    def no_constants(name):
        raise AssertionError(f"not strict JSON: {name}")

    data = json.loads(result.stdout, parse_constant=no_constants)
    assert {"files", "designs", "mae", "spearman", "pairwise_agreement", "pairs", "worst", "categories",
            "scenarios", "problems"} <= set(data)
    assert data["files"] == 3 and data["problems"] == [] and data["pairs"] == 3
    assert [Path(d["file"]).name for d in data["designs"]] == ["a-small.yaml", "b-middle.yml", "c-reference.yaml"]
    small = data["designs"][0]
    assert small["rating"] == 15 and small["gap"] == pytest.approx(small["score"] - 15)
    assert set(small["categories"]) == {"caching", "fallback"}
    assert data["categories"]["caching"]["designs"] == 2 and data["categories"]["fallback"]["designs"] == 1
    assert data["scenarios"]["fraud-detection"]["designs"] == 3
    assert -1 <= data["spearman"] <= 1 and 0 <= data["pairwise_agreement"] <= 1
    assert data["mae"] == pytest.approx(sum(abs(d["gap"]) for d in data["designs"]) / 3, abs=0.01)


def test_a_bad_rating_and_a_missing_rating_are_located_and_the_rest_still_graded(rated):
    (rated / "d-bad.yaml").write_text(BAD_RATING)
    (rated / "e-unrated.json").write_text(json.dumps({"scenario": "fraud-detection", "nodes": [], "edges": []}))
    (rated / "f-unrated.yaml").write_text(NO_RATING)
    result = run_cli(["calibrate", rated])
    assert result.returncode == 1
    bad, unrated = rated / "d-bad.yaml", rated / "f-unrated.yaml"
    assert f"{bad}:3:3: 'rating.overall' must be a number from 0 to 100, not 120" in result.stderr
    assert f"{bad}:4:16: unknown category 'cachng'" in result.stderr and "did you mean caching?" in result.stderr
    assert f"{unrated}:1:1: no 'rating'" in result.stderr
    assert f"{rated / 'e-unrated.json'}:1:1: no 'rating'" in result.stderr
    assert "Traceback" not in result.stderr
    listed = [line.split()[0] for line in result.stdout.splitlines()[:3]]
    assert [Path(f).name for f in listed] == ["a-small.yaml", "b-middle.yml", "c-reference.yaml"]
    assert "3 design(s) graded, 3 file(s) with problems" in result.stdout

    data = json.loads(run_cli(["calibrate", rated, "--json"]).stdout)
    assert len(data["designs"]) == 3 and data["files"] == 6
    assert {(Path(p["file"]).name, p["line"]) for p in data["problems"]} >= {("d-bad.yaml", 3), ("f-unrated.yaml", 1)}


def test_a_file_without_a_scenario_or_with_an_unknown_one_is_a_located_problem(tmp_path):
    (tmp_path / "a.yaml").write_text("rating: {overall: 40}\nnodes: []\nedges: []\n")
    (tmp_path / "b.yaml").write_text("# a comment\nscenario: fraud-detecton\nrating: {overall: 40}\nnodes: []\n")
    result = run_cli(["calibrate", tmp_path])
    assert result.returncode == 1
    assert f"{tmp_path / 'a.yaml'}:1:1: no 'scenario'" in result.stderr
    assert f"{tmp_path / 'b.yaml'}:2:1: unknown scenario 'fraud-detecton'; did you mean fraud-detection?" \
        in result.stderr
    assert "0 design(s) graded" in result.stdout and "Spearman             n/a" in result.stdout


def test_dir_defaults_to_tests_calibration_in_the_working_directory(tmp_path):
    missing = run_cli(["calibrate"], cwd=tmp_path)
    assert missing.returncode == 2 and "tests/calibration does not exist" in missing.stderr
    assert run_cli(["calibrate", tmp_path / "nowhere"]).returncode == 2
    (tmp_path / "tests" / "calibration").mkdir(parents=True)
    (tmp_path / "tests" / "calibration" / "one.yaml").write_text(SMALL)
    result = run_cli(["calibrate"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(str(Path("tests") / "calibration" / "one.yaml"))


def test_the_documented_rating_example_is_accepted(tmp_path):
    doc = (ROOT / "docs" / "authoring.md").read_text()
    section = doc.split("## Calibrating a rubric", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "example.yaml").write_text(example)
    result = run_cli(["calibrate", tmp_path])
    assert result.returncode == 0, result.stderr
    assert "rating  55.0" in result.stdout


def test_the_interviewers_scale_is_the_line_through_their_own_ratings():
    def rated(coverage: float, overall: float) -> GradedDesign:
        return GradedDesign("f.yaml", "s", Rating(overall, {"a": coverage}), 0.0, {"a": 0.0}, coverage)
    # (0, 10), (50, 55), (100, 100) lie on 10 + 0.9 x coverage
    base, slope = interview_scale_fit([rated(0, 10), rated(50, 55), rated(100, 100)])
    assert base == pytest.approx(10) and slope == pytest.approx(0.9)
    assert interview_scale_fit([rated(40, 50)]) is None                       # one point is no line
    assert interview_scale_fit([rated(40, 50), rated(40, 60)]) is None        # nor is one coverage


def test_the_overall_score_is_the_coverage_on_the_interview_scale():
    assert interview_score(0) == 0.0            # nothing passes: nothing earned
    assert interview_score(45) == 52.2          # 13 + 0.87 x 45 = 52.15, halves up
    assert interview_score(100) == 100.0
    assert interview_score(34) == 42.6          # docs/authoring.md's worked example
