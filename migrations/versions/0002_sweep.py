"""Sweep and escalation (issue 3): fill in the tables and columns the sweep needs.

Revision ID: 0002_sweep
Revises: 0001_core
"""
from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
from alembic import op  # noqa: F401

import models.db  # noqa: F401

revision: str = "0002_sweep"
down_revision: str | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
