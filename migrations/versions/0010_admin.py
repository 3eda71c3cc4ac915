"""Administration (issue 11): the log of administrative changes to people, units and documents.

Revision ID: 0010_admin
Revises: 0008_acknowledge
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.db

revision: str = "0010_admin"
down_revision: str | None = "0008_acknowledge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "admin_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", models.db.UTCDateTime(), nullable=False),
        sa.Column("by", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("admin_change") as batch_op:
        batch_op.create_index("ix_admin_change_kind", ["kind"])


def downgrade() -> None:
    with op.batch_alter_table("admin_change") as batch_op:
        batch_op.drop_index("ix_admin_change_kind")
    op.drop_table("admin_change")
