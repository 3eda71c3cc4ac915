"""The dashboard (/), an officer's own work (/my) and the digest preview (/digest)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from config.settings import Settings
from models.lifecycle import TRANSITIONS, URGER_ROLES, Action
from models.read.figures import Figures, ranked
from models.read.views import my_work as read_my_work
from models.tables import Person, Role
from web.access import require_sees_everything
from web.deps import CurrentUser, NowDep, PageRouter, SessionDep, SettingsDep
from web.render import fragment, locale_for, redirect, render
from web.workbooks import XLSX, figures_workbook

router = PageRouter(include_in_schema=False)
UNITS_SHOWN = 30


@router.get("/")
async def dashboard(request: Request, session: SessionDep, user: CurrentUser, now: NowDep, settings: SettingsDep,
                    units: str = "", rank: str = "") -> Response:
    """The figures; the units table shows those needing attention first (the 30 with most overdue and
    due-soon items; `units=all`: every unit), or with `rank=rate` every unit ranked by its rate (考核)."""
    cache = request.app.state.figures
    # Fresh figures are a lookup (inline on SQLite, see web.deps.inline_on_sqlite); working them
    # out again takes a thread, so other requests go on meanwhile.
    figures = cache.fresh(session, user, now, settings.tz) if request.app.state.inline_db else None
    if figures is None:
        figures = await run_in_threadpool(cache.get, session, user, now, settings.tz)
    view = "rate" if rank == "rate" else "all" if units == "all" else "attention"
    html = _figures_html(figures, locale_for(request, user), settings.tz, view)
    return render(request, "dashboard.html", user, nav="dashboard", figures_html=html)


_rendered: dict[tuple[int, str, str], tuple[Figures, Markup]] = {}
_rendered_lock = threading.Lock()


def _figures_html(figures: Figures, locale: str, tz: ZoneInfo, view: str) -> Markup:
    """The figures as HTML, drawn once per figures (the cache hands out the same object until they
    change), language and view: drawing 50 rows of bars and charts cost more than the rest of the request."""
    key = (id(figures), locale, view)
    hit = _rendered.get(key)
    if hit is not None and hit[0] is figures:
        return hit[1]
    ranks: list[int] = []
    if view == "rate":
        # Places in the city ranking (an officer sees their own unit's place among all units).
        shown_units = ranked(figures.units)
        ranks = [figures.places.get(row.name, 0) for row in shown_units]
    else:
        shown_units = figures.units if view == "all" else figures.units[:UNITS_SHOWN]
    html = fragment("dashboard_figures.html", locale, tz, figures=figures, shown_units=shown_units,
                    view=view, ranks=ranks)
    with _rendered_lock:
        if len(_rendered) > 256:  # figures replaced since; their entries are dead weight
            _rendered.clear()
        _rendered[key] = (figures, html)
    return html


@router.get("/report.xlsx")
async def report_xlsx(request: Request, session: SessionDep, user: CurrentUser, now: NowDep,
                      settings: SettingsDep) -> Response:
    """The dashboard's figures as a spreadsheet: per document, and the units ranked by rate."""
    figures = await run_in_threadpool(request.app.state.figures.get, session, user, now, settings.tz)
    stamp = now.astimezone(settings.tz).strftime("%Y%m%d-%H%M")
    return Response(
        figures_workbook(figures, locale_for(request, user), settings.tz), media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="duban-figures-{stamp}.xlsx"'},
    )


@router.get("/my")
def my_work(request: Request, session: SessionDep, user: CurrentUser, now: NowDep, settings: SettingsDep) -> Response:
    """The officer's unit's open work: 未签收, returned to it, overdue, due soon; a supervisor's (or an
    admin's) overdue and due-soon items, the overdue ones to 催办 in bulk as on /items
    (models.read.views.my_work). An admin with none of those has their work on /approvals."""
    if user.role not in (Role.OFFICER, Role.SUPERVISOR, Role.ADMIN):
        return redirect("/")
    groups = read_my_work(session, user, now, settings.tz)
    if user.role == Role.ADMIN and not any(found.total for _name, _query, found in groups):
        return redirect("/approvals")
    return render(request, "my.html", user, nav="my", groups=groups,
                  urging=user.role in URGER_ROLES, urgeable=TRANSITIONS[Action.URGE].sources)


def _digests(session: Session, user: Person, now: datetime, settings: Settings, audience: str,
             recipient: str) -> tuple[list[Any], Any, str | None]:
    """This week's digests (nothing is queued), the one asked for (else one's own, else the first) as mailed."""
    require_sees_everything(user)
    from notifications.digest import digest_html, preview_digests

    digests = preview_digests(session, now, settings)
    chosen = next((d for d in digests if (d.audience, d.recipient) == (audience, recipient)), None)
    chosen = chosen or next((d for d in digests if d.recipient == user.email), None) or (digests[0] if digests else None)
    html = None if chosen is None else digest_html(chosen)
    return digests, chosen, html


@router.get("/digest")
def digest(request: Request, session: SessionDep, user: CurrentUser, now: NowDep, settings: SettingsDep,
           audience: str = "", recipient: str = "") -> Response:
    """This week's digests as the mail issue compiles them; the chosen one in a frame (/digest/mail)."""
    tz = settings.tz
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    digests, chosen, html = _digests(session, user, now, settings, audience, recipient)
    return render(request, "digest.html", user, nav="digest", figures=request.app.state.figures.get(session, user, now, tz),
                  monday=monday, sunday=monday + timedelta(days=6), digests=digests, chosen=chosen, html=html)


# Mail HTML needs inline styles (mail programs ignore style sheets), which the site's policy
# refuses and a srcdoc frame would inherit: so the mail comes on its own address, with a policy
# of its own that allows those styles and nothing else, framed only by this site.
MAIL_PREVIEW_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"


@router.get("/digest/mail")
def digest_mail(session: SessionDep, user: CurrentUser, now: NowDep, settings: SettingsDep,
                audience: str = "", recipient: str = "") -> Response:
    _, _chosen, html = _digests(session, user, now, settings, audience, recipient)
    return HTMLResponse(html or "", headers={"Content-Security-Policy": MAIL_PREVIEW_POLICY,
                                             "X-Frame-Options": "SAMEORIGIN"})
