"""python -m simulator simulate DESIGN --scenario ID [--load X] [--fail NODE ...] [--chaos PRESETS] [--json]."""
from __future__ import annotations

import json
import sys

from simulator.errors import SimulatorError
from simulator.grading.library import load_library
from simulator.limits import MAX_MULTIPLIER
from simulator.model.design import load_design
from simulator.simulation.inputs import check_number
from simulator.simulation.report import format_simulation, simulation_json
from simulator.simulation.run import simulate

COMMANDS = ("simulate",)


def add_parser(sub) -> None:
    p = sub.add_parser("simulate", help="push the scenario's peak traffic through a design; what if parts die?")
    p.add_argument("design", metavar="DESIGN", help="design file (YAML or JSON)")
    p.add_argument("--scenario", metavar="ID", help="scenario id (default: the design's `scenario:` field)")
    p.add_argument("--load", type=float, default=1.0, metavar="X", help="multiply the scenario's peak traffic")
    p.add_argument("--fail", nargs="+", default=[], metavar="NODE", help="take these nodes out")
    p.add_argument("--chaos", metavar="PRESETS", help="e.g. spike=3,cache_flush,primary_model_down,zone_lost=a")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run(args) -> int:
    design = load_design(args.design)
    scenario_id = args.scenario or design.scenario
    if not scenario_id:
        raise SimulatorError(f"{args.design}: which scenario? pass --scenario ID (see `python -m simulator list`)")
    scenario, _ = load_library(check_references=False).get(scenario_id)
    check_number("--load", args.load, 0.0, MAX_MULTIPLIER)
    traffic = scenario.spec.traffic
    result = simulate(design, scenario.spec.scale.peak_rps, load=args.load, failed=args.fail, chaos=args.chaos,
                      entry_rates=traffic.entries if traffic else None)
    if args.json:
        print(json.dumps(simulation_json(result), indent=2, allow_nan=False))
    else:
        print(format_simulation(result))
    for w in design.warnings:
        print(str(w), file=sys.stderr)
    return 0
