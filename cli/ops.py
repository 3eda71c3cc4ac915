"""Operating the installation: `duban init`."""

from __future__ import annotations

import typer

from cli.common import console, engine, revision, settings
from cli.words import _


def register(app: typer.Typer) -> None:
    app.command("init")(init)


def init() -> None:
    """Create the database, or upgrade it to the newest schema (safe to run again)."""
    from migrations.runner import head_revision, upgrade

    eng = engine()
    before = revision(eng)
    upgrade(eng)
    after = revision(eng)
    where = settings().database_display
    if before == after:
        console.print(_("database {database} is up to date (revision {revision})", database=where, revision=after))
    else:
        console.print(_("database {database}: {before} -> {after}", database=where, before=before or _("empty"),
                        after=after))
    assert after == head_revision()
