"""Evidence files (issue 11): the attachment table, append-only like the audit trail.

Revision ID: 0005_attachments
Revises: 0007_calendar_feeds
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.db

revision: str = "0005_attachments"
down_revision: str | None = "0007_calendar_feeds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("at", models.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"]),
        sa.ForeignKeyConstraint(["event_id"], ["item_event.id"]),
        sa.ForeignKeyConstraint(["report_id"], ["progress_report.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("attachment") as batch_op:
        batch_op.create_index("ix_attachment_item_id", ["item_id"])
        batch_op.create_index("ix_attachment_event_id", ["event_id"])
        batch_op.create_index("ix_attachment_sha256", ["sha256"])
    # An item's evidence stays as long as the item: the database refuses UPDATE and DELETE.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION attachment_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'attachment is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER attachment_append_only BEFORE UPDATE OR DELETE ON attachment "
            "FOR EACH ROW EXECUTE FUNCTION attachment_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER attachment_no_{verb.lower()} BEFORE {verb} ON attachment "
                "BEGIN SELECT RAISE(ABORT, 'attachment is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS attachment_append_only ON attachment")
        op.execute("DROP FUNCTION IF EXISTS attachment_append_only()")
    op.drop_table("attachment")
