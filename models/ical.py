"""iCalendar (RFC 5545) feeds of open items' deadlines, with alarms at the policy's reminder thresholds.

Pure: the items (and their periods not yet reported), policy, calendar, timezone and `now` come in;
bytes go out. Each item is one all-day event on its deadline day (UID stable per item, SEQUENCE its deadline version, so a moved
deadline updates the event in place). Alarms are absolute (TRIGGER;VALUE=DATE-TIME) at 00:00 local
of the N-th working day before the deadline, exactly when the sweep reminds, so a calendar
application shows the same reminder the office sends by mail. A recurring item's periods (报送周期)
not yet reported are events of their own on each due day (UID per item and period start), with the
same alarms: the period sweep reminds at the item's reminder thresholds too (models/periods.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event

from config.calendar import WorkCalendar
from config.i18n import gettext
from config.policy import Policy
from models.deadlines import start_of_day
from models.tables import Document, Item, ItemPeriod, Unit


def feed(name: str, rows: Iterable[tuple[Item, Document, Unit]], policy: Policy, calendar: WorkCalendar,
         tz: ZoneInfo, now: datetime, base_url: str, locale: str, host: str = "duban",
         periods: Mapping[int, Sequence[ItemPeriod]] | None = None) -> bytes:
    """The calendar `name` with one event per item and per period not yet reported, with reminder alarms."""
    words = lambda text: gettext(locale, text)  # noqa: E731
    cal = Calendar()
    cal.add("prodid", "-//duban//deadline calendar//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", str(tz))
    stamp = now.astimezone(UTC)
    for item, document, lead in rows:
        ref, url = f"{document.short_name}/{item.number}", f"{base_url.rstrip('/')}/items/{item.id}"
        reminders = policy.rules_for(document.short_name, item.category).reminders_before
        cal.add_component(_day_event(
            f"item-{item.id}@{host}", item.deadline_version - 1, stamp, item.deadline,
            f"{words('Deadline')}: {ref} {item.title}",
            [f"{words('Item')}: {ref}", f"{words('Lead unit')}: {lead.name}",
             f"{words('Deadline')}: {item.deadline.isoformat()}", f"{words('Status')}: {words(str(item.status))}",
             "", item.title],
            url, f"{ref} {item.title}", reminders, calendar, tz))
        for period in (periods or {}).get(item.id or 0, ()):
            span = f"{period.starts.isoformat()} – {period.ends.isoformat()}"
            cal.add_component(_day_event(
                f"period-{item.id}-{period.starts.isoformat()}@{host}", 0, stamp, period.due,
                f"{words('Report due')}: {ref} {item.title}",
                [f"{words('Item')}: {ref}", f"{words('Lead unit')}: {lead.name}",
                 f"{words('Reporting period')}: {span}", f"{words('Report due')}: {period.due.isoformat()}",
                 "", item.title],
                url, f"{ref} {item.title}（{span}）", reminders, calendar, tz))
    return cal.to_ical()


def _day_event(uid: str, sequence: int, stamp: datetime, day: date, summary: str, description: list[str],
               url: str, alarm_text: str, reminders: Iterable[int], calendar: WorkCalendar, tz: ZoneInfo) -> Event:
    """An all-day event on `day`, with an alarm at 00:00 local of each reminder's working day before it."""
    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", stamp)
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", summary)
    event.add("description", "\n".join(description))
    event.add("url", url)
    event.add("transp", "TRANSPARENT")
    for days in reminders:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", alarm_text)
        at = start_of_day(calendar.add_workdays(day, -days), tz).astimezone(UTC)
        alarm.add("trigger", at, parameters={"VALUE": "DATE-TIME"})
        event.add_component(alarm)
    return event
