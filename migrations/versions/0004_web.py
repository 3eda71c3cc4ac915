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
    pass


def downgrade() -> None:
    pass
