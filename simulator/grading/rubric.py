"""Rubrics: checks grouped into categories, evaluated on a design into a Report.

A rubric file names its scenario, declares categories with weights and lists
checks. Each check has an id, a category, points, a rule (see ``rules``), a
hint, a follow-up question and fixtures: small designs that must pass and must
fail it. Scores are computed in code: the points of passed checks give each
category 0-100; the categories' weights give the overall 0-100.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from simulator.errors import DesignError, Problem, RubricError
from simulator.grading.scale import interview_score
from simulator.model.design import Design, parse_design
from simulator.model.notation import parse_dsl
from simulator.model.scenario import PeakTraffic
from simulator.model.validation import located
from simulator.model.yamlio import load_mapping, locate, read_text_file
from simulator.rules.context import Context, Outcome
from simulator.rules.feasibility import never_passes
from simulator.rules.parse import Rule, parse_rule
from simulator.suggest import did_you_mean, nearest

CHECK_ID = r"^[a-z0-9][a-z0-9-]{0,63}$"
CORE_CATEGORIES = ("caching", "fallback", "monitoring", "scaling")
WEIGHT_TOTAL = 100


class CategorySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, max_length=80, description="shown on score cards (default: the name)")
    weight: float = Field(1.0, gt=0, le=1000, description="share of the overall score; the weights of all "
                                                         "categories add up to 100")
    description: str | None = Field(None, max_length=500)


class Fixtures(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    passing: list[Any] = Field(default_factory=list, alias="pass",
                               description="designs (text DSL or design mapping) that must pass the check")
    failing: list[Any] = Field(default_factory=list, alias="fail",
                               description="designs (text DSL or design mapping) that must fail the check")


class CheckSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=CHECK_ID, description="lowercase letters, digits and '-'; unique in the rubric")
    category: str = Field(description="one of the names under `categories`")
    points: int = Field(ge=1, le=100, description="weight of the check inside its category")
    title: str = Field(min_length=3, max_length=120, description="what a passing design does, in one line")
    rule: Any = Field(description="one rule operator or combinator")
    hint: str = Field(min_length=3, max_length=600, description="shown when the check fails: what to draw")
    follow_up: str = Field(min_length=3, max_length=400, description="the question an interviewer would ask")
    fixtures: Fixtures | None = Field(None, description="small designs that must pass and must fail the check")


class RubricSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scenario: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$", description="the id of the scenario graded")
    title: str | None = None
    categories: dict[str, CategorySpec] = Field(description="name -> title, weight, description; the "
                                                            "weights add up to 100")
    checks: list[CheckSpec] = Field(min_length=1)


@dataclass
class Check:
    id: str
    category: str
    points: int
    title: str
    rule: Rule
    hint: str
    follow_up: str
    passing: list[Design] = field(default_factory=list)
    failing: list[Design] = field(default_factory=list)
    line: int | None = None
    fixture_lines: dict[str, list[int | None]] = field(default_factory=dict)
    fixture_columns: dict[str, list[int | None]] = field(default_factory=dict)


@dataclass
class Category:
    name: str
    title: str
    weight: float
    description: str | None = None


@dataclass
class Rubric:
    scenario: str
    categories: dict[str, Category]
    checks: list[Check]
    title: str | None = None
    source: str | None = None
    digest: str = ""

    def check(self, check_id: str) -> Check:
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(check_id)


# ---------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------


def _message(err: dict) -> str:
    loc = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        return f"unknown field '{err['loc'][-1]}'"
    if err["type"] == "missing":
        return f"missing field '{loc}'"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    return f"'{loc}': {msg}"


def parse_rubric(data: Any, source: str | None = None) -> Rubric:
    """Validate rubric data; RubricError lists every problem with its line."""
    if not isinstance(data, dict):
        raise RubricError(Problem("a rubric must be a mapping with scenario, categories and checks", source, 1))
    reader = _RubricReader(data, source)
    spec = reader.validate()
    checks = reader.read_checks(spec)
    if spec is not None:
        reader.report_empty_categories(spec)
    weight_problem = _weights_problem(data, source)
    if weight_problem:
        reader.problems.append(weight_problem)
    if reader.problems or spec is None:   # a spec that did not validate has left its problems
        raise RubricError(reader.problems)
    cats = {name: Category(name, c.title or name.replace("_", " ").capitalize(), c.weight, c.description)
            for name, c in spec.categories.items()}
    digest = hashlib.sha256(json.dumps(_plain(data), sort_keys=True, default=str).encode()).hexdigest()
    return Rubric(spec.scenario, cats, checks, spec.title, source, digest)


class _RubricReader:
    """One rubric mapping being checked, with every problem found so far."""

    def __init__(self, data: dict, source: str | None) -> None:
        self.data = data
        self.source = source
        self.problems: list[Problem] = []
        self.categories: dict[str, Any] = data["categories"] if isinstance(data.get("categories"), dict) else {}

    def bad(self, loc: tuple, message: str) -> None:
        self.problems.append(located(self.data, self.source, loc, message))

    def validate(self) -> RubricSpec | None:
        """The validated spec, or None once its field problems are reported."""
        try:
            return RubricSpec.model_validate(self.data)
        except ValidationError as exc:
            for err in exc.errors():
                self.bad(tuple(err["loc"]), _field_hint(dict(err)))
            # keep going with what can be checked, so every problem shows at once
            return None

    def read_checks(self, spec: RubricSpec | None) -> list[Check]:
        """Every check's own problems; the checks themselves when the spec validated."""
        raw_checks: list[Any] = self.data["checks"] if isinstance(self.data.get("checks"), list) else []
        seen: dict[str, int] = {}
        checks: list[Check] = []
        for i, raw in enumerate(raw_checks):
            if not isinstance(raw, dict):
                continue
            cid = raw.get("id")
            self._check_id(i, cid, seen)
            self._check_category(i, raw.get("category"), cid)
            rule = self._check_rule(i, raw, cid)
            passing, failing, lines, columns = self._fixtures(i, raw.get("fixtures"), cid)
            if spec is not None and rule is not None:
                c = spec.checks[i]
                pos = locate(self.data, ("checks", i))
                checks.append(Check(c.id, c.category, c.points, c.title, rule, c.hint, c.follow_up, passing,
                                    failing, pos[0] if pos else None, lines, columns))
        return checks

    def _check_id(self, i: int, cid: Any, seen: dict[str, int]) -> None:
        if not isinstance(cid, str):
            return
        if cid in seen:
            first = locate(self.data, ("checks", seen[cid]))
            self.bad(("checks", i, "id"), f"duplicate check id '{cid}' (first on line {first[0] if first else '?'})")
        else:
            seen[cid] = i

    def _check_category(self, i: int, cat: Any, cid: Any) -> None:
        categories = self.categories
        if isinstance(cat, str) and categories and cat not in categories:
            hint = did_you_mean(cat, categories, prefix="") + (" " if nearest(cat, categories) else "")
            self.bad(("checks", i, "category"), f"check '{cid}': category '{cat}' is not declared under "
                                                f"`categories`; {hint}declared: {', '.join(categories)}")

    def _check_rule(self, i: int, raw: dict, cid: Any) -> Rule | None:
        """The parsed rule (None when missing or broken); a rule no design can pass is a problem too."""
        rule, rule_problems = (None, []) if "rule" not in raw else parse_rule(raw["rule"])
        for rp in rule_problems:
            self.bad(("checks", i, "rule") + rp.loc, f"check '{cid}': {rp.message}")
        impossible = never_passes(rule) if rule is not None else None
        if impossible:
            self.bad(("checks", i, "rule") + impossible[0],
                     f"check '{cid}' can never pass, whatever the design: {impossible[1]}")
        return rule

    def _fixtures(self, i: int, fixtures: Any, cid: Any
                  ) -> tuple[list[Design], list[Design], dict[str, list[int | None]], dict[str, list[int | None]]]:
        """The pass and fail fixture designs, with the line and column of each."""
        passing: list[Design] = []
        failing: list[Design] = []
        lines: dict[str, list[int | None]] = {"pass": [], "fail": []}
        columns: dict[str, list[int | None]] = {"pass": [], "fail": []}
        if not isinstance(fixtures, dict):
            return passing, failing, lines, columns
        for key, bucket in (("pass", passing), ("fail", failing)):
            items = fixtures.get(key) or []
            if not isinstance(items, list):
                continue
            for j, item in enumerate(items):
                loc = ("checks", i, "fixtures", key, j)
                pos = locate(self.data, loc)
                lines[key].append(pos[0] if pos else None)
                columns[key].append(pos[1] if pos else None)
                try:
                    bucket.append(_fixture_design(item, self.data, self.source, loc))
                except DesignError as exc:
                    for p in exc.problems:
                        self.problems.append(Problem(f"check '{cid}', {key} fixture #{j + 1}: {p.message}",
                                                     p.file or self.source, p.line, p.column))
        return passing, failing, lines, columns

    def report_empty_categories(self, spec: RubricSpec) -> None:
        for name in self.categories:
            if not any(c.category == name for c in spec.checks):
                self.bad(("categories", name), f"category '{name}' has no checks: its score could never be earned")


def _weights_problem(data: Any, source: str | None) -> Problem | None:
    """The category weights are shares of the overall score: they must add up to 100."""
    categories = data.get("categories")
    if not isinstance(categories, dict) or not categories:
        return None
    weights: dict[str, float] = {}
    for name, cat in categories.items():
        weight = cat.get("weight", 1.0) if isinstance(cat, dict) else None
        if isinstance(weight, bool) or not isinstance(weight, (int, float)):
            return None          # a wrong type is reported on its own line
        weights[str(name)] = float(weight)
    total = sum(weights.values())
    if abs(total - WEIGHT_TOTAL) < 1e-6:
        return None
    parts = " + ".join(f"{name} {w:g}" for name, w in weights.items())
    unset = [str(n) for n, c in categories.items() if not (isinstance(c, dict) and "weight" in c)]
    note = f" ({', '.join(unset)} without a weight count 1)" if unset else ""
    gap = WEIGHT_TOTAL - total
    fix = f"add {gap:g}" if gap > 0 else f"take {-gap:g} off"
    # on the `categories:` key itself (locate() would point inside the mapping, at its first category)
    pos = getattr(data, "key_pos", {}).get("categories") or locate(data, ("categories",)) or (None, None)
    return Problem(f"category weights do not add up: {parts} = {total:g}, not {WEIGHT_TOTAL}{note}; "
                   f"{fix} across the categories so the overall score is out of 100", source, *pos)


def _field_hint(err: dict) -> str:
    msg = _message(err)
    loc = err["loc"]
    if err["type"] == "missing":
        if len(loc) == 1:
            return msg + "; a rubric needs scenario, categories and checks"
        if len(loc) == 3 and loc[0] == "checks":
            return (f"check #{loc[1] + 1} is missing '{loc[2]}'; a check needs id, category, points, title, "
                    "rule, hint and follow_up")
    if err["type"] == "extra_forbidden":
        loc = err["loc"]
        if len(loc) == 1:
            return msg + "; a rubric has scenario, title, categories, checks"
        if len(loc) >= 3 and loc[0] == "checks" and loc[2] != "fixtures":
            return msg + f" in check #{loc[1] + 1}; a check has " + ", ".join(CheckSpec.model_fields)
        if loc[0] == "categories":
            return msg + "; a category has title, weight, description"
        if "fixtures" in loc:
            return msg + "; fixtures have pass and fail"
    return msg


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _fixture_design(item: Any, data: Any, source: str | None, loc: tuple) -> Design:
    pos = locate(data, loc)
    if isinstance(item, str):
        try:
            return parse_dsl(item)
        except DesignError as exc:
            # a block scalar starts on the line after its indicator
            base = pos[0] if pos else 0
            raise DesignError([Problem(p.message, source, base + (p.line or 0) if p.line else base)
                               for p in exc.problems]) from None
    if isinstance(item, dict):
        return parse_design(item, source)
    raise DesignError(Problem("a fixture is a design: DSL text or a mapping with nodes and edges",
                              source, pos[0] if pos else None))


def load_rubric_text(text: str, source: str | None = None) -> Rubric:
    return parse_rubric(load_mapping(text, source, "rubric"), source)


def load_rubric(path) -> Rubric:
    return load_rubric_text(read_text_file(path), str(path))


# ---------------------------------------------------------------------------
# evaluation
# ---------------------------------------------------------------------------


@dataclass
class CheckResult:
    id: str
    category: str
    title: str
    points: int
    passed: bool
    status: str          # pass | fail | error
    earned: float
    evidence: str
    nodes: list[str]
    path: list[str] | None
    hint: str
    follow_up: str


@dataclass
class CategoryResult:
    name: str
    title: str
    weight: float
    score: float
    earned: float
    possible: float
    passed: int
    total: int


@dataclass
class Report:
    scenario: str
    score: float
    categories: dict[str, CategoryResult]
    checks: list[CheckResult]
    errors: list[str]
    rubric_digest: str = ""
    coverage: float | None = None   # the weighted category scores; `score` is it on the interview scale

    def category_scores(self) -> dict[str, float]:
        """Score 0-100 by category name, as the store keeps them."""
        return {name: c.score for name, c in self.categories.items()}

    def failed(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed]

    def failing_nodes(self) -> list[str]:
        out: list[str] = []
        for c in self.failed():
            for n in c.nodes:
                if n not in out:
                    out.append(n)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        """A stored report back as a Report (the attempt's verdict as graded, whatever the rubric is now)."""
        cat_fields = set(CategoryResult.__dataclass_fields__) - {"name"}
        check_fields = set(CheckResult.__dataclass_fields__)
        return cls(
            scenario=data.get("scenario", ""),
            score=float(data.get("score", 0.0)),
            categories={name: CategoryResult(name=name, **{k: v for k, v in c.items() if k in cat_fields})
                        for name, c in (data.get("categories") or {}).items()},
            checks=[CheckResult(**{k: v for k, v in c.items() if k in check_fields})
                    for c in (data.get("checks") or [])],
            errors=list(data.get("errors") or []),
            rubric_digest=data.get("rubric_digest", ""),
            coverage=_number_or_none(data.get("coverage")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "score": self.score,
            "categories": {name: {k: v for k, v in asdict(c).items() if k != "name"}
                           for name, c in self.categories.items()},
            "checks": [asdict(c) for c in self.checks],
            "errors": list(self.errors),
            "rubric_digest": self.rubric_digest,
            "coverage": self.coverage,
        }


def _number_or_none(value: Any) -> float | None:
    """A stored report's number, or None (reports stored before a field existed lack it)."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _context(design: Design, traffic: PeakTraffic | None) -> Context:
    if traffic is None:
        return Context(design, None, None)
    rates = dict(traffic.entry_rates) if traffic.entry_rates else None
    return Context(design, traffic.peak_rps, rates)


def run_check(check: Check, design: Design, traffic: PeakTraffic | None, ctx: Context | None = None) -> CheckResult:
    """One check on one design at the given traffic; an exception becomes an `error` verdict, never a
    silent pass."""
    if design.is_empty():
        return CheckResult(check.id, check.category, check.title, check.points, False, "fail", 0.0,
                           "the design is empty: add components and connect them", [], None,
                           check.hint, check.follow_up)
    try:
        outcome = check.rule.evaluate(ctx or _context(design, traffic))
    except Exception as exc:  # a bug in a rule must show, not pass
        return CheckResult(check.id, check.category, check.title, check.points, False, "error", 0.0,
                           f"error while evaluating this check: {type(exc).__name__}: {exc}", [], None,
                           check.hint, check.follow_up)
    earned = float(check.points) if outcome.passed else round(check.points * min(max(outcome.credit, 0.0), 1.0), 2)
    evidence = outcome.evidence
    if earned and not outcome.passed:
        evidence = f"partly there ({earned:g} of {check.points:g} points): {evidence}"
    evidence += _role_notes(ctx or _context(design, traffic), outcome, check.rule.kinds())
    return CheckResult(check.id, check.category, check.title, check.points, outcome.passed,
                       "pass" if outcome.passed else "fail", earned,
                       evidence, list(outcome.nodes), outcome.path, check.hint, check.follow_up)


def _role_notes(ctx: Context, outcome: Outcome, roles: set[str]) -> str:
    """Which word or property gave the nodes of this verdict a role the rule asks about."""
    notes = []
    for node in dict.fromkeys([*outcome.nodes, *(outcome.path or [])]):
        if node not in ctx.role_sets:
            continue
        for role, why in ctx.role_sets[node].read_from_words().items():
            if role in roles:
                notes.append(f"{node} is a {role} by its {why}")
    return f" [{'; '.join(notes)}]" if notes else ""


def evaluate(design: Design, rubric: Rubric, traffic: PeakTraffic | None) -> Report:
    """Grade a design against a rubric at the scenario's traffic (`scenario.peak_traffic`; None when the
    rubric is checked without its scenario). Deterministic: the same inputs always give the same report."""
    ctx = None if design.is_empty() else _context(design, traffic)
    results = [run_check(c, design, traffic, ctx) for c in rubric.checks]
    categories: dict[str, CategoryResult] = {}
    for name, cat in rubric.categories.items():
        mine = [r for r in results if r.category == name]
        possible = float(sum(r.points for r in mine))
        earned = float(sum(r.earned for r in mine))
        score = round(100.0 * earned / possible, 1) if possible else 0.0
        categories[name] = CategoryResult(name, cat.title, cat.weight, score, earned, possible,
                                          sum(r.passed for r in mine), len(mine))
    weighted = [(c.weight, c.score) for c in categories.values() if c.possible > 0]
    total_weight = sum(w for w, _ in weighted)
    coverage = round(sum(w * s for w, s in weighted) / total_weight, 1) if total_weight else 0.0
    errors = [f"{r.id}: {r.evidence}" for r in results if r.status == "error"]
    return Report(rubric.scenario, interview_score(coverage), categories, results, errors, rubric.digest,
                  coverage)


@dataclass
class FixtureOutcome:
    check: str
    kind: str            # pass | fail: what the fixture declares
    index: int           # 1-based, as in the messages
    line: int | None
    ok: bool             # behaves as declared
    status: str          # the check's verdict on it: pass | fail | error
    evidence: str
    column: int | None = None


def fixture_outcomes(rubric: Rubric, traffic: PeakTraffic | None) -> list[FixtureOutcome]:
    """Every fixture of every check with the verdict it gets at the scenario's traffic (for authoring tools)."""
    out: list[FixtureOutcome] = []
    for check in rubric.checks:
        for key, designs, want in (("pass", check.passing, True), ("fail", check.failing, False)):
            lines = check.fixture_lines.get(key, [])
            cols = check.fixture_columns.get(key, [])
            for k, design in enumerate(designs):
                r = run_check(check, design, traffic)
                out.append(FixtureOutcome(check.id, key, k + 1, lines[k] if k < len(lines) else check.line,
                                          r.passed == want, r.status, r.evidence, cols[k] if k < len(cols) else None))
    return out


def fixture_problems(rubric: Rubric, traffic: PeakTraffic | None) -> list[Problem]:
    """Every fixture that does not behave as declared, at the scenario's traffic."""
    return [Problem(f"check '{o.check}': {o.kind} fixture #{o.index} {'fails' if o.kind == 'pass' else 'passes'} "
                    f"it: {o.evidence}", rubric.source, o.line, o.column)
            for o in fixture_outcomes(rubric, traffic) if not o.ok]
