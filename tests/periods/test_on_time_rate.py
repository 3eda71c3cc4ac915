"""按时报送率 per unit and document: periods due so far reported by their due day / periods due so far."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlmodel import Session

from models.ledger.apply import import_ledger
from models.lifecycle import Action, apply
from models.queries import find_item, find_person
from models.read.figures import build_figures, build_report
from tests.conftest import TZ
from tests.ledger.test_cli import duban
from tests.periods.test_periods import MID_YEAR, SHANGHAI, files


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(UTC)


def report(session: Session, ref: str, email: str, at: str) -> None:
    apply(session, find_item(session, ref), Action.REPORT_PROGRESS, find_person(session, email), local(at), text="本期情况")
    session.commit()


def test_on_time_rate_counts_the_periods_due_so_far_reported_by_their_due_day(session, tmp_path):
    import_ledger(session, files(tmp_path), now=MID_YEAR)
    session.commit()
    report(session, "新时代意见/2", "czj@example.gov.cn", "2024-07-25T23:30")  # July's, due 25 July: on time
    report(session, "新时代意见/2", "czj@example.gov.cn", "2024-08-27T00:10")  # August's, due 26 August: late
    # September's (due 25 September) is missing, and so is the quarterly item's Q3 (due 30 September);
    # October's (due 25 October) is not due yet.
    data = build_report(session, local("2024-10-08T09:00"), TZ)
    [document] = data["documents"]
    assert (document["periods_due"], document["periods_on_time"], document["on_time_rate"]) == (4, 1, 25.0)
    units = {u["unit"]: (u["periods_due"], u["periods_on_time"], u["on_time_rate"]) for u in data["units"]}
    assert units == {"市发改委": (1, 0, 0.0), "市财政局": (3, 1, 33.3), "市商务局": (0, 0, 0.0)}
    figures = build_figures(session, None, local("2024-10-08T09:00"), TZ)
    assert (figures.overall.periods_due, figures.overall.periods_on_time) == (4, 1)
    # Reported late, a period stays late: the figure does not change; the day after a due day it counts.
    report(session, "新时代意见/1", "fgw@example.gov.cn", "2024-10-09T10:00")
    later = build_report(session, local("2024-10-26T09:00"), TZ)["documents"][0]
    assert (later["periods_due"], later["periods_on_time"]) == (5, 1)


def test_duban_report_json_carries_the_on_time_rate(tmp_path, sqlite_url):
    imported = duban(tmp_path, sqlite_url, "import", *map(str, files(tmp_path / "in")), "--now", "2024-07-15T09:00+08:00")
    assert imported.returncode == 0, imported.stderr
    shown = duban(tmp_path, sqlite_url, "report", "--json", "--now", "2024-10-08T09:00+08:00")
    assert shown.returncode == 0, shown.stderr
    [document] = json.loads(shown.stdout)["documents"]
    assert (document["periods_due"], document["periods_on_time"], document["on_time_rate"]) == (4, 0, 0.0)
    table = duban(tmp_path, sqlite_url, "report", "--now", "2024-10-08T09:00+08:00", locale="zh-CN")
    assert table.returncode == 0 and "按时报送率" in table.stdout, table.stdout


def test_the_cli_report_read_without_sqlalchemy_counts_periods_as_build_report(session, tmp_path):
    from tests.cli.test_report_plain import assert_plain_report_agrees

    import_ledger(session, files(tmp_path), now=MID_YEAR)
    session.commit()
    report(session, "新时代意见/2", "czj@example.gov.cn", "2024-07-25T23:30")
    report(session, "新时代意见/2", "czj@example.gov.cn", "2024-08-27T00:10")
    assert_plain_report_agrees(session, local("2024-10-08T09:00"))
