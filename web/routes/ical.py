"""Deadline calendars: the secret feed (/ical/{token}.ics) and the page where a person manages theirs."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from config.policy import load_policy
from config.settings import Settings
from models.feeds import (
    create_feed,
    feeds_of,
    open_items,
    person_for_feed,
    revoke_feed,
    unreported_periods,
)
from models.ical import feed
from models.read.due import reminder_window
from models.tables import Person
from web.deps import CurrentUser, DbInt, NowDep, PageRouter, SessionDep, SettingsDep
from web.render import flash, redirect, render

router = APIRouter(include_in_schema=False)
pages = PageRouter(include_in_schema=False)
ICS = "text/calendar; charset=utf-8"


@router.get("/ical/{token}.ics")
def calendar_feed(token: str, session: SessionDep, now: NowDep, settings: SettingsDep) -> Response:
    """No login: the secret URL is the key. Unknown, revoked or of an inactive person: 404 and nothing more."""
    person = person_for_feed(session, token)
    if person is None:
        return Response(status_code=404)
    body = person_calendar(session, person, settings, now)
    return Response(body, media_type=ICS, headers={"Cache-Control": "private, no-store",
                                                   "Content-Disposition": 'inline; filename="duban.ics"'})


def person_calendar(session: Session, person: Person, settings: Settings, now: datetime) -> bytes:
    locale = person.locale or settings.locale
    rows = open_items(session, person=person)
    return feed(f"督办 duban · {person.name}", rows, load_policy(), reminder_window().calendar,
                settings.tz, now, settings.base_url, locale, periods=unreported_periods(session, rows))


def _page(request: Request, session: Session, user: Person, settings: Settings, secret: str = "") -> Response:
    url = f"{settings.base_url.rstrip('/')}/ical/{secret}.ics" if secret else ""
    return render(request, "calendar_feeds.html", user, nav="", feeds=feeds_of(session, user), new_url=url)


@pages.get("/account/calendar")
def calendar_page(request: Request, session: SessionDep, user: CurrentUser, settings: SettingsDep) -> Response:
    return _page(request, session, user, settings)


@pages.post("/account/calendar")
def new_calendar_feed(request: Request, session: SessionDep, user: CurrentUser, now: NowDep,
                      settings: SettingsDep) -> Response:
    """The URL is shown once, in this response: only its hash is kept."""
    secret = create_feed(session, user, now)
    session.commit()
    return _page(request, session, user, settings, secret)


@pages.post("/account/calendar/{feed_id}/revoke")
def revoke_calendar_feed(request: Request, feed_id: DbInt, session: SessionDep, user: CurrentUser,
                         now: NowDep) -> Response:
    """One's own feeds only: someone else's id is a 404 like a missing one."""
    revoke_feed(session, user, feed_id, now)
    session.commit()
    flash(request, "Calendar feed revoked.")
    return redirect("/account/calendar")
