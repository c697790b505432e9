"""Scenarios: the interviewer's brief, requirements, scale, phases, reference design and estimates.

Shipped scenarios live in ``scenarios/`` with their rubrics in ``rubrics/``
(``rubrics/<scenario id>.yaml``) and reference designs in
``scenarios/reference/<scenario id>.yaml``. ``load_library`` reads them all,
collecting every problem instead of stopping at the first.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .design import Design, load_design
from .errors import Problem, ScenarioError, SimulatorError
from .rubric import Rubric, evaluate, load_rubric
from .yamlio import load_mapping, locate, read_text_file

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS_DIR = ROOT / "scenarios"
RUBRICS_DIR = ROOT / "rubrics"
SCENARIO_ID = r"^[a-z0-9][a-z0-9-]{0,63}$"
REFERENCE_MIN_SCORE = 85.0


class Requirements(BaseModel):
    model_config = ConfigDict(extra="forbid")
    functional: list[str] = Field(min_length=1)
    non_functional: list[str] = Field(min_length=1)


class Scale(BaseModel):
    model_config = ConfigDict(extra="allow")
    users: str = Field(description="who and how many, e.g. '50 M monthly active users'")
    peak_rps: float = Field(gt=0, description="peak requests per second at the entry points")
    data_volume: str
    latency_target: str


class Phase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=2, max_length=60)
    minutes: int = Field(ge=1, le=180)
    goal: str = Field(min_length=3, max_length=400)


class Estimate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    label: str
    unit: str
    value: float = Field(gt=0)
    tolerance: float = Field(0.5, gt=0, le=10, description="relative: 0.5 accepts half to one and a half times")
    explanation: str


class ScenarioSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=SCENARIO_ID)
    title: str = Field(min_length=5, max_length=120)
    difficulty: Literal["easy", "medium", "hard"]
    topics: list[str] = Field(min_length=1)
    order: int = 100
    duration_minutes: int = Field(45, ge=5, le=180)
    brief: str = Field(min_length=20)
    requirements: Requirements
    scale: Scale
    phases: list[Phase] = Field(min_length=1)
    hints: list[str] = Field(min_length=1)
    follow_ups: list[str] = Field(min_length=1)
    reference_design: str = Field(description="path of the reference design file, relative to this file")
    skeleton: str | None = Field(None, description="a small starting design in the text DSL")
    estimates: list[Estimate] = Field(default_factory=list)

    @model_validator(mode="after")
    def _phases_fill_the_session(self):
        total = sum(p.minutes for p in self.phases)
        if total != self.duration_minutes:
            raise ValueError(f"phase budgets add up to {total} minutes, but the session lasts "
                             f"{self.duration_minutes}; adjust the phases' minutes")
        return self


@dataclass
class Scenario:
    spec: ScenarioSpec
    source: str
    reference: Design
    digest: str

    def __getattr__(self, name: str) -> Any:  # scenario.title, scenario.phases...
        if name == "spec":
            raise AttributeError(name)
        return getattr(self.spec, name)

    def content_hash(self, rubric: Rubric) -> str:
        """What an attempt was graded against: this scenario and that rubric, as written."""
        return hashlib.sha256(f"{self.digest}:{rubric.digest}".encode()).hexdigest()[:16]


def _problem(data: Any, source: str, loc: tuple, message: str) -> Problem:
    pos = locate(data, loc)
    return Problem(message, source, pos[0] if pos else None, pos[1] if pos else None)


def load_scenario(path: str | Path) -> Scenario:
    source = str(path)
    text = read_text_file(path)
    data = load_mapping(text, source, "scenario")
    try:
        spec = ScenarioSpec.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = f"unknown field '{loc[-1]}'" + ("; a scenario has " + ", ".join(ScenarioSpec.model_fields)
                                                      if len(loc) == 1 else "")
            elif err["type"] == "missing":
                msg = f"missing field '{'.'.join(map(str, loc))}'"
            else:
                msg = f"'{'.'.join(map(str, loc))}': {msg}" if loc else msg
            problems.append(_problem(data, source, loc or ("phases",), msg))
        raise ScenarioError(problems) from None
    ref_path = Path(path).parent / spec.reference_design
    try:
        reference = load_design(ref_path)
    except SimulatorError as exc:
        raise ScenarioError([_problem(data, source, ("reference_design",),
                                      f"reference design {spec.reference_design}: {p}") for p in exc.problems]) from None
    digest = hashlib.sha256((text + "\0" + read_text_file(ref_path)).encode()).hexdigest()
    return Scenario(spec, source, reference, digest)


@dataclass
class Library:
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    rubrics: dict[str, Rubric] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def get(self, scenario_id: str) -> tuple[Scenario, Rubric]:
        if scenario_id not in self.scenarios or scenario_id not in self.rubrics:
            near = difflib.get_close_matches(str(scenario_id), list(self.scenarios), n=1)
            hint = f"; did you mean {near[0]}?" if near else ""
            known = ", ".join(self.scenarios) or "none"
            raise ScenarioError(f"unknown scenario '{scenario_id}'{hint} (available: {known})")
        return self.scenarios[scenario_id], self.rubrics[scenario_id]


_CACHE: dict[tuple, Any] = {}


def _cached(loader, path: Path):
    """Parse a file once per content: re-read only when its size or mtime changes."""
    st = path.stat()
    key = (loader.__name__, str(path), st.st_mtime_ns, st.st_size)
    if key not in _CACHE:
        _CACHE[key] = loader(path)
    return _CACHE[key]


def scenario_dirs() -> list[tuple[Path, Path]]:
    dirs = [(SCENARIOS_DIR, RUBRICS_DIR)]
    extra = os.environ.get("SIMULATOR_SCENARIOS_DIR")
    if extra:
        base = Path(extra)
        dirs.append((base / "scenarios", base / "rubrics"))
    return dirs


def load_library(dirs: list[tuple[Path, Path]] | None = None, *, check_references: bool = True) -> Library:
    """Every scenario with its rubric; problems are collected, a broken file does not hide the others."""
    lib = Library()
    for scen_dir, rub_dir in dirs or scenario_dirs():
        if not scen_dir.is_dir():
            continue
        for path in sorted(scen_dir.glob("*.yaml")):
            try:
                scenario = _cached(load_scenario, path)
            except SimulatorError as exc:
                lib.problems.extend(exc.problems)
                continue
            sid = scenario.spec.id
            if path.stem != sid:
                lib.problems.append(Problem(f"scenario id '{sid}' must match its file name '{path.stem}.yaml'",
                                            str(path), 1))
                continue
            if sid in lib.scenarios:
                lib.problems.append(Problem(f"scenario '{sid}' is already defined in {lib.scenarios[sid].source}; "
                                            "a scenario cannot replace another: choose a new id", str(path), 1))
                continue
            rub_path = rub_dir / f"{sid}.yaml"
            if not rub_path.exists():
                lib.problems.append(Problem(f"scenario '{sid}' has no rubric: expected {rub_path}", str(path), 1))
                continue
            try:
                rubric = _cached(load_rubric, rub_path)
            except SimulatorError as exc:
                lib.problems.extend(exc.problems)
                continue
            if rubric.scenario != sid:
                lib.problems.append(Problem(f"rubric names scenario '{rubric.scenario}' but is the rubric of '{sid}'",
                                            str(rub_path), 1))
                continue
            rubric.peak_rps = scenario.spec.scale.peak_rps
            if check_references:
                lib.problems.extend(reference_problems(scenario, rubric))
            lib.scenarios[sid] = scenario
            lib.rubrics[sid] = rubric
    lib.scenarios = dict(sorted(lib.scenarios.items(), key=lambda kv: (kv[1].spec.order, kv[0])))
    return lib


def reference_problems(scenario: Scenario, rubric: Rubric) -> list[Problem]:
    rubric.peak_rps = scenario.spec.scale.peak_rps
    report = evaluate(scenario.reference, rubric)
    if report.score >= REFERENCE_MIN_SCORE:
        return []
    failed = ", ".join(c.id for c in report.failed())
    return [Problem(f"reference design scores {report.score} on its own rubric (needs >= {REFERENCE_MIN_SCORE:g}); "
                    f"failing checks: {failed}", scenario.source)]


def estimate_grades(scenario: Scenario, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """Grade capacity estimates against the reference within each estimate's relative tolerance."""
    out = []
    for est in scenario.spec.estimates:
        given = answers.get(est.id)
        entry = {"id": est.id, "label": est.label, "unit": est.unit, "reference": est.value,
                 "tolerance": est.tolerance, "given": None, "verdict": "missing", "explanation": est.explanation}
        try:
            value = float(given) if given not in (None, "") else None
        except (TypeError, ValueError):
            value = None
            entry["verdict"] = "not a number"
        if value is not None:
            entry["given"] = value
            low, high = est.value * (1 - est.tolerance), est.value * (1 + est.tolerance)
            if est.tolerance >= 1:  # order-of-magnitude tolerance: compare ratios
                low, high = est.value / (1 + est.tolerance), est.value * (1 + est.tolerance)
            entry["range"] = [low, high]
            entry["verdict"] = "within tolerance" if low <= value <= high else (
                "too low" if value < low else "too high")
        out.append(entry)
    return out


def scenario_to_json(scenario: Scenario) -> dict[str, Any]:
    return json.loads(scenario.spec.model_dump_json())
