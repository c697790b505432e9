"""The attempts store: every practice or interview session, saved as it happens.

An attempt row exists from the moment a session starts (``start_attempt``), is
autosaved on every change (``save_work``), gets the rule report when it ends
(``finish``) and, later, optional LLM feedback (``set_feedback``).

The same code runs on SQLite (default: ``<data dir>/attempts.sqlite``) and on
PostgreSQL (``postgresql+psycopg://...``); the URL comes from the
``SIMULATOR_DATABASE_URL`` environment variable. The schema is versioned with
Alembic (``simulator/migrations``) and brought to head whenever a ``Store``
opens, safely when several processes open it at once.

Callers get frozen dataclasses (``AttemptSummary`` / ``AttemptRecord``), never
live ORM objects, so nothing depends on an open session.

``export_csv`` / ``export_json`` turn records into text; ``Store.import_json``
reads the JSON export back, idempotently.
"""
from __future__ import annotations

import csv
import gc
import io
import json
import math
import os
import re
import uuid
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, overload

from simulator.paths import MIGRATIONS_DIR, data_dir
from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Engine,
    Float,
    Index,
    String,
    Text,
    cast,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.engine.url import URL
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

try:  # the core's error hierarchy, when present
    from simulator.errors import SimulatorError as _BaseError
except ImportError:  # pragma: no cover - only while the core is being written
    _BaseError = Exception  # type: ignore[misc,assignment]


class StoreError(_BaseError):  # type: ignore[misc,valid-type]
    """A problem with the attempts store: unknown attempt, bad import file, bad value."""


# --------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------

DATABASE_URL_ENV = "SIMULATOR_DATABASE_URL"
DEFAULT_DB_FILENAME = "attempts.sqlite"
VERSION_TABLE = "alembic_version"
SQLITE_BUSY_TIMEOUT_S = 30.0

EXPORT_FORMAT = "ml-sd-simulator-attempts"
EXPORT_VERSION = 1
CSV_NOTES_LIMIT = 1000

MODES = ("practice", "interview")
END_REASONS = ("submitted", "timed_out", "abandoned")

# Column length limits, checked in Python so SQLite and PostgreSQL agree.
_MAX_LEN = {
    "id": 36,
    "user": 100,
    "scenario_id": 200,
    "scenario_hash": 128,
    "grader": 100,
    "app_version": 50,
}

# A fixed key for pg_advisory_lock around migrations.
_PG_MIGRATION_LOCK_KEY = zlib.crc32(b"ml-sd-simulator:attempts:migrations")


def default_user() -> str:
    """Who the attempts belong to: SIMULATOR_USER, else 'local' (one person on one machine)."""
    return os.environ.get("SIMULATOR_USER") or "local"


def default_database_url() -> str:
    """``$SIMULATOR_DATABASE_URL``, or a SQLite file in the data directory."""
    configured = os.environ.get(DATABASE_URL_ENV, "").strip()
    if configured:
        return configured
    return f"sqlite:///{data_dir() / DEFAULT_DB_FILENAME}"


def _normalise_url(url: str | URL) -> URL:
    """Parse a URL; plain ``postgresql://`` / ``postgres://`` use psycopg 3."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # ArgumentError and friends
        raise StoreError(f"invalid database URL {str(url)!r}: {exc}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _default_app_version() -> str:
    import simulator

    return str(getattr(simulator, "__version__", None) or "dev")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


# --------------------------------------------------------------------------
# ORM model
# --------------------------------------------------------------------------


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    Values must be aware; they are stored in UTC (naive UTC on SQLite, which has
    no timezone type) and always come back aware, in UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise StoreError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise StoreError(f"datetime {value.isoformat()} has no timezone; use an aware UTC datetime")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


# SQL NULL (not JSON 'null') for Python None.
_Json = JSON(none_as_null=True)


class Base(DeclarativeBase):
    pass


class AttemptRow(Base):
    """One attempt. The schema itself is created by the Alembic migrations."""

    __tablename__ = "attempts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # "user" is a reserved word in PostgreSQL (SELECT user returns the login
    # role), so the column is called user_name.
    user: Mapped[str] = mapped_column("user_name", String(100))
    scenario_id: Mapped[str] = mapped_column(String(200))
    scenario_hash: Mapped[str] = mapped_column(String(128))
    mode: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)
    overall_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    category_scores: Mapped[dict[str, float] | None] = mapped_column(_Json, nullable=True)
    grader: Mapped[str | None] = mapped_column(String(100), nullable=True)
    app_version: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    notes: Mapped[dict[str, str]] = mapped_column(_Json)
    phase_timings: Mapped[dict[str, float]] = mapped_column(_Json)
    estimates: Mapped[dict[str, float | None]] = mapped_column(_Json)
    token_usage: Mapped[dict[str, int] | None] = mapped_column(_Json, nullable=True)
    design: Mapped[dict[str, Any]] = mapped_column(_Json)
    report: Mapped[dict[str, Any] | None] = mapped_column(_Json, nullable=True)
    feedback: Mapped[Any | None] = mapped_column(_Json, nullable=True)

    __table_args__ = (
        Index("ix_attempts_user_scenario_started", "user_name", "scenario_id", "started_at"),
        CheckConstraint("mode IN ('practice', 'interview')", name="ck_attempts_mode"),
        CheckConstraint(
            "end_reason IS NULL OR end_reason IN ('submitted', 'timed_out', 'abandoned')",
            name="ck_attempts_end_reason",
        ),
    )


# --------------------------------------------------------------------------
# Records handed to callers
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptSummary:
    """An attempt without its large JSON columns (design, report, feedback)."""

    id: str
    user: str
    scenario_id: str
    scenario_hash: str
    mode: str
    started_at: datetime
    deadline: datetime
    ended_at: datetime | None
    end_reason: str | None
    overall_score: float | None
    category_scores: dict[str, float] | None
    grader: str | None
    app_version: str
    created_at: datetime
    updated_at: datetime
    notes: dict[str, str]
    phase_timings: dict[str, float]
    estimates: dict[str, float | None]
    token_usage: dict[str, int] | None

    @property
    def finished(self) -> bool:
        return self.ended_at is not None

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to end; None while the attempt is open."""
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class AttemptRecord(AttemptSummary):
    """A complete attempt."""

    design: dict[str, Any]
    report: dict[str, Any] | None
    feedback: Any | None

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready (datetimes as ISO 8601 strings with offset)."""
        out: dict[str, Any] = {}
        for name in _RECORD_FIELDS:
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, datetime) else value
        return out


_SUMMARY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(AttemptSummary))
_RECORD_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(AttemptRecord))
_SUMMARY_COLUMNS = tuple(getattr(AttemptRow, name) for name in _SUMMARY_FIELDS)
_RECORD_COLUMNS = tuple(getattr(AttemptRow, name) for name in _RECORD_FIELDS)
# attribute name -> table column key (differs for user / user_name)
_COLUMN_KEYS = {name: AttemptRow.__mapper__.columns[name].key for name in _RECORD_FIELDS}
_NULLABLE_FIELDS = frozenset(
    {"ended_at", "end_reason", "overall_score", "category_scores", "grader", "token_usage", "report", "feedback"}
)
_JSON_FIELDS = frozenset(
    {"category_scores", "notes", "phase_timings", "estimates", "token_usage", "design", "report", "feedback"}
)
_DATETIME_FIELDS = ("started_at", "deadline", "ended_at", "created_at", "updated_at")


# --------------------------------------------------------------------------
# Validation helpers (every bad value becomes a StoreError)
# --------------------------------------------------------------------------


def _check_str(name: str, value: Any, *, nullable: bool = False) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str) or not value:
        raise StoreError(f"{name} must be a non-empty string, got {value!r}")
    limit = _MAX_LEN.get(name)
    if limit is not None and len(value) > limit:
        raise StoreError(f"{name} is {len(value)} characters long; the limit is {limit}")
    return value


def _check_choice(name: str, value: Any, choices: Sequence[str], *, nullable: bool = False) -> str | None:
    if value is None and nullable:
        return None
    if value not in choices:
        raise StoreError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def _check_time(name: str, value: Any, *, nullable: bool = False) -> datetime | None:
    if value is None and nullable:
        return None
    if not isinstance(value, datetime):
        raise StoreError(f"{name} must be a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise StoreError(f"{name} ({value.isoformat()}) has no timezone; use an aware UTC datetime")
    return value.astimezone(timezone.utc)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_score(name: str, value: Any, *, nullable: bool = True) -> float | None:
    if value is None and nullable:
        return None
    if not _is_number(value):
        raise StoreError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _check_dict(name: str, value: Any, *, nullable: bool = False) -> dict | None:
    if value is None and nullable:
        return None
    if not isinstance(value, Mapping):
        raise StoreError(f"{name} must be a JSON object (dict), got {type(value).__name__}")
    value = dict(value)
    for key in value:
        if not isinstance(key, str):
            raise StoreError(f"{name} keys must be strings, got {key!r}")
    try:  # reject what JSON cannot store (NaN breaks PostgreSQL's json type)
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"{name} cannot be stored as JSON: {exc}") from None
    return value


def _check_number_map(
    name: str, value: Any, *, nullable: bool, allow_null_values: bool, as_float: bool = False
) -> dict | None:
    checked = _check_dict(name, value, nullable=nullable)
    if checked is None:
        return None
    out = {}
    for key, number in checked.items():
        if number is None and allow_null_values:
            out[key] = None
        elif _is_number(number):
            out[key] = float(number) if as_float else number
        else:
            raise StoreError(f"{name}[{key!r}] must be a number{' or null' if allow_null_values else ''}, got {number!r}")
    return out


def _check_notes(value: Any) -> dict[str, str]:
    checked = _check_dict("notes", value)
    for key, note in checked.items():  # type: ignore[union-attr]
        if not isinstance(note, str):
            raise StoreError(f"notes[{key!r}] must be text, got {type(note).__name__}")
    return checked  # type: ignore[return-value]


def _check_feedback(value: Any) -> Any:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"feedback cannot be stored as JSON: {exc}") from None
    return value


def _check_id(value: Any, *, what: str = "attempt id") -> str:
    if not isinstance(value, str):
        raise StoreError(f"{what} must be a UUID string, got {value!r}")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise StoreError(f"{what} {value!r} is not a UUID") from None


def _work_values(design: Any, notes: Any, estimates: Any, phase_timings: Any) -> dict[str, Any]:
    """The autosaved work fields that were given (None = unchanged), validated."""
    values: dict[str, Any] = {}
    if design is not None:
        values["design"] = _check_dict("design", design)
    if notes is not None:
        values["notes"] = _check_notes(notes)
    if estimates is not None:
        values["estimates"] = _check_number_map("estimates", estimates, nullable=False, allow_null_values=True)
    if phase_timings is not None:
        values["phase_timings"] = _check_number_map("phase_timings", phase_timings, nullable=False,
                                                    allow_null_values=False)
    return values


def _validated_row(data: Mapping[str, Any]) -> dict[str, Any]:
    """Check every field of a complete attempt; return the values to insert."""
    row = {
        "id": _check_id(data["id"]),
        "user": _check_str("user", data["user"]),
        "scenario_id": _check_str("scenario_id", data["scenario_id"]),
        "scenario_hash": _check_str("scenario_hash", data["scenario_hash"]),
        "mode": _check_choice("mode", data["mode"], MODES),
        "started_at": _check_time("started_at", data["started_at"]),
        "deadline": _check_time("deadline", data["deadline"]),
        "ended_at": _check_time("ended_at", data["ended_at"], nullable=True),
        "end_reason": _check_choice("end_reason", data["end_reason"], END_REASONS, nullable=True),
        "overall_score": _check_score("overall_score", data["overall_score"]),
        "category_scores": _check_number_map(
            "category_scores", data["category_scores"], nullable=True, allow_null_values=False, as_float=True
        ),
        "grader": _check_str("grader", data["grader"], nullable=True),
        "app_version": _check_str("app_version", data["app_version"]),
        "created_at": _check_time("created_at", data["created_at"]),
        "updated_at": _check_time("updated_at", data["updated_at"]),
        "notes": _check_notes(data["notes"]),
        "phase_timings": _check_number_map(
            "phase_timings", data["phase_timings"], nullable=False, allow_null_values=False
        ),
        "estimates": _check_number_map("estimates", data["estimates"], nullable=False, allow_null_values=True),
        "token_usage": _check_number_map("token_usage", data["token_usage"], nullable=True, allow_null_values=True),
        "design": _check_dict("design", data["design"]),
        "report": _check_dict("report", data["report"], nullable=True),
        "feedback": _check_feedback(data["feedback"]),
    }
    if (row["ended_at"] is None) != (row["end_reason"] is None):
        raise StoreError("ended_at and end_reason must be both set (finished) or both empty (open)")
    return row


# --------------------------------------------------------------------------
# Engine and migrations
# --------------------------------------------------------------------------


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # The busy timeout first, so switching to WAL waits instead of failing.
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")  # durable enough with WAL, much faster
    finally:
        cursor.close()


def _make_engine(url: URL, echo: bool = False) -> Engine:
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
        if in_memory:
            engine = create_engine(
                url, echo=echo, poolclass=StaticPool, connect_args={"check_same_thread": False}
            )
        else:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Any:
    """An Alembic ``Config`` built in code (no alembic.ini).

    Pass ``connection`` to run on an open connection (what ``Store`` does), or
    ``url`` for standalone use, e.g. from a Python shell::

        from alembic import command
        command.revision(alembic_config(url=...), message="add column", autogenerate=True)
    """
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("version_table", VERSION_TABLE)
    if url is not None:
        cfg.set_main_option(
            "sqlalchemy.url", _normalise_url(url).render_as_string(hide_password=False).replace("%", "%%")
        )
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


_HEADS_CACHE: tuple[str, ...] | None = None


def _script_heads() -> tuple[str, ...]:
    global _HEADS_CACHE
    if _HEADS_CACHE is None:
        from alembic.script import ScriptDirectory

        _HEADS_CACHE = tuple(sorted(ScriptDirectory.from_config(alembic_config()).get_heads()))
    return _HEADS_CACHE


def _db_heads(conn: Connection) -> tuple[str, ...]:
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    return tuple(sorted(context.get_current_heads()))


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def _check_not_newer(heads: tuple[str, ...]) -> None:
    unknown = [h for h in heads if h not in _known_revisions()]
    if unknown:
        raise StoreError(
            f"the database schema is at revision {', '.join(unknown)}, which this version of the app "
            "does not know (it was written by a newer version); upgrade the app"
        )


def _upgrade_on(conn: Connection) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection=conn), "head")


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; safe when processes race.

    SQLite: the check and the upgrade run inside one ``BEGIN IMMEDIATE``
    transaction, so a second process waits (busy timeout) and then finds the
    schema at head. PostgreSQL: the same under ``pg_advisory_lock``, and the
    DDL itself is transactional.
    """
    target = _script_heads()
    with engine.connect() as conn:
        current = _db_heads(conn)
        conn.rollback()
    if current == target:
        return
    _check_not_newer(current)

    backend = engine.dialect.name
    if backend == "sqlite":
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            # The driver is in autocommit mode, so this raw BEGIN is the only
            # transaction; Alembic sees an open (external) transaction and
            # runs every step inside it.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                current = _db_heads(conn)
                if current != target:
                    _check_not_newer(current)
                    _upgrade_on(conn)
                conn.exec_driver_sql("COMMIT")
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            finally:
                conn.commit()  # closes SQLAlchemy's logical transaction
    elif backend == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_MIGRATION_LOCK_KEY})
            conn.commit()
            try:
                current = _db_heads(conn)
                conn.commit()
                if current != target:
                    _check_not_newer(current)
                    _upgrade_on(conn)
                    conn.commit()
            finally:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_MIGRATION_LOCK_KEY})
                conn.commit()
    else:  # another backend: no lock; a lost race is fine if the winner reached head
        try:
            with engine.connect() as conn:
                _upgrade_on(conn)
                conn.commit()
        except SQLAlchemyError:
            with engine.connect() as conn:
                if _db_heads(conn) != target:
                    raise


# --------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------


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
        where.append(AttemptRow.started_at >= _check_time("since", since))
    if until is not None:
        where.append(AttemptRow.started_at < _check_time("until", until))
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
        self.url = _normalise_url(url if url is not None else default_database_url())
        self.engine = _make_engine(self.url, echo=echo)
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
        row = _validated_row(
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
        self._insert([row])
        return AttemptRecord(**row)

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
        row = _validated_row(
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
        self._insert([row])
        return AttemptRecord(**row)

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        try:
            with self._begin() as conn:
                conn.execute(insert(AttemptRow), _to_columns(rows))
        except IntegrityError as exc:
            ids = ", ".join(r["id"] for r in rows[:3])
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
        values = _work_values(design, notes, estimates, phase_timings)
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
        values: dict[str, Any] = {
            "ended_at": _check_time("ended_at", ended_at if ended_at is not None else _utcnow()),
            "end_reason": _check_choice("end_reason", end_reason, END_REASONS),
            "report": _check_dict("report", report, nullable=True),
            "overall_score": _check_score("overall_score", overall_score),
            "category_scores": _check_number_map(
                "category_scores", category_scores, nullable=True, allow_null_values=False, as_float=True
            ),
            "grader": _check_str("grader", grader, nullable=True),
            **_work_values(design, notes, estimates, phase_timings),
        }
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
            "feedback": _check_feedback(feedback),
            "grader": _check_str("grader", grader, nullable=True),
            "token_usage": _check_number_map("token_usage", token_usage, nullable=True, allow_null_values=True),
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
        cols = [cast(c, Text) if name in _JSON_FIELDS else c for name, c in zip(_RECORD_FIELDS, _RECORD_COLUMNS)]
        query = _filtered(
            select(*cols), scenario_id=scenario_id, scenario_ids=scenario_ids, user=user, since=since,
            until=until, finished=finished, limit=limit,
        )
        keys = [json.dumps(name) + ": " for name in _RECORD_FIELDS]
        json_fields = [name in _JSON_FIELDS for name in _RECORD_FIELDS]
        dumps = json.dumps
        parts = []
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                items = []
                for key, is_json, value in zip(keys, json_fields, row):
                    if is_json:
                        items.append(key + ("null" if value is None else value))
                    elif isinstance(value, datetime):
                        items.append(key + '"' + value.isoformat() + '"')
                    else:
                        items.append(key + dumps(value, ensure_ascii=False))
                parts.append("{" + ", ".join(items) + "}")
        return _export_document(parts)

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
        rows = parse_export_json(text_)
        unique: dict[str, dict[str, Any]] = {}
        for row in rows:
            unique.setdefault(row["id"], row)
        ids = list(unique)
        existing: set[str] = set()
        with self._begin() as conn:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                existing.update(conn.execute(select(AttemptRow.id).where(AttemptRow.id.in_(chunk))).scalars())
            new_rows = [row for key, row in unique.items() if key not in existing]
            if new_rows:
                conn.execute(_insert_ignoring_duplicates(self.engine.dialect.name), _to_columns(new_rows))
        added = len(new_rows)
        return added, len(rows) - added


def _to_columns(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows keyed by record field -> rows keyed by table column (Core insert)."""
    return [{_COLUMN_KEYS[name]: value for name, value in row.items()} for row in rows]


def _insert_ignoring_duplicates(backend: str) -> Any:
    """INSERT that skips ids stored meanwhile by a concurrent import."""
    if backend == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(AttemptRow).on_conflict_do_nothing(index_elements=["id"])
    if backend == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(AttemptRow).on_conflict_do_nothing(index_elements=["id"])
    return insert(AttemptRow)


# --------------------------------------------------------------------------
# Export / import formats
# --------------------------------------------------------------------------


def export_json(records: Iterable[AttemptRecord]) -> str:
    """A JSON document with every field of every attempt, for ``Store.import_json``.

    One attempt per line, so large exports stay readable and diff-able.
    """
    parts = []
    for record in records:
        if not isinstance(record, AttemptRecord):
            raise StoreError(
                "export_json needs complete attempts; list them with columns='full' (the default)"
            )
        parts.append(json.dumps(record.to_dict(), ensure_ascii=False, allow_nan=False))
    return _export_document(parts)


def _export_document(parts: list[str]) -> str:
    head = f'{{"format": {json.dumps(EXPORT_FORMAT)}, "version": {EXPORT_VERSION}, "attempts": ['
    if not parts:
        return head + "]}\n"
    return head + "\n" + ",\n".join(parts) + "\n]}\n"


def parse_export_json(text_: str | bytes) -> list[dict[str, Any]]:
    """Check an export document; return validated rows ready to insert."""
    try:
        doc = json.loads(text_)
    except (ValueError, UnicodeDecodeError) as exc:
        raise StoreError(f"the import file is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise StoreError(
            f"the import file is not an attempts export: expected \"format\": \"{EXPORT_FORMAT}\", found {found!r}"
        )
    version = doc.get("version")
    if version != EXPORT_VERSION:
        raise StoreError(f"unsupported attempts export version {version!r}; this app reads version {EXPORT_VERSION}")
    attempts = doc.get("attempts")
    if not isinstance(attempts, list):
        raise StoreError('the import file has no "attempts" list')
    rows = []
    for index, item in enumerate(attempts):
        if not isinstance(item, dict):
            raise StoreError(f"attempt #{index}: expected an object, got {type(item).__name__}")
        missing = [name for name in _RECORD_FIELDS if name not in item]
        if missing:
            raise StoreError(f"attempt #{index}: missing field(s) {', '.join(missing)}")
        data = dict(item)
        try:
            for name in _DATETIME_FIELDS:
                value = data[name]
                if value is None and name in _NULLABLE_FIELDS:
                    continue
                if not isinstance(value, str):
                    raise StoreError(f"{name} must be an ISO 8601 date-time string, got {value!r}")
                try:
                    data[name] = datetime.fromisoformat(value)
                except ValueError:
                    raise StoreError(f"{name} {value!r} is not an ISO 8601 date-time") from None
            rows.append(_validated_row(data))
        except StoreError as exc:
            label = f"attempt #{index}"
            if isinstance(item.get("id"), str):
                label += f" ({item['id']})"
            raise StoreError(f"{label}: {exc}") from None
    return rows


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe_cell(value: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection): prefix a single quote."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _fmt_number(value: float | None) -> str:
    if value is None:
        return ""
    rounded = round(float(value), 4)
    return str(int(rounded)) if rounded.is_integer() else repr(rounded)


def _category_column(name: str) -> str:
    slug = re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")
    return "cat_" + (slug or "unnamed")


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def export_csv(records: Iterable[AttemptSummary]) -> str:
    """One row per attempt (summaries suffice): id, scenario, user, started_at,
    ended_at, duration_s, end_reason, mode, overall, one ``cat_<category>``
    column per category seen, notes (all fields joined, cut at 1,000 chars).

    Text cells that a spreadsheet would run as a formula get a leading ``'``.
    """
    records = list(records)
    categories = sorted(
        {name for r in records for name in (r.category_scores or {})},
        key=lambda name: (_category_column(name), name),
    )
    columns: dict[str, str] = {}  # category -> column name, unique
    used = {"id", "scenario", "user", "started_at", "ended_at", "duration_s", "end_reason", "mode", "overall", "notes"}
    for name in categories:
        column, n = _category_column(name), 2
        while column in used:
            column, n = f"{_category_column(name)}_{n}", n + 1
        used.add(column)
        columns[name] = column

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["id", "scenario", "user", "started_at", "ended_at", "duration_s", "end_reason", "mode", "overall"]
        + [columns[name] for name in categories]
        + ["notes"]
    )
    for r in records:
        scores = r.category_scores or {}
        notes = "\n\n".join(v.strip() for v in (r.notes or {}).values() if isinstance(v, str) and v.strip())
        writer.writerow(
            [
                _safe_cell(r.id),
                _safe_cell(r.scenario_id),
                _safe_cell(r.user),
                _iso(r.started_at),
                _iso(r.ended_at),
                _fmt_number(r.duration_s),
                _safe_cell(r.end_reason or ""),
                _safe_cell(r.mode),
                _fmt_number(r.overall_score),
            ]
            + [_fmt_number(scores.get(name)) for name in categories]
            + [_safe_cell(notes[:CSV_NOTES_LIMIT])]
        )
    return buffer.getvalue()


__all__ = [
    "AttemptRecord",
    "AttemptRow",
    "AttemptSummary",
    "Base",
    "END_REASONS",
    "MODES",
    "Store",
    "StoreError",
    "alembic_config",
    "data_dir",
    "default_database_url",
    "export_csv",
    "export_json",
    "migrate",
    "parse_export_json",
    "UTCDateTime",
]
