"""Alembic migrations; `duban init` runs them (see migrations.runner)."""
