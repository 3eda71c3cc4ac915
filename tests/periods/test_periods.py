"""A recurring item's periods (SQLite and PostgreSQL): made by the import on the working-day calendar."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from models.ledger.apply import import_ledger
from models.lifecycle import Action, apply
from models.periods import item_periods
from models.queries import find_item, find_person
from models.tables import ItemPeriod
from tests.ledger.conftest import LEDGER_HEADER, UNITS, UNITS_HEADER, write_csv, write_xlsx
from tests.ledger.test_cli import duban

SHANGHAI = ZoneInfo("Asia/Shanghai")
MID_YEAR = datetime(2024, 7, 15, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
HEADER = [*LEDGER_HEADER, "频次"]
ROWS = [
    ["新时代意见", "1", "每季度跟踪梳理", "规划", "市发改委", "", "2024年底", "", "", "每季度"],
    ["新时代意见", "2", "每月调度", "财政", "市财政局", "", "2024-10-31", "", "", "每月25日前"],
    ["新时代意见", "3", "一次性事项", "开放", "市商务局", "", "2024-09-30", "", "", ""],
]


def files(tmp_path: Path, rows=ROWS) -> list[Path]:
    tmp_path.mkdir(exist_ok=True)
    return [write_csv(tmp_path / "units.csv", [UNITS_HEADER, *UNITS]),
            write_xlsx(tmp_path / "ledger.xlsx", {"台账": [HEADER, *rows]})]


def periods(session: Session, ref: str) -> list[tuple[date, date, date]]:
    item = find_item(session, ref)
    rows = session.exec(select(ItemPeriod).where(ItemPeriod.item_id == item.id).order_by(ItemPeriod.starts)).all()
    return [(p.starts, p.ends, p.due) for p in rows]


def test_a_quarterly_item_imported_mid_year_has_its_q3_and_q4_periods(session, tmp_path):
    import_ledger(session, files(tmp_path), now=MID_YEAR)
    session.commit()
    assert periods(session, "新时代意见/1") == [(date(2024, 7, 1), date(2024, 9, 30), date(2024, 9, 30)),
                                            (date(2024, 10, 1), date(2024, 12, 31), date(2024, 12, 31))]
    assert periods(session, "新时代意见/3") == []


def test_a_due_day_on_a_weekend_or_holiday_moves_to_the_next_working_day(session, tmp_path):
    import_ledger(session, files(tmp_path), now=MID_YEAR)
    session.commit()
    dues = [due for _, _, due in periods(session, "新时代意见/2")]
    # 25 Aug 2024 is a Sunday; 25 Jul, Sep and Oct are working days
    assert dues == [date(2024, 7, 25), date(2024, 8, 26), date(2024, 9, 25), date(2024, 10, 25)]


def test_a_changed_frequency_replaces_the_unreported_periods_and_a_reimport_changes_nothing(session, tmp_path):
    import_ledger(session, files(tmp_path), now=MID_YEAR)
    session.commit()
    import_ledger(session, files(tmp_path / "same"), now=MID_YEAR)
    session.commit()
    assert len(periods(session, "新时代意见/1")) == 2
    rows = [list(r) for r in ROWS]
    rows[0][-1] = "每半年"
    rows[2][-1] = "每月"
    import_ledger(session, files(tmp_path / "changed", rows), now=MID_YEAR)
    session.commit()
    assert periods(session, "新时代意见/1") == [(date(2024, 7, 1), date(2024, 12, 31), date(2024, 12, 31))]
    item = find_item(session, "新时代意见/3")
    assert [p.starts for p in item_periods(session, item.id, MID_YEAR, SHANGHAI)] == [
        date(2024, 7, 1), date(2024, 8, 1), date(2024, 9, 1)]


def test_periods_on_the_command_line(tmp_path, sqlite_url):
    imported = duban(tmp_path, sqlite_url, "import", *map(str, files(tmp_path / "in")), "--now", "2024-07-15T09:00+08:00")
    assert imported.returncode == 0, imported.stderr
    shown = duban(tmp_path, sqlite_url, "periods", "新时代意见/1", "--json", "--now", "2024-10-08T09:00+08:00")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == {"item": "新时代意见/1", "frequency": "quarterly", "periods": [
        {"starts": "2024-07-01", "ends": "2024-09-30", "due": "2024-09-30", "fulfilled_at": None, "state": "missing"},
        {"starts": "2024-10-01", "ends": "2024-12-31", "due": "2024-12-31", "fulfilled_at": None, "state": "open"},
    ]}
    table = duban(tmp_path, sqlite_url, "periods", "新时代意见/1", "--now", "2024-10-08T09:00+08:00", locale="zh-CN")
    assert table.returncode == 0 and "未报送" in table.stdout and "待报送" in table.stdout, table.stdout
    once = duban(tmp_path, sqlite_url, "periods", "新时代意见/3")
    assert once.returncode == 0 and "does not recur" in once.stdout
    missing = duban(tmp_path, sqlite_url, "periods", "新时代意见/99")
    assert missing.returncode == 1 and "Traceback" not in missing.stderr


def _report(session: Session, ref: str, email: str, at: datetime) -> None:
    apply(session, find_item(session, ref), Action.REPORT_PROGRESS, find_person(session, email), at, text="已报送本季度情况")
    session.commit()


def _states(session: Session, ref: str, at: datetime) -> list[str]:
    item = find_item(session, ref)
    return [p.state for p in item_periods(session, item.id, at, SHANGHAI)]


def test_the_lead_units_report_fulfils_the_open_period_on_time_or_late(session, tmp_path):
    import_ledger(session, files(tmp_path), now=MID_YEAR)
    session.commit()
    october = datetime(2024, 10, 8, 1, 0, tzinfo=UTC)
    assert _states(session, "新时代意见/1", october) == ["missing", "open"]
    _report(session, "新时代意见/1", "fgw@example.gov.cn", october)
    assert _states(session, "新时代意见/1", october) == ["late", "open"]
    (q3, q4) = session.exec(select(ItemPeriod).where(ItemPeriod.item_id == find_item(session, "新时代意见/1").id)
                            .order_by(ItemPeriod.starts)).all()
    assert q3.fulfilled_event_id is not None and q4.fulfilled_at is None
    _report(session, "新时代意见/2", "czj@example.gov.cn", datetime(2024, 7, 20, 1, 0, tzinfo=UTC))
    assert _states(session, "新时代意见/2", datetime(2024, 7, 26, 1, 0, tzinfo=UTC)) == ["on_time", "open", "open", "open"]


def test_a_report_by_another_unit_fulfils_nothing(session, tmp_path):
    rows = [list(r) for r in ROWS]
    rows[0][5] = "市财政局"  # co-unit of the quarterly item
    import_ledger(session, files(tmp_path, rows), now=MID_YEAR)
    session.commit()
    _report(session, "新时代意见/1", "czj@example.gov.cn", datetime(2024, 9, 20, 1, 0, tzinfo=UTC))
    assert _states(session, "新时代意见/1", datetime(2024, 9, 20, 2, 0, tzinfo=UTC)) == ["open", "open"]
