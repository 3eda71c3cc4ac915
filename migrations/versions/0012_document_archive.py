"""Documents (issue 11): a category (类别) and archiving (归档; archived documents drop out of lists).

Revision ID: 0012_document_archive
Revises: 0011_periods
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.db

revision: str = "0012_document_archive"
down_revision: str | None = "0011_periods"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("document") as batch_op:
        batch_op.add_column(sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("archived_at", models.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("document") as batch_op:
        batch_op.drop_column("archived_at")
        batch_op.drop_column("category")
