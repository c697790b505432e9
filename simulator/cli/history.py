"""python -m simulator history: list, export and import the stored attempts.

    python -m simulator history list [--json] [--scenario ID] [--user NAME] [--limit N]
    python -m simulator history export [--format csv|json] [--out FILE] [--scenario ID] [--user NAME]
                                       [--since DATE] [--until DATE]
    python -m simulator history import FILE        # FILE '-' reads standard input

The store is the one the app uses: ``$SIMULATOR_DATABASE_URL``, else the SQLite
file in the data directory. ``export --format json`` writes what ``import``
reads; importing is idempotent (attempts already stored are skipped).
"""
from __future__ import annotations

import argparse
import json
import os
import stat
import sys
import tempfile
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from simulator.errors import Problem, SimulatorError

COMMANDS = ("history",)
EXIT_OK = 0


class HistoryError(SimulatorError):
    """A history command that cannot be done (a bad file, an unwritable output...)."""


def _day_or_time(end: bool):
    """argparse type: YYYY-MM-DD (a whole day, UTC) or an ISO 8601 date-time (UTC when no offset)."""

    def parse(text: str) -> datetime:
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
                moment = datetime.combine(day, time.min, tzinfo=UTC)
                return moment + timedelta(days=1) if end else moment
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a date (YYYY-MM-DD) or an ISO 8601 date-time") from None
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

    return parse


def _filters(p: argparse.ArgumentParser, *, dates: bool) -> None:
    p.add_argument("--scenario", metavar="ID", help="only attempts on this scenario")
    p.add_argument("--user", metavar="NAME", help="only this user's attempts (default: every user)")
    if dates:
        p.add_argument("--since", metavar="DATE", type=_day_or_time(end=False),
                       help="started on or after this day (YYYY-MM-DD, UTC) or date-time")
        p.add_argument("--until", metavar="DATE", type=_day_or_time(end=True),
                       help="started on or before this day (YYYY-MM-DD, UTC), or before this date-time")


def add_parser(subparsers) -> None:
    history = subparsers.add_parser(
        "history", help="list, export or import the stored attempts (what the History page shows)",
        description="List, export or import the stored attempts. The store is $SIMULATOR_DATABASE_URL, "
                    "else the SQLite file in the data directory.")
    actions = history.add_subparsers(dest="history_action", metavar="ACTION")

    ls = actions.add_parser("list", help="the attempts, newest first: id, scenario, started, overall")
    ls.add_argument("--json", action="store_true", help="print a JSON list")
    ls.add_argument("--limit", type=int, metavar="N", help="at most N attempts")
    _filters(ls, dates=True)

    ex = actions.add_parser("export", help="write the attempts as CSV (a spreadsheet) or JSON (for import)")
    ex.add_argument("--format", choices=("csv", "json"), default="json",
                    help="json: every field, re-importable (default); csv: one row per attempt with scores")
    ex.add_argument("--out", metavar="FILE", help="write to FILE (default: standard output)")
    _filters(ex, dates=True)

    im = actions.add_parser("import", help="add the attempts of a JSON export; those already stored are skipped")
    im.add_argument("file", metavar="FILE", help="a file written by `history export --format json` ('-': stdin)")


def run(args) -> int:
    action = getattr(args, "history_action", None)
    if action == "list":
        return cmd_list(args)
    if action == "export":
        return cmd_export(args)
    if action == "import":
        return cmd_import(args)
    raise HistoryError("history needs an action: list, export or import (see `python -m simulator history -h`)")


def _open_store():
    from simulator.store.repository import Store

    return Store()


def _query(args) -> dict[str, Any]:
    return {"scenario_id": args.scenario, "user": args.user, "since": getattr(args, "since", None),
            "until": getattr(args, "until", None)}


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def cmd_list(args) -> int:
    if args.limit is not None and args.limit < 0:
        raise HistoryError("--limit must be 0 or more")
    with _open_store() as store:
        rows = store.list_attempts(**_query(args), limit=args.limit, columns="summary")
    if args.json:
        print(json.dumps([{"id": r.id, "scenario": r.scenario_id, "user": r.user, "mode": r.mode,
                           "started_at": r.started_at.isoformat(),
                           "ended_at": r.ended_at.isoformat() if r.ended_at else None,
                           "end_reason": r.end_reason, "overall": r.overall_score,
                           "categories": r.category_scores} for r in rows], indent=2, allow_nan=False))
        return EXIT_OK
    if not rows:
        print("No attempts stored" + (" for these filters." if any(_query(args).values()) else "."),
              file=sys.stderr)
        return EXIT_OK
    width = max(len(r.scenario_id) for r in rows)
    print(f"{'id':<36}  {'scenario':<{width}}  {'started (UTC)':<16}  {'status':<11}  overall")
    for r in rows:
        status = r.end_reason or "in progress"
        print(f"{r.id:<36}  {r.scenario_id:<{width}}  {r.started_at:%Y-%m-%d %H:%M}  {status:<11}  "
              f"{_score(r.overall_score):>7}")
    return EXIT_OK


_DATABASE_SIDE_FILES = ("", "-wal", "-shm", "-journal")


def _check_export_target(path: Path, database: Path | None) -> Path:
    """The file ``--out`` names, refused when writing there would destroy something: the live
    database (or its WAL/journal files), or anything that is not a regular file (a folder, a FIFO, a
    device). Compared by resolved path and by inode, so a symlink or a hard link is caught too."""
    target = path.expanduser()
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise HistoryError(Problem(f"cannot write here: {exc.strerror or exc}", str(path))) from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        what = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file (a FIFO, socket or device)"
        raise HistoryError(Problem(f"is {what}; export to a new or regular file", str(path)))
    if database is not None:
        resolved = target.resolve()
        for suffix in _DATABASE_SIDE_FILES:
            live = Path(str(database) + suffix)
            same = resolved == live.resolve()
            if not same and st is not None:
                try:
                    other = os.stat(live)
                except OSError:
                    other = None
                same = other is not None and (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino)
            if same:
                raise HistoryError(Problem(
                    "is the attempts database in use; exporting onto it would replace every stored attempt. "
                    "Choose another file", str(path)))
    return target


def _file_mode(target: Path) -> int:
    """The permissions of the file being replaced, else those a new file gets (0666 less the umask)."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def _write_atomically(target: Path, text: str, shown: str) -> None:
    """Write the whole file or nothing: the text goes to a temporary file in the same folder, which
    then replaces ``target``; a failed export never leaves half a file or a temporary file behind."""
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise HistoryError(Problem(f"cannot write here: {exc.strerror or exc}", shown)) from None
    try:
        os.fchmod(fd, _file_mode(target))   # mkstemp makes it private (0600); an export is an ordinary file
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise HistoryError(Problem(f"cannot write: {exc.strerror or exc}", shown)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cmd_export(args) -> int:
    from simulator.store.transfer import export_csv

    query = _query(args)
    with _open_store() as store:
        target = _check_export_target(Path(args.out), store.database_file) if args.out else None
        if args.format == "csv":
            records = store.list_attempts(**query, columns="summary")
            text, count = export_csv(records), len(records)
        else:
            text, count = store.export_json(**query), store.count(**query)
        if target is not None:
            _check_export_target(target, store.database_file)   # again: it may have changed meanwhile
            _write_atomically(target, text, args.out)
    if args.out:
        print(f"exported {count} attempt(s) to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return EXIT_OK


def cmd_import(args) -> int:
    from simulator.errors import StoreError

    source = "<stdin>" if args.file == "-" else args.file
    try:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).expanduser().read_bytes()
    except IsADirectoryError:
        raise HistoryError(Problem("is a folder, not an export file", source)) from None
    except OSError as exc:
        raise HistoryError(Problem(f"cannot read: {exc.strerror or exc}", source)) from None
    with _open_store() as store:
        try:
            added, skipped = store.import_json(data)
        except StoreError as exc:
            raise HistoryError([Problem(p.message, source) for p in exc.problems]) from None
    print(f"added {added}, skipped {skipped}")
    return EXIT_OK
