"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import models  # noqa: F401  (every table on the metadata)
from migrations.runner import current_revision, head_revision, upgrade


def test_migrated_database_matches_the_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_upgrade_is_idempotent(engine):
    upgrade(engine)
    assert current_revision(engine) == head_revision()


def test_head_revision_constant_is_the_newest_script():
    from migrations.runner import scripts_head

    assert head_revision() == scripts_head()


def test_unmigrated_database_has_no_revision(tmp_path):
    from models.db import make_engine

    assert current_revision(make_engine(f"sqlite:///{tmp_path}/empty.db")) is None
