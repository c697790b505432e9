"""The attempts table as SQLAlchemy models: its columns, their lengths and allowed values.

The schema itself is created by the Alembic migrations (``simulator/store/migrations``); this
mapping is what the code reads and writes through, and what autogenerate compares against.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, Float, Index, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from simulator.errors import StoreError

MODES = ("practice", "interview")
END_REASONS = ("submitted", "timed_out", "abandoned")

# Characters per text column. The record checks them in Python, so SQLite (which ignores a
# VARCHAR length) and PostgreSQL refuse the same values.
MAX_LENGTH = {
    "id": 36,
    "user": 100,
    "scenario_id": 200,
    "scenario_hash": 128,
    "mode": 16,
    "end_reason": 16,
    "grader": 100,
    "app_version": 50,
}


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
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# SQL NULL (not JSON 'null') for Python None.
_Json = JSON(none_as_null=True)


def _text(column: str) -> String:
    return String(MAX_LENGTH[column])


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Base(DeclarativeBase):
    pass


class AttemptRow(Base):
    """One attempt. The schema itself is created by the Alembic migrations."""

    __tablename__ = "attempts"

    id: Mapped[str] = mapped_column(_text("id"), primary_key=True)
    # "user" is a reserved word in PostgreSQL (SELECT user returns the login
    # role), so the column is called user_name.
    user: Mapped[str] = mapped_column("user_name", _text("user"))
    scenario_id: Mapped[str] = mapped_column(_text("scenario_id"))
    scenario_hash: Mapped[str] = mapped_column(_text("scenario_hash"))
    mode: Mapped[str] = mapped_column(_text("mode"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    end_reason: Mapped[str | None] = mapped_column(_text("end_reason"), nullable=True)
    overall_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    category_scores: Mapped[dict[str, float] | None] = mapped_column(_Json, nullable=True)
    grader: Mapped[str | None] = mapped_column(_text("grader"), nullable=True)
    app_version: Mapped[str] = mapped_column(_text("app_version"))
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
        CheckConstraint(_one_of("mode", MODES), name="ck_attempts_mode"),
        CheckConstraint(f"end_reason IS NULL OR {_one_of('end_reason', END_REASONS)}",
                        name="ck_attempts_end_reason"),
    )
