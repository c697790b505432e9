"""python -m simulator: list, validate, grade, kinds, roles.

Exit codes: 0 done; 1 validation found problems; 2 bad input (a clear message
on stderr, never a traceback); 3 an internal error (a bug: please report it).
"""
from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simulator.errors import Problem, SimulatorError
from simulator.grading.library import load_library, reference_problems
from simulator.grading.rubric import Report, evaluate, fixture_problems, load_rubric
from simulator.model import catalog
from simulator.model.design import load_design
from simulator.model.roles import EXTRA_ROLES, lexicon
from simulator.model.scenario import PeakTraffic, load_scenario
from simulator.model.yamlio import load_file, read_text_file

EXIT_OK, EXIT_INVALID, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


class UsageError(SimulatorError):
    pass


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m simulator",
                                description="ML system-design interview simulator: scenarios, rubrics and grading.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    ls = sub.add_parser("list", help="list the scenarios")
    ls.add_argument("--json", action="store_true", help="print JSON")

    kinds = sub.add_parser("kinds", help="list component kinds and their aliases")
    kinds.add_argument("--json", action="store_true", help="print JSON")

    roles = sub.add_parser("roles", help="list the roles rules match and the label words that give them")
    roles.add_argument("--json", action="store_true", help="print JSON")

    val = sub.add_parser("validate", help="check scenario, rubric and design files (all shipped ones by default)")
    val.add_argument("paths", nargs="*", metavar="PATH", help="files or folders to check")

    gr = sub.add_parser("grade", help="grade a design file against a scenario's rubric")
    gr.add_argument("design", metavar="DESIGN", help="design file (YAML or JSON)")
    gr.add_argument("--scenario", metavar="ID", help="scenario id (default: the design's `scenario:` field)")
    gr.add_argument("--json", action="store_true", help="print one JSON object")
    gr.add_argument("--save", action="store_true", help="store the graded attempt in the history")
    gr.add_argument("--notes", metavar="FILE", help="a text file of notes to store (and show the grader)")
    gr.add_argument("--llm", action="store_true",
                    help="after the rule report, ask the configured LLM for interviewer feedback "
                         "(OPENAI_API_KEY / OPENAI_BASE_URL / SIMULATOR_LLM_MODEL); with --json the object "
                         "gains \"llm\" and \"score\" becomes the final score (the rule score stays in "
                         "\"rule_score\"). Without --llm there is no \"llm\" key. An LLM failure still exits 0 "
                         "with the rule verdict and llm.status \"unavailable\"")
    for module in _extensions():
        module.add_parser(sub)
    return p


# Commands that live in their own modules register here: each has add_parser(subparsers) and
# run(args) -> int, and claims the command names in its COMMANDS tuple.
EXTENSION_MODULES = ("simulator.cli.history", "simulator.cli.simulate", "simulator.cli.authoring",
                     "simulator.cli.calibrate")


def _extensions():
    import importlib
    import importlib.util

    for name in EXTENSION_MODULES:
        if importlib.util.find_spec(name) is not None:
            yield importlib.import_module(name)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return EXIT_OK
    try:
        if args.command in COMMANDS:
            return COMMANDS[args.command](args)
        for module in _extensions():
            if args.command in module.COMMANDS:
                return module.run(args)
        raise UsageError(f"unknown command {args.command}")
    except SimulatorError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # pragma: no cover - a bug, reported without a traceback
        print(f"internal error: {type(exc).__name__}: {exc} (this is a bug; please report it)", file=sys.stderr)
        return EXIT_INTERNAL


# ---------------------------------------------------------------------------


def cmd_list(args) -> int:
    lib = load_library(check_references=False)
    rows: list[dict[str, Any]] = [{"id": sid, "title": s.spec.title, "difficulty": s.spec.difficulty, "topics": s.spec.topics,
             "peak_rps": s.spec.scale.peak_rps, "checks": len(lib.rubrics[sid].checks)}
            for sid, s in lib.scenarios.items()]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        width = max((len(str(r["id"])) for r in rows), default=10)
        for r in rows:
            print(f"{r['id']:<{width}}  {r['difficulty']:<6}  {r['title']}")
    for p in lib.problems:
        print(f"warning: {p}", file=sys.stderr)
    return EXIT_OK


def cmd_kinds(args) -> int:
    groups = catalog.kinds_by_group()
    if args.json:
        print(json.dumps({g: [{"kind": k.name, "display": k.display, "aliases": list(k.aliases)} for k in ks]
                          for g, ks in groups.items()}, indent=2))
        return EXIT_OK
    for group, kinds in groups.items():
        print(group)
        for k in kinds:
            alias = f"  (also: {', '.join(k.aliases)})" if k.aliases else ""
            print(f"  {k.name:<20} {k.description}{alias}")
    return EXIT_OK


def cmd_roles(args) -> int:
    words = lexicon()
    if args.json:
        print(json.dumps({role: {"description": EXTRA_ROLES.get(role) or catalog.KINDS[role].description,
                                 "words": phrases} for role, phrases in words.items()}, indent=2))
        return EXIT_OK
    print("A component's roles: its kind, the roles below that its label or id names, and any `roles: [...]`")
    print("it declares. Words are matched whole (plurals too); '*' ends a prefix.\n")
    for role, phrases in words.items():
        about = EXTRA_ROLES.get(role) or catalog.KINDS[role].description
        print(f"{role}: {about}")
        if phrases:
            print(textwrap.fill(", ".join(phrases), width=100, initial_indent="    ", subsequent_indent="    "))
    return EXIT_OK


def _kind_of_file(data: Any) -> str:
    if isinstance(data, dict):
        if "checks" in data:
            return "rubric"
        if "brief" in data or "phases" in data:
            return "scenario"
        if "nodes" in data or "edges" in data:
            return "design"
    return "unknown"


def _rubric_traffic(path: Path, scenario_id: str) -> PeakTraffic | None:
    """The traffic a rubric file's checks run at: its scenario's, found beside it
    (`../scenarios/<id>.yaml`) or in the library; None (an assumed peak) when there is none."""
    sibling = path.resolve().parent.parent / "scenarios" / f"{scenario_id}.yaml"
    try:
        if sibling.is_file():
            return load_scenario(sibling).peak_traffic
        lib = load_library(check_references=False)
        if scenario_id in lib.scenarios:
            return lib.scenarios[scenario_id].peak_traffic
    except SimulatorError:
        pass  # the scenario's own problems are reported when it is validated
    return None


def validate_paths(paths: list[str]) -> tuple[list[Problem], list[Problem], int]:
    """Problems, warnings and the number of files checked."""
    files: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files.extend(sorted(q for q in p.rglob("*") if q.suffix in (".yaml", ".yml", ".json")))
        else:
            files.append(p)
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for f in files:
        try:
            data = load_file(f)
            kind = _kind_of_file(data)
            if kind == "rubric":
                rubric = load_rubric(f)
                problems.extend(fixture_problems(rubric, _rubric_traffic(f, rubric.scenario)))
            elif kind == "scenario":
                scenario = load_scenario(f)
                rub = f.parent.parent / "rubrics" / f"{scenario.spec.id}.yaml"
                if rub.exists():
                    problems.extend(reference_problems(scenario, load_rubric(rub)))
                warnings.extend(scenario.reference.warnings)
            elif kind == "design":
                warnings.extend(load_design(f).warnings)
            else:
                problems.append(Problem("not a scenario (brief, phases...), rubric (checks) or design "
                                        "(nodes, edges) file", str(f), 1))
        except SimulatorError as exc:
            problems.extend(exc.problems)
    return problems, warnings, len(files)


def cmd_validate(args) -> int:
    if args.paths:
        problems, warnings, count = validate_paths(args.paths)
    else:
        lib = load_library()
        problems = list(lib.problems)
        for sid, rubric in lib.rubrics.items():
            problems.extend(fixture_problems(rubric, lib.scenarios[sid].peak_traffic))
        warnings = [w for s in lib.scenarios.values() for w in s.reference.warnings]
        count = len(lib.scenarios) * 3
        if not lib.scenarios and not problems:
            problems.append(Problem("no scenarios found"))
    for w in warnings:
        print(str(w), file=sys.stderr)
    for p in problems:
        print(str(p))
    if problems:
        print(f"{len(problems)} problem(s) in {count} file(s)", file=sys.stderr)
        return EXIT_INVALID
    print(f"ok: {count} file(s) valid", file=sys.stderr)
    return EXIT_OK


def cmd_grade(args) -> int:
    design = load_design(args.design)
    scenario_id = args.scenario or design.scenario
    if not scenario_id:
        raise UsageError(f"{args.design}: which scenario? pass --scenario ID (see `python -m simulator list`)")
    notes = {"notes": read_text_file(args.notes)} if args.notes else {}
    lib = load_library(check_references=False)
    scenario, rubric = lib.get(scenario_id)
    report = evaluate(design, rubric, scenario.peak_traffic)
    for w in design.warnings:
        print(str(w), file=sys.stderr)
    out = report.to_dict()
    out["title"] = scenario.spec.title
    if args.save:  # the rule report is stored before any LLM call
        out["attempt_id"] = save_graded(design, scenario, rubric, report, notes)
    feedback = None
    if getattr(args, "llm", False):
        from simulator.feedback.feedback import format_feedback
        from simulator.feedback.review import review

        def progress(event) -> None:
            if event.kind in ("start", "retry", "fallback", "reask"):
                print(f"llm: {event.message}", file=sys.stderr)

        feedback = review(design, scenario, report, notes, {}, on_progress=None if args.json else progress)
        out["rule_score"] = report.score
        out["score"] = feedback.final_score
        out["llm"] = feedback.llm_dict()
        if args.save:
            from simulator.store.repository import Store

            with Store() as store:
                store.set_feedback(out["attempt_id"], feedback=feedback.to_dict(), grader=feedback.grader,
                                   token_usage=feedback.token_usage())
    if args.json:
        print(json.dumps(out, indent=2, allow_nan=False))
    else:
        print(format_report(report, scenario.spec.title))
        if feedback is not None:
            print("\n" + format_feedback(feedback))
        if args.save:
            print(f"\nSaved as attempt {out['attempt_id']} (see the History page).")
    return EXIT_OK


def save_graded(design, scenario, rubric, report: Report, notes: dict[str, str]) -> str:
    """Store a graded attempt made outside the browser, so it shows in the history."""
    from simulator.sessions.attempts import Attempts
    from simulator.store.repository import Store, default_user

    with Store() as store:
        record = Attempts(store).record_graded(scenario, rubric, design, report, user=default_user(), notes=notes)
    return record.id


def format_report(report: Report, title: str) -> str:
    lines = [f"{report.scenario}: {title}", f"Overall score: {report.score:g} / 100", ""]
    width = max(len(c.title) for c in report.categories.values())
    for c in report.categories.values():
        lines.append(f"  {c.title:<{width}}  {c.score:5.1f}   ({c.passed}/{c.total} checks passed)")
    failed = report.failed()
    lines.append("")
    if not failed:
        lines.append("Every check passed.")
    else:
        lines.append(f"Failed checks ({len(failed)}):")
        for r in failed:
            tag = "ERROR" if r.status == "error" else "FAIL"
            lines.append(f"  {tag} [{r.category}] {r.id} ({r.points} pts): {r.title}")
            lines.append(f"       evidence: {r.evidence}")
            lines.append(f"       hint: {r.hint}")
    return "\n".join(lines)


COMMANDS = {"list": cmd_list, "kinds": cmd_kinds, "roles": cmd_roles, "validate": cmd_validate,
            "grade": cmd_grade}
