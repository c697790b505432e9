"""Alembic environment of the attempts store.

Configured in code by ``simulator.store.engine.alembic_config`` (there is no
alembic.ini): the ``Store`` passes its open connection in
``config.attributes["connection"]``; standalone use passes ``sqlalchemy.url``.
"""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from simulator.store.engine import VERSION_TABLE
from simulator.store.tables import Base

config = context.config
target_metadata = Base.metadata
version_table = config.get_main_option("version_table") or VERSION_TABLE


def _configure(**kwargs) -> None:
    context.configure(
        target_metadata=target_metadata,
        version_table=version_table,
        compare_type=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run_on(connection) -> None:
    # Batch mode lets future ALTERs work on SQLite (table copy and move).
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("alembic_config() needs a connection or a url")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            _run_on(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
