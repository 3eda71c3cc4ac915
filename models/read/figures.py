"""The office's figures: per document, per lead unit, escalation levels, the weekly rate trend, 签收 and 催办.

Every count is the number of items an `ItemFilter` lists (models.read.filters.conditions, cancelled
items left out; rate = signed off / total; 签收率 = acknowledged / (acknowledged + unacknowledged),
see docs/read.md), grouped in one query (催办 counted from the `urged` events in a second): a row carries the filter its
links open, so a figure and its list agree by construction. `duban report`, the dashboard, the
API and the figures spreadsheet all read from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, String, and_, bindparam, case, func, or_
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression
from sqlmodel import Session, col, select

from models.db import is_postgres
from models.deadlines import start_of_day
from models.periods import reported_by_due_day_end
from models.read.counts import Row as Row
from models.read.counts import bound_constant, named, report, rows_by_key
from models.read.counts import rate as rate
from models.read.day import due_day_end_shift, sqlite_shift
from models.read.due import (
    Day,
    due_soon_condition,
    lead_acknowledged,
    overdue_condition,
    unacknowledged_condition,
    unfinished_condition,
)
from models.read.filters import (
    ARCHIVED_DOCUMENTS,
    ItemFilter,
    UnitRole,
    conditions,
    not_archived,
    scope_units,
    sees_everything,
)
from models.tables import Document, Item, ItemEvent, ItemPeriod, Person, Role, Status, Unit

TREND_WEEKS = 8


def count_rows(
    session: Session, key: Any, where: Iterable[Any], day: Day, names: dict[Any, str] | None = None,
) -> dict[Any, Row]:
    """Items within `where` (cancelled ones left out) grouped by the column `key`, counted."""
    return named(_count_rows(session, (key,), where, day), names)


def _count_rows(session: Session, keys: tuple[Any, ...], where: Iterable[Any], day: Day) -> dict[tuple[Any, ...], Row]:
    """`count_rows` grouped by several columns at once, keyed by their values' tuple; rows unnamed."""
    postgres = is_postgres(session)
    counted, urged, periods = _count_statements(
        keys, where, day.today, day.soon_until, _due_day_end_shift(postgres, day), postgres)
    return rows_by_key(len(keys), session.execute(counted).all(), session.execute(urged).all(),
                       session.execute(periods).all())


def _due_day_end_shift(postgres: bool, day: Day) -> Any:
    shift = due_day_end_shift(day.tz, day.now)
    return shift if postgres else sqlite_shift(shift)


def _count_statements(keys: tuple[Any, ...], where: Iterable[Any], today: Any, soon_until: Any, shift: Any,
                      postgres: bool) -> tuple[Any, Any, Any]:
    """The three grouped queries `_count_rows` reads (counts, 催办, periods; see rows_by_key), with
    the day's limits and the due-day end shift as values or bound parameters (compiled_report_sql)."""
    soon = func.sum(case((due_soon_condition(today, soon_until), 1), else_=0))
    late = func.sum(case((overdue_condition(today), 1), else_=0))
    signed = func.sum(case((Item.status == Status.SIGNED_OFF, 1), else_=0))
    opened = func.sum(case((unfinished_condition(), 1), else_=0))
    acked = func.sum(case((lead_acknowledged(), 1), else_=0))
    unacked = func.sum(case((unacknowledged_condition(), 1), else_=0))
    where = [Item.status != Status.CANCELLED, *where]
    counted = (select(*keys, func.count(), signed, opened, soon, late, acked, unacked).where(*where)  # type: ignore[call-overload]
               .group_by(*_grouped(keys, postgres)))
    urged = (select(*keys, func.count()).select_from(ItemEvent).join(Item, col(Item.id) == ItemEvent.item_id)  # type: ignore[call-overload]
             .where(ItemEvent.kind == "urged", *where).group_by(*_grouped(keys, postgres)))
    return counted, urged, _period_statement(keys, where, today, shift, postgres)


def period_counts(session: Session, key: Any, where: Iterable[Any], day: Day) -> dict[Any, tuple[int, int]]:
    """按时报送率's counts by the column `key`: the periods of the items within `where` whose due
    day is over, and those reported by it. A signed-off item's periods not reported count no more
    (the item ended; the sweep stops chasing them)."""
    postgres = is_postgres(session)
    statement = _period_statement((key,), where, day.today, _due_day_end_shift(postgres, day), postgres)
    return {k: (int(due), int(good or 0)) for k, due, good in session.execute(statement).all()}


def _period_statement(keys: tuple[Any, ...], where: Iterable[Any], today: Any, shift: Any, postgres: bool) -> Any:
    on_time = func.sum(case((reported_by_due_day_end(postgres, shift), 1), else_=0))
    return (
        select(*keys, func.count(), on_time).select_from(ItemPeriod).join(Item, col(Item.id) == ItemPeriod.item_id)  # type: ignore[call-overload]
        .where(col(ItemPeriod.due) < today, *where,
               or_(col(ItemPeriod.fulfilled_at).is_not(None), Item.status != Status.SIGNED_OFF))
        .group_by(*_grouped(keys, postgres))
    )


def _grouped(keys: tuple[Any, ...], postgres: bool) -> tuple[Any, ...]:
    """The GROUP BY of `keys`: on SQLite each as `+column` (`_unindexed`), the same groups in the same order."""
    return keys if postgres else tuple(_unindexed(k) for k in keys)


def _unindexed(column: Any) -> Any:
    """`+column`, which SQLite serves with no index. Grouping by an indexed column, SQLite otherwise
    walks that index and reads every item row out of order (with periods it also probes item_period
    once an item, even when that is empty): 2-3x the time of scanning the table and sorting the
    groups (bench.digest: about 0.8 s of its 3.8 s in SQLite). PostgreSQL wants the column itself
    in a GROUP BY, so only SQLite's statements take it."""
    return UnaryExpression(col(column), operator=operators.custom_op("+"))


def names_of(session: Session, model: Any, ids: Iterable[Any] | None = None) -> dict[int, str]:
    """Display names by id: documents' short names, units' names."""
    name = model.short_name if model is Document else model.name
    query = select(model.id, name)
    if ids is not None:
        query = query.where(col(model.id).in_(list(ids)))
    return dict(session.exec(query).all())


def unit_rows(session: Session, day: Day, base: ItemFilter = ItemFilter()) -> dict[int, Row]:
    """Every lead unit's figures over all items (the city ranking), each linked to its lead items."""
    where = conditions(session, None, base, day.today, day.soon_until)
    rows = count_rows(session, Item.lead_unit_id, where, day, names_of(session, Unit))
    for row in rows.values():
        row.link = replace(base, unit=row.name, unit_role=UnitRole.LEAD)
    return rows


def document_rows(session: Session, person: Person | None, base: ItemFilter, day: Day) -> dict[int, Row]:
    where = conditions(session, person, base, day.today, day.soon_until)
    rows = count_rows(session, Item.document_id, where, day, names_of(session, Document))
    for row in rows.values():
        row.link = replace(base, document=row.name)
    return rows


class CityRows:
    """Every document's and every lead unit's figures over all items on `day`, each counted when first
    asked for, once for all who show them (the leadership digest and the weekly 通报)."""

    def __init__(self, session: Session, day: Day) -> None:
        self.session, self.day = session, day

    @cached_property
    def documents(self) -> dict[int, Row]:
        return document_rows(self.session, None, ItemFilter(), self.day)

    @cached_property
    def units(self) -> dict[int, Row]:
        return unit_rows(self.session, self.day)


@dataclass
class Figures:
    as_of: datetime
    overall: Row
    documents: list[Row]
    units: list[Row]
    escalation: dict[int, int]
    week_starts: list[date]
    base: ItemFilter = ItemFilter()  # what the headline counts (an officer: their unit's lead items)
    places: dict[str, int] = field(default_factory=dict)  # each unit's place in the city ranking
    co_items: int = 0  # an officer's: open items their unit works on as a co-unit
    own_unit: str = ""

    def escalation_url(self, level: int) -> str:
        return self.base.url(level=level, open=True)

    def co_items_url(self) -> str:
        return self.base.url(unit_role=UnitRole.CO, open=True)


def base_filter(session: Session, person: Person | None) -> ItemFilter:
    """What a person's figures count: everything, or for an officer the items their unit leads
    (as the city ranking counts a unit); their co-unit work is told apart (Figures.co_items)."""
    if sees_everything(person) or person is None or person.unit_id is None or person.role == Role.LEADER:
        return ItemFilter()  # a unit's leader: every item of the units they oversee
    unit = session.get(Unit, person.unit_id)
    return ItemFilter(unit=unit.name if unit else "", unit_role=UnitRole.LEAD)


def week_starts(today: date, weeks: int = TREND_WEEKS) -> list[date]:
    """Mondays of the past `weeks` weeks, oldest first; the last is this week's."""
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=k) for k in range(weeks - 1, -1, -1)]


def build_figures(session: Session, person: Person | None, now: datetime, tz: ZoneInfo) -> Figures:
    day = Day.at(now, tz)
    base = base_filter(session, person)
    everything = sees_everything(person)
    overseen = scope_units(person) if person is not None and person.role == Role.LEADER else None
    documents = document_rows(session, person, base, day)
    city = unit_rows(session, day)
    places = {row.name: place for place, row in ranking(list(city.values()))}
    if everything or overseen is not None:
        # A unit's leader: their units' rows; the headline counts every item of those units (lead or co).
        units = [row for unit_id, row in city.items() if overseen is None or unit_id in overseen]
        overall = Row("", **{f: sum(getattr(r, f) for r in documents.values())
                             for f in ("total", "signed_off", "open", "due_soon", "overdue",
                                                                       "acknowledged", "unacknowledged", "urged",
                                                                       "periods_due", "periods_on_time")}, link=base)
    else:
        units = [row for row in city.values() if row.name == base.unit]
        overall = replace(units[0], name="", trend=[]) if units else Row("", link=base)
    where = conditions(session, person, base, day.today, day.soon_until)
    escalation = {
        int(level): row.total for level, row in count_rows(
            session, Item.escalation_level, [*where, unfinished_condition(), col(Item.escalation_level) > 0], day,
        ).items()
    }
    starts = week_starts(day.today)
    _add_trend(session, [Item.status != Status.CANCELLED, *where], starts[1:], tz, documents, overall)
    co_items = 0
    if not everything and base.unit:
        co_work = conditions(session, person, replace(base, unit_role=UnitRole.CO, open=True), day.today,
                             day.soon_until)
        co_items = int(session.exec(select(func.count()).select_from(Item).where(*co_work)).one())
    return Figures(
        as_of=now, overall=overall,
        documents=sorted(documents.values(), key=lambda r: r.name),
        units=by_attention(units),
        escalation=dict(sorted(escalation.items())), week_starts=starts, base=base, places=places,
        co_items=co_items, own_unit=base.unit,
    )


def _add_trend(session: Session, scope: list[Any], boundaries: list[date], tz: ZoneInfo,
               documents: dict[Any, Row], overall: Row) -> None:
    """The rate at the end of each past week, among the items that existed then."""
    past = _past_counts(session, scope, boundaries, tz)
    n = len(boundaries)
    totals, signed = [0] * n, [0] * n
    for document_id, row in documents.items():
        existed, done = past.get(document_id, ([0] * n, [0] * n))
        row.trend = [rate(done[i], existed[i]) for i in range(n)] + [row.rate]
        for i in range(n):
            totals[i] += existed[i]
            signed[i] += done[i]
    overall.trend = [rate(signed[i], totals[i]) for i in range(n)] + [overall.rate]


def _past_counts(session: Session, scope: list[Any], boundaries: list[date], tz: ZoneInfo,
                 ) -> dict[Any, tuple[list[int], list[int]]]:
    """Per document, the items that existed and those signed off at 00:00 of each boundary day.

    Signing off is final, so an item signed off now and before the boundary was signed off then,
    unless its one `signed_off` event is later. Items imported as signed off count from their
    import. Items cancelled since are not taken back (a cancellation keeps no earlier status).
    """
    instants = [start_of_day(day, tz) for day in boundaries]
    existed = [func.sum(case((col(Item.created_at) < at, 1), else_=0)) for at in instants]
    done = [func.sum(case((and_(col(Item.created_at) < at, Item.status == Status.SIGNED_OFF), 1), else_=0))
            for at in instants]
    past = {row[0]: [int(v or 0) for v in row[1:]] for row in session.execute(
        select(Item.document_id, *existed, *done).where(*scope, col(Item.created_at) < instants[-1])
        .group_by(*_grouped((Item.document_id,), is_postgres(session)))
    ).all()}
    later = [func.sum(case((and_(col(ItemEvent.at) >= at, col(Item.created_at) < at), 1), else_=0))
             for at in instants]
    since = {row[0]: [int(v or 0) for v in row[1:]] for row in session.execute(
        select(Item.document_id, *later).select_from(ItemEvent)
        .join(Item, col(Item.id) == ItemEvent.item_id)
        .where(ItemEvent.kind == "signed_off", col(ItemEvent.at) >= instants[0], *scope)
        .group_by(Item.document_id)
    ).all()}
    n = len(instants)
    out: dict[Any, tuple[list[int], list[int]]] = {}
    for document_id, values in past.items():
        after = since.get(document_id, [0] * n)
        out[document_id] = (values[:n], [values[n + i] - after[i] for i in range(n)])
    return out


def by_attention(units: Iterable[Row]) -> list[Row]:
    """Units needing attention first: most overdue, then most due soon, then by name (the
    dashboard's table and the digests' unit tables)."""
    return sorted(units, key=lambda r: (-r.overdue, -r.due_soon, r.name))


def signed_off_since(session: Session, key: Any, where: Iterable[Any], since: datetime) -> dict[Any, int]:
    """Items within `where` signed off from `since` on, grouped by the column `key` (the digests'
    "signed off this week"). Items imported as signed off count from their import."""
    return {k: n for (k,), n in _signed_off_since(session, (key,), where, since).items()}


def _signed_off_since(session: Session, keys: tuple[Any, ...], where: Iterable[Any], since: datetime,
                      ) -> dict[tuple[Any, ...], int]:
    signed_at = (select(ItemEvent.item_id.label("item_id"), func.max(ItemEvent.at).label("at"))  # type: ignore[attr-defined]
                 .where(ItemEvent.kind == "signed_off").group_by(ItemEvent.item_id).subquery())
    at = func.coalesce(signed_at.c.at, Item.created_at)
    rows = session.execute(
        select(*keys, func.count()).select_from(Item).outerjoin(signed_at, signed_at.c.item_id == Item.id)
        .where(Item.status == Status.SIGNED_OFF, at >= since, *where).group_by(*keys)
    ).all()
    return {tuple(k): int(n) for *k, n in rows}


def supervisors_unit_rows(session: Session, day: Day, since: datetime) -> dict[int, tuple[dict[int, Row], dict[int, int]]]:
    """For every supervisor at once, what `unit_rows(session, day, ItemFilter(supervisor=email))` and
    `signed_off_since` over that filter give (the digests' unit tables): per supervisor id, their
    lead units' rows (named, linked to the unit's items under that supervisor) and per unit the items
    signed off since `since`. Grouped queries by (supervisor, lead unit), not one set per supervisor."""
    supervised = col(Item.supervisor_id) if is_postgres(session) else _unindexed(Item.supervisor_id)  # not its index: all but a few items have one
    where = [supervised.is_not(None), *conditions(session, None, ItemFilter(), day.today, day.soon_until)]
    keys = (Item.supervisor_id, Item.lead_unit_id)
    units = names_of(session, Unit)
    emails: dict[int, str] = dict(session.exec(select(Person.id, Person.email)).all())  # type: ignore[arg-type]
    out: dict[int, tuple[dict[int, Row], dict[int, int]]] = {}
    for (supervisor_id, unit_id), row in _count_rows(session, keys, where, day).items():
        row.name = units.get(unit_id, str(unit_id))
        row.link = ItemFilter(supervisor=emails[supervisor_id].lower(), unit=row.name, unit_role=UnitRole.LEAD)
        out.setdefault(supervisor_id, ({}, {}))[0][unit_id] = row
    for (supervisor_id, unit_id), n in _signed_off_since(session, keys, where, since).items():
        out.setdefault(supervisor_id, ({}, {}))[1][unit_id] = n
    return out


def rate_change(session: Session, where: Iterable[Any], since: date, tz: ZoneInfo,
                documents: dict[Any, Row]) -> dict[Any, float | None]:
    """Each document row's rate now less its rate at 00:00 of `since`, among the items that existed
    then (as the dashboard's trend counts it); None for a document none of whose items existed then."""
    past = _past_counts(session, [Item.status != Status.CANCELLED, *where], [since], tz)
    return {k: round(row.rate - rate(past[k][1][0], past[k][0][0]), 1) if past.get(k, ([0], []))[0][0] else None
            for k, row in documents.items()}


def ranked(units: list[Row]) -> list[Row]:
    """Units by rate, best first; at equal rates fewer overdue items first, then by name."""
    return sorted(units, key=lambda u: (-u.rate, u.overdue, u.name))


def rank_numbers(rates: list[float]) -> list[int]:
    """Competition ranking of rates sorted best first: equal rates share a rank (1, 2, 2, 4)."""
    numbers: list[int] = []
    for i, value in enumerate(rates):
        numbers.append(numbers[-1] if i and value == rates[i - 1] else i + 1)
    return numbers


def ranking(units: list[Row]) -> list[tuple[int, Row]]:
    """Every unit with its place, best rate first (the dashboard's ranking and its spreadsheet)."""
    by_rate = ranked(units)
    return list(zip(rank_numbers([u.rate for u in by_rate]), by_rate, strict=True))


def build_report(session: Session, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """`duban report`: per document and per lead unit over every item, sorted by name (on SQLite the
    CLI reads the same through models.read.counts.sqlite_report)."""
    day = Day.at(now, tz)
    return report(now, tz, document_rows(session, None, ItemFilter(), day), unit_rows(session, day))


def report_statements() -> dict[str, Any]:
    """The statements `build_report` runs, by name, with the day's limits, the due-day end shift and
    the archived documents' ids as bound parameters (today, soon_until, shift, archived)."""
    today, soon_until = bindparam("today", type_=Date), bindparam("soon_until", type_=Date)
    shift = bindparam("shift", type_=String)
    out: dict[str, Any] = {"archived_documents": ARCHIVED_DOCUMENTS}
    for name, key, names in (("document", Item.document_id, select(Document.id, Document.short_name)),
                             ("unit", Item.lead_unit_id, select(Unit.id, Unit.name))):
        out[f"{name}_names"] = names
        for suffix, where in (("", []), ("_archived", [not_archived(bindparam("archived", expanding=True))])):
            counted, urged, periods = _count_statements((key,), where, today, soon_until, shift, False)
            out.update({f"{name}_counts{suffix}": counted, f"{name}_urged{suffix}": urged,
                        f"{name}_periods{suffix}": periods})
    return out


def compiled_report_sql() -> str:
    """models/read/report_sql.py: `report_statements` and models.read.views' list_ and show_statements compiled
    for SQLite (named parameters), each with its constant parameters' values as SQLAlchemy binds them."""
    from sqlalchemy.dialects.sqlite import pysqlite

    dialect = pysqlite.dialect(paramstyle="named")
    lines = ['"""`duban report`\'s and `duban items`\' statements for SQLite, generated by `python -m models.read.figures`',
             "from models.read.figures.report_statements and models.read.views.list_statements (read by",
             "models.read.counts and models.read.listed); do not edit.\"\"\"", "",
             "from typing import Any", "", "SQLITE: dict[str, tuple[str, dict[str, Any]]] = {"]
    from models.read.views import list_statements, show_statements

    for name, statement in {**report_statements(), **list_statements(), **show_statements()}.items():
        compiled = statement.compile(dialect=dialect)
        processors = compiled._bind_processors
        constants = {key: bound_constant(processors.get(key), value) for key, value in compiled.params.items()
                     if key not in ("today", "soon_until", "shift", "archived", "limit", "offset", "ids", "item_id",
                                 "document", "document_id", "number")}
        lines.append(f"    {name!r}: (")
        lines.extend(f"        {line!r}" for line in _lines(compiled.string))
        lines.append(f"        , {constants!r}),")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _lines(sql: str) -> list[str]:
    parts = sql.splitlines(keepends=True)
    return [part.replace("\n", " ") if part.endswith("\n") else part for part in parts]


if __name__ == "__main__":
    (Path(__file__).parent / "report_sql.py").write_text(compiled_report_sql(), encoding="utf-8")
