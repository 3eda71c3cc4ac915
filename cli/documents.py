"""Documents: `duban document supervisor NAME [EMAIL | --clear]` (who hears of items nobody supervises),
`duban document archive|unarchive NAME` (归档) and `duban document category NAME CATEGORY` (类别)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import CliError, console, open_session, resolve_now
from cli.options import NowOption
from cli.words import _


def register(app: typer.Typer) -> None:
    document = typer.Typer(help="Documents (文件).", no_args_is_help=True)
    document.command("supervisor")(supervisor)
    document.command("archive")(archive)
    document.command("unarchive")(unarchive)
    document.command("category")(category)
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


NameArg = Annotated[str, typer.Argument(help="The document's short name, e.g. 新时代意见.")]


def archive(name: NameArg, now: NowOption = None) -> None:
    """Archive a document: its items leave lists, figures and digests, and stay readable (items --archived)."""
    _archive(name, True, now)


def unarchive(name: NameArg, now: NowOption = None) -> None:
    """Take a document out of the archive: its items are listed and counted again."""
    _archive(name, False, now)


def _archive(name: str, archived: bool, now: str | None) -> None:
    from models.admin import archive_document
    from models.read.filters import match_document
    from models.tables import Document

    at = resolve_now(now)
    with open_session() as session:
        document = session.get(Document, match_document(session, name))
        assert document is not None
        change = archive_document(session, at, "cli", document, archived)
        session.commit()
        if change is None:
            said = _("{document} was already archived") if archived else _("{document} was not archived")
        else:
            said = _("{document} archived") if archived else _("{document} unarchived")
        console.print(said.format(document=document.short_name), highlight=False)


def category(name: NameArg, text: Annotated[str, typer.Argument(metavar="CATEGORY", help="The category; \"\" for none.")],
             now: NowOption = None) -> None:
    """Set a document's category (类别)."""
    from models.admin import set_document_category
    from models.read.filters import match_document
    from models.tables import Document

    at = resolve_now(now)
    with open_session() as session:
        document = session.get(Document, match_document(session, name))
        assert document is not None
        set_document_category(session, at, "cli", document, text)
        session.commit()
        console.print(_("{document}: category {category}", document=document.short_name,
                        category=document.category or "—"), highlight=False)
