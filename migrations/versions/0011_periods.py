"""Recurring obligations (issue 12): an item's frequency (频次) and its periods.

Revision ID: 0011_periods
Revises: 0006_security
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.db

revision: str = "0011_periods"
down_revision: str | None = "0006_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("item") as batch_op:
        batch_op.add_column(sa.Column("frequency", sa.String(length=64), nullable=True))
    op.create_table(
        "item_period",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("starts", sa.Date(), nullable=False),
        sa.Column("ends", sa.Date(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("fulfilled_at", models.db.UTCDateTime(), nullable=True),
        sa.Column("fulfilled_event_id", sa.Integer(), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("next_action_at", models.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["fulfilled_event_id"], ["item_event.id"]),
        sa.PrimaryKeyConstraint("item_id", "starts"),
    )
    op.create_index("ix_item_period_next_action_at", "item_period", ["next_action_at"])


def downgrade() -> None:
    op.drop_index("ix_item_period_next_action_at", table_name="item_period")
    op.drop_table("item_period")
    with op.batch_alter_table("item") as batch_op:
        batch_op.drop_column("frequency")
