"""The scenario library: every scenario with its rubric, loaded once per file content.

Shipped scenarios live in ``scenarios/`` with their rubrics in ``rubrics/``
(``rubrics/<scenario id>.yaml``) and reference designs in
``scenarios/reference/<scenario id>.yaml``. ``load_library`` reads them all,
collecting every problem instead of stopping at the first; ``check_texts`` checks an
author's three buffers the same way.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.errors import Problem, ScenarioError, SimulatorError
from simulator.grading.rubric import Rubric, evaluate, fixture_problems, load_rubric, parse_rubric
from simulator.model.design import load_design_text
from simulator.model.scenario import (
    PeakTraffic,
    Scenario,
    content_digest,
    key_positions,
    load_scenario,
    parse_scenario,
    reference_scenario_problem,
)
from simulator.model.validation import located
from simulator.model.yamlio import load_file, load_mapping, locate
from simulator.paths import RUBRICS_DIR, SCENARIOS_DIR
from simulator.suggest import did_you_mean

REFERENCE_MIN_COVERAGE = 85.0   # a reference design must cover this much of its own rubric


@dataclass
class Library:
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    rubrics: dict[str, Rubric] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def get(self, scenario_id: str) -> tuple[Scenario, Rubric]:
        if scenario_id not in self.scenarios or scenario_id not in self.rubrics:
            broken = [p for p in self.problems if p.file and Path(p.file).stem == scenario_id]
            if broken:   # it exists but did not load: say why, not that it is unknown
                raise ScenarioError(f"scenario '{scenario_id}' did not load: {broken[0]}"
                                    + (f" (and {len(broken) - 1} more problem(s))" if len(broken) > 1 else ""))
            hint = did_you_mean(scenario_id, self.scenarios)
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


def _reference_path(scenario: Scenario) -> list[Path]:
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


def reference_problems(scenario: Scenario, rubric: Rubric) -> list[Problem]:
    report = evaluate(scenario.reference, rubric, scenario.peak_traffic)
    coverage = report.coverage if report.coverage is not None else report.score
    if coverage >= REFERENCE_MIN_COVERAGE:
        return []
    failed = report.failed()
    details = "; ".join(f"{c.id} ({c.evidence})" for c in failed[:3])
    more = f"; and {len(failed) - 3} more: {', '.join(c.id for c in failed[3:])}" if len(failed) > 3 else ""
    return [Problem(f"reference design covers {coverage:g} % of its own rubric (needs >= "
                    f"{REFERENCE_MIN_COVERAGE:g}); "
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
            problems.append(located(scen_data, scen_src, ("reference_design",),
                                     f"reference_design is '{spec.reference_design}', but the reference design is "
                                     f"saved as {expected}; set reference_design: {expected}"))
        if reference is not None:
            mismatch = reference_scenario_problem(scen_data, scen_src, reference, spec.id)
            if mismatch:
                problems.append(mismatch)
        if rubric is not None and rubric.scenario != spec.id:
            problems.append(located(rub_data, rub_src, ("scenario",),
                                     f"the rubric is for scenario '{rubric.scenario}', but the scenario's id is "
                                     f"'{spec.id}'; set scenario: {spec.id}"))
    if rubric is not None:
        problems.extend(fixture_problems(rubric, PeakTraffic.of(spec) if spec is not None else None))
    scenario = None
    if spec is not None and reference is not None:
        scenario = Scenario(spec, scen_src, reference, content_digest(scenario_text, reference_text),
                            key_positions(scen_data))
        if rubric is not None and rubric.scenario == spec.id:
            problems.extend(reference_problems(scenario, rubric))
    return problems, scenario, rubric

