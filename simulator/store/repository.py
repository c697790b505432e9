"""The attempts store (``Store``): every practice or interview session, saved as it happens.

An attempt row exists from the moment a session starts (``start_attempt``), is
autosaved on every change (``save_work``), gets the rule report when it ends
(``finish``) and, later, optional LLM feedback (``set_feedback``). Reading lists
attempts with filters, counts them and sums up progress per scenario.

Values are checked by the record contract (``records``) before they are written;
callers get frozen ``AttemptSummary`` / ``AttemptRecord`` dataclasses, never live
ORM objects, so nothing depends on an open session. ``Store.export_json`` and
``Store.import_json`` move attempts through the file formats of ``transfer``.
"""
from __future__ import annotations

import gc
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, overload

from sqlalchemy import JSON, Text, cast, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.engine.url import URL
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from simulator.errors import StoreError
from simulator.store.engine import default_database_url, make_engine, migrate, normalise_url, sqlite_file
from simulator.store.records import (
    RECORD_FIELDS,
    SUMMARY_FIELDS,
    AttemptRecord,
    AttemptSummary,
    check_fields,
    check_record,
    utc_time,
)
from simulator.store.tables import AttemptRow
from simulator.store.transfer import export_json_rows, parse_export_json


def default_user() -> str:
    """Who the attempts belong to: SIMULATOR_USER, else 'local' (one person on one machine)."""
    return os.environ.get("SIMULATOR_USER") or "local"


def _default_app_version() -> str:
    import simulator

    return str(getattr(simulator, "__version__", None) or "dev")


def _utcnow() -> datetime:
    return datetime.now(UTC)


_SUMMARY_COLUMNS = tuple(getattr(AttemptRow, name) for name in SUMMARY_FIELDS)
_RECORD_COLUMNS = tuple(getattr(AttemptRow, name) for name in RECORD_FIELDS)
# record field -> table column key (differs for user / user_name)
_COLUMN_KEYS = {name: AttemptRow.__mapper__.columns[name].key for name in RECORD_FIELDS}
_JSON_FIELDS = frozenset(
    name for name in RECORD_FIELDS if isinstance(AttemptRow.__mapper__.columns[name].type, JSON)
)


def _conditions(
    *,
    scenario_id: str | None = None,
    scenario_ids: Iterable[str] | None = None,
    user: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    finished: bool | None = None,
) -> list[Any]:
    """The WHERE clauses of the list filters."""
    where: list[Any] = []
    if scenario_id is not None:
        where.append(AttemptRow.scenario_id == scenario_id)
    if scenario_ids is not None:
        if isinstance(scenario_ids, str):
            raise StoreError("scenario_ids must be a list of scenario ids, not one string")
        where.append(AttemptRow.scenario_id.in_(list(scenario_ids)))
    if user is not None:
        where.append(AttemptRow.user == user)
    if since is not None:
        where.append(AttemptRow.started_at >= utc_time("since", since))
    if until is not None:
        where.append(AttemptRow.started_at < utc_time("until", until))
    if finished is True:
        where.append(AttemptRow.ended_at.is_not(None))
    elif finished is False:
        where.append(AttemptRow.ended_at.is_(None))
    return where


def _filtered(
    query: Any,
    *,
    scenario_id: str | None,
    user: str | None,
    since: datetime | None,
    until: datetime | None,
    finished: bool | None,
    limit: int | None,
    scenario_ids: Iterable[str] | None = None,
) -> Any:
    """Apply the list filters and the newest-first order to a select."""
    query = query.where(*_conditions(scenario_id=scenario_id, scenario_ids=scenario_ids, user=user, since=since,
                                     until=until, finished=finished))
    query = query.order_by(AttemptRow.started_at.desc(), AttemptRow.id.desc())
    if limit is not None:
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
            raise StoreError(f"limit must be a non-negative integer, got {limit!r}")
        query = query.limit(limit)
    return query


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while building many nested dicts (no cycles are
    created; without the pause full collections run again and again)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Store:
    """Attempts on SQLite or PostgreSQL. Thread-safe; one per process is enough."""

    def __init__(self, url: str | URL | None = None, *, migrate_schema: bool = True, echo: bool = False):
        self.url = normalise_url(url if url is not None else default_database_url())
        self.engine = make_engine(self.url, echo=echo)
        if migrate_schema:
            try:
                migrate(self.engine)
            except StoreError:
                self.engine.dispose()
                raise
            except SQLAlchemyError as exc:
                self.engine.dispose()
                raise StoreError(
                    f"cannot open the attempts database {self.url.render_as_string(hide_password=True)}: {exc}"
                ) from exc

    @classmethod
    def open_default(cls) -> Store:
        """The store named by ``$SIMULATOR_DATABASE_URL`` (default: SQLite in the data dir)."""
        return cls(None)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url.render_as_string(hide_password=True)!r})"

    @property
    def database_file(self) -> Path | None:
        """The SQLite file in use (None for PostgreSQL or an in-memory database)."""
        return sqlite_file(self.url)

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    # -- writing ---------------------------------------------------------

    def start_attempt(
        self,
        scenario_id: str,
        scenario_hash: str,
        *,
        deadline: datetime,
        mode: str = "practice",
        user: str = "local",
        started_at: datetime | None = None,
        app_version: str | None = None,
        design: Mapping[str, Any] | None = None,
        notes: Mapping[str, str] | None = None,
        estimates: Mapping[str, float | None] | None = None,
        phase_timings: Mapping[str, float] | None = None,
        attempt_id: str | None = None,
    ) -> AttemptRecord:
        """Create the row of a session that just started (open: no ended_at)."""
        now = _utcnow()
        record = check_record(
            {
                "id": attempt_id if attempt_id is not None else str(uuid.uuid4()),
                "user": user,
                "scenario_id": scenario_id,
                "scenario_hash": scenario_hash,
                "mode": mode,
                "started_at": started_at if started_at is not None else now,
                "deadline": deadline,
                "ended_at": None,
                "end_reason": None,
                "overall_score": None,
                "category_scores": None,
                "grader": None,
                "app_version": app_version if app_version is not None else _default_app_version(),
                "created_at": now,
                "updated_at": now,
                "notes": notes if notes is not None else {},
                "phase_timings": phase_timings if phase_timings is not None else {},
                "estimates": estimates if estimates is not None else {},
                "token_usage": None,
                "design": design if design is not None else {"nodes": [], "edges": []},
                "report": None,
                "feedback": None,
            }
        )
        self._insert([record])
        return record

    def add_graded(
        self,
        scenario_id: str,
        scenario_hash: str,
        *,
        design: Mapping[str, Any],
        report: Mapping[str, Any] | None,
        overall_score: float | None,
        category_scores: Mapping[str, float] | None,
        notes: Mapping[str, str] | None = None,
        estimates: Mapping[str, float | None] | None = None,
        phase_timings: Mapping[str, float] | None = None,
        mode: str = "practice",
        user: str = "local",
        started_at: datetime | None = None,
        ended_at: datetime | None = None,
        deadline: datetime | None = None,
        end_reason: str = "submitted",
        grader: str = "rules",
        feedback: Any | None = None,
        token_usage: Mapping[str, int] | None = None,
        app_version: str | None = None,
        attempt_id: str | None = None,
    ) -> AttemptRecord:
        """Create a finished, graded attempt in one go (e.g. ``grade --save``).

        Times default to now; ``deadline`` defaults to ``ended_at``.
        """
        now = _utcnow()
        ended = ended_at if ended_at is not None else now
        record = check_record(
            {
                "id": attempt_id if attempt_id is not None else str(uuid.uuid4()),
                "user": user,
                "scenario_id": scenario_id,
                "scenario_hash": scenario_hash,
                "mode": mode,
                "started_at": started_at if started_at is not None else ended,
                "deadline": deadline if deadline is not None else ended,
                "ended_at": ended,
                "end_reason": end_reason,
                "overall_score": overall_score,
                "category_scores": category_scores,
                "grader": grader,
                "app_version": app_version if app_version is not None else _default_app_version(),
                "created_at": now,
                "updated_at": now,
                "notes": notes if notes is not None else {},
                "phase_timings": phase_timings if phase_timings is not None else {},
                "estimates": estimates if estimates is not None else {},
                "token_usage": token_usage,
                "design": design,
                "report": report,
                "feedback": feedback,
            }
        )
        self._insert([record])
        return record

    def _insert(self, records: Sequence[AttemptRecord]) -> None:
        try:
            with self._begin() as conn:
                conn.execute(insert(AttemptRow), _to_columns(records))
        except IntegrityError as exc:
            ids = ", ".join(r.id for r in records[:3])
            raise StoreError(f"cannot save attempt {ids}: an attempt with this id already exists") from exc

    def save_work(
        self,
        attempt_id: str,
        *,
        design: Mapping[str, Any] | None = None,
        notes: Mapping[str, str] | None = None,
        estimates: Mapping[str, float | None] | None = None,
        phase_timings: Mapping[str, float] | None = None,
    ) -> None:
        """Autosave the work of an open attempt (one UPDATE). ``None`` = unchanged.

        Raises StoreError for an unknown attempt and for a finished one (its
        graded work is final).
        """
        values = check_fields(_given(design=design, notes=notes, estimates=estimates, phase_timings=phase_timings))
        self._update_open(attempt_id, values, action="save work to")

    def finish(
        self,
        attempt_id: str,
        *,
        end_reason: str = "submitted",
        ended_at: datetime | None = None,
        report: Mapping[str, Any] | None = None,
        overall_score: float | None = None,
        category_scores: Mapping[str, float] | None = None,
        grader: str | None = "rules",
        design: Mapping[str, Any] | None = None,
        notes: Mapping[str, str] | None = None,
        estimates: Mapping[str, float | None] | None = None,
        phase_timings: Mapping[str, float] | None = None,
    ) -> AttemptRecord:
        """End an open attempt and save its rule report, in one transaction.

        The optional work fields save the final state in the same UPDATE.
        Raises StoreError for an unknown or already finished attempt.
        """
        values = check_fields({
            "ended_at": ended_at if ended_at is not None else _utcnow(),
            "end_reason": end_reason,
            "report": report,
            "overall_score": overall_score,
            "category_scores": category_scores,
            "grader": grader,
            **_given(design=design, notes=notes, estimates=estimates, phase_timings=phase_timings),
        })
        self._update_open(attempt_id, values, action="finish")
        return self.get(attempt_id)

    def set_feedback(
        self,
        attempt_id: str,
        *,
        feedback: Any,
        grader: str | None,
        token_usage: Mapping[str, int | None] | None = None,
    ) -> None:
        """Store (LLM) feedback, the grader that wrote it and its token usage."""
        values = {
            **check_fields({"feedback": feedback, "grader": grader, "token_usage": token_usage}),
            "updated_at": _utcnow(),
        }
        attempt_id = self._known_id(attempt_id)
        with self._begin() as conn:
            result = conn.execute(update(AttemptRow).where(AttemptRow.id == attempt_id).values(values))
        if result.rowcount == 0:
            raise StoreError(f"no attempt with id {attempt_id}")

    def _update_open(self, attempt_id: str, values: dict[str, Any], *, action: str) -> None:
        attempt_id = self._known_id(attempt_id)
        values = {**values, "updated_at": _utcnow()}
        with self._begin() as conn:
            result = conn.execute(
                update(AttemptRow)
                .where(AttemptRow.id == attempt_id, AttemptRow.ended_at.is_(None))
                .values(values)
            )
            if result.rowcount == 1:
                return
            exists = conn.execute(select(AttemptRow.end_reason).where(AttemptRow.id == attempt_id)).first()
        if exists is None:
            raise StoreError(f"no attempt with id {attempt_id}")
        raise StoreError(f"cannot {action} attempt {attempt_id}: it is already finished ({exists[0]})")

    @staticmethod
    def _known_id(attempt_id: Any) -> str:
        if not isinstance(attempt_id, str):
            raise StoreError(f"no attempt with id {attempt_id!r}")
        try:
            return str(uuid.UUID(attempt_id))
        except ValueError:
            raise StoreError(f"no attempt with id {attempt_id!r} (not a UUID)") from None

    def delete(self, attempt_id: str) -> None:
        """Delete an attempt; StoreError if there is none with this id."""
        attempt_id = self._known_id(attempt_id)
        with self._begin() as conn:
            result = conn.execute(delete(AttemptRow).where(AttemptRow.id == attempt_id))
        if result.rowcount == 0:
            raise StoreError(f"no attempt with id {attempt_id}")

    # -- reading ---------------------------------------------------------

    def get(self, attempt_id: str) -> AttemptRecord:
        """The attempt with this id; StoreError if there is none."""
        attempt_id = self._known_id(attempt_id)
        with self.engine.connect() as conn:
            row = conn.execute(select(*_RECORD_COLUMNS).where(AttemptRow.id == attempt_id)).first()
        if row is None:
            raise StoreError(f"no attempt with id {attempt_id}")
        return AttemptRecord(*row)

    @overload
    def list_attempts(
        self,
        *,
        scenario_id: str | None = ...,
        scenario_ids: Iterable[str] | None = ...,
        user: str | None = ...,
        since: datetime | None = ...,
        until: datetime | None = ...,
        finished: bool | None = ...,
        limit: int | None = ...,
        columns: Literal["full"] = ...,
    ) -> list[AttemptRecord]: ...

    @overload
    def list_attempts(
        self,
        *,
        scenario_id: str | None = ...,
        scenario_ids: Iterable[str] | None = ...,
        user: str | None = ...,
        since: datetime | None = ...,
        until: datetime | None = ...,
        finished: bool | None = ...,
        limit: int | None = ...,
        columns: Literal["summary"],
    ) -> list[AttemptSummary]: ...

    def list_attempts(
        self,
        *,
        scenario_id: str | None = None,
        scenario_ids: Iterable[str] | None = None,
        user: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        finished: bool | None = None,
        limit: int | None = None,
        columns: Literal["full", "summary"] = "full",
    ) -> list[AttemptRecord] | list[AttemptSummary]:
        """Attempts, newest ``started_at`` first.

        ``scenario_ids`` keeps attempts on any of these scenarios (an empty
        list keeps none). ``since`` is inclusive, ``until`` exclusive (both on
        started_at).
        ``finished`` True/False keeps only finished/open attempts.
        ``columns="summary"`` skips design, report and feedback (fast table view)
        and returns ``AttemptSummary`` objects.
        """
        if columns == "full":
            cols, cls = _RECORD_COLUMNS, AttemptRecord
        elif columns == "summary":
            cols, cls = _SUMMARY_COLUMNS, AttemptSummary  # type: ignore[assignment]
        else:
            raise StoreError(f"columns must be 'full' or 'summary', got {columns!r}")
        query = _filtered(
            select(*cols), scenario_id=scenario_id, scenario_ids=scenario_ids, user=user, since=since,
            until=until, finished=finished, limit=limit,
        )
        with self.engine.connect() as conn, _gc_paused():
            return [cls(*row) for row in conn.execute(query)]

    def export_json(
        self,
        *,
        scenario_id: str | None = None,
        scenario_ids: Iterable[str] | None = None,
        user: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        finished: bool | None = None,
        limit: int | None = None,
    ) -> str:
        """``export_json(self.list_attempts(...))``, several times faster.

        The JSON columns are copied as stored (never decoded and re-encoded),
        so the document is equal as JSON, not byte for byte.
        """
        cols = [cast(c, Text) if name in _JSON_FIELDS else c
                for name, c in zip(RECORD_FIELDS, _RECORD_COLUMNS, strict=True)]
        query = _filtered(
            select(*cols), scenario_id=scenario_id, scenario_ids=scenario_ids, user=user, since=since,
            until=until, finished=finished, limit=limit,
        )
        with self.engine.connect() as conn:
            return export_json_rows(conn.execute(query), _JSON_FIELDS)

    def count(
        self,
        *,
        scenario_id: str | None = None,
        scenario_ids: Iterable[str] | None = None,
        user: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        finished: bool | None = None,
    ) -> int:
        """How many attempts (all, or those matching the ``list_attempts`` filters)."""
        query = select(func.count()).select_from(AttemptRow).where(
            *_conditions(scenario_id=scenario_id, scenario_ids=scenario_ids, user=user, since=since,
                         until=until, finished=finished)
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def scenario_overview(self, user: str | None = None) -> dict[str, tuple[int, datetime, datetime]]:
        """Per stored scenario id: ``(attempts, first started_at, last started_at)``,
        in one grouped query (filter choices and date bounds for the history)."""
        query = select(
            AttemptRow.scenario_id,
            func.count(),
            func.min(AttemptRow.started_at),
            func.max(AttemptRow.started_at),
        ).group_by(AttemptRow.scenario_id)
        if user is not None:
            query = query.where(AttemptRow.user == user)
        with self.engine.connect() as conn:
            return {sid: (int(n), first, last) for sid, n, first, last in conn.execute(query)}

    def latest_open(self, scenario_id: str, user: str = "local") -> AttemptRecord | None:
        """The newest unfinished attempt of this user on this scenario (to resume), or None."""
        query = (
            select(*_RECORD_COLUMNS)
            .where(
                AttemptRow.user == user,
                AttemptRow.scenario_id == scenario_id,
                AttemptRow.ended_at.is_(None),
            )
            .order_by(AttemptRow.started_at.desc(), AttemptRow.id.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return AttemptRecord(*row) if row is not None else None

    def best_and_latest(self, user: str | None = None) -> dict[str, dict[str, float | int]]:
        """Per scenario over scored (finished, with an overall score) attempts:
        ``{"best": max score, "latest": score of the newest, "attempts": count}``.
        """
        query = (
            select(AttemptRow.scenario_id, AttemptRow.overall_score)
            .where(AttemptRow.ended_at.is_not(None), AttemptRow.overall_score.is_not(None))
            .order_by(AttemptRow.started_at.desc(), AttemptRow.id.desc())
        )
        if user is not None:
            query = query.where(AttemptRow.user == user)
        out: dict[str, dict[str, float | int]] = {}
        with self.engine.connect() as conn:
            for scenario_id, score in conn.execute(query):
                assert score is not None  # the query keeps scored attempts only
                entry = out.get(scenario_id)
                if entry is None:  # rows come newest first
                    out[scenario_id] = {"best": score, "latest": score, "attempts": 1}
                else:
                    entry["attempts"] += 1
                    if score > entry["best"]:
                        entry["best"] = score
        return out

    # -- import ------------------------------------------------------------

    def import_json(self, text_: str | bytes) -> tuple[int, int]:
        """Import an ``export_json`` document. Returns ``(added, skipped)``.

        Idempotent: attempts whose id is already stored are skipped. The whole
        file is checked before anything is written; a bad file raises
        StoreError naming the problem (and the attempt index).
        """
        records = parse_export_json(text_)
        unique: dict[str, AttemptRecord] = {}
        for record in records:
            unique.setdefault(record.id, record)
        ids = list(unique)
        existing: set[str] = set()
        with self._begin() as conn:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                existing.update(conn.execute(select(AttemptRow.id).where(AttemptRow.id.in_(chunk))).scalars())
            new = [record for key, record in unique.items() if key not in existing]
            if new:
                conn.execute(_insert_ignoring_duplicates(self.engine.dialect.name), _to_columns(new))
        added = len(new)
        return added, len(records) - added


def _given(**fields: Any) -> dict[str, Any]:
    """The work fields that were given (None = unchanged)."""
    return {name: value for name, value in fields.items() if value is not None}


def _to_columns(records: Iterable[AttemptRecord]) -> list[dict[str, Any]]:
    """Records -> rows keyed by table column (Core insert)."""
    return [{key: getattr(record, name) for name, key in _COLUMN_KEYS.items()} for record in records]


def _insert_ignoring_duplicates(backend: str) -> Any:
    """INSERT that skips ids stored meanwhile by a concurrent import."""
    if backend == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(AttemptRow).on_conflict_do_nothing(index_elements=["id"])
    if backend == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(AttemptRow).on_conflict_do_nothing(index_elements=["id"])
    return insert(AttemptRow)

