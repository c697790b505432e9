"""Writing new scenarios: where their files go, a scaffold that validates at once, and saving.

A scenario is three files: ``scenarios/<id>.yaml``, ``scenarios/reference/<id>.yaml`` (its
reference design) and ``rubrics/<id>.yaml``. New ones go into the user folder
``$SIMULATOR_SCENARIOS_DIR`` (same three subfolders) when it is set, else into the shipped
folders of this checkout. A user scenario can never take the id of a shipped one.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from simulator.errors import SimulatorError
from simulator.grading.library import check_texts
from simulator.model.scenario import SCENARIO_ID, reference_file
from simulator.model.yamlio import read_text_file
from simulator.paths import RUBRICS_DIR, SCENARIOS_DIR, SCHEMAS_DIR

ID_RULE = "lowercase letters, digits and '-' (e.g. fraud-detection), at most 64, starting with a letter or digit"


class AuthoringError(SimulatorError):
    """A scenario id that cannot be used, or files that cannot be saved."""


@dataclass(frozen=True)
class Target:
    """Where new scenario files are written."""

    scenarios: Path
    rubrics: Path
    user: bool

    @property
    def references(self) -> Path:
        return self.scenarios / "reference"

    def paths(self, sid: str) -> tuple[Path, Path, Path]:
        """Scenario, reference design and rubric paths of an id (already checked)."""
        return self.scenarios / f"{sid}.yaml", self.references / f"{sid}.yaml", self.rubrics / f"{sid}.yaml"

    def describe(self) -> str:
        if self.user:
            return f"the user folder {self.scenarios.parent} (SIMULATOR_SCENARIOS_DIR)"
        return f"the shipped folders {SCENARIOS_DIR} and {RUBRICS_DIR} (SIMULATOR_SCENARIOS_DIR is not set)"


SHIPPED = Target(SCENARIOS_DIR, RUBRICS_DIR, False)


def user_target() -> Target | None:
    base = os.environ.get("SIMULATOR_SCENARIOS_DIR")
    if not base:
        return None
    root = Path(base).expanduser()
    return Target(root / "scenarios", root / "rubrics", True)


def target() -> Target:
    """The user folder when SIMULATOR_SCENARIOS_DIR is set, else the shipped folders."""
    return user_target() or SHIPPED


@dataclass
class Drafts:
    """The three texts of a scenario."""

    scenario: str
    reference: str
    rubric: str


# ---------------------------------------------------------------------------
# ids
# ---------------------------------------------------------------------------


def _ids_in(t: Target) -> set[str]:
    out: set[str] = set()
    for folder in (t.scenarios, t.rubrics, t.references):
        if folder.is_dir():
            out.update(p.stem for p in folder.glob("*.yaml"))
    return out


def shipped_ids() -> set[str]:
    return _ids_in(SHIPPED)


def user_ids() -> set[str]:
    t = user_target()
    return _ids_in(t) if t else set()


def scenario_files() -> dict[str, str]:
    """Every scenario file's id -> 'shipped' or 'user' (broken files included, so they can be fixed)."""
    out: dict[str, str] = {}
    for where in (SHIPPED, user_target()):
        if where is not None and where.scenarios.is_dir():
            for path in sorted(where.scenarios.glob("*.yaml")):
                if valid_id(path.stem):
                    out.setdefault(path.stem, "user" if where.user else "shipped")
    return out


def origin(sid: str) -> str | None:
    """'shipped', 'user' or None: where files of this id exist."""
    if sid in shipped_ids():
        return "shipped"
    if sid in user_ids():
        return "user"
    return None


def valid_id(sid: str) -> bool:
    return isinstance(sid, str) and re.fullmatch(SCENARIO_ID, sid) is not None


def check_id_syntax(sid: str) -> None:
    if not valid_id(sid):
        raise AuthoringError(f"'{sid}' is not a valid scenario id: use {ID_RULE}")


def suggest_id(sid: str) -> str:
    """A free id close to ``sid``: sid-2, sid-3..."""
    base = re.sub(r"-\d+$", "", sid) if valid_id(sid) else "my-scenario"
    taken = shipped_ids() | user_ids()
    for n in range(2, 1000):
        candidate = f"{base[:60]}-{n}"
        if candidate not in taken:
            return candidate
    return f"{base[:50]}-{os.getpid()}"


def check_new_id(sid: str) -> None:
    """Refuse an id that is malformed or already used by a shipped or a user scenario."""
    check_id_syntax(sid)
    if sid in shipped_ids():
        raise AuthoringError(f"scenario '{sid}' already exists: it is a shipped scenario ({SCENARIOS_DIR / sid}.yaml) "
                             f"and cannot be replaced; choose a new id, e.g. {suggest_id(sid)}")
    mine = user_target()
    if sid in user_ids() and mine is not None:
        raise AuthoringError(f"scenario '{sid}' already exists in the user folder "
                             f"{mine.scenarios.parent}; choose a new id, e.g. {suggest_id(sid)}")


# ---------------------------------------------------------------------------
# the scaffold
# ---------------------------------------------------------------------------


def modeline(schema: str, folder: Path) -> str:
    """The editor's schema line for a file in ``folder`` (a path relative to it where possible)."""
    path = SCHEMAS_DIR / f"{schema}.schema.json"
    try:
        rel = os.path.relpath(path, folder)
    except ValueError:       # another drive on Windows
        rel = str(path)
    return f"# yaml-language-server: $schema={Path(rel).as_posix()}"


SCENARIO_TEMPLATE = """\
__MODELINE__
# A new interview scenario, scaffolded by `python -m simulator new-scenario __ID__`.
# Replace every TODO and keep the shape. Check it with `python -m simulator validate` or on the
# Authoring page: each problem comes as file:line:column with what to change.
# Every field is described in docs/authoring.md.
id: __ID__                      # = the file name; lowercase letters, digits and '-'
title: __TITLE__
difficulty: medium              # easy | medium | hard
order: 100                      # position on the Home page: lower comes first
topics: [model serving, caching, fallback, monitoring]
duration_minutes: 45            # the phases' minutes below add up to this
brief: |
  TODO: what the interviewer says, in the second person. Who uses the system, what does it do
  for them, and what makes it hard (latency, scale, cost, failure)? Two short paragraphs are
  plenty; Markdown works.
requirements:
  functional:
    - "TODO: what the system must do, e.g. return a prediction for every request."
  non_functional:
    - "TODO: latency, availability, freshness or cost, e.g. p99 under 200 ms."
scale:                          # shown to the candidate; add other numbers as extra keys
  users: "TODO: who and how many, e.g. 10 M daily active users"
  peak_rps: 2000                # peak requests per second at the entry points (a number)
  data_volume: "TODO: e.g. 50 GB of features, 1 TB of logs a month"
  latency_target: "TODO: e.g. p99 < 200 ms"
phases:                         # 5 + 5 + 15 + 12 + 8 = 45 minutes
  - {name: Requirements and scope, minutes: 5, goal: "Clarify users, latency and availability targets, and what is out of scope."}
  - {name: Capacity estimates, minutes: 5, goal: "Peak requests per second, storage, and the machines they need."}
  - {name: High-level design, minutes: 15, goal: "The request path from the client to the model and back, and the data that feeds it."}
  - {name: Deep dive, minutes: 12, goal: "Caching, a fallback when the model fails, monitoring and scaling."}
  - {name: Wrap-up and trade-offs, minutes: 8, goal: "What you would build first, the biggest risk, and what changes at ten times the load."}
hints:                          # shown in practice mode
  - "TODO: a nudge towards a strong answer, e.g. put a cache in front of the model for repeated requests."
follow_ups:                     # questions an interviewer asks once the design is drawn
  - "TODO: e.g. the model server's p99 triples during a spike. What happens to your users?"
reference_design: reference/__ID__.yaml   # a strong answer: it must score at least 85 on the rubric
skeleton: |                     # optional starting design (text notation) for "start from a skeleton"
  api: service "TODO: the main service"
  client -> api
estimates:                      # optional: numbers the candidate estimates, graded within a tolerance
  - id: peak_rps
    label: Peak requests per second
    unit: req/s
    value: 2000
    tolerance: 0.5              # relative: 0.5 accepts 1,000 to 3,000
    explanation: "TODO: how the reference number is derived, e.g. 20 M requests a day / 86,400 s x 8 at the peak."
"""

REFERENCE_TEMPLATE = """\
__MODELINE__
# Reference design of __ID__: a strong answer, not the only one. It must score at least 85 on the
# rubric. Arrows point the way requests and data flow; kinds and aliases: `python -m simulator kinds`.
scenario: __ID__
nodes:
  - {id: users, kind: client, label: "TODO: who calls the system"}
  - {id: gateway, kind: api_gateway, label: "Authentication and rate limits", replicas: 2}
  - {id: lb, kind: load_balancer, replicas: 2}
  - {id: api, kind: service, label: "TODO: the main service", replicas: 3, autoscale: true}
  - {id: cache, kind: redis, label: "Cache of recent predictions", replicas: 2}
  - {id: model, kind: model_server, label: "TODO: the main model", replicas: 2, autoscale: true}
  - {id: fallback_model, kind: model_server, label: "Simpler fallback model", replicas: 2}
  - {id: metrics, kind: prometheus, label: "Latency, errors and prediction metrics"}
  - {id: pager, kind: pagerduty, label: "Alerts on SLO breaches"}
edges:
  - {from: users, to: gateway}
  - {from: gateway, to: lb}
  - {from: lb, to: api}
  - {from: api, to: cache}
  - {from: api, to: model}
  - {from: api, to: fallback_model, kind: fallback, label: "model down or too slow"}
  - {from: api, to: metrics}
  - {from: model, to: metrics}
  - {from: fallback_model, to: metrics}
  - {from: metrics, to: pager}
"""

RUBRIC_TEMPLATE = """\
__MODELINE__
# Rubric of __ID__: checks grouped into weighted categories; every rule is in docs/authoring.md.
# Scoring: a category scores the points of its passed checks out of all its points (0-100); the
# overall score weights the categories by `weight`, and the weights add up to 100.
# Each check carries fixtures: tiny designs (text notation) that must pass and must fail it.
# `python -m simulator validate` runs them, so a rule that does not say what you meant shows at once.
scenario: __ID__
title: __TITLE__
categories:                     # the four core categories; add your own, keeping the total at 100
  caching: {title: Caching, weight: 25, description: "Repeated work is served from a cache."}
  fallback: {title: Fallback, weight: 25, description: "An answer still comes back when the model fails."}
  monitoring: {title: Monitoring, weight: 25, description: "Someone finds out when it breaks."}
  scaling: {title: Scaling, weight: 25, description: "The request path grows with the load."}
checks:
  - id: cache-in-front-of-model # unique; lowercase letters, digits and '-'
    category: caching
    points: 10                  # the check's share of its category
    title: A cache sits on the path to the model, or beside a service on it
    rule:                       # lookaside: a service on the path that reads the cache counts
      via: {from: client, to: model_server, through: cache, lookaside: true}
    hint: Put a cache (redis) that the service reads before it calls the model, for repeated requests.
    follow_up: What is the cache key, and how long may an answer stay in the cache?
    fixtures:
      pass:
        - "client -> api -> model_server\\napi -> redis"
      fail:
        - "client -> api -> model_server"
        - "client -> api -> model_server\\nredis -> api"           # the arrow points the wrong way
  - id: model-fallback
    category: fallback
    points: 10
    title: The model has a fallback
    rule:
      fallback: {target: model_server}
    hint: Draw a `fallback` arrow from the model's caller to a simpler model or a rules service.
    follow_up: What does the fallback answer, and would users notice the difference?
    fixtures:
      pass:
        - "api -> model_server\\nsmall: model_server\\napi -fallback-> small"
      fail:
        - "api -> model_server"
        - "model_server: model_server x4\\napi -> model_server"    # replicas are not a fallback
  - id: metrics-and-alerts
    category: monitoring
    points: 10
    title: Services and models send metrics, and monitoring pages someone
    rule:
      all:
        - reaches: {from: [service, model_server], to: monitoring, quantifier: every}
        - reaches: {from: monitoring, to: alerting, quantifier: some}
    hint: Draw arrows from every service and model server to monitoring (prometheus), and from monitoring to alerting (pagerduty).
    follow_up: Which metric pages on-call first, and at what threshold?
    fixtures:
      pass:
        - "api -> model_server\\napi -> prometheus\\nmodel_server -> prometheus -> pagerduty"
      fail:
        - "api -> model_server\\napi -> prometheus -> pagerduty"    # the model sends nothing
        - "api -> prometheus\\nmodel_server -> prometheus"          # nobody is paged
  - id: serving-scaled
    category: scaling
    points: 10
    title: Services and model servers run several replicas or autoscale
    rule:
      scaled: {kind: [service, model_server], min_replicas: 2}
    hint: Give the service and the model server several replicas, or autoscaling.
    follow_up: How many replicas do you need at the peak, and with what headroom?
    fixtures:
      pass:
        - "api: service x3\\nmodel: model_server autoscale\\napi -> model"
      fail:
        - "api: service\\nmodel: model_server x2\\napi -> model"   # one api replica
"""


def _fill(template: str, sid: str, title: str, line: str) -> str:
    return (template.replace("__MODELINE__", line).replace("__ID__", sid)
            .replace("__TITLE__", json.dumps(title, ensure_ascii=False)))


def default_title(sid: str) -> str:
    return f"Design {sid.replace('-', ' ')} (draft)"


def scaffold(sid: str, title: str | None = None, where: Target | None = None) -> Drafts:
    """The three texts of a new scenario that validate as they are (the id's syntax is checked)."""
    check_id_syntax(sid)
    where = where or target()
    title = (title or "").strip() or default_title(sid)
    if len(title) < 5 or len(title) > 120:
        raise AuthoringError("a title has 5 to 120 characters")
    return Drafts(
        scenario=_fill(SCENARIO_TEMPLATE, sid, title, modeline("scenario", where.scenarios)),
        reference=_fill(REFERENCE_TEMPLATE, sid, title, modeline("design", where.references)),
        rubric=_fill(RUBRIC_TEMPLATE, sid, title, modeline("rubric", where.rubrics)),
    )


# ---------------------------------------------------------------------------
# reading, renaming and saving
# ---------------------------------------------------------------------------


def read_drafts(sid: str) -> tuple[Drafts, Target]:
    """The files of an existing scenario (user files first: a shipped id cannot be one)."""
    check_id_syntax(sid)
    for where in (user_target(), SHIPPED):
        if where is None:
            continue
        scen, ref, rub = where.paths(sid)
        if scen.exists():
            scenario = read_text_file(scen)
            m = re.search(r"^reference_design:\s*['\"]?([^'\"#\s]+)", scenario, re.M)
            try:   # only a regular file inside the scenario's folder: never ../../etc/passwd or /dev/zero
                ref_path: Path | None = reference_file(scen, m.group(1)) if m else ref
            except ValueError:
                ref_path = None
            reference = read_text_file(ref_path) if ref_path is not None and ref_path.is_file() else ""
            rubric = read_text_file(rub) if rub.exists() else ""
            return Drafts(scenario, reference, rubric), where
    raise AuthoringError(f"no scenario '{sid}' to open")


def rename_drafts(drafts: Drafts, old: str, new: str) -> Drafts:
    """The same texts under another id: `id:`, the rubric's and the design's `scenario:`, the reference path."""
    check_id_syntax(new)
    o = re.escape(old)
    scenario = re.sub(rf"^(id:\s*['\"]?){o}(?=['\"]?\s*(#|$))", rf"\g<1>{new}", drafts.scenario, flags=re.M)
    scenario = re.sub(rf"^(reference_design:\s*['\"]?reference/){o}(\.yaml)", rf"\g<1>{new}\g<2>", scenario,
                      flags=re.M)
    pattern = rf"^(scenario:\s*['\"]?){o}(?=['\"]?\s*(#|$))"
    return Drafts(scenario, re.sub(pattern, rf"\g<1>{new}", drafts.reference, flags=re.M),
                  re.sub(pattern, rf"\g<1>{new}", drafts.rubric, flags=re.M))


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text if text.endswith("\n") else text + "\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_drafts(drafts: Drafts, sid: str, where: Target | None = None, *, replace: bool = False) -> list[Path]:
    """Write valid drafts as scenario ``sid``; refuses invalid texts and ids that are taken.

    ``replace`` allows overwriting files of ``sid`` in ``where`` (editing a scenario saved there
    before); a user scenario can never take the id of a shipped one, whatever ``replace`` says.
    """
    where = where or target()
    check_id_syntax(sid)
    if where.user and sid in shipped_ids():
        raise AuthoringError(f"'{sid}' is a shipped scenario: a user scenario cannot replace it; "
                             f"save under a new id, e.g. {suggest_id(sid)}")
    paths = where.paths(sid)
    if not replace and any(p.exists() for p in paths):
        raise AuthoringError(f"scenario '{sid}' already exists in {where.scenarios.parent}; "
                             f"choose a new id, e.g. {suggest_id(sid)}")
    problems, scenario, _ = check_texts(drafts.scenario, drafts.rubric, drafts.reference)
    if problems or scenario is None:   # a scenario that did not load has left its problems
        raise AuthoringError(problems)
    if scenario.spec.id != sid:
        raise AuthoringError(f"the scenario's id is '{scenario.spec.id}', not '{sid}'")
    scen, ref, rub = paths
    # the reference and the rubric first: the library only offers a scenario whose files are all there
    _atomic_write(ref, drafts.reference)
    _atomic_write(rub, drafts.rubric)
    _atomic_write(scen, drafts.scenario)
    return [scen, ref, rub]


def design_from_text(text: str, source: str | None = None):
    """A design pasted as YAML/JSON (a mapping with nodes or edges) or in the text notation."""
    from simulator.model.design import load_design_text
    from simulator.model.notation import parse_dsl
    from simulator.model.yamlio import load_text

    stripped = text.strip()
    if not stripped:
        raise AuthoringError("paste a design: the text notation (client -> api) or YAML with nodes and edges")
    looks_structured = stripped.startswith("{") or re.search(r"^(nodes|edges|scenario|layout)\s*:", stripped, re.M)
    if looks_structured:
        try:
            data = load_text(text, source)
        except SimulatorError:
            data = None
        if isinstance(data, dict):
            return load_design_text(text, source)
    return parse_dsl(text, source)
