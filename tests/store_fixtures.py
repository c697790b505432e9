"""Fixtures and helpers shared by the store tests (conftest.py makes the fixtures available).

``store_url`` is parametrised over two real databases:

* ``sqlite``: a fresh file in the test's temporary directory;
* ``postgresql``: a fresh, uniquely named database created through the admin
  URL in ``$SIMULATOR_TEST_POSTGRES_URL`` and dropped afterwards. Without that
  variable these variants are skipped (start a server with
  ``scripts/start_postgres.sh``).
"""
from __future__ import annotations

import os
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from simulator.store.repository import Store

POSTGRES_ENV = "SIMULATOR_TEST_POSTGRES_URL"
POSTGRES_SKIP_REASON = "SIMULATOR_TEST_POSTGRES_URL not set (PostgreSQL store tests)"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not os.environ.get(POSTGRES_ENV), reason=POSTGRES_SKIP_REASON),
        ],
    ),
]

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def _postgres_admin_url():
    url = make_url(os.environ[POSTGRES_ENV])
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create an empty database for one test; drop it (forcefully) afterwards."""
    admin_url = _postgres_admin_url()
    name = f"simtest_{uuid.uuid4().hex[:16]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield admin_url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path) -> Iterator[str]:
    """URL of an empty database (no schema yet) on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'attempts.sqlite'}"
    else:
        with fresh_postgres_database() as url:
            yield url


@pytest.fixture
def store(store_url) -> Iterator[Store]:
    opened = Store(store_url)
    try:
        yield opened
    finally:
        opened.close()


def write_attempts(url: str, worker: int, count: int, start, results) -> None:
    """Process body for the concurrency tests: open the store when ``start`` is
    set, then start, autosave and finish ``count`` attempts. Puts
    ``("ok", worker, ids)`` or ``("error", worker, traceback)`` on ``results``."""
    try:
        start.wait(60)
        store = Store(url)
        ids = []
        try:
            for i in range(count):
                started = T0 + timedelta(seconds=worker * 10_000 + i)
                record = store.start_attempt(
                    f"scenario-{i % 5}",
                    "hash",
                    user=f"worker-{worker}",
                    started_at=started,
                    deadline=started + timedelta(minutes=45),
                    app_version="test",
                )
                store.save_work(record.id, notes={"requirements": f"w{worker} a{i}"})
                store.finish(
                    record.id,
                    ended_at=started + timedelta(minutes=30),
                    report={"worker": worker, "i": i},
                    overall_score=float(i % 100),
                    category_scores={"caching": 1.0},
                )
                ids.append(record.id)
        finally:
            store.close()
        results.put(("ok", worker, ids))
    except BaseException:
        results.put(("error", worker, traceback.format_exc()))


def open_store(url: str, worker: int, start, results) -> None:
    """Process body: open the store (running migrations) when ``start`` is set."""
    try:
        start.wait(60)
        Store(url).close()
        results.put(("ok", worker, []))
    except BaseException:
        results.put(("error", worker, traceback.format_exc()))
