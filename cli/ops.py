"""Operating the installation: `duban init`."""

from __future__ import annotations

import typer

from cli.common import console, engine, revision, settings


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
        console.print(f"database {where} is up to date (revision {after})")
    else:
        console.print(f"database {where}: {before or 'empty'} -> {after}")
    assert after == head_revision()
