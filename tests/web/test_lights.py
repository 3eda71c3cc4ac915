"""States and lights worked out once a day (models.read.due.Day) agree with the deadline rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from models.deadlines import ACTIVE_STATUSES, due_state, is_overdue
from models.read.due import Day, due_soon_until
from models.tables import Status


def test_day_agrees_with_the_deadline_rules_around_local_midnight():
    for tz in (ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York"), ZoneInfo("UTC")):
        # Instants on either side of local midnight, across a DST change for New York.
        instants = [datetime(2024, 3, 10, 0, 0, tzinfo=tz) + timedelta(minutes=m) for m in (-1, 0, 1, 300, 1439, 1440)]
        instants += [datetime(2024, 6, 2, 16, 0, tzinfo=UTC) + timedelta(seconds=s) for s in (-1, 0, 1)]
        for now in instants:
            day = Day.at(now, tz)
            today = now.astimezone(tz).date()
            for offset in range(-3, 15):
                deadline = today + timedelta(days=offset)
                for status in Status:
                    assert day.due_state(status, deadline) == due_state(status, deadline, now, tz)
                    expected = ("" if status not in ACTIVE_STATUSES
                                else "red" if is_overdue(status, deadline, now, tz)
                                else "yellow" if deadline <= due_soon_until(today) else "green")
                    assert day.light(status, deadline) == expected, (now, deadline, status)


def test_lights_on_a_known_day():
    day = Day.at(datetime(2024, 6, 3, 1, 0, tzinfo=UTC), ZoneInfo("Asia/Shanghai"))  # Monday 09:00
    assert day.light(Status.IN_PROGRESS, date(2024, 6, 2)) == "red"
    assert day.light(Status.IN_PROGRESS, date(2024, 6, 3)) == "yellow"
    assert day.light(Status.ASSIGNED, date(2024, 6, 30)) == "green"
    assert day.light(Status.SUBMITTED, date(2024, 6, 2)) == ""
