"""Notices (issue 13): a document's default supervisor; notices that reached nobody.

Revision ID: 0005_notices
Revises: 0004_web
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_notices"
down_revision: str | None = "0004_web"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("document") as batch_op:
        batch_op.add_column(sa.Column("default_supervisor_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_document_default_supervisor_id_person", "person",
                                    ["default_supervisor_id"], ["id"])
    with op.batch_alter_table("notification") as batch_op:
        batch_op.add_column(sa.Column("unreached", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index("ix_notification_unreached", ["unreached"])


def downgrade() -> None:
    with op.batch_alter_table("notification") as batch_op:
        batch_op.drop_index("ix_notification_unreached")
        batch_op.drop_column("unreached")
    with op.batch_alter_table("document") as batch_op:
        batch_op.drop_constraint("fk_document_default_supervisor_id_person", type_="foreignkey")
        batch_op.drop_column("default_supervisor_id")
