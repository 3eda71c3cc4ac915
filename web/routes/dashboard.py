"""The dashboard (/), an officer's own work (/my) and the digest preview (/digest)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import and_
from sqlmodel import col, func, select

from models.deadlines import ACTIVE_STATUSES
from models.tables import ItemEvent, Role
from web.access import require_sees_everything
from web.deps import CurrentUser, NowDep, SessionDep, SettingsDep, csrf_protect
from web.listing import ItemQuery, ItemRow, list_rows
from web.render import redirect, render

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)
UNITS_SHOWN = 30


@router.get("/")
def dashboard(request: Request, session: SessionDep, user: CurrentUser, now: NowDep, settings: SettingsDep,
              units: str = "") -> Response:
    figures = request.app.state.figures.get(session, user, now, settings.tz)
    shown_units = figures.units if units == "all" else figures.units[:UNITS_SHOWN]
    return render(request, "dashboard.html", user, nav="dashboard", figures=figures, shown_units=shown_units,
                  all_units=units == "all")


@router.get("/my")
def my_work(request: Request, session: SessionDep, user: CurrentUser, now: NowDep, settings: SettingsDep) -> Response:
    """Open items of the officer's unit: returned to it, overdue, due soon."""
    if user.role != Role.OFFICER:
        return redirect("/approvals" if user.role in (Role.SUPERVISOR, Role.ADMIN) else "/")
    tz = settings.tz
    rows = list_rows(session, user, ItemQuery(per_page=2000), now, tz)
    open_rows = [row for row in rows if row.item.status in ACTIVE_STATUSES]
    returned_ids = _returned(session, [row.item.id for row in open_rows if row.item.id is not None])
    groups: dict[str, list[ItemRow]] = {
        "Returned to you": [row for row in open_rows if row.item.id in returned_ids],
        "Overdue": [row for row in open_rows if row.light == "red"],
        "Due within the reminder window": [row for row in open_rows if row.light == "yellow"],
    }
    return render(request, "my.html", user, nav="my", groups=groups)


def _returned(session: SessionDep, item_ids: list[int]) -> set[int]:
    """Items whose last change of state was a return by the supervisor."""
    if not item_ids:
        return set()
    last_change = (
        select(func.max(ItemEvent.id)).where(
            col(ItemEvent.item_id).in_(item_ids), and_(col(ItemEvent.from_status) != col(ItemEvent.to_status))
        ).group_by(ItemEvent.item_id)
    )
    return set(session.exec(
        select(ItemEvent.item_id).where(col(ItemEvent.id).in_(last_change), ItemEvent.kind == "returned")
    ).all())


@router.get("/digest")
def digest(request: Request, session: SessionDep, user: CurrentUser, now: NowDep, settings: SettingsDep,
           audience: str = "", recipient: str = "") -> Response:
    """This week's digests as the mail issue compiles them (nothing is queued); one shown as mailed."""
    require_sees_everything(user)
    from notifications.digest_context import compile_digests
    from notifications.render import render as render_mail

    tz = settings.tz
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    digests, _ = compile_digests(session, now, settings)
    session.rollback()
    chosen = next((d for d in digests if (d.audience, d.recipient) == (audience, recipient)), None)
    chosen = chosen or next((d for d in digests if d.recipient == user.email), None) or (digests[0] if digests else None)
    html = None if chosen is None else render_mail(
        chosen.locale, f"digest_{chosen.audience}.html", locale=chosen.locale, **chosen.context
    )
    return render(request, "digest.html", user, nav="digest", figures=request.app.state.figures.get(session, user, now, tz),
                  monday=monday, sunday=monday + timedelta(days=6), digests=digests, chosen=chosen, html=html)
