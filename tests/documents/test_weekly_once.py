"""The weekly 通报's figures are counted once for every language (weekly_facts_by_locale): the facts
and the .docx parts are those the former per-language build (build_figures, kept below) gave, in zh-CN and en."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

import models.read.figures
from config.i18n import gettext
from config.settings import Settings, load_settings
from models.read.due import Day
from models.read.figures import CityRows, build_figures, ranking
from models.read.filters import ItemFilter
from models.tables import Role, Status
from notifications.digest import queue_digests, weekly_notices
from notifications.documents.facts import (
    _figure,
    _header,
    overdue_by_unit,
    weekly_facts,
    weekly_facts_by_locale,
)
from notifications.documents.notices import RankedUnit, WeeklyFacts, weekly_notice
from tests.factories import make_document, make_item, make_person, make_unit

NOW = datetime(2024, 10, 8, 1, 0, tzinfo=UTC)  # Tuesday 8 October 2024, 09:00 in Shanghai
LOCALES = ("en", "zh-CN")


def _former_weekly_facts(session: Session, settings: Settings, now: datetime, locale: str) -> WeeklyFacts:
    """weekly_facts as it was before 2026-12-01: build_figures once per language."""
    today = now.astimezone(settings.tz).date()
    year, number = today.isocalendar()[:2]
    figures = build_figures(session, None, now, settings.tz)
    return WeeklyFacts(
        header=_header(settings, settings.weekly_notice_number.format(year=year, week=number), today, locale),
        week=f"{year}-W{number:02d}", as_of=today,
        overall=_figure(gettext(locale, "Overall"), figures.overall),
        documents=[_figure(row.name, row) for row in figures.documents],
        overdue=overdue_by_unit(session, now, settings.tz, settings.weekly_notice_items_per_unit),
        ranking=[RankedUnit(place, row.name, row.total, row.signed_off, row.rate, row.overdue)
                 for place, row in ranking(figures.units)],
    )


def _docx(facts: WeeklyFacts) -> bytes:
    buffer = io.BytesIO()
    weekly_notice(facts).save(buffer)
    return buffer.getvalue()


def _parts(docx: bytes) -> list[tuple[str, bytes]]:
    """A .docx's parts in order, each name with its bytes (the zip's entries carry the second they
    were written, so two saves of the same document differ there and nowhere else)."""
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        return [(name, package.read(name)) for name in package.namelist()]


def _ledger(session: Session) -> None:
    """Units tied on rate and on overdue counts, several documents, cancelled, signed-off and co-unit items."""
    units = [make_unit(session, name) for name in ("市发改委", "市经信委", "市财政局", "市教育局", "市住建局")]
    supervisor = make_person(session, Role.SUPERVISOR, name="王督查", email="sup@dc.gov.cn")
    documents = [make_document(session, name) for name in ("新时代意见", "政府工作报告", "营商环境")]
    statuses = [Status.ASSIGNED, Status.IN_PROGRESS, Status.SIGNED_OFF, Status.CANCELLED, Status.IN_PROGRESS]
    for n in range(40):
        make_item(session, document=documents[n % 3], lead_unit=units[(n + n // 5) % 5], co_units=(units[n % 5],) if n % 4 else (),
                  supervisor=supervisor, number=str(n + 1), deadline=date(2024, 8 + n % 5, 1 + n % 27),
                  status=statuses[n % 5])
    session.commit()


def test_the_facts_in_each_language_equal_the_former_per_language_build(session: Session) -> None:
    _ledger(session)
    settings = load_settings(weekly_notice_items_per_unit=2)
    by_locale = weekly_facts_by_locale(session, settings, None, NOW, LOCALES)
    assert set(by_locale) == set(LOCALES)
    for locale in LOCALES:
        former = _former_weekly_facts(session, settings, NOW, locale)
        assert by_locale[locale] == former == weekly_facts(session, settings, None, NOW, locale)
        assert former.overdue and len(former.ranking) == 5 and former.header.locale == locale
        assert _parts(_docx(by_locale[locale])) == _parts(_docx(former))


def test_the_digests_notices_are_the_former_documents_byte_for_byte(session: Session) -> None:
    _ledger(session)
    settings = load_settings()
    notices = weekly_notices(session, set(LOCALES), NOW, settings)
    assert set(notices) == set(LOCALES)
    for locale in LOCALES:
        assert _parts(notices[locale].content) == _parts(_docx(_former_weekly_facts(session, settings, NOW, locale)))
    assert weekly_notices(session, set(), NOW, settings) == {}


def test_rows_counted_with_another_reminder_window_give_the_same_facts(session: Session) -> None:
    """The digests' run hands the 通报 the rows it counted on its own day, whose reminder window (the
    policy's) may be wider: only the due-soon counts differ, and the 通报 shows none."""
    _ledger(session)
    settings = load_settings(weekly_notice_items_per_unit=2)
    today = NOW.astimezone(settings.tz).date()
    wide = CityRows(session, Day(NOW, settings.tz, today, today + timedelta(days=60)))
    assert wide.units != CityRows(session, Day.at(NOW, settings.tz)).units, "the window changes the due-soon counts"
    by_locale = weekly_facts_by_locale(session, settings, None, NOW, LOCALES, wide)
    for locale in LOCALES:
        assert by_locale[locale] == _former_weekly_facts(session, settings, NOW, locale)
    later = CityRows(session, Day.at(NOW + timedelta(days=90), settings.tz))  # another instant (its December deadlines overdue): not used
    assert weekly_facts_by_locale(session, settings, None, NOW, LOCALES, later) == by_locale


def test_a_digest_run_counts_the_city_rows_once(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    _ledger(session)
    make_person(session, Role.LEADER, name="李领导", email="leader@dc.gov.cn")
    session.commit()
    calls: list[str] = []
    for name in ("document_rows", "unit_rows"):
        counted = getattr(models.read.figures, name)

        def recorded(*args: Any, _name: str = name, _counted: Any = counted, **kw: Any) -> Any:
            if not any(isinstance(a, ItemFilter) and a != ItemFilter() for a in (*args, *kw.values())):
                calls.append(_name)  # the city's rows: over every item
            return _counted(*args, **kw)
        monkeypatch.setattr(models.read.figures, name, recorded)
    summary = queue_digests(session, NOW, load_settings(delivery_window=False))
    assert summary.as_dict()["leadership"] == 1
    assert sorted(calls) == ["document_rows", "unit_rows"]
