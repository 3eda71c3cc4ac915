"""Security (issue 14): login throttle counters, server-side web sessions, TRUNCATE refused on the audit trail.

Revision ID: 0006_security
Revises: 0010_admin
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.db

revision: str = "0006_security"
down_revision: str | None = "0010_admin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_at", models.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("login_throttle") as batch_op:
        batch_op.create_index("ix_login_throttle_last_at", ["last_at"])

    op.create_table(
        "web_session",
        sa.Column("id_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", models.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", models.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    with op.batch_alter_table("web_session") as batch_op:
        batch_op.create_index("ix_web_session_person_id", ["person_id"])
        batch_op.create_index("ix_web_session_expires_at", ["expires_at"])

    # UPDATE and DELETE are refused row by row since 0001; TRUNCATE skips row triggers, so it
    # gets a statement trigger of its own. (SQLite has no TRUNCATE.)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER item_event_no_truncate BEFORE TRUNCATE ON item_event "
            "FOR EACH STATEMENT EXECUTE FUNCTION item_event_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS item_event_no_truncate ON item_event")
    op.drop_table("web_session")
    op.drop_table("login_throttle")
