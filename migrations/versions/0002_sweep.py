"""Sweep and escalation (issue 3): the sweep run log and the scheduler lease.

Revision ID: 0002_sweep
Revises: 0001_core
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.db

revision: str = "0002_sweep"
down_revision: str | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sweep_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("now", models.db.UTCDateTime(), nullable=False),
        sa.Column("examined", sa.Integer(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("notifications", sa.Integer(), nullable=False),
        sa.Column("batches", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sweep_run", schema=None) as batch_op:
        batch_op.create_index("ix_sweep_run_now", ["now"], unique=False)
    op.create_table(
        "scheduler_lease",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("acquired_at", models.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", models.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("scheduler_lease")
    with op.batch_alter_table("sweep_run", schema=None) as batch_op:
        batch_op.drop_index("ix_sweep_run_now")
    op.drop_table("sweep_run")
