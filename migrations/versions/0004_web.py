"""Web (issue 5): sessions, API tokens, login throttling and anything the web app needs.

Revision ID: 0004_web
Revises: 0003_mail
"""
from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
from alembic import op  # noqa: F401

import models.db  # noqa: F401

revision: str = "0004_web"
down_revision: str | None = "0003_mail"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("hint", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", models.db.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", models.db.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", models.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("api_token") as batch_op:
        batch_op.create_index("ix_api_token_person_id", ["person_id"])

    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", models.db.UTCDateTime(), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("login_attempt") as batch_op:
        batch_op.create_index("ix_login_attempt_account", ["account"])
        batch_op.create_index("ix_login_attempt_address", ["address"])
        batch_op.create_index("ix_login_attempt_at", ["at"])

    # The dashboard's trend reads sign-off events by kind and time.
    with op.batch_alter_table("item_event") as batch_op:
        batch_op.create_index("ix_item_event_kind_at", ["kind", "at"])
    # The item list's default order: the first page without scanning every item.
    with op.batch_alter_table("item") as batch_op:
        batch_op.create_index("ix_item_deadline_id", ["deadline", "id"])


def downgrade() -> None:
    with op.batch_alter_table("item") as batch_op:
        batch_op.drop_index("ix_item_deadline_id")
    with op.batch_alter_table("item_event") as batch_op:
        batch_op.drop_index("ix_item_event_kind_at")
    op.drop_table("login_attempt")
    op.drop_table("api_token")
