"""The weekly 通报 and the 督办通知单 as Word documents: pure builders from plain facts to a .docx.

The facts are gathered by notifications/documents/facts.py; here only the office's sentences and
the layout (layout.py). Item text goes into runs as plain text: python-docx escapes it, and a
.docx has no formulas, so nothing a unit typed can become markup or a live field.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from docx.document import Document

from config.i18n import gettext, ngettext, week_name
from notifications.documents import layout
from notifications.documents.layout import Column


@dataclass(frozen=True)
class DocumentFigure:
    name: str
    total: int
    signed_off: int
    overdue: int

    @property
    def rate(self) -> float:
        return round(100 * self.signed_off / self.total, 1) if self.total else 0.0


@dataclass(frozen=True)
class OverdueItem:
    unit: str
    document: str
    number: str
    title: str
    deadline: date
    days_overdue: int


@dataclass(frozen=True)
class OverdueUnit:
    """A lead unit's overdue items as the 通报 lists them: its count and its longest overdue ones."""

    unit: str
    count: int  # all its overdue items (the figures' count)
    items: Sequence[OverdueItem]  # the first `weekly_notice_items_per_unit`, longest overdue first

    @property
    def rest(self) -> int:
        """Those not listed, counted in the unit's 等N项 line."""
        return self.count - len(self.items)


@dataclass(frozen=True)
class RankedUnit:
    place: int
    unit: str
    total: int
    signed_off: int
    rate: float
    overdue: int


@dataclass(frozen=True)
class Header:
    issuer: str  # the office's name, the red header and the signature
    number: str  # 文号, e.g. 督办通报〔2024〕40号
    addressee: str  # 主送, e.g. 各有关单位
    dated: date  # 成文日期
    locale: str = "zh-CN"


@dataclass(frozen=True)
class WeeklyFacts:
    header: Header
    week: str  # ISO week, e.g. 2024-W40
    as_of: date
    overall: DocumentFigure
    documents: Sequence[DocumentFigure]
    overdue: Sequence[OverdueUnit]  # units with overdue items, most first
    ranking: Sequence[RankedUnit]

    @property
    def overdue_count(self) -> int:
        return sum(unit.count for unit in self.overdue)


@dataclass(frozen=True)
class ItemFacts:
    header: Header
    as_of: date
    unit: str
    co_units: Sequence[str]
    document: str
    number: str
    title: str
    deadline: date
    original_deadline: date
    state: str  # the state in words
    days_overdue: int  # 0 when not overdue
    workdays_left: int | None  # working days to the deadline when not overdue
    latest_progress: str
    reply_by: date
    supervisor: str
    extra: dict[str, Any] = field(default_factory=dict)


def _words(locale: str) -> Callable[[str], str]:
    return functools.partial(gettext, locale)


def _plural(locale: str) -> Callable[[str, str, int], str]:
    return functools.partial(ngettext, locale)


def day_words(day: date, locale: str, *, year: bool = True) -> str:
    """2024年10月8日 / 8 October 2024 (10月8日 / 8 October without the year)."""
    if locale == "en":
        return day.strftime("%-d %B %Y" if year else "%-d %B")
    return f"{day.year}年{day.month}月{day.day}日" if year else f"{day.month}月{day.day}日"


def figure_sentence(figure: DocumentFigure, as_of: date, locale: str) -> str:
    """截至10月8日，《新时代意见》103项事项已落实53项，占51.5%。"""
    _ = _words(locale)
    return _("As of {day}, {document}: {signed_off} of {total} items implemented ({rate}%).").format(
        day=day_words(as_of, locale, year=False), document=_title_of(figure.name, locale),
        total=figure.total, signed_off=figure.signed_off, rate=f"{figure.rate:.1f}")


def _title_of(name: str, locale: str) -> str:
    return f"《{name}》" if locale != "en" else f"“{name}”"


def weekly_notice(facts: WeeklyFacts) -> Document:
    """The weekly 通报: overall and per-document figures, overdue items by unit, the ranking."""
    locale = facts.header.locale
    _ = _words(locale)
    document = layout.official_document()
    layout.issuer_mark(document, facts.header.issuer, facts.header.number)
    layout.title(document, _("Notice on the implementation of supervised items, {week}").format(
        week=week_name(facts.week, locale)))
    layout.addressee(document, facts.header.addressee + ("：" if locale != "en" else ":"))
    layout.body(document, _("This notice reports how the supervised items stand as of {day}.").format(
        day=day_words(facts.as_of, locale)))

    layout.heading(document, _("1. Overall"))
    layout.body(document, _("As of {day}, {signed_off} of all {total} items implemented ({rate}%).").format(
        day=day_words(facts.as_of, locale, year=False), total=facts.overall.total,
        signed_off=facts.overall.signed_off, rate=f"{facts.overall.rate:.1f}"))
    for figure in facts.documents:
        layout.body(document, figure_sentence(figure, facts.as_of, locale))

    layout.heading(document, _("2. Overdue items"))
    if facts.overdue:
        n_ = _plural(locale)
        layout.body(document, n_("As of {day}, {count} item is overdue, led by {units} unit(s):",
                                 "As of {day}, {count} items are overdue, led by {units} unit(s):",
                                 facts.overdue_count).format(
            day=day_words(facts.as_of, locale, year=False), count=facts.overdue_count, units=len(facts.overdue)))
        if any(unit.rest for unit in facts.overdue):
            shown = max(len(unit.items) for unit in facts.overdue)
            layout.body(document, n_("For each unit the item longest overdue is listed; the line under it counts "
                                     "the rest.",
                                     "For each unit the {shown} items longest overdue are listed; the line under "
                                     "them counts the rest.", shown).format(shown=shown))
        layout.table(document, [
            Column(_("No."), 12, "center"), Column(_("Lead unit"), 24), Column(_("Document"), 22),
            Column(_("Item number"), 13, "center"), Column(_("Item"), 40), Column(_("Deadline"), 26, "center"),
            Column(_("Days overdue"), 19, "center")], _overdue_rows(facts.overdue, locale))
    else:
        layout.body(document, _("As of {day}, no item is overdue.").format(
            day=day_words(facts.as_of, locale, year=False)))

    layout.heading(document, _("3. Units ranked by rate"))
    layout.body(document, _("Units are ranked by the share of their items implemented; at equal rates, "
                               "fewer overdue items first."))
    layout.table(document, [
        Column(_("Rank"), 14, "center"), Column(_("Unit"), 50), Column(_("Item count"), 20, "center"),
        Column(_("Implemented"), 22, "center"), Column(_("Rate"), 24, "center"),
        Column(_("Overdue"), 20, "center")],
        [[str(r.place), r.unit, str(r.total), str(r.signed_off), f"{r.rate:.1f}%", str(r.overdue)]
         for r in facts.ranking])

    layout.heading(document, _("4. Requirements"))
    layout.body(document, _("Lead units of overdue items report their progress and the steps they take, "
                               "with evidence, within three working days; an item that cannot be finished "
                               "in time needs an extension request with its reason."))
    layout.signature(document, facts.header.issuer, day_words(facts.header.dated, locale))
    return document


def _overdue_rows(units: Sequence[OverdueUnit], locale: str) -> list[list[str]]:
    """Each unit's listed items, numbered on through the table, then its 等N项 line when some are not listed."""
    _ = _words(locale)
    rows: list[list[str]] = []
    number = 0
    for unit in units:
        for item in unit.items:
            number += 1
            rows.append([str(number), unit.unit, item.document, item.number, item.title, item.deadline.isoformat(),
                         str(item.days_overdue)])
        if unit.rest:
            rest = _("… {count} items in all ({rest} not listed)").format(count=unit.count, rest=unit.rest)
            rows.append(["", unit.unit, "", "", rest, "", ""])
    return rows


def item_notice(facts: ItemFacts) -> Document:
    """The 督办通知单 for one item: what, who, the deadline, what is late, what is required by when."""
    locale = facts.header.locale
    _ = _words(locale)
    document = layout.official_document()
    layout.issuer_mark(document, facts.header.issuer, facts.header.number)
    layout.title(document, _("Supervision notice"))
    layout.addressee(document, facts.unit + ("：" if locale != "en" else ":"))
    layout.body(document, _("Item {number} of {document}, “{title}”, is led by your unit; its deadline is "
                               "{deadline}.").format(
        number=facts.number, document=_title_of(facts.document, locale), title=facts.title,
        deadline=day_words(facts.deadline, locale)))
    n_ = _plural(locale)
    if facts.days_overdue:
        state = n_("As of {day} it is {state} and {days} day overdue.",
                   "As of {day} it is {state} and {days} days overdue.", facts.days_overdue)
    else:
        state = n_("As of {day} it is {state}; {days} working day is left.",
                   "As of {day} it is {state}; {days} working days are left.", facts.workdays_left or 0)
    layout.body(document, state.format(day=day_words(facts.as_of, locale), state=facts.state,
                                       days=facts.days_overdue or facts.workdays_left or 0))
    layout.body(document, _("Please report its progress, with evidence, by {day}. If it cannot be finished "
                               "in time, request an extension and give the reason.").format(
        day=day_words(facts.reply_by, locale)))
    none = _("none")
    layout.table(document, [Column(_("Field"), 36), Column(_("Value"), 120)], [
        [_("Document"), facts.document], [_("Item number"), facts.number], [_("Item"), facts.title],
        [_("Lead unit"), facts.unit], [_("Co-units"), "、".join(facts.co_units) or none],
        [_("Deadline"), facts.deadline.isoformat()],
        [_("Original deadline"), facts.original_deadline.isoformat()],
        [_("Status"), facts.state], [_("Latest progress"), facts.latest_progress or none],
        [_("Supervisor"), facts.supervisor or none],
    ])
    layout.signature(document, facts.header.issuer, day_words(facts.header.dated, locale))
    return document
