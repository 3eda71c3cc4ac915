"""Run the migrations programmatically: `duban init` and the tests call `upgrade()`.

Alembic is imported only to migrate: every other command checks the database's revision with
one plain query against HEAD_REVISION (a test keeps that constant equal to the scripts' head).
SQLAlchemy is imported only to run that query: HEAD_REVISION is read without it (the CLI's report).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Engine

HERE = Path(__file__).parent
HEAD_REVISION = "0018_drop_item_event_item_index"


def alembic_config(url: str | None = None) -> Config:
    from alembic.config import Config

    cfg = Config(str(HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(HERE))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    """Create or upgrade the database behind `engine` to the newest revision."""
    from alembic import command

    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def current_revision(engine: Engine) -> str | None:
    """The database's revision, or None when it was never migrated (raises when it cannot be reached)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with engine.connect() as connection:
        try:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError:
            return None


def head_revision() -> str:
    return HEAD_REVISION


def scripts_head() -> str | None:
    """The newest revision among the migration scripts (imports alembic and the scripts)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
