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
from web.figures import build_figures
from web.listing import ItemQuery, ItemRow, list_rows
from web.render import redirect, render

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)
UNITS_SHOWN = 30


@router.get("/")
def dashboard(request: Request, session: SessionDep, user: CurrentUser, now: NowDep, settings: SettingsDep,
              units: str = "") -> Response:
    figures = build_figures(session, user, now, settings.tz)
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
def digest(request: Request, session: SessionDep, user: CurrentUser, now: NowDep, settings: SettingsDep) -> Response:
    """This week as the weekly digest will tell it: per unit, overdue and due soon; the week's sign-offs."""
    require_sees_everything(user)
    tz = settings.tz
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    figures = build_figures(session, user, now, tz)
    preview = _digest_preview(session, now)
    return render(request, "digest.html", user, nav="digest", figures=figures, monday=monday,
                  sunday=monday + timedelta(days=6), preview=preview,
                  units=[u for u in figures.units if u.overdue or u.due_soon][:200])


def _digest_preview(session: SessionDep, now: NowDep) -> str | None:
    """The mail issue's own digest text, when it offers one (notifications.digest.preview)."""
    try:
        from notifications import digest as digest_module  # type: ignore[attr-defined]

        preview = digest_module.preview
    except (ImportError, AttributeError):
        return None
    try:
        return str(preview(session, now))
    except Exception:  # a preview must not take the page down; the figures below still show
        return None
