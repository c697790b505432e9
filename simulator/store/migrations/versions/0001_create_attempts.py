"""Create the attempts table.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Types are spelled out here (not imported from simulator.store.tables) so this
revision keeps describing the same schema when the model changes later.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _json() -> sa.JSON:
    return sa.JSON(none_as_null=True)


def upgrade() -> None:
    op.create_table(
        "attempts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("user_name", sa.String(100), nullable=False),
        sa.Column("scenario_id", sa.String(200), nullable=False),
        sa.Column("scenario_hash", sa.String(128), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(16), nullable=True),
        sa.Column("overall_score", sa.Float(), nullable=True),
        sa.Column("category_scores", _json(), nullable=True),
        sa.Column("grader", sa.String(100), nullable=True),
        sa.Column("app_version", sa.String(50), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notes", _json(), nullable=False),
        sa.Column("phase_timings", _json(), nullable=False),
        sa.Column("estimates", _json(), nullable=False),
        sa.Column("token_usage", _json(), nullable=True),
        sa.Column("design", _json(), nullable=False),
        sa.Column("report", _json(), nullable=True),
        sa.Column("feedback", _json(), nullable=True),
        sa.CheckConstraint("mode IN ('practice', 'interview')", name="ck_attempts_mode"),
        sa.CheckConstraint(
            "end_reason IS NULL OR end_reason IN ('submitted', 'timed_out', 'abandoned')",
            name="ck_attempts_end_reason",
        ),
    )
    op.create_index(
        "ix_attempts_user_scenario_started",
        "attempts",
        ["user_name", "scenario_id", "started_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_attempts_user_scenario_started", table_name="attempts")
    op.drop_table("attempts")
