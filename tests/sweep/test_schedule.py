"""Pure threshold arithmetic across Chinese holidays, make-up days, month and year ends, uncovered years."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.calendar import WorkCalendar
from config.policy import DEFAULT_POLICY_FILE, Audience, Escalation, Recipient, Rules, load_policy
from models.schedule import next_action_at, plan, thresholds, upcoming
from tests.conftest import TZ
from tests.sweep.conftest import expected_events

RULES = load_policy(DEFAULT_POLICY_FILE).default
CAL = WorkCalendar()


def at(y: int, m: int, d: int, h: int = 0) -> datetime:
    return datetime(y, m, d, h, tzinfo=TZ)


def schedule(deadline: date, count: int = 7, calendar: WorkCalendar = CAL) -> dict[str, datetime]:
    found: dict[str, datetime] = {}
    for threshold in thresholds(deadline, RULES, calendar, TZ):
        found[threshold.key] = threshold.at
        if len(found) == count:
            return found
    return found


@pytest.mark.parametrize(("deadline", "expected"), [
    # National Day 2024 (Oct 1-7 off; Sunday Sep 29 and Saturday Oct 12 are working days)
    (date(2024, 10, 8), {"before-7": at(2024, 9, 23), "before-1": at(2024, 9, 30), "overdue": at(2024, 10, 9),
                         "level-1": at(2024, 10, 11), "repeat-5": at(2024, 10, 14), "level-2": at(2024, 10, 21)}),
    (date(2024, 10, 12), {"before-7": at(2024, 9, 27), "before-1": at(2024, 10, 11), "overdue": at(2024, 10, 13),
                          "level-1": at(2024, 10, 16)}),
    # National Day 2025 (Oct 1-8 off; Sunday Sep 28 and Saturday Oct 11 are working days)
    (date(2025, 9, 30), {"before-7": at(2025, 9, 22), "before-1": at(2025, 9, 29), "overdue": at(2025, 10, 1),
                         "level-1": at(2025, 10, 11)}),
    # Spring Festival 2024 (Feb 10-17 off; Sundays Feb 4 and Feb 18 are working days)
    (date(2024, 2, 9), {"overdue": at(2024, 2, 10), "level-1": at(2024, 2, 20)}),
    (date(2024, 2, 19), {"before-7": at(2024, 2, 4), "before-1": at(2024, 2, 18)}),
    # Spring Festival 2025 (Jan 28-Feb 4 off; Sunday Jan 26 and Saturday Feb 8 are working days)
    (date(2025, 1, 27), {"before-1": at(2025, 1, 26), "level-1": at(2025, 2, 7), "level-2": at(2025, 2, 17)}),
    # month and year ends
    (date(2024, 5, 31), {"before-1": at(2024, 5, 30), "overdue": at(2024, 6, 1), "level-1": at(2024, 6, 5)}),
    (date(2024, 12, 31), {"before-1": at(2024, 12, 30), "overdue": at(2025, 1, 1), "level-1": at(2025, 1, 6)}),
])
def test_thresholds_fall_on_the_right_working_days(deadline, expected):
    found = schedule(deadline, count=9)
    assert {key: found[key] for key in expected} == expected


def test_uncovered_year_uses_weekdays_and_records_the_fallback():
    calendar = WorkCalendar()
    found = schedule(date(2027, 1, 1), calendar=calendar)
    assert found["before-1"] == at(2026, 12, 31)
    assert found["level-1"] == at(2027, 1, 6)
    assert 2027 in calendar.fallback_years


def test_uncovered_year_with_overrides_uses_them():
    calendar = WorkCalendar(extra_holidays=frozenset({date(2027, 1, 1), date(2027, 1, 4)}), complete_years=frozenset({2027}))
    found = schedule(date(2026, 12, 31), calendar=calendar)
    assert found["level-1"] == at(2027, 1, 7) and calendar.fallback_years == set()


def test_thresholds_come_in_time_order_with_the_most_severe_last_on_a_tie():
    iterator = thresholds(date(2024, 10, 8), RULES, CAL, TZ)
    found = [next(iterator) for _ in range(8)]
    assert [t.at for t in found] == sorted(t.at for t in found)
    assert [t.key for t in found][5:7] == ["repeat-10", "level-2"]  # same instant: escalation last


def test_plan_catches_up_and_notifies_only_the_most_severe():
    step = plan(date(2024, 10, 8), RULES, CAL, TZ, since=at(2024, 9, 1), now=at(2024, 10, 15, 9))
    assert [t.key for t in step.crossed] == ["before-7", "before-1", "overdue", "level-1", "repeat-5"]
    assert step.notify is not None and step.notify.key == "level-1"
    assert step.escalation_level == 1 and step.next_action_at == at(2024, 10, 21)


def test_plan_ignores_thresholds_before_since():
    step = plan(date(2024, 10, 8), RULES, CAL, TZ, since=at(2024, 10, 9, 10), now=at(2024, 10, 9, 11))
    assert step.crossed == [] and step.notify is None and step.next_action_at == at(2024, 10, 11)


def test_next_action_at_without_repeats_ends_after_the_last_escalation():
    rules = Rules((1,), Audience((Recipient.LEAD_UNIT,)), Audience((Recipient.LEAD_UNIT,)), 0, Audience(()),
                  (Escalation(1, 2, Audience((Recipient.UNIT_LEADERS,))),))
    assert next_action_at(date(2024, 10, 8), rules, CAL, TZ, after=at(2024, 10, 9)) == at(2024, 10, 10)
    assert next_action_at(date(2024, 10, 8), rules, CAL, TZ, after=at(2024, 10, 10)) is None


def test_upcoming_lists_each_future_notification_once():
    found = upcoming(date(2024, 10, 8), RULES, CAL, TZ, since=at(2024, 9, 1), now=at(2024, 9, 20), until=at(2024, 10, 21))
    assert [(when, t.key, [a.key for a in also]) for when, t, also in found] == [
        (at(2024, 9, 23), "before-7", []), (at(2024, 9, 30), "before-1", []), (at(2024, 10, 9), "overdue", []),
        (at(2024, 10, 11), "level-1", []), (at(2024, 10, 14), "repeat-5", []), (at(2024, 10, 21), "level-2", ["repeat-10"]),
    ]


# --- properties: any deadline, policy, sequence of sweep times and deadline changes -------------------

@st.composite
def rules_strategy(draw: st.DrawFn) -> Rules:
    before = sorted(draw(st.sets(st.integers(0, 12), max_size=4)), reverse=True)
    afters = sorted(draw(st.sets(st.integers(1, 20), max_size=3)))
    audience = Audience((Recipient.LEAD_UNIT,))
    return Rules(tuple(before), audience, audience, draw(st.integers(0, 7)), audience,
                 tuple(Escalation(i + 1, a, audience) for i, a in enumerate(afters)))


@settings(max_examples=200, deadline=None)
@given(
    rules=rules_strategy(),
    deadline=st.dates(date(2024, 1, 1), date(2027, 6, 30)),
    start=st.integers(0, 40 * 24),
    steps=st.lists(st.tuples(st.integers(1, 9 * 24), st.one_of(st.none(), st.integers(-20, 40))), min_size=1, max_size=25),
)
def test_sweeps_notify_each_threshold_at_most_once_and_record_every_crossed_one(rules, deadline, start, steps):
    """Simulate sweeps at random times with random deadline changes, using the sweep's own rule."""
    calendar = WorkCalendar()
    t = datetime.combine(deadline, datetime.min.time(), tzinfo=UTC) - timedelta(days=30) + timedelta(hours=start)
    version, since, level = 1, t, 0
    versions = {1: (deadline, t)}  # version -> (deadline, changed at)
    sweeps: dict[int, list[datetime]] = {}
    events: list[tuple[int, str]] = []
    notified: list[tuple[int, str]] = []
    for hours, change in steps:
        t += timedelta(hours=hours)
        if change is not None:  # a deadline change at t: new version, recompute from t
            deadline = deadline + timedelta(days=change or 1)
            version, since, level = version + 1, t, 0
            versions[version] = (deadline, t)
            continue
        if since is None:
            continue
        step = plan(deadline, rules, calendar, TZ, since=since, now=t, level=level)
        events += [(version, th.key) for th in step.crossed]
        if step.notify is not None:
            notified.append((version, step.notify.key))
        since, level = step.next_action_at, step.escalation_level
        sweeps.setdefault(version, []).append(t)
    assert len(notified) == len(set(notified))
    assert len(events) == len(set(events))
    assert set(notified) <= set(events)
    for v, (v_deadline, changed_at) in versions.items():
        expected = expected_events(thresholds(v_deadline, rules, calendar, TZ), changed_at, sweeps.get(v, []))
        assert {e[1] for e in events if e[0] == v} == expected
