"""python -m simulator calibrate [DIR] [--json]: grade rated designs and measure agreement with the ratings.

DIR (default: tests/calibration when it exists here) holds design files with a top-level `rating:`.
Exit codes: 0 graded; 1 a file has problems (each printed as file:line:column: message on stderr,
the other files are still graded); 2 bad usage (no DIR, a DIR that does not exist).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from simulator.errors import SimulatorError
from simulator.grading.calibration import Calibration, GradedDesign, calibrate

COMMANDS = ("calibrate",)
DEFAULT_DIR = Path("tests") / "calibration"


def add_parser(sub) -> None:
    p = sub.add_parser("calibrate", help="grade designs that carry an interviewer's rating; how well do they agree?")
    p.add_argument("dir", nargs="?", metavar="DIR",
                   help=f"folder of rated design files, searched recursively (default: {DEFAULT_DIR} when it exists)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run(args) -> int:
    folder = Path(args.dir) if args.dir else DEFAULT_DIR
    if not args.dir and not folder.is_dir():
        raise SimulatorError(f"which designs? pass DIR ({DEFAULT_DIR} does not exist here)")
    if not folder.exists():
        raise SimulatorError(f"{folder}: no such folder")
    result = calibrate(folder)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, allow_nan=False))
    else:
        print(format_calibration(result))
    for w in result.warnings:
        print(str(w), file=sys.stderr)
    for p in result.problems:
        print(str(p), file=sys.stderr)
    if result.problems:
        print(f"{len(result.problems)} problem(s) in {result.files} file(s); a file with problems is not graded",
              file=sys.stderr)
        return 1
    return 0


def _num(value: float | None, spec: str = ".1f", missing: str = "n/a") -> str:
    return missing if value is None else format(value, spec)


def _design_line(d: GradedDesign, width: int, scen_width: int) -> str:
    return (f"{d.file:<{width}}  {d.scenario:<{scen_width}}  rating {d.rating.overall:5.1f}  "
            f"score {d.score:5.1f}  gap {d.gap:+6.1f}")


def format_calibration(result: Calibration) -> str:
    """Human output: one line per design, the agreement figures, the worst design, per-category MAE."""
    designs = result.designs
    width = max((len(d.file) for d in designs), default=0)
    scen_width = max((len(d.scenario) for d in designs), default=0)
    lines = [_design_line(d, width, scen_width) for d in designs]
    skipped = result.files - len(designs)
    lines += ["", f"{len(designs)} design(s) graded" + (f", {skipped} file(s) with problems" if skipped else ""),
              f"  mean absolute error  {_num(result.mae, '.1f', 'n/a')}" + (" points" if result.mae is not None else ""),
              f"  Spearman             {_num(result.spearman, '.2f', 'n/a (needs 2 designs with different ratings)')}",
              f"  pairwise agreement   {_num(None if result.pairwise is None else 100 * result.pairwise, '.0f')}"
              + (f"% of {result.pairs} pair(s) with different ratings" if result.pairwise is not None else "")]
    if result.worst is not None:
        w = result.worst
        lines.append(f"  worst design         {w.file}: rating {w.rating.overall:g}, score {w.score:g} "
                     f"(gap {w.gap:+.1f})")
    if result.scale is not None:
        base, slope = result.scale
        lines.append(f"  interviewers' scale  overall ~ {base:.1f} + {slope:.2f} x coverage on these ratings "
                     "(the grader uses 13 + 0.87 x coverage)")
    if result.scenarios:
        lines += ["", "Per scenario (MAE):"]
        lines += [f"  {sid:<{scen_width}}  {_num(f.mae):>5}  ({f.designs} design(s))"
                  for sid, f in result.scenarios.items()]
    if result.categories:
        cat_width = max(len(c) for c in result.categories)
        lines += ["", "Per category (MAE over the designs that rate it):"]
        lines += [f"  {cid:<{cat_width}}  {_num(f.mae):>5}  ({f.designs} design(s))"
                  for cid, f in result.categories.items()]
    return "\n".join(lines)
