"""Deadline calendars: a secret per-person feed that parses as iCalendar, alarms at the reminders, revocation."""

from __future__ import annotations

import re
from datetime import UTC, date

from icalendar import Calendar

from config.calendar import WorkCalendar
from models.deadlines import start_of_day
from tests.conftest import TZ
from tests.web.conftest import CSRF


def _new_feed(client) -> str:  # type: ignore[no-untyped-def]
    page = client.post("/account/calendar", data={"csrf_token": CSRF})
    assert page.status_code == 200, page.text
    url = re.search(r'id="new-feed-url"[^>]*value="([^"]+)"', page.text)
    assert url is not None
    assert url.group(1).startswith("http://127.0.0.1:8000/ical/")  # the configured base_url
    return url.group(1).removeprefix("http://127.0.0.1:8000")


def _events(response) -> dict[str, object]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    return {str(e["summary"]).split(" ")[1]: e for e in calendar.walk("VEVENT")}


def test_an_officer_s_feed_lists_their_unit_s_open_items_with_alarms_at_the_reminders(world, client_for, anon):
    path = _new_feed(client_for(world.people["co"]))  # 市财政局: a co-unit of item 1 only
    assert re.fullmatch(r"/ical/cal_[\w-]+\.ics", path)
    response = anon.get(path)
    events = _events(response)
    assert list(events) == ["新时代意见/1"]
    event = events["新时代意见/1"]
    assert event.decoded("dtstart") == date(2024, 6, 30) and "推进营商环境改革" in str(event["summary"])
    assert str(event["url"]).endswith(f"/items/{world.items['ours'].id}")
    calendar = WorkCalendar()
    expected = [start_of_day(calendar.add_workdays(date(2024, 6, 30), -n), TZ).astimezone(UTC) for n in (7, 1)]
    assert [alarm.decoded("trigger") for alarm in event.walk("VALARM")] == expected
    assert b"TRIGGER;VALUE=DATE-TIME:" in response.content


def test_a_supervisor_s_feed_holds_the_items_they_supervise(world, client_for, anon):
    events = _events(anon.get(_new_feed(client_for(world.people["sup2"]))))
    assert list(events) == ["新时代意见/2"]


def test_a_revoked_or_unknown_feed_answers_404_and_says_nothing_more(world, client_for, anon, session):
    from models.feeds import CalendarFeed

    officer = client_for(world.people["lead"])
    path = _new_feed(officer)
    assert anon.get(path).status_code == 200
    feed_id = session.query(CalendarFeed).one().id
    assert officer.post(f"/account/calendar/{feed_id}/revoke", data={"csrf_token": CSRF}).status_code == 303
    for gone in (path, "/ical/cal_not-a-token.ics", "/ical/nothing.ics"):
        response = anon.get(gone)
        assert response.status_code == 404 and response.content == b""
    assert f'id="feed-{feed_id}"' in (page := officer.get("/account/calendar").text) and "已吊销" in page


def test_nobody_revokes_someone_else_s_feed(world, client_for, anon, session):
    from models.feeds import CalendarFeed

    path = _new_feed(client_for(world.people["lead"]))
    feed_id = session.query(CalendarFeed).one().id
    other = client_for(world.people["other"])
    assert other.post(f"/account/calendar/{feed_id}/revoke", data={"csrf_token": CSRF}).status_code == 404
    assert anon.get(path).status_code == 200


def test_the_feed_token_is_stored_hashed(world, client_for, session):
    from models.feeds import CalendarFeed

    path = _new_feed(client_for(world.people["lead"]))
    token = path.removeprefix("/ical/").removesuffix(".ics")
    stored = session.query(CalendarFeed).one()
    assert token not in stored.token_hash and len(stored.token_hash) == 64 and token.startswith(stored.hint)


def test_a_recurring_item_s_unreported_periods_are_events_on_their_due_days_with_the_same_alarms(
        world, client_for, anon, session):
    from sqlmodel import select

    from models.periods import reschedule_periods
    from models.tables import Item, ItemPeriod

    item = session.get(Item, world.items["ours"].id)  # due 2024-06-30; 市财政局 is a co-unit
    item.frequency = "monthly by day 25"
    reschedule_periods(session, item)
    periods = session.exec(select(ItemPeriod).where(ItemPeriod.item_id == item.id)
                           .order_by(ItemPeriod.starts)).all()
    assert len(periods) >= 2
    reported, *waiting = periods
    reported.fulfilled_at = start_of_day(reported.due, TZ)
    session.add_all([item, reported])
    session.commit()
    calendar = Calendar.from_ical(anon.get(_new_feed(client_for(world.people["co"]))).content)
    events = {str(e["uid"]): e for e in calendar.walk("VEVENT")}
    expected = {f"period-{item.id}-{p.starts.isoformat()}@duban": p for p in waiting}
    assert set(events) == {f"item-{item.id}@duban", *expected}  # the reported period is not there
    work = WorkCalendar()
    for uid, period in expected.items():
        event = events[uid]
        assert event.decoded("dtstart") == period.due and str(event["summary"]).startswith("报送时限: 新时代意见/1 ")
        assert f"{period.starts.isoformat()} – {period.ends.isoformat()}" in str(event["description"])
        assert [a.decoded("trigger") for a in event.walk("VALARM")] == [
            start_of_day(work.add_workdays(period.due, -n), TZ).astimezone(UTC) for n in (7, 1)]
