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
        ref = f"{document.short_name}/{item.number}"
        event = Event()
        event.add("uid", f"item-{item.id}@{host}")
        event.add("sequence", item.deadline_version - 1)
        event.add("dtstamp", stamp)
        event.add("dtstart", item.deadline)
        event.add("dtend", item.deadline + timedelta(days=1))
        event.add("summary", f"{words('Deadline')}: {ref} {item.title}")
        event.add("description", "\n".join([
            f"{words('Item')}: {ref}", f"{words('Lead unit')}: {lead.name}",
            f"{words('Deadline')}: {item.deadline.isoformat()}", f"{words('Status')}: {words(str(item.status))}",
            "", item.title]))
        event.add("url", f"{base_url.rstrip('/')}/items/{item.id}")
        event.add("transp", "TRANSPARENT")
        reminders = policy.rules_for(document.short_name, item.category).reminders_before
        _alarms(event, f"{ref} {item.title}", item.deadline, reminders, calendar, tz)
        cal.add_component(event)
        for period in (periods or {}).get(item.id or 0, ()):
            span = f"{period.starts.isoformat()} – {period.ends.isoformat()}"
            event = Event()
            event.add("uid", f"period-{item.id}-{period.starts.isoformat()}@{host}")
            event.add("sequence", 0)
            event.add("dtstamp", stamp)
            event.add("dtstart", period.due)
            event.add("dtend", period.due + timedelta(days=1))
            event.add("summary", f"{words('Report due')}: {ref} {item.title}")
            event.add("description", "\n".join([
                f"{words('Item')}: {ref}", f"{words('Lead unit')}: {lead.name}",
                f"{words('Reporting period')}: {span}", f"{words('Report due')}: {period.due.isoformat()}",
                "", item.title]))
            event.add("url", f"{base_url.rstrip('/')}/items/{item.id}")
            event.add("transp", "TRANSPARENT")
            _alarms(event, f"{ref} {item.title}（{span}）", period.due, reminders, calendar, tz)
            cal.add_component(event)
    return cal.to_ical()


def _alarms(event: Event, text: str, due: date, reminders: Iterable[int], calendar: WorkCalendar,
            tz: ZoneInfo) -> None:
    for days in reminders:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", text)
        at = start_of_day(calendar.add_workdays(due, -days), tz).astimezone(UTC)
        alarm.add("trigger", at, parameters={"VALUE": "DATE-TIME"})
        event.add_component(alarm)
