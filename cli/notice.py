"""The office's documents on the command line: `duban notice weekly` (通报) and `duban notice item` (督办通知单)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import CliError, console, open_session, resolve_now, settings
from cli.options import NowOption
from cli.words import _

notice_app = typer.Typer(help="Write the office's documents as Word files (GB/T 9704 layout), to edit before issue.",
                         no_args_is_help=True)

OutOption = Annotated[Path, typer.Option(
    "--out", dir_okay=False,
    help="Where to write the document: a .docx file, or a .pdf file (converted by LibreOffice, if installed).")]
SUFFIXES = (".docx", ".pdf")


def register(app: typer.Typer) -> None:
    app.add_typer(notice_app, name="notice")


@notice_app.command("weekly")
def weekly(
    out: OutOption,
    week: Annotated[str | None, typer.Option("--week", help="ISO week, e.g. 2024-W40 (default: this week).")] = None,
    now: NowOption = None,
) -> None:
    """The weekly 通报: figures per document, overdue items by unit, units ranked by rate."""
    from notifications.documents.facts import weekly_facts
    from notifications.documents.notices import weekly_notice

    _check_suffix(out)
    with open_session() as session:
        facts = weekly_facts(session, settings(), week, resolve_now(now))
    _save(weekly_notice(facts), out)
    console.print(_("wrote {path}: {documents} document(s), {overdue} overdue item(s), {units} unit(s) ranked",
                    path=out, documents=len(facts.documents), overdue=facts.overdue_count, units=len(facts.ranking)),
                  highlight=False)


@notice_app.command("item")
def item(
    ref: Annotated[str, typer.Argument(help="The item: DOCUMENT/NUMBER (e.g. 新时代意见/12) or its id.")],
    out: OutOption,
    now: NowOption = None,
) -> None:
    """A 督办通知单 for one open item: what, who, the deadline, what is late, what is required by when."""
    from config.calendar import load_calendar
    from models.queries import find_item
    from notifications.documents.facts import item_facts
    from notifications.documents.notices import item_notice

    _check_suffix(out)
    with open_session() as session:
        facts = item_facts(session, settings(), find_item(session, ref), resolve_now(now), load_calendar())
    _save(item_notice(facts), out)
    console.print(_("wrote {path}", path=out), highlight=False)


def _check_suffix(out: Path) -> None:
    """A .docx or a .pdf; a PDF only where LibreOffice is installed, refused before any work."""
    from notifications.documents.pdf import available

    if out.suffix.lower() not in SUFFIXES:
        raise CliError(_("{path}: write a .docx or a .pdf file", path=out))
    if out.suffix.lower() == ".pdf" and not available():
        from notifications.documents.pdf import INSTALL_HINT

        raise CliError(_("a PDF needs LibreOffice, which is not installed: install {install}, or write a .docx",
                         install=INSTALL_HINT))


def _save(document: object, out: Path) -> None:
    """Write the .docx, or its PDF; nothing is written when the conversion fails."""
    if out.suffix.lower() == ".pdf":
        from notifications.documents.pdf import to_pdf

        content = to_pdf(document)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(content)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(out))  # type: ignore[attr-defined]
