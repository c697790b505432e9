"""Calibration of the grader against interviewers' ratings.

A calibration design is an ordinary design file with a top-level ``rating:`` written by an
interviewer before grading (``{overall: 0-100, categories: {category id: 0-100}}``).
``calibrate(folder)`` grades every rated design under a folder with its scenario's rubric at the
scenario's traffic (as ``grade`` does) and measures how well the scores agree with the ratings:
mean absolute error, Spearman's rank correlation, the share of pairwise orderings that agree, the
worst design, and the error per rubric category and per scenario. A file that cannot be used is a
located problem; the other files are still graded. The metrics are written here (no scipy).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.errors import Problem, SimulatorError
from simulator.grading.library import Library, load_library
from simulator.grading.rubric import Rubric, evaluate
from simulator.model.design import Design, parse_design
from simulator.model.validation import located
from simulator.model.yamlio import load_mapping, read_text_file
from simulator.suggest import did_you_mean

DESIGN_SUFFIXES = (".yaml", ".yml", ".json")
RATING_FIELDS = ("overall", "categories")


@dataclass(frozen=True)
class Rating:
    """An interviewer's holistic rating (0-100) and, optionally, one per rubric category."""
    overall: float
    categories: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class GradedDesign:
    """One rated design with the grader's verdict; a gap is score minus rating (+: the grader is kinder)."""
    file: str
    scenario: str
    rating: Rating
    score: float
    category_scores: dict[str, float]
    rated_coverage: float | None = None   # the rating's categories weighted by the rubric's weights

    @property
    def gap(self) -> float:
        return round(self.score - self.rating.overall, 1)

    def category_gaps(self) -> dict[str, float]:
        return {cid: round(self.category_scores[cid] - rated, 1) for cid, rated in self.rating.categories.items()}


@dataclass(frozen=True)
class Fit:
    """Mean absolute error over the designs it covers (None without any)."""
    mae: float | None
    designs: int


@dataclass
class Calibration:
    """What `calibrate` found: the graded designs, the problems, and the agreement figures.

    A figure that cannot be computed (Spearman with fewer than two designs or with all ratings equal,
    pairwise agreement without a pair of different ratings) is None."""
    designs: list[GradedDesign]
    problems: list[Problem]
    warnings: list[Problem]
    files: int
    mae: float | None
    spearman: float | None
    pairwise: float | None
    pairs: int
    worst: GradedDesign | None
    categories: dict[str, Fit]
    scenarios: dict[str, Fit]
    scale: tuple[float, float] | None = None   # (base, slope): overall ~ base + slope x rated coverage

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (no NaN or infinity: a missing figure is None)."""
        return {
            "files": self.files,
            "designs": [_design_dict(d) for d in self.designs],
            "mae": _round(self.mae, 2),
            "spearman": _round(self.spearman, 4),
            "pairwise_agreement": _round(self.pairwise, 4),
            "pairs": self.pairs,
            "worst": None if self.worst is None else {"file": self.worst.file, "gap": self.worst.gap},
            "categories": {cid: _fit_dict(f) for cid, f in self.categories.items()},
            "scenarios": {sid: _fit_dict(f) for sid, f in self.scenarios.items()},
            "interview_scale": None if self.scale is None else {"base": round(self.scale[0], 2),
                                                                "slope": round(self.scale[1], 3)},
            "problems": [_problem_dict(p) for p in self.problems],
            "warnings": [_problem_dict(p) for p in self.warnings],
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _design_dict(d: GradedDesign) -> dict[str, Any]:
    gaps = d.category_gaps()
    return {"file": d.file, "scenario": d.scenario, "rating": d.rating.overall, "score": d.score, "gap": d.gap,
            "categories": {cid: {"rating": rated, "score": d.category_scores[cid], "gap": gaps[cid]}
                           for cid, rated in d.rating.categories.items()}}


def _fit_dict(fit: Fit) -> dict[str, Any]:
    return {"mae": _round(fit.mae, 2), "designs": fit.designs}


def _problem_dict(p: Problem) -> dict[str, Any]:
    return {"file": p.file, "line": p.line, "column": p.column, "message": p.message}


# ---------------------------------------------------------------------------
# reading and grading
# ---------------------------------------------------------------------------


def design_files(folder: Path) -> list[Path]:
    """Every design file under a folder, recursively, in sorted order (a file is itself)."""
    if folder.is_file():
        return [folder]
    return sorted(p for p in folder.rglob("*") if p.suffix in DESIGN_SUFFIXES and p.is_file())


def calibrate(folder: str | Path, library: Library | None = None) -> Calibration:
    """Grade every rated design under `folder` and measure the agreement with the ratings."""
    lib = library or load_library(check_references=False)
    files = design_files(Path(folder))
    designs: list[GradedDesign] = []
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for path in files:
        graded, found, warned = grade_rated(path, lib)
        problems.extend(found)
        warnings.extend(warned)
        if graded is not None:
            designs.append(graded)
    if not files:
        problems.append(Problem(f"no design files ({', '.join('*' + s for s in DESIGN_SUFFIXES)}) here", str(folder)))
    return summarise(designs, problems, warnings, len(files))


def grade_rated(path: Path, lib: Library) -> tuple[GradedDesign | None, list[Problem], list[Problem]]:
    """One file: the graded design (None when it has problems), its problems and its warnings."""
    source = str(path)
    try:
        data = load_mapping(read_text_file(path), source, "design")
    except SimulatorError as exc:
        return None, exc.problems, []
    problems: list[Problem] = []
    for key, need in (("scenario", "`scenario: ID`: its rubric grades it"),
                      ("rating", "`rating: {overall: 0-100}`, written before grading")):
        if data.get(key) is None:
            problems.append(located(data, source, (), f"no '{key}': a calibration design needs {need}"))
    design: Design | None = None
    try:
        design = parse_design(data, source)
    except SimulatorError as exc:
        problems.extend(exc.problems)
    scenario = rubric = None
    if isinstance(data.get("scenario"), str):
        try:
            scenario, rubric = lib.get(data["scenario"])
        except SimulatorError as exc:
            problems.append(located(data, source, ("scenario",), exc.first.message))
    rating = None
    if data.get("rating") is not None:
        rating, found = read_rating(data, source, rubric)
        problems.extend(found)
    warnings = design.warnings if design is not None else []
    problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    if problems or design is None or scenario is None or rubric is None or rating is None:
        return None, problems, warnings
    report = evaluate(design, rubric, scenario.peak_traffic)
    graded = GradedDesign(source, rubric.scenario, rating, report.score, report.category_scores(),
                          rated_coverage(rating, rubric))
    return graded, [], warnings


def rated_coverage(rating: Rating, rubric: Rubric) -> float | None:
    """The interviewer's own category ratings weighted by the rubric's weights (None without any)."""
    rated = {cid: v for cid, v in rating.categories.items() if cid in rubric.categories}
    weight = sum(rubric.categories[cid].weight for cid in rated)
    if not weight:
        return None
    return sum(rubric.categories[cid].weight * v for cid, v in rated.items()) / weight


def read_rating(data: dict, source: str | None, rubric: Rubric | None) -> tuple[Rating | None, list[Problem]]:
    """The design's `rating`, validated (category ids against `rubric` when known), with its problems."""
    raw = data["rating"]
    if not isinstance(raw, dict):
        return None, [located(data, source, ("rating",), "'rating' must be a mapping like {overall: 70}")]
    problems = [located(data, source, ("rating", key), f"unknown field '{key}' in 'rating'"
                        + did_you_mean(str(key), RATING_FIELDS) + f"; a rating has {', '.join(RATING_FIELDS)}")
                for key in raw if key not in RATING_FIELDS]
    overall = raw.get("overall")
    if overall is None:
        problems.append(located(data, source, ("rating",), "'rating' has no 'overall': add `overall: 0-100`"))
    elif not _is_score(overall):
        problems.append(located(data, source, ("rating", "overall"),
                                f"'rating.overall' must be a number from 0 to 100, not {overall!r}"))
    categories = raw.get("categories") or {}
    if not isinstance(categories, dict):
        problems.append(located(data, source, ("rating", "categories"),
                                "'rating.categories' must map category ids to numbers 0-100"))
        categories = {}
    for cid, value in categories.items():
        problems.extend(_category_problems(data, source, rubric, cid, value))
    if problems or overall is None:
        return None, problems
    return Rating(float(overall), {str(k): float(v) for k, v in categories.items()}), []


def _category_problems(data: dict, source: str | None, rubric: Rubric | None, cid: Any, value: Any) -> list[Problem]:
    where = ("rating", "categories", cid)
    out: list[Problem] = []
    if rubric is not None and cid not in rubric.categories:
        known = list(rubric.categories)
        out.append(located(data, source, where, f"unknown category '{cid}' of the {rubric.scenario} rubric"
                           + did_you_mean(str(cid), known) + f"; its categories: {', '.join(known)}"))
    if not _is_score(value):
        out.append(located(data, source, where, f"'rating.categories.{cid}' must be a number from 0 to 100, "
                           f"not {value!r}"))
    return out


def _is_score(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            and 0 <= value <= 100)


# ---------------------------------------------------------------------------
# agreement
# ---------------------------------------------------------------------------


def summarise(designs: list[GradedDesign], problems: list[Problem], warnings: list[Problem],
              files: int) -> Calibration:
    """The agreement figures of graded designs."""
    ratings = [d.rating.overall for d in designs]
    scores = [d.score for d in designs]
    share, pairs = pairwise_agreement(ratings, scores)
    worst = max(designs, key=lambda d: abs(d.gap), default=None)   # the first of equal gaps
    categories: dict[str, list[float]] = {}
    scenarios: dict[str, list[float]] = {}
    for d in designs:
        scenarios.setdefault(d.scenario, []).append(d.gap)
        for cid, gap in d.category_gaps().items():
            categories.setdefault(cid, []).append(gap)
    return Calibration(
        designs, problems, warnings, files,
        mae=mean_absolute_error(ratings, scores), spearman=spearman(ratings, scores),
        pairwise=share, pairs=pairs, worst=worst,
        categories={cid: Fit(_mean_abs(gaps), len(gaps)) for cid, gaps in sorted(categories.items())},
        scenarios={sid: Fit(_mean_abs(gaps), len(gaps)) for sid, gaps in sorted(scenarios.items())},
        scale=interview_scale_fit(designs))


def interview_scale_fit(designs: list[GradedDesign]) -> tuple[float, float] | None:
    """How these interviewers turn coverage into an overall score: the least-squares line of their
    overall ratings on their own weighted category ratings (base, slope). None without two designs
    that rate categories, or when those all rate the same coverage. The grader's own scale is
    ``simulator.grading.scale``; compare the two to see whether your raters read the scale alike."""
    pairs = [(d.rated_coverage, d.rating.overall) for d in designs if d.rated_coverage is not None]
    if len(pairs) < 2:
        return None
    mx = sum(x for x, _ in pairs) / len(pairs)
    my = sum(y for _, y in pairs) / len(pairs)
    var = sum((x - mx) ** 2 for x, _ in pairs)
    if var == 0:
        return None
    slope = sum((x - mx) * (y - my) for x, y in pairs) / var
    return my - slope * mx, slope


def _mean_abs(values: Sequence[float]) -> float | None:
    return sum(abs(v) for v in values) / len(values) if values else None


def mean_absolute_error(expected: Sequence[float], actual: Sequence[float]) -> float | None:
    """Mean of |actual - expected|; None for no values."""
    return _mean_abs([a - e for e, a in zip(expected, actual)])


def average_ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks; tied values share the average of the ranks they span ([5, 7, 7] -> [1, 2.5, 2.5])."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for k in range(start, end + 1):
            ranks[order[k]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's rank correlation: Pearson's correlation of the average ranks. None with fewer than two
    values or when either side has all values equal (no order to compare)."""
    if len(xs) < 2:
        return None
    rx, ry = average_ranks(xs), average_ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    vx = sum((a - mx) ** 2 for a in rx)
    vy = sum((b - my) ** 2 for b in ry)
    if vx == 0 or vy == 0:
        return None
    return cov / math.sqrt(vx * vy)


def pairwise_agreement(ratings: Sequence[float], scores: Sequence[float]) -> tuple[float | None, int]:
    """The share of pairs with different ratings whose scores are ordered the same way (a tie in score
    counts half), and the number of such pairs; None without a pair."""
    agree = 0.0
    pairs = 0
    for i in range(len(ratings)):
        for j in range(i + 1, len(ratings)):
            rated = ratings[i] - ratings[j]
            if rated == 0:
                continue
            pairs += 1
            scored = scores[i] - scores[j]
            agree += 0.5 if scored == 0 else float((scored > 0) == (rated > 0))
    return (agree / pairs if pairs else None), pairs
