"""Mail (issue 4): the outbox, digests and anything delivery needs.

Revision ID: 0003_mail
Revises: 0002_sweep
"""
from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
from alembic import op  # noqa: F401

import models.db  # noqa: F401

revision: str = "0003_mail"
down_revision: str | None = "0002_sweep"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
