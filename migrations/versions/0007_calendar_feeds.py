"""Calendar feeds (issue 12): secret per-person iCalendar feed tokens, stored hashed.

Revision ID: 0007_calendar_feeds
Revises: 0005_notices
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.db

revision: str = "0007_calendar_feeds"
down_revision: str | None = "0005_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("hint", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", models.db.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", models.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("calendar_feed") as batch_op:
        batch_op.create_index("ix_calendar_feed_person_id", ["person_id"])


def downgrade() -> None:
    with op.batch_alter_table("calendar_feed") as batch_op:
        batch_op.drop_index("ix_calendar_feed_person_id")
    op.drop_table("calendar_feed")
