"""The attempts store: every practice or interview session, saved in SQLite or PostgreSQL.

Modules, lowest first (each imports only those above it):

- ``tables``: the attempts table as SQLAlchemy models (columns, lengths, allowed values).
- ``records``: the attempt record callers get (``AttemptSummary`` / ``AttemptRecord``) and its
  rules, checked by pydantic in one place (``check_record`` / ``check_fields``).
- ``engine``: the database URL, the engine (SQLite pragmas) and migrations to head under a lock
  (Alembic scripts in ``migrations/``).
- ``transfer``: the JSON export and its import check, and the CSV export.
- ``repository``: ``Store``, which saves, finishes, lists, imports and deletes attempts.

Errors are ``simulator.errors.StoreError``.
"""
