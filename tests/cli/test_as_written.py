"""What people wrote is printed as they wrote it: Rich reads "[...]" as markup and ":name:" as an emoji
unless told not to, which dropped part of a title or a unit's name, and failed on a stray "[/]"."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from tests.factories import make_document, make_item, make_unit

NOW = "2024-07-03T09:00+08:00"
TITLE = "推进[see item 3]落实 [/] :smile: [red]x"
UNIT = "市发改委[bold]"


@pytest.fixture
def ledger(engine):  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        unit = make_unit(s, UNIT, code="FGW")
        make_item(s, document=make_document(s, "新时代意见"), number="12", lead_unit=unit,
                  deadline=date(2024, 6, 30), title=TITLE)
        s.commit()


@pytest.mark.parametrize("colour", [False, True], ids=["plain", "terminal"])
def test_titles_and_names_print_as_written(duban, ledger, monkeypatch, colour):
    if colour:  # the styled paths: the overdue count in red, the status in colour
        monkeypatch.setenv("FORCE_COLOR", "1")
    shown = duban("show", "新时代意见/12", "--now", NOW)
    assert shown.code == 0 and TITLE in shown.out and UNIT in shown.out
    listed = duban("items", "--now", NOW)
    assert listed.code == 0 and TITLE in listed.out and UNIT in listed.out
    report = duban("report", "--now", NOW)
    assert report.code == 0 and UNIT in report.out
    assert "😄" not in shown.out + listed.out + report.out


def test_a_refusal_naming_markup_is_one_line_without_a_traceback(duban, ledger):
    refused = duban("show", "文件[/]/1")
    assert refused.code == 1 and "文件[/]/1" in refused.err and "Traceback" not in refused.err
    assert refused.err.count("\n") == 1
