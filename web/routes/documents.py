"""The office's documents from the desk: the weekly 通报 and an item's 督办通知单, as .docx (and PDF) downloads.

The PDF links show only where LibreOffice is installed (notifications/documents/pdf.py); a PDF URL
without it answers 404 with the words to install it.
"""

from __future__ import annotations

import io
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from config.calendar import load_calendar
from notifications.documents import pdf
from notifications.documents.facts import item_facts, weekly_facts
from notifications.documents.notices import ItemFacts, WeeklyFacts, item_notice, weekly_notice
from web.access import require_office_papers, visible_item
from web.deps import CurrentUser, DbInt, NowDep, SessionDep, SettingsDep
from web.render import locale_for

router = APIRouter(include_in_schema=False)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"


def _download(content: bytes, media_type: str, filename: str) -> Response:
    ascii_name = "notice" + filename[filename.rindex("."):]
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}",
        "X-Content-Type-Options": "nosniff",
    })


def _docx(document: object) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)  # type: ignore[attr-defined]
    return buffer.getvalue()


async def _weekly(request: Request, session: SessionDep, user: CurrentUser, now: NowDep, settings: SettingsDep,
                  week: str | None) -> WeeklyFacts:
    require_office_papers(user)
    return await run_in_threadpool(weekly_facts, session, settings, week, now, locale_for(request, user))


def _item(request: Request, item_id: int, session: SessionDep, user: CurrentUser, now: NowDep,
          settings: SettingsDep) -> ItemFacts:
    require_office_papers(user)
    item = visible_item(session, user, item_id)
    return item_facts(session, settings, item, now, load_calendar(settings.calendar_file), locale_for(request, user))


@router.get("/notice/weekly.docx")
async def weekly_docx(request: Request, session: SessionDep, user: CurrentUser, now: NowDep, settings: SettingsDep,
                      week: str | None = None) -> Response:
    """This week's 通报 (or `week`'s, e.g. 2024-W40): the city-wide notice, for everyone but officers."""
    facts = await _weekly(request, session, user, now, settings, week)
    content = await run_in_threadpool(lambda: _docx(weekly_notice(facts)))
    return _download(content, DOCX, f"通报-{facts.week}.docx")


@router.get("/notice/weekly.pdf")
async def weekly_pdf(request: Request, session: SessionDep, user: CurrentUser, now: NowDep, settings: SettingsDep,
                     week: str | None = None) -> Response:
    """The same 通报 as PDF, where LibreOffice is installed."""
    facts = await _weekly(request, session, user, now, settings, week)
    content = await run_in_threadpool(lambda: pdf.to_pdf(weekly_notice(facts)))
    return _download(content, PDF, f"通报-{facts.week}.pdf")


@router.get("/items/{item_id}/notice.docx")
def item_docx(request: Request, item_id: DbInt, session: SessionDep, user: CurrentUser, now: NowDep,
              settings: SettingsDep) -> Response:
    """A 督办通知单 for one open item, for supervisors, admins and the leaders who see the item."""
    facts = _item(request, item_id, session, user, now, settings)
    return _download(_docx(item_notice(facts)), DOCX, f"督办通知单-{facts.document}-{facts.number}.docx")


@router.get("/items/{item_id}/notice.pdf")
def item_pdf(request: Request, item_id: DbInt, session: SessionDep, user: CurrentUser, now: NowDep,
             settings: SettingsDep) -> Response:
    """The same 督办通知单 as PDF, where LibreOffice is installed."""
    facts = _item(request, item_id, session, user, now, settings)
    return _download(pdf.to_pdf(item_notice(facts)), PDF, f"督办通知单-{facts.document}-{facts.number}.pdf")
