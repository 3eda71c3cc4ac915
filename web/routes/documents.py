"""The office's documents from the desk: the weekly 通报 and an item's 督办通知单, as .docx downloads."""

from __future__ import annotations

import io
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from config.calendar import load_calendar
from notifications.documents.facts import item_facts, weekly_facts
from notifications.documents.notices import item_notice, weekly_notice
from web.access import require_office_papers, visible_item
from web.deps import CurrentUser, DbInt, NowDep, SessionDep, SettingsDep
from web.render import locale_for

router = APIRouter(include_in_schema=False)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _download(document: object, filename: str) -> Response:
    buffer = io.BytesIO()
    document.save(buffer)  # type: ignore[attr-defined]
    return Response(buffer.getvalue(), media_type=DOCX, headers={
        "Content-Disposition": f"attachment; filename=\"notice.docx\"; filename*=UTF-8''{quote(filename)}",
        "X-Content-Type-Options": "nosniff",
    })


@router.get("/notice/weekly.docx")
async def weekly_docx(request: Request, session: SessionDep, user: CurrentUser, now: NowDep, settings: SettingsDep,
                      week: str | None = None) -> Response:
    """This week's 通报 (or `week`'s, e.g. 2024-W40): the city-wide notice, for everyone but officers."""
    require_office_papers(user)
    facts = await run_in_threadpool(weekly_facts, session, settings, week, now, locale_for(request, user))
    document = await run_in_threadpool(weekly_notice, facts)
    return _download(document, f"通报-{facts.week}.docx")


@router.get("/items/{item_id}/notice.docx")
def item_docx(request: Request, item_id: DbInt, session: SessionDep, user: CurrentUser, now: NowDep,
              settings: SettingsDep) -> Response:
    """A 督办通知单 for one open item, for supervisors, admins and the leaders who see the item."""
    require_office_papers(user)
    item = visible_item(session, user, item_id)
    facts = item_facts(session, settings, item, now, load_calendar(settings.calendar_file), locale_for(request, user))
    return _download(item_notice(facts), f"督办通知单-{facts.document}-{facts.number}.docx")
