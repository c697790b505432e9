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
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from simulator.model import catalog
from simulator.model.design import Design, load_design, load_design_text
from simulator.paths import ROOT, RUBRICS_DIR, SCENARIOS_DIR
from simulator.errors import Problem, ScenarioError, SimulatorError
from simulator.grading.rubric import Rubric, evaluate, fixture_problems, load_rubric, parse_rubric
from simulator.model.yamlio import load_file, load_mapping, locate, read_text_file

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


class Traffic(BaseModel):
    """The traffic profile the simulation uses instead of splitting scale.peak_rps evenly between entries."""
    model_config = ConfigDict(extra="forbid")
    entries: dict[str, float] = Field(min_length=1, description=(
        "node kind -> req/s that each entry node of that kind sends, per replica (camera x8 is eight "
        "cameras); entries of other kinds share scale.peak_rps evenly"))
    notes: str | None = Field(None, max_length=600, description="where the rates come from")

    @field_validator("entries")
    @classmethod
    def _known_kinds(cls, value: dict[str, float]) -> dict[str, float]:
        out: dict[str, float] = {}
        for key, rate in value.items():
            kind = catalog.lookup(key)
            if kind is None:
                raise ValueError(catalog.unknown_kind_message(key))
            if rate < 0:
                raise ValueError(f"the rate of '{key}' must be >= 0 req/s, not {rate:g}")
            out[kind] = rate
        return out


class ScenarioSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=SCENARIO_ID, description="lowercase letters, digits and '-'; the file name without "
                                                     ".yaml, and the rubric's `scenario`")
    title: str = Field(min_length=5, max_length=120, description="shown on the Home page card")
    difficulty: Literal["easy", "medium", "hard"]
    topics: list[str] = Field(min_length=1, description="short tags shown under the title")
    order: int = Field(100, description="position on the Home page (lower comes first)")
    duration_minutes: int = Field(45, ge=5, le=180, description="length of a session; the phases add up to it")
    brief: str = Field(min_length=20, description="what the interviewer says (Markdown)")
    requirements: Requirements
    scale: Scale = Field(description="users, peak_rps, data_volume, latency_target, and any other numbers")
    phases: list[Phase] = Field(min_length=1, description="the time plan; minutes add up to duration_minutes")
    hints: list[str] = Field(min_length=1, description="shown in practice mode")
    follow_ups: list[str] = Field(min_length=1, description="questions an interviewer asks after the design")
    reference_design: str = Field(description="path of the reference design file, relative to this file "
                                              "(by convention reference/<id>.yaml)")
    skeleton: str | None = Field(None, description="a small starting design in the text DSL")
    estimates: list[Estimate] = Field(default_factory=list, description="capacity estimates graded within "
                                                                        "a relative tolerance")
    traffic: Traffic | None = Field(None, description="optional traffic profile for the simulation: "
                                                      "per-kind entry rates instead of an even split of the peak")

    @model_validator(mode="after")
    def _phases_fill_the_session(self):
        total = sum(p.minutes for p in self.phases)
        if total != self.duration_minutes:
            parts = " + ".join(str(p.minutes) for p in self.phases)
            gap = self.duration_minutes - total
            fix = f"add {gap} minute(s) to" if gap > 0 else f"take {-gap} minute(s) off"
            raise ValueError(f"phase budgets add up to {total} minutes ({parts}), but the session lasts "
                             f"{self.duration_minutes} (duration_minutes); {fix} the phases")
        return self


@dataclass
class Scenario:
    spec: ScenarioSpec
    source: str
    reference: Design
    digest: str
    # where `id:` and `reference_design:` are written (line, column), for located problems
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)

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


MODELINE = "# yaml-language-server:"


def content_digest(*texts: str) -> str:
    """Hash of files as written, ignoring an editor's schema comment (adding one changes nothing)."""
    kept = [re.sub(rf"^{re.escape(MODELINE)}.*(?:\r?\n|$)", "", t, flags=re.M) for t in texts]
    return hashlib.sha256("\0".join(kept).encode()).hexdigest()


def _validation_problems(exc: ValidationError, data: Any, source: str | None) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        where = ".".join(map(str, loc))
        if err["type"] == "extra_forbidden":
            near = difflib.get_close_matches(str(loc[-1]), list(ScenarioSpec.model_fields), n=1) if len(loc) == 1 \
                else []
            hint = f"did you mean {near[0]}? " if near else ""
            msg = f"unknown field '{loc[-1]}'" + (f"; {hint}a scenario has " + ", ".join(ScenarioSpec.model_fields)
                                                  if len(loc) == 1 else f" in '{'.'.join(map(str, loc[:-1]))}'")
        elif err["type"] == "missing":
            info = ScenarioSpec.model_fields.get(str(loc[0])) if len(loc) == 1 else None
            msg = f"missing field '{where}'" + (f" ({info.description}); add `{loc[0]}:`"
                                                if info is not None and info.description else "")
        else:
            msg = f"'{where}': {msg}" if loc else msg
        problems.append(_problem(data, source, loc or ("phases",), msg))
    return problems


def parse_scenario(data: Any, source: str | None = None, file_stem: str | None = None) -> ScenarioSpec:
    """Validate scenario data (without its reference design); ScenarioError lists every problem."""
    problems: list[Problem] = []
    spec = None
    try:
        spec = ScenarioSpec.model_validate(data)
    except ValidationError as exc:
        problems.extend(_validation_problems(exc, data, source))
    sid = data.get("id") if isinstance(data, dict) else None
    if file_stem is not None and isinstance(sid, str) and sid != file_stem:
        problems.append(_problem(data, source, ("id",),
                                 f"scenario id '{sid}' must match its file name '{file_stem}.yaml'; "
                                 f"rename the file to {sid}.yaml or set id: {file_stem}"))
    skeleton = data.get("skeleton") if isinstance(data, dict) else None
    if isinstance(skeleton, str):
        from simulator.model.notation import parse_dsl

        try:
            parse_dsl(skeleton)
        except SimulatorError as exc:
            pos = locate(data, ("skeleton",))
            for p in exc.problems:
                # a block scalar starts on the line after `skeleton: |`
                line = pos[0] + p.line if pos and p.line else (pos[0] if pos else None)
                problems.append(Problem(f"skeleton (text DSL): {p.message}", source, line))
    if problems:
        raise ScenarioError(problems)
    return spec


def _reference_scenario_problem(data: Any, source: str | None, reference: Design, sid: str) -> Problem | None:
    if reference.scenario and reference.scenario != sid:
        return _problem(data, source, ("reference_design",),
                        f"the reference design names scenario '{reference.scenario}', but it is the reference "
                        f"of '{sid}'; set `scenario: {sid}` in it")
    return None


def load_scenario(path: str | Path) -> Scenario:
    source = str(path)
    text = read_text_file(path)
    data = load_mapping(text, source, "scenario")
    spec = parse_scenario(data, source, Path(path).stem)
    ref_path = Path(path).parent / spec.reference_design
    try:
        reference = load_design(ref_path)
    except SimulatorError as exc:
        raise ScenarioError([_problem(data, source, ("reference_design",),
                                      f"reference design {spec.reference_design}: {p}") for p in exc.problems]) from None
    mismatch = _reference_scenario_problem(data, source, reference, spec.id)
    if mismatch:
        raise ScenarioError(mismatch)
    digest = content_digest(text, read_text_file(ref_path))
    return Scenario(spec, source, reference, digest, _positions(data))


def _positions(data: Any) -> dict[str, tuple[int, int]]:
    out = {}
    for key in ("id", "reference_design"):
        pos = locate(data, (key,))
        if pos:
            out[key] = pos
    return out


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


_CACHE: dict[tuple, tuple[tuple, Any, tuple]] = {}


def _stamp(path: Path) -> tuple:
    try:
        st = path.stat()
    except OSError:
        return (str(path), None, None)
    return (str(path), st.st_mtime_ns, st.st_size)


def _cached(loader, path: Path, deps=lambda value: ()):
    """Parse a file once per content: re-read when its size or mtime changes, or one of its dependencies'
    (a scenario depends on its reference design)."""
    key = (loader.__name__, str(path))
    hit = _CACHE.get(key)
    if hit is not None and hit[0] == tuple(_stamp(p) for p in (path, *hit[2])):
        return hit[1]
    value = loader(path)
    extra = tuple(deps(value))
    _CACHE[key] = (tuple(_stamp(p) for p in (path, *extra)), value, extra)
    return value


def _reference_path(scenario: "Scenario") -> list[Path]:
    return [Path(scenario.source).parent / scenario.spec.reference_design]


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
        stems = set()
        for path in sorted(scen_dir.glob("*.yaml")):
            stems.add(path.stem)
            try:
                scenario = _cached(load_scenario, path, _reference_path)
            except SimulatorError as exc:
                lib.problems.extend(exc.problems)
                continue
            sid = scenario.spec.id    # load_scenario has checked that it matches the file name
            at_id = scenario.positions.get("id", (1, 1))
            if sid in lib.scenarios:
                lib.problems.append(Problem(f"scenario '{sid}' is already defined in {lib.scenarios[sid].source}; "
                                            "a scenario cannot replace another: choose a new id", str(path), *at_id))
                continue
            rub_path = rub_dir / f"{sid}.yaml"
            if not rub_path.exists():
                lib.problems.append(Problem(f"scenario '{sid}' has no rubric: expected {rub_path}", str(path),
                                            *at_id))
                continue
            try:
                rubric = _cached(load_rubric, rub_path)
            except SimulatorError as exc:
                lib.problems.extend(exc.problems)
                continue
            if rubric.scenario != sid:
                pos = locate(load_file(rub_path), ("scenario",)) or (1, 1)
                lib.problems.append(Problem(f"rubric names scenario '{rubric.scenario}' but is the rubric of "
                                            f"'{sid}'; set `scenario: {sid}`", str(rub_path), *pos))
                continue
            pair(rubric, scenario.spec)
            if check_references:
                lib.problems.extend(reference_problems(scenario, rubric))
            lib.scenarios[sid] = scenario
            lib.rubrics[sid] = rubric
        if rub_dir.is_dir():
            for rub_path in sorted(rub_dir.glob("*.yaml")):
                if rub_path.stem not in stems:
                    lib.problems.append(Problem(f"rubric without a scenario: expected {scen_dir / rub_path.name}; "
                                                "a rubric is named after its scenario's id", str(rub_path), 1))
    lib.scenarios = dict(sorted(lib.scenarios.items(), key=lambda kv: (kv[1].spec.order, kv[0])))
    return lib


def pair(rubric: Rubric, spec: ScenarioSpec) -> None:
    """Give a rubric its scenario's traffic: the peak and the traffic profile the `simulate` checks use."""
    rubric.peak_rps = spec.scale.peak_rps
    rubric.entry_rates = dict(spec.traffic.entries) if spec.traffic else None


def reference_problems(scenario: Scenario, rubric: Rubric) -> list[Problem]:
    pair(rubric, scenario.spec)
    report = evaluate(scenario.reference, rubric)
    if report.score >= REFERENCE_MIN_SCORE:
        return []
    failed = report.failed()
    details = "; ".join(f"{c.id} ({c.evidence})" for c in failed[:3])
    more = f"; and {len(failed) - 3} more: {', '.join(c.id for c in failed[3:])}" if len(failed) > 3 else ""
    return [Problem(f"reference design scores {report.score:g} on its own rubric (needs >= {REFERENCE_MIN_SCORE:g}); "
                    f"failing checks: {details}{more}. Fix the reference design, or the checks if they are wrong",
                    scenario.source, *scenario.positions.get("reference_design", (None, None)))]


TEXT_SOURCES = ("scenario.yaml", "rubric.yaml", "reference.yaml")


def check_texts(scenario_text: str, rubric_text: str, reference_text: str, *,
                sources: tuple[str, str, str] = TEXT_SOURCES) -> tuple[list[Problem], Scenario | None, Rubric | None]:
    """Validate a scenario, its rubric and its reference design given as texts (an editor's buffers).

    Returns every problem found (each located in one of ``sources``), the scenario when it and its
    reference design load, and the rubric when it loads. Everything `validate` checks on files is checked
    here, plus the layout the three files will be saved in (reference_design: reference/<id>.yaml).
    """
    scen_src, rub_src, ref_src = sources
    problems: list[Problem] = []
    spec = scen_data = reference = rubric = rub_data = None
    try:
        scen_data = load_mapping(scenario_text, scen_src, "scenario")
        spec = parse_scenario(scen_data, scen_src)
    except SimulatorError as exc:
        problems.extend(exc.problems)
    try:
        reference = load_design_text(reference_text, ref_src)
    except SimulatorError as exc:
        problems.extend(exc.problems)
    try:
        rub_data = load_mapping(rubric_text, rub_src, "rubric")
        rubric = parse_rubric(rub_data, rub_src)
    except SimulatorError as exc:
        problems.extend(exc.problems)
    if spec is not None:
        expected = f"reference/{spec.id}.yaml"
        if spec.reference_design != expected:
            problems.append(_problem(scen_data, scen_src, ("reference_design",),
                                     f"reference_design is '{spec.reference_design}', but the reference design is "
                                     f"saved as {expected}; set reference_design: {expected}"))
        if reference is not None:
            mismatch = _reference_scenario_problem(scen_data, scen_src, reference, spec.id)
            if mismatch:
                problems.append(mismatch)
        if rubric is not None and rubric.scenario != spec.id:
            problems.append(_problem(rub_data, rub_src, ("scenario",),
                                     f"the rubric is for scenario '{rubric.scenario}', but the scenario's id is "
                                     f"'{spec.id}'; set scenario: {spec.id}"))
    if rubric is not None:
        if spec is not None:
            pair(rubric, spec)
        problems.extend(fixture_problems(rubric))
    scenario = None
    if spec is not None and reference is not None:
        scenario = Scenario(spec, scen_src, reference, content_digest(scenario_text, reference_text),
                            _positions(scen_data))
        if rubric is not None and rubric.scenario == spec.id:
            problems.extend(reference_problems(scenario, rubric))
    return problems, scenario, rubric


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
