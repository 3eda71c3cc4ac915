"""考核 scoring, pure: replaying events into points, caps, ranks, and the YAML model's checks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from config.calendar import WorkCalendar
from config.scoring import DEFAULT_SCORING_FILE, ScoringError, load_scoring
from models.scoring import EventRow, ItemRow, Scoreboard, score
from tests.conftest import TZ

MARCH = (date(2024, 3, 1), date(2024, 3, 31))
UNITS = {1: "市发改委", 2: "市财政局", 3: "市商务局"}


def at(day: str, hour: int = 2) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00").replace(tzinfo=UTC)  # 10:00 (or so) in Shanghai


class Ledger:
    """Items and their events, written the way the import and the lifecycle write them."""

    def __init__(self) -> None:
        self.items: list[ItemRow] = []
        self.events: list[EventRow] = []

    def item(self, unit: int, deadline: str, created: str = "2024-02-01", document: str = "新时代意见",
             category: str = "") -> int:
        item_id = len(self.items) + 1
        self.items.append(ItemRow(item_id, f"{document}/{item_id}", document, category, unit,
                                  date.fromisoformat(deadline), "assigned", at(created)))
        self.event(item_id, "imported", created, None, "assigned", deadline=deadline)
        return item_id

    def event(self, item_id: int, kind: str, day: str, from_status: str | None, to_status: str | None,
              **payload: Any) -> int:
        event_id = len(self.events) + 1
        self.events.append(EventRow(event_id, item_id, kind, at(day), from_status, to_status, payload))
        return event_id

    def score(self, period: tuple[date, date] = MARCH, as_of: datetime | None = None, model: Any = None) -> Scoreboard:
        return score(self.items, self.events, UNITS, model or load_scoring(DEFAULT_SCORING_FILE), WorkCalendar(),
                     TZ, *period, as_of or at("2024-12-31"))


def unit(board: Scoreboard, name: str) -> Any:
    return next(u for u in board.units if u.unit == name)


def test_overdue_item_loses_points_each_working_week_from_its_first_day_overdue():
    ledger = Ledger()
    item = ledger.item(1, "2024-03-15")  # a Friday: overdue from Monday 18th; week 2 begins on the 25th
    board = ledger.score()
    lines = unit(board, "市发改委").deductions
    assert [(x.rule, x.on, x.until, x.weeks, x.points, x.event_id) for x in lines] == [
        ("overdue", date(2024, 3, 18), date(2024, 3, 25), 2, Decimal(-4), 1)]
    assert lines[0].item == f"新时代意见/{item}"
    assert unit(board, "市发改委").score == 96


def test_a_submitted_item_is_not_overdue_until_it_is_returned():
    ledger = Ledger()
    item = ledger.item(1, "2024-03-01")  # overdue from Monday 4 March
    ledger.event(item, "submitted", "2024-03-05", "assigned", "submitted")
    returned = ledger.event(item, "returned", "2024-03-20", "submitted", "in_progress")
    lines = unit(ledger.score(), "市发改委").deductions
    # week 1 (4 March) counts; week 2 (11th) and week 3 (18th) fall while submitted; week 4 (25th) counts
    assert [(x.rule, x.on) for x in lines] == [
        ("overdue", date(2024, 3, 4)), ("returned", date(2024, 3, 20)), ("overdue", date(2024, 3, 25))]
    assert lines[1].event_id == returned


def test_scores_recomputed_as_of_two_later_dates_are_the_same():
    ledger = Ledger()
    for n, deadline in enumerate(["2024-03-08", "2024-03-20", "2024-04-30"]):
        ledger.item(n % 3 + 1, deadline)
    late = ledger.item(2, "2024-02-20")
    ledger.event(late, "submitted", "2024-03-12", "assigned", "submitted")
    ledger.event(late, "signed_off", "2024-04-02", "submitted", "signed_off")
    first, second = ledger.score(as_of=at("2024-04-15")), ledger.score(as_of=at("2025-01-10"))
    assert first.as_dict()["units"] == second.as_dict()["units"]
    assert ledger.score(as_of=at("2024-04-15")).as_dict() == first.as_dict()


def test_an_extension_granted_after_the_period_does_not_change_its_score():
    ledger = Ledger()
    item = ledger.item(1, "2024-03-15")
    before = ledger.score().as_dict()
    ledger.event(item, "extension_approved", "2024-04-10", "assigned", "assigned",
                 old_deadline="2024-03-15", new_deadline="2024-06-30")
    assert ledger.score().as_dict() == before
    # in April the extension counts from the day it was granted: the 1st and the 9th count, then none
    april = unit(ledger.score((date(2024, 4, 1), date(2024, 4, 30))), "市发改委")
    assert [(x.on, x.until, x.weeks) for x in april.deductions] == [(date(2024, 4, 1), date(2024, 4, 9), 2)]


def test_an_extension_granted_in_the_period_counts_from_then_on():
    ledger = Ledger()
    item = ledger.item(1, "2024-03-01")
    extension = ledger.event(item, "extension_approved", "2024-03-06", "assigned", "assigned",
                             old_deadline="2024-03-01", new_deadline="2024-03-15")
    lines = unit(ledger.score(), "市发改委").deductions
    assert [(x.on, x.weeks, x.event_id) for x in lines] == [(date(2024, 3, 4), 1, 1), (date(2024, 3, 18), 2, extension)]


def test_events_after_as_of_are_not_read():
    ledger = Ledger()
    item = ledger.item(1, "2024-03-01")
    ledger.event(item, "returned", "2024-03-20", "submitted", "in_progress")
    board = ledger.score(as_of=at("2024-03-10"))
    assert [x.on for x in unit(board, "市发改委").deductions] == [date(2024, 3, 4)]


def test_signing_off_by_the_deadline_adds_points_and_later_does_not():
    ledger = Ledger()
    early, late = ledger.item(1, "2024-03-20"), ledger.item(2, "2024-03-10")
    for item, day in ((early, "2024-03-20"), (late, "2024-03-11")):
        ledger.event(item, "submitted", day, "assigned", "submitted")
        ledger.event(item, "signed_off", day, "submitted", "signed_off")
    board = ledger.score()
    assert [(x.rule, x.points) for x in unit(board, "市发改委").additions] == [("early_sign_off", Decimal(1))]
    assert unit(board, "市财政局").additions == []
    assert [x.rule for x in unit(board, "市财政局").deductions] == ["overdue"]  # 11 March, before submitting


def test_ties_share_a_place_and_the_next_place_is_skipped():
    ledger = Ledger()
    ledger.item(1, "2024-03-15")
    ledger.item(2, "2024-03-15")
    board = ledger.score()
    assert [(u.unit, u.rank, u.score) for u in board.units] == [
        ("市商务局", 1, 100), ("市发改委", 2, 96), ("市财政局", 2, 96)]
    ledger.item(3, "2024-03-22")
    assert [(u.rank, u.score) for u in ledger.score().units] == [(1, 98), (2, 96), (2, 96)]


def _capped(tmp_path: Path, deduction_cap: int) -> Scoreboard:
    path = tmp_path / "scoring.yaml"
    path.write_text("base: 100\ndeductions:\n  overdue: {points: 2, cap: 5}\n  returned: {points: 1.5}\n"
                    "additions:\n  early_sign_off: {points: 1}\nweights:\n  documents: {新时代意见: 1.5}\n"
                    f"caps:\n  deductions: {deduction_cap}\n", encoding="utf-8")
    ledger = Ledger()
    for _ in range(3):
        ledger.item(1, "2024-03-15")  # six overdue lines of 2 x 1.5 points
    item = ledger.item(1, "2024-03-20", document="其他文件")
    for day in ("2024-03-05", "2024-03-06", "2024-03-07"):
        ledger.event(item, "returned", day, "submitted", "in_progress")
    return ledger.score(model=load_scoring(path))


def test_a_rule_s_cap_and_a_unit_s_cap_cut_lines_in_time_order(tmp_path: Path):
    lines = unit(_capped(tmp_path, 10), "市发改委").deductions
    assert [x.points for x in lines if x.rule == "returned"] == [Decimal("-1.5")] * 3
    # 18 March: three items, two weeks each at 3 points; 21 March: the fourth item, two weeks at 2
    assert [(x.points, x.weeks, x.capped) for x in lines if x.rule == "overdue"] == [
        (-5, 2, True), (0, 2, True), (0, 2, True), (0, 2, True)]
    lines = unit(_capped(tmp_path, 6), "市发改委").deductions
    assert sum(-x.points for x in lines) == 6 and sum(-x.points for x in lines if x.rule == "overdue") == Decimal("1.5")


def test_every_unit_s_lines_add_up_to_its_score(tmp_path: Path):
    for board in (_capped(tmp_path, 10), _capped(tmp_path, 6)):
        for result in board.units:
            assert board.base + sum(x.points for x in result.deductions + result.additions) == result.score
        assert unit(board, "市发改委").score < 100


def test_rules_whose_events_do_not_exist_yet_find_nothing_until_they_do():
    ledger = Ledger()
    item = ledger.item(1, "2024-04-30")
    assert unit(ledger.score(), "市发改委").deductions == []
    ledger.event(item, "urged", "2024-03-12", None, None)
    ledger.event(item, "acknowledged", "2024-03-13", None, None, late=True, unit_id=2)
    ledger.event(item, "period_missed", "2024-03-14", None, None)
    board = ledger.score()
    assert [x.rule for x in unit(board, "市发改委").deductions] == ["urged", "missing_report"]
    assert [x.rule for x in unit(board, "市财政局").deductions] == ["late_acknowledge"]


def test_a_period_that_ends_before_it_starts_is_refused():
    from models.errors import InvalidInput

    with pytest.raises(InvalidInput, match="before it starts"):
        Ledger().score((date(2024, 3, 31), date(2024, 3, 1)))


@pytest.mark.parametrize(("text", "line", "words"), [
    ("base: 100\ndeductions:\n  overdue: {points: 2}\n  late_signoff: {points: 1}\n", 4, "unknown deduction rule 'late_signoff'"),
    ("deductions:\n  returned:\n    points: -1\n", 3, "negative"),
    ("additions:\n  returned: {points: 1}\n", 2, "belongs under deductions"),
    ("weights:\n  documents:\n    新时代意见: -2\n", 3, "negative"),
    ("base: 100\nbonus: 3\n", 2, "unknown key 'bonus'"),
    ("deductions:\n  overdue: {points: two}\n", 2, "not a number"),
    ("deductions:\n  overdue: {cap: 3}\n", 2, "has no points"),
    ("deductions: [\n", 2, "not valid YAML"),
])
def test_a_bad_scoring_file_is_refused_naming_its_file_and_line(tmp_path: Path, text: str, line: int, words: str):
    path = tmp_path / "scoring.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScoringError, match=words) as caught:
        load_scoring(path)
    assert str(caught.value).startswith(f"{path}:{line}:")


def test_the_built_in_model_loads_with_every_rule():
    model = load_scoring(DEFAULT_SCORING_FILE)
    assert model.base == 100 and set(model.rules) == {
        "overdue", "returned", "urged", "late_acknowledge", "late_report", "missing_report", "early_sign_off"}


def test_a_period_cut_into_months_scores_each_month_as_if_it_were_scored_alone():
    from models.scoring import parts_of, score_parts

    ledger = Ledger()
    for n, deadline in enumerate(["2024-01-31", "2024-02-20", "2024-03-08", "2024-04-30", "2024-02-05"]):
        ledger.item(n % 3 + 1, deadline, created="2024-01-02")
    ledger.event(2, "submitted", "2024-03-04", "assigned", "submitted")
    ledger.event(2, "returned", "2024-03-19", "submitted", "in_progress")
    ledger.event(3, "extension_approved", "2024-04-02", "assigned", "assigned",
                 old_deadline="2024-03-08", new_deadline="2024-04-15")
    ledger.event(4, "submitted", "2024-04-10", "assigned", "submitted")
    ledger.event(4, "signed_off", "2024-04-12", "submitted", "signed_off")
    period, as_of = (date(2024, 1, 1), date(2024, 6, 30)), at("2024-05-20")
    model = load_scoring(DEFAULT_SCORING_FILE)
    parts = [(first, last) for _, first, last in parts_of(*period)]
    whole, cut = score_parts(ledger.items, ledger.events, UNITS, model, WorkCalendar(), TZ, *period, as_of, parts)
    assert whole.as_dict()["units"] == ledger.score(period, as_of).as_dict()["units"]
    for (first, last), board in zip(parts, cut, strict=True):
        assert board.as_dict()["units"] == ledger.score((first, last), as_of).as_dict()["units"], first
    march = cut[parts.index((date(2024, 3, 1), date(2024, 3, 31)))]
    assert sum(len(u.deductions) for u in march.units) >= 3  # stretches cut at both edges, a return


@pytest.mark.parametrize("kind", ["updated", "edited"])
def test_a_deadline_moved_or_lead_unit_changed_on_the_desk_scores_as_the_same_change_by_import(kind: str):
    def changed(by: str) -> Scoreboard:
        ledger = Ledger()
        moved, handed = ledger.item(1, "2024-03-01"), ledger.item(2, "2024-03-04")
        ledger.event(moved, by, "2024-03-06", "assigned", "assigned",
                     deadline={"old": "2024-03-01", "new": "2024-03-20"})
        ledger.event(handed, by, "2024-03-04", "assigned", "assigned", lead_unit={"old": "市财政局", "new": "市商务局"})
        return ledger.score()

    board = changed(kind)
    assert board.as_dict()["units"] == changed("updated").as_dict()["units"]
    # overdue from 4 March, moved on the 6th to the 20th: weeks again from the 21st; the other item, handed
    # to the 商务局 on its deadline day, is the 商务局's when it is overdue from the 5th
    assert [(x.on, x.weeks) for x in unit(board, "市发改委").deductions] == [(date(2024, 3, 4), 1), (date(2024, 3, 21), 2)]
    assert [x.on for x in unit(board, "市商务局").deductions] == [date(2024, 3, 5)]
    assert unit(board, "市财政局").deductions == []


def test_a_period_missed_and_then_reported_late_is_missing_until_the_report_and_late_after_it_not_both():
    ledger = Ledger()
    item = ledger.item(1, "2024-12-31")
    q1, q2 = "2024-01-01 – 2024-03-31", "2024-04-01 – 2024-06-30"
    ledger.event(item, "period_missed", "2024-03-04", None, None, period="2024-01-01 – 2024-02-29",
                 period_due="2024-02-29")
    ledger.event(item, "period_missed", "2024-04-01", None, None, period=q1, period_due="2024-03-31")
    ledger.event(item, "period_late", "2024-04-09", None, None, period=q1, period_due="2024-03-31")
    ledger.event(item, "period_late", "2024-07-03", None, None, period=q2, period_due="2024-06-30")
    april = (date(2024, 4, 1), date(2024, 4, 30))

    def rules(period: tuple[date, date], as_of: datetime) -> list[tuple[str, date]]:
        return [(x.rule, x.on) for x in unit(ledger.score(period, as_of), "市发改委").deductions]

    assert rules(april, at("2024-04-05")) == [("missing_report", date(2024, 4, 1))]
    assert rules(april, at("2024-04-30")) == [("late_report", date(2024, 4, 9))]
    # the other period, flagged missing in March and never reported, stays missing; Q2 was never flagged
    assert rules((date(2024, 3, 1), date(2024, 7, 31)), at("2024-12-31")) == [
        ("missing_report", date(2024, 3, 4)), ("late_report", date(2024, 4, 9)), ("late_report", date(2024, 7, 3))]


def test_a_period_reported_late_in_a_later_month_is_missing_in_the_earlier_month_scored_as_a_part():
    from models.scoring import score_parts

    ledger = Ledger()
    item = ledger.item(1, "2024-12-31")
    ledger.event(item, "period_missed", "2024-03-04", None, None, period="2024-02-01 – 2024-02-29",
                 period_due="2024-02-29")
    ledger.event(item, "period_late", "2024-04-09", None, None, period="2024-02-01 – 2024-02-29",
                 period_due="2024-02-29")
    period, as_of = (date(2024, 3, 1), date(2024, 4, 30)), at("2024-05-20")
    parts = [(date(2024, 3, 1), date(2024, 3, 31)), (date(2024, 4, 1), date(2024, 4, 30))]
    model = load_scoring(DEFAULT_SCORING_FILE)
    whole, cut = score_parts(ledger.items, ledger.events, UNITS, model, WorkCalendar(), TZ, *period, as_of, parts)
    assert [x.rule for x in unit(whole, "市发改委").deductions] == ["late_report"]
    assert whole.as_dict()["units"] == ledger.score(period, as_of).as_dict()["units"]
    for (first, last), board in zip(parts, cut, strict=True):
        assert board.as_dict()["units"] == ledger.score((first, last), as_of).as_dict()["units"], first
    assert [[x.rule for x in unit(board, "市发改委").deductions] for board in cut] == [["missing_report"],
                                                                                      ["late_report"]]


@pytest.mark.parametrize(("zone", "first", "last", "fixed"), [
    ("Asia/Shanghai", date(2024, 1, 1), date(2024, 12, 31), True),
    ("Europe/Berlin", date(2024, 1, 1), date(2024, 12, 31), False),  # summer time: no one offset
    ("Europe/Berlin", date(2024, 1, 1), date(2024, 2, 28), True),  # one offset within, others around
])
def test_local_days_are_the_zone_s_with_or_without_one_offset(zone: str, first: date, last: date, fixed: bool):
    from datetime import time, timedelta
    from zoneinfo import ZoneInfo

    from models.scoring_replay import Replay, Workdays

    tz, opens = ZoneInfo(zone), datetime(2024, 1, 1, tzinfo=UTC)
    replay = Replay(load_scoring(), Workdays(WorkCalendar(), first, last), tz, opens, opens, first, {})
    assert (replay._offset is not None) is fixed
    at, midnights = datetime(2023, 12, 20, tzinfo=UTC), 0
    while at < datetime(2025, 1, 10, tzinfo=UTC):
        moment = at.astimezone(tz)
        assert replay.local(at) == (moment.date(), moment.time() == time.min), at
        midnights += moment.time() == time.min
        at += timedelta(minutes=15)
    assert midnights > 350  # the days' edges were among the instants compared


def test_working_days_keep_their_numbers_when_days_before_or_after_are_added():
    from datetime import timedelta

    from models.scoring_replay import Workdays

    calendar = WorkCalendar()
    days = Workdays(calendar, date(2024, 3, 1), date(2024, 3, 31))
    known = {day: days.number(day) for day in (date(2024, 3, 1) + timedelta(days=n) for n in range(31))}
    assert known[date(2024, 3, 1)] == 1 and known[date(2024, 3, 4)] == 2  # Friday, then Monday
    early, late = days.number(date(2023, 12, 29)), days.number(date(2024, 6, 28))  # both extend the days
    assert {day: days.number(day) for day in known} == known
    day = date(2023, 11, 1)
    while day < date(2024, 8, 1):
        if calendar.is_workday(day):
            assert days.nth(days.number(day)) == day
            assert days.number(day) == days.number(day - timedelta(days=1)) + 1
        else:
            assert days.number(day) == days.number(day - timedelta(days=1))
        day += timedelta(days=1)
    assert early < 0 < known[date(2024, 3, 29)] < late


def test_the_cycle_collector_is_paused_while_scoring_and_left_as_it_was():
    import gc

    from models.scoring import cycle_collection_paused

    assert gc.isenabled()
    with cycle_collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with cycle_collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(ValueError), cycle_collection_paused():
        raise ValueError
    assert gc.isenabled()
