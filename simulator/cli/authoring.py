"""python -m simulator schema | new-scenario: tools for writing scenarios and rubrics.

    python -m simulator schema [--out DIR]            JSON Schema files for editors (default: schemas/)
    python -m simulator new-scenario ID [--title T]   a scenario, its rubric and reference design

Bad input (a malformed or taken id) exits 2 with one line on stderr.
"""
from __future__ import annotations

import sys

from simulator.authoring.drafts import check_new_id, save_drafts, scaffold, target
from simulator.authoring.schemas import SCHEMAS_DIR_DEFAULT, write_schemas

COMMANDS = ("schema", "new-scenario")


def add_parser(subparsers) -> None:
    sc = subparsers.add_parser("schema", help="write JSON Schema files for scenario, rubric and design files")
    sc.add_argument("--out", metavar="DIR", default=str(SCHEMAS_DIR_DEFAULT),
                    help="folder to write scenario/rubric/design.schema.json into (default: the shipped schemas/)")
    ns = subparsers.add_parser("new-scenario", help="scaffold a scenario, its rubric and a reference design")
    ns.add_argument("id", metavar="ID", help="the new scenario's id: lowercase letters, digits and '-'")
    ns.add_argument("--title", help="the scenario's title (default: from the id)")


def run(args) -> int:
    if args.command == "schema":
        for path in write_schemas(args.out):
            print(path)
        return 0
    sid = args.id
    check_new_id(sid)
    where = target()
    drafts = scaffold(sid, args.title, where)
    paths = save_drafts(drafts, sid, where)
    if not where.user:
        print("note: SIMULATOR_SCENARIOS_DIR is not set: writing into the shipped folders", file=sys.stderr)
    for path in paths:
        print(path)
    print(f"\nScaffolded '{sid}' (it validates as it is). Replace the TODOs, then run "
          f"`python -m simulator validate`; docs/authoring.md describes every field.", file=sys.stderr)
    return 0
