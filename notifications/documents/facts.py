"""What the office's documents say, read from the one read side (models/read) at one instant."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from config.calendar import WorkCalendar
from config.i18n import gettext
from config.settings import Settings
from models.deadlines import days_overdue
from models.errors import InvalidInput
from models.read.due import Day, today_in
from models.read.figures import CityRows, by_attention, ranking
from models.read.filters import ItemFilter, conditions
from models.tables import Document, Item, ItemCoUnit, Person, ProgressReport, Status, Unit
from notifications.documents.notices import (
    DocumentFigure,
    Header,
    ItemFacts,
    OverdueItem,
    OverdueUnit,
    RankedUnit,
    WeeklyFacts,
)

REPLY_WITHIN_WORKDAYS = 3  # what a 督办通知单 asks: progress within three working days


def parse_week(text: str) -> tuple[int, int]:
    """'2024-W40' -> (2024, 40); anything else is refused with the form it should take."""
    head, _, tail = text.strip().upper().partition("-W")
    try:
        year, week = int(head), int(tail)
        date.fromisocalendar(year, week, 1)
    except ValueError:
        raise InvalidInput(f"“{text}” is not an ISO week; write it like 2024-W40",
                           code="notice.bad_week", params={"week": text}) from None
    return year, week


def weekly_facts(session: Session, settings: Settings, week: str | None, now: datetime,
                 locale: str | None = None) -> WeeklyFacts:
    """The weekly 通报 as of `now`, headed with `week` (this week when None), in `locale`'s words."""
    locale = locale or settings.locale
    return weekly_facts_by_locale(session, settings, week, now, [locale])[locale]


def weekly_facts_by_locale(session: Session, settings: Settings, week: str | None, now: datetime,
                           locales: Iterable[str], city: CityRows | None = None) -> dict[str, WeeklyFacts]:
    """`weekly_facts` in each of `locales`: the figures are counted once, since only the header's
    language and the overall row's label differ between languages. `city`: rows already counted at
    `now` (the digests' run); its reminder window may differ, which changes only the due-soon counts,
    and the 通报 shows none."""
    tz = settings.tz
    today = today_in(now, tz)
    year, number = parse_week(week) if week else today.isocalendar()[:2]
    monday = date.fromisocalendar(year, number, 1)
    name = f"{year}-W{number:02d}"
    if monday > today:
        raise InvalidInput(f"week {name} has not begun (today is {today.isoformat()})",
                           code="notice.future_week", params={"week": name, "today": today})
    # The counts `build_figures` gives someone who sees everything, without what the 通报 does not
    # show (the trend, the escalation levels): per document, and per lead unit for the ranking.
    if city is None or city.day.now != now or city.day.tz != tz:
        city = CityRows(session, Day.at(now, tz))
    documents = sorted(city.documents.values(), key=lambda r: r.name)
    units = by_attention(city.units.values())
    total = sum(row.total for row in documents)
    if total == 0:
        raise InvalidInput(f"there are no items to report for week {name}: import a ledger first",
                           code="notice.no_data", params={"week": name})
    overall = DocumentFigure("", total, sum(row.signed_off for row in documents), sum(row.overdue for row in documents))
    facts = WeeklyFacts(
        header=_header(settings, settings.weekly_notice_number.format(year=year, week=number), today, ""),
        week=name, as_of=today, overall=overall,
        documents=[_figure(row.name, row) for row in documents],
        overdue=overdue_by_unit(session, now, tz, settings.weekly_notice_items_per_unit),
        ranking=[RankedUnit(place, row.name, row.total, row.signed_off, row.rate, row.overdue)
                 for place, row in ranking(units)],
    )
    return {locale: replace(facts, header=replace(facts.header, locale=locale),
                            overall=replace(overall, name=gettext(locale, "Overall")))
            for locale in locales}


def overdue_by_unit(session: Session, now: datetime, tz: ZoneInfo, shown: int) -> list[OverdueUnit]:
    """Every lead unit with overdue items (the items list's `overdue` filter), most first: its count
    and its `shown` longest overdue items. One query: a notice never holds more than it lists."""
    day = Day.at(now, tz)
    where = conditions(session, None, ItemFilter(overdue=True), day.today, day.soon_until)
    order = (col(Item.deadline), col(Document.short_name), col(Item.number), col(Item.id))
    ranked = (
        select(Unit.name.label("unit"), Document.short_name.label("document"),  # type: ignore[attr-defined]
               Item.number, Item.title, Item.deadline,
               func.row_number().over(partition_by=Item.lead_unit_id, order_by=order).label("place"),
               func.count().over(partition_by=Item.lead_unit_id).label("count"))
        .join(Document, col(Document.id) == Item.document_id).join(Unit, col(Unit.id) == Item.lead_unit_id)
        .where(*where).subquery()
    )
    units: dict[str, tuple[int, list[OverdueItem]]] = {}
    for unit, document, number, title, deadline, _, count in session.execute(
        select(ranked).where(ranked.c.place <= shown).order_by(ranked.c.unit, ranked.c.place)
    ):
        units.setdefault(unit, (count, []))[1].append(
            OverdueItem(unit, document, number, title, deadline, days_overdue(deadline, now, tz)))
    return sorted((OverdueUnit(unit, count, items) for unit, (count, items) in units.items()),
                  key=lambda u: (-u.count, u.unit))


def item_facts(session: Session, settings: Settings, item: Item, now: datetime, calendar: WorkCalendar,
               locale: str | None = None) -> ItemFacts:
    """The 督办通知单 for one open item as of `now`, in `locale`'s words."""
    tz: ZoneInfo = settings.tz
    today = today_in(now, tz)
    if item.status in (Status.SIGNED_OFF, Status.CANCELLED):
        raise InvalidInput(f"item {item.id} is {item.status}: a supervision notice is for open items",
                           code="notice.item_closed", params={"id": item.id, "status": item.status})
    day = Day.at(now, tz)
    late = days_overdue(item.deadline, now, tz) if day.overdue(item.status, item.deadline) else 0
    unit = session.get(Unit, item.lead_unit_id)
    document = session.get(Document, item.document_id)
    co_units = session.exec(
        select(Unit.name).join(ItemCoUnit, col(ItemCoUnit.unit_id) == Unit.id)
        .where(ItemCoUnit.item_id == item.id).order_by(Unit.name)
    ).all()
    latest = session.exec(
        select(ProgressReport.text).where(ProgressReport.item_id == item.id)
        .order_by(col(ProgressReport.at).desc()).limit(1)
    ).first()
    supervisor = session.get(Person, item.supervisor_id) if item.supervisor_id else None
    locale = locale or settings.locale
    state = gettext(locale, "overdue") if late else gettext(locale, str(item.status))
    return ItemFacts(
        header=_header(settings, settings.item_notice_number.format(year=today.year, item=item.id), today, locale),
        as_of=today, unit=unit.name if unit else "", co_units=list(co_units),
        document=document.short_name if document else "", number=item.number, title=item.title,
        deadline=item.deadline, original_deadline=item.original_deadline, state=state,
        days_overdue=late, workdays_left=None if late else _workdays_between(calendar, today, item.deadline),
        latest_progress=latest or "", reply_by=calendar.add_workdays(today, REPLY_WITHIN_WORKDAYS),
        supervisor=supervisor.shown_name() if supervisor else "",
    )


def _workdays_between(calendar: WorkCalendar, start: date, end: date) -> int:
    count, day = 0, start + timedelta(days=1)
    while day <= end:
        count += calendar.is_workday(day)
        day += timedelta(days=1)
    return count


def _header(settings: Settings, number: str, dated: date, locale: str) -> Header:
    return Header(settings.office_name, number, settings.notice_addressee, dated, locale)


def _figure(name: str, row: object) -> DocumentFigure:
    return DocumentFigure(name, row.total, row.signed_off, row.overdue)  # type: ignore[attr-defined]
