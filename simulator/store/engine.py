"""The attempts database: which URL, how its engine connects, and how its schema reaches head.

The same code runs on SQLite (default: ``<data dir>/attempts.sqlite``, in WAL mode with a busy
timeout) and on PostgreSQL (``postgresql+psycopg://...``); the URL comes from the
``SIMULATOR_DATABASE_URL`` environment variable. The schema is versioned with Alembic (the
scripts in ``simulator/store/migrations``, configured in code: there is no alembic.ini) and
``migrate`` brings it to head safely when several processes open the database at once: under
``BEGIN IMMEDIATE`` on SQLite, under an advisory lock on PostgreSQL.
"""
from __future__ import annotations

import os
import sqlite3
import time
import zlib
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.engine.url import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

from simulator.errors import StoreError
from simulator.paths import MIGRATIONS_DIR, data_dir

DATABASE_URL_ENV = "SIMULATOR_DATABASE_URL"
DEFAULT_DB_FILENAME = "attempts.sqlite"
VERSION_TABLE = "alembic_version"
SQLITE_BUSY_TIMEOUT_S = 30.0

# A fixed key for pg_advisory_lock around migrations.
_PG_MIGRATION_LOCK_KEY = zlib.crc32(b"ml-sd-simulator:attempts:migrations")


def default_database_url() -> str | URL:
    """``$SIMULATOR_DATABASE_URL``, or a SQLite file in the data directory.

    The file's URL is built from its parts, not pasted into text: a data directory whose name holds
    ``?``, ``#`` or ``%`` would otherwise be read as a query or an escape and the database would land
    somewhere else."""
    configured = os.environ.get(DATABASE_URL_ENV, "").strip()
    if configured:
        return configured
    return URL.create("sqlite", database=str(data_dir() / DEFAULT_DB_FILENAME))


def sqlite_file(url: URL) -> Path | None:
    """The file a SQLite URL names (None for an in-memory database or another backend)."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database.startswith("file:"):          # a URI filename: file:path?mode=...
        database = database[len("file:"):].split("?", 1)[0]
    if database in ("", ":memory:") or database.startswith(":memory:"):
        return None
    return Path(database).expanduser()


def normalise_url(url: str | URL) -> URL:
    """Parse a URL; plain ``postgresql://`` / ``postgres://`` use psycopg 3."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # ArgumentError and friends
        raise StoreError(f"invalid database URL {str(url)!r}: {exc}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


# --------------------------------------------------------------------------
# Engine
# --------------------------------------------------------------------------


def _switch_to_wal(cursor: Any) -> None:
    """Put the file in WAL mode (persistent, so only the first opener does it).

    The switch needs an exclusive lock and SQLite does not always call its busy
    handler for it: processes opening a new file at once can get "database is
    locked" at once. So the mode is read first (no lock needed) and the switch
    is retried until the busy timeout has passed.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    delay = 0.01
    while True:
        mode = cursor.execute("PRAGMA journal_mode").fetchone()
        if mode and str(mode[0]).lower() == "wal":
            return
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc).lower() or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        _switch_to_wal(cursor)
        cursor.execute("PRAGMA synchronous = NORMAL")  # durable enough with WAL, much faster
    finally:
        cursor.close()


def make_engine(url: URL, echo: bool = False) -> Engine:
    """An engine for ``url``; SQLite files get their folder, WAL mode and a busy timeout."""
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


# --------------------------------------------------------------------------
# Migrations
# --------------------------------------------------------------------------


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
            "sqlalchemy.url", normalise_url(url).render_as_string(hide_password=False).replace("%", "%%")
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


def _upgrade_if_behind(conn: Connection, target: tuple[str, ...]) -> None:
    """Look at the schema again (now that we hold the lock) and upgrade it if it is not at head."""
    current = _db_heads(conn)
    if current != target:
        _check_not_newer(current)
        _upgrade_on(conn)


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
        _migrate_sqlite(engine, target)
    elif backend == "postgresql":
        _migrate_postgresql(engine, target)
    else:
        _migrate_unlocked(engine, target)


def _migrate_sqlite(engine: Engine, target: tuple[str, ...]) -> None:
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        # The driver is in autocommit mode, so this raw BEGIN is the only
        # transaction; Alembic sees an open (external) transaction and
        # runs every step inside it.
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            _upgrade_if_behind(conn, target)
            conn.exec_driver_sql("COMMIT")
        except BaseException:
            conn.exec_driver_sql("ROLLBACK")
            raise
        finally:
            conn.commit()  # closes SQLAlchemy's logical transaction


def _migrate_postgresql(engine: Engine, target: tuple[str, ...]) -> None:
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


def _migrate_unlocked(engine: Engine, target: tuple[str, ...]) -> None:
    """Another backend: no lock; a lost race is fine if the winner reached head."""
    try:
        with engine.connect() as conn:
            _upgrade_on(conn)
            conn.commit()
    except SQLAlchemyError:
        with engine.connect() as conn:
            if _db_heads(conn) != target:
                raise
