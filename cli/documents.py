"""Documents: `duban document supervisor NAME [EMAIL | --clear]` (who hears of items nobody supervises)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import CliError, console, open_session
from cli.words import _


def register(app: typer.Typer) -> None:
    document = typer.Typer(help="Documents (文件).", no_args_is_help=True)
    document.command("supervisor")(supervisor)
    app.add_typer(document, name="document")


def supervisor(
    name: Annotated[str, typer.Argument(help="The document's short name, e.g. 新时代意见.")],
    email: Annotated[str | None, typer.Argument(help="A supervisor's or admin's email.")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the document's default supervisor.")] = False,
) -> None:
    """Set the document's default supervisor: told about its items that have no supervisor of their own."""
    from models.notices import set_document_supervisor

    if (email is None) == (not clear):
        raise CliError(_("give a supervisor's email, or --clear"))
    with open_session() as session:
        document = set_document_supervisor(session, name, None if clear else email)
        session.commit()
        if clear:
            console.print(_("{document}: no default supervisor", document=document.short_name), highlight=False)
        else:
            console.print(_("{document}: default supervisor {email}", document=document.short_name,
                            email=(email or "").strip().lower()), highlight=False)
