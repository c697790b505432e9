"""A scenario: the interviewer's brief, requirements, scale, phases, reference design and estimates.

`ScenarioSpec` is the file format (validated by pydantic, problems located by line); `Scenario` is a
loaded scenario with its reference design; `PeakTraffic` is the load a design is graded and simulated
at (the scenario's peak and its per-entry traffic profile), passed explicitly to `evaluate`.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from simulator.errors import Problem, ScenarioError, SimulatorError
from simulator.limits import MAX_RPS
from simulator.model import catalog
from simulator.model.design import Design, load_design
from simulator.model.validation import located, validation_problems
from simulator.model.yamlio import load_mapping, locate, read_text_file

SCENARIO_ID = r"^[a-z0-9][a-z0-9-]{0,63}$"


class Requirements(BaseModel):
    model_config = ConfigDict(extra="forbid")
    functional: list[str] = Field(min_length=1)
    non_functional: list[str] = Field(min_length=1)


class Scale(BaseModel):
    model_config = ConfigDict(extra="allow")
    users: str = Field(description="who and how many, e.g. '50 M monthly active users'")
    peak_rps: float = Field(gt=0, le=MAX_RPS, description="peak requests per second at the entry points")
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
            if not 0 <= rate <= MAX_RPS:   # also refuses nan
                raise ValueError(f"the rate of '{key}' must be from 0 to {MAX_RPS:g} req/s, not {rate:g}")
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

    def content_hash(self, rubric: Any) -> str:
        """What an attempt was graded against: this scenario and that rubric (anything with a
        `digest` of its text), as written."""
        return hashlib.sha256(f"{self.digest}:{rubric.digest}".encode()).hexdigest()[:16]

    @property
    def peak_traffic(self) -> PeakTraffic:
        """The load this scenario's designs are graded and simulated at."""
        return PeakTraffic.of(self.spec)


@dataclass(frozen=True)
class PeakTraffic:
    """The load a design is graded at: peak requests per second at the entry points, and optionally the
    per-kind entry rates of the scenario's traffic profile. `None` for a rubric checked without its
    scenario: the `simulate` checks then assume a default peak and say so in their evidence."""
    peak_rps: float | None
    entry_rates: Mapping[str, float] | None = None

    @classmethod
    def of(cls, spec: ScenarioSpec) -> PeakTraffic:
        return cls(spec.scale.peak_rps, dict(spec.traffic.entries) if spec.traffic else None)


MODELINE = "# yaml-language-server:"


def content_digest(*texts: str) -> str:
    """Hash of files as written, ignoring an editor's schema comment (adding one changes nothing)."""
    kept = [re.sub(rf"^{re.escape(MODELINE)}.*(?:\r?\n|$)", "", t, flags=re.M) for t in texts]
    return hashlib.sha256("\0".join(kept).encode()).hexdigest()


def _validation_problems(exc: ValidationError, data: Any, source: str | None) -> list[Problem]:
    # a problem of the whole file (the phases not adding up to the session) is shown at its phases
    return validation_problems(exc, data, source, model=ScenarioSpec, what="a scenario", whole=("phases",))


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
        problems.append(located(data, source, ("id",),
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
    if problems or spec is None:   # a spec that did not validate has left its problems
        raise ScenarioError(problems)
    return spec


def reference_scenario_problem(data: Any, source: str | None, reference: Design, sid: str) -> Problem | None:
    if reference.scenario and reference.scenario != sid:
        return located(data, source, ("reference_design",),
                        f"the reference design names scenario '{reference.scenario}', but it is the reference "
                        f"of '{sid}'; set `scenario: {sid}` in it")
    return None


def reference_file(scenario_path: str | Path, written: str) -> Path:
    """The reference design file a scenario at ``scenario_path`` names with ``reference_design: written``,
    symlinks resolved. ValueError (with the reason, for a located problem) unless it is a regular file
    inside the scenario's folder: a scenario must not show or read ``../../etc/passwd`` or ``/dev/zero``."""
    folder = Path(scenario_path).parent.resolve()
    try:
        target = (folder / written).resolve()
    except (OSError, RuntimeError, ValueError) as exc:   # a symlink loop, a NUL byte
        raise ValueError(f"reference design {written}: cannot resolve the path ({exc})") from None
    if not target.is_relative_to(folder):
        raise ValueError(f"reference design {written}: the path leads outside the scenario's folder; "
                         "keep the reference beside the scenario, e.g. reference/<id>.yaml")
    try:
        st = target.stat()
    except FileNotFoundError:
        raise ValueError(f"reference design {written}: no such file") from None
    except OSError as exc:
        raise ValueError(f"reference design {written}: cannot read file: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"reference design {written}: not a regular file")
    return target


def load_scenario(path: str | Path) -> Scenario:
    source = str(path)
    text = read_text_file(path)
    data = load_mapping(text, source, "scenario")
    spec = parse_scenario(data, source, Path(path).stem)
    try:
        reference_file(path, spec.reference_design)
    except ValueError as exc:
        raise ScenarioError(located(data, source, ("reference_design",), str(exc))) from None
    ref_path = Path(path).parent / spec.reference_design   # as written: problems in it name it so
    try:
        reference = load_design(ref_path)
    except SimulatorError as exc:
        raise ScenarioError([located(data, source, ("reference_design",),
                                      f"reference design {spec.reference_design}: {p}") for p in exc.problems]) from None
    mismatch = reference_scenario_problem(data, source, reference, spec.id)
    if mismatch:
        raise ScenarioError(mismatch)
    digest = content_digest(text, read_text_file(ref_path))
    return Scenario(spec, source, reference, digest, key_positions(data))


def key_positions(data: Any) -> dict[str, tuple[int, int]]:
    """Where `id:` and `reference_design:` are written (line, column), for problems found later."""
    out = {}
    for key in ("id", "reference_design"):
        pos = locate(data, (key,))
        if pos:
            out[key] = pos
    return out


def estimate_grades(scenario: Scenario, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """Grade capacity estimates against the reference within each estimate's relative tolerance."""
    out = []
    for est in scenario.spec.estimates:
        given = answers.get(est.id)
        entry = {"id": est.id, "label": est.label, "unit": est.unit, "reference": est.value,
                 "tolerance": est.tolerance, "given": None, "verdict": "missing", "explanation": est.explanation}
        try:
            value = float(given) if given not in (None, "") else None
        except (TypeError, ValueError, OverflowError):
            value, given = None, "not a number"
        if value is not None and not math.isfinite(value):   # "inf", "nan": not an estimate (nor JSON)
            value, given = None, "not a number"
        if given == "not a number":
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
