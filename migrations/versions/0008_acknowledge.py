"""签收 (issue 11): which units acknowledged an item, by whom and when.

Revision ID: 0008_acknowledge
Revises: 0005_attachments
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.db

revision: str = "0008_acknowledge"
down_revision: str | None = "0005_attachments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "item_acknowledgement",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("at", models.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("item_id", "unit_id"),
    )
    with op.batch_alter_table("item") as batch_op:
        batch_op.add_column(sa.Column("acknowledge_due_at", models.db.UTCDateTime(), nullable=True))
        batch_op.create_index("ix_item_acknowledge_due_at", ["acknowledge_due_at"])


def downgrade() -> None:
    with op.batch_alter_table("item") as batch_op:
        batch_op.drop_index("ix_item_acknowledge_due_at")
        batch_op.drop_column("acknowledge_due_at")
    op.drop_table("item_acknowledgement")
