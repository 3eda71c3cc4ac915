"""Items as people read them: the list's rows (page, CLI, API, export) and one item in detail."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import CompoundSelect, Connection, bindparam, func, literal_column, union_all
from sqlmodel import Session, col, select

from models.attachments import Attachment, as_listed
from models.db import json_value
from models.lifecycle import Action, allowed_actions
from models.periods import item_periods
from models.read import listed
from models.read.due import Day, unacknowledged_condition
from models.read.figures import names_of
from models.read.filters import (
    ItemFilter,
    UnitRole,
    archived_documents,
    conditions,
    conditions_and_unit,
    not_archived,
    plain_rows,
    scope_units,
    scope_within,
    sqlite_rows,
)
from models.read.listed import (
    MARKS_CHUNK,
    ItemRow,
    ListedItem,
    item_rows,
    too_long,
)
from models.read.shown import ShownEvent, instant
from models.read.timeline import TimelineLine, timeline_lines
from models.tables import (
    Document,
    ExtensionRequest,
    ExtensionStatus,
    Item,
    ItemAcknowledgement,
    ItemCoUnit,
    ItemEvent,
    Person,
    ProgressReport,
    Role,
    Unit,
    shown_name,
)

SORTS: dict[str, tuple[Any, ...]] = {
    "deadline": (col(Item.deadline), col(Item.id)),
    "-deadline": (col(Item.deadline).desc(), col(Item.id).desc()),
    "ref": (col(Item.document_id), col(Item.id)),
    "document": (col(Document.short_name), col(Item.id)),  # the CLI's order: documents by name
    "level": (col(Item.escalation_level).desc(), col(Item.deadline), col(Item.id)),
    "updated": (col(Item.updated_at).desc(), col(Item.id).desc()),
}
PER_PAGE = 50


@dataclass(frozen=True)
class ItemQuery(ItemFilter):
    """A filter plus the order and the page of a list."""

    sort: str = "deadline"
    page: int = 1
    per_page: int = PER_PAGE

    def params(self, **changes: Any) -> dict[str, str]:
        query = replace(self, **changes)
        out = ItemFilter.params(query)
        if query.sort != "deadline":
            out["sort"] = query.sort
        if query.page != 1:
            out["page"] = str(query.page)
        return out


LISTED_COLUMNS = tuple(col(getattr(Item, name)) for name in ListedItem._fields)


@dataclass(frozen=True)
class ItemPage:
    rows: list[ItemRow]
    total: int
    unit: str = ""  # the unit the filter names, by its full name ("" when none)


def _where(session: Session, person: Person | None, query: ItemFilter, day: Day) -> list[Any]:
    return conditions(session, person, query, day.today, day.soon_until)


def count_items(session: Session, person: Person | None, query: ItemFilter, now: datetime, tz: ZoneInfo) -> int:
    """How many items `query` lists for `person`: what a figure linking to that list shows."""
    where = _where(session, person, query, Day.at(now, tz))
    return int(plain_rows(session).execute(select(func.count()).select_from(Item).where(*where)).scalar_one())


def list_rows(
    session: Session, person: Person | None, query: ItemQuery, now: datetime, tz: ZoneInfo, *,
    everything: bool = False,
) -> list[ItemRow]:
    """One page of rows (or, for the export and the CLI, every row: refused, naming the limit, when
    there are more than MAX_EXPORT_ROWS, rather than cut short without a word)."""
    day = Day.at(now, tz)
    return _rows(session, _where(session, person, query, day), query, day, everything)


def page_of_items(session: Session, person: Person | None, query: ItemQuery, now: datetime, tz: ZoneInfo) -> ItemPage:
    """One page of rows and how many match in all (the filters worked out once for both)."""
    day = Day.at(now, tz)
    if _unfiltered(query):
        page = _sqlite_unfiltered_page(plain_rows(session), person, query, day)
        if page is not None:
            return page
    where, unit = conditions_and_unit(session, person, query, day.today, day.soon_until)
    total = int(plain_rows(session).execute(select(func.count()).select_from(Item).where(*where)).scalar_one())
    return ItemPage(_rows(session, where, query, day, False), total, unit.name if unit is not None else "")


_NO_FILTER = ItemFilter()
_FILTER_FIELDS = tuple(field.name for field in fields(ItemFilter) if field.name != "archived")


def _unfiltered(query: ItemFilter) -> bool:
    """No filter set but (or not) 含已归档: the list as it opens, what most requests for it are."""
    return all(getattr(query, name) == getattr(_NO_FILTER, name) for name in _FILTER_FIELDS)


def _sqlite_unfiltered_page(connection: Connection, person: Person | None, query: ItemQuery, day: Day) -> ItemPage | None:
    """`page_of_items` of an unfiltered list (`_unfiltered`) on SQLite, run on the DBAPI connection
    (`sqlite_rows`); None elsewhere, and for a person who sees no item (the general path says so).

    Its statements are the general path's for the same conditions (the person's units and the
    archived documents as lists), compiled once for each sort, scope and archive: through
    SQLAlchemy the count, the rows and their marks cost 0.3-0.4 ms more of every such page
    (docs/benchmarks.md). tests/web/test_list_plain.py compares both paths.
    """
    if connection.dialect.name != "sqlite":
        return None
    units = scope_units(person)
    if units is not None and not units:
        return None
    archived = [] if query.archived else archived_documents(connection)
    count, rows = _unfiltered_statements(query.sort if query.sort in SORTS else "deadline", units is not None,
                                         bool(archived))
    params: dict[str, Any] = {}
    if units is not None:
        params["units"] = sorted(units)
    if archived:
        params["archived"] = archived
    ((total,),) = sqlite_rows(connection, count, params)
    found = [(*row[:4], date.fromisoformat(row[4]), date.fromisoformat(row[5]), *row[6:])
             for row in sqlite_rows(connection, rows, {**params, "limit": query.per_page,
                                                      "offset": (max(query.page, 1) - 1) * query.per_page})]
    unacknowledged, urged = _marks_of(connection, [row[0] for row in found])
    return ItemPage(item_rows(found, day, unacknowledged, urged), int(total))


def _unfiltered_statements(sort: str, scoped: bool, archived: bool) -> tuple[Any, Any]:
    """The count and the rows of an unfiltered list: for a person who sees some units' items only
    (`scoped`, the units bound as "units") and without the archived documents (bound as "archived")."""
    key = (sort, scoped, archived)
    statements = _UNFILTERED.get(key)
    if statements is None:
        where = []
        if scoped:
            where.append(scope_within(bindparam("units", expanding=True)))
        if archived:
            where.append(not_archived(bindparam("archived", expanding=True)))
        statements = _UNFILTERED[key] = (
            select(func.count()).select_from(Item).where(*where),
            _ROWS_IN_ORDER[sort].where(*where).offset(bindparam("offset")).limit(bindparam("limit")))
    return statements


_UNFILTERED: dict[tuple[str, bool, bool], tuple[Any, Any]] = {}


MY_WORK_SHOWN = 50  # rows a group of My work shows; its count links to the whole list


def my_work(session: Session, person: Person, now: datetime, tz: ZoneInfo) -> list[tuple[str, ItemQuery, ItemPage]]:
    """An officer's own work (/my), each group a filter of the items list, so its count is the list
    its link opens: 未签收 by their unit as lead unit, returned to them, overdue, due soon. A
    supervisor's (or an admin's, who may be an item's 督办人 too): the items they supervise that are
    overdue, and those due soon."""
    if person.role in (Role.SUPERVISOR, Role.ADMIN):
        mine = [("overdue", ItemQuery(overdue=True, supervisor=person.email)),
                ("due_soon", ItemQuery(due_soon=True, supervisor=person.email))]
        return [(name, query, page_of_items(session, person, replace(query, per_page=MY_WORK_SHOWN), now, tz))
                for name, query in mine]
    unit = session.get(Unit, person.unit_id) if person.unit_id is not None else None
    groups = {
        "unacknowledged": ItemQuery(unit=unit.name if unit else "", unit_role=UnitRole.LEAD, unacknowledged=True),
        "returned": ItemQuery(returned=True),
        "overdue": ItemQuery(overdue=True),
        "due_soon": ItemQuery(due_soon=True),
    }
    out = []
    for name, query in groups.items():
        if name == "unacknowledged" and unit is None:
            continue
        out.append((name, query, page_of_items(session, person, replace(query, per_page=MY_WORK_SHOWN), now, tz)))
    return out


def _rows(session: Session, where: list[Any], query: ItemQuery, day: Day, everything: bool) -> list[ItemRow]:
    statement = _ROWS_IN_ORDER.get(query.sort, _ROWS_IN_ORDER["deadline"]).where(*where)
    if everything:
        statement = statement.limit(listed.MAX_EXPORT_ROWS + 1)
    else:
        statement = statement.offset((max(query.page, 1) - 1) * query.per_page).limit(query.per_page)
    found = plain_rows(session).execute(statement).all()
    if everything and len(found) > listed.MAX_EXPORT_ROWS:  # read when used: one binding, which tests set
        raise too_long(listed.MAX_EXPORT_ROWS)
    unacknowledged, urged = _marks_within(session, where) if everything else _marks(session, [row[0] for row in found])
    return item_rows(found, day, unacknowledged, urged)


# The rows' columns, joins and order built once for each sort; a page adds its conditions and limits.
_ROWS_IN_ORDER = {
    sort: select(*LISTED_COLUMNS, Document.short_name, Unit.name)
    .join(Document, col(Document.id) == Item.document_id)
    .join(Unit, col(Unit.id) == Item.lead_unit_id)
    .order_by(*order)
    for sort, order in SORTS.items()
}

# Built once, the ids bound at each call: building them per page (50 ids coerced into bound
# parameters, the statement's cache key worked out afresh) cost more than running them. One
# statement for both marks, each half with its own plan: 未签收 rows come with a count of 0 (an
# urged item's count is at least 1); one round through SQLAlchemy where two cost 0.2 ms more.
_MARKS_AMONG: CompoundSelect[Any] = union_all(
    select(Item.id, literal_column("0")).where(col(Item.id).in_(bindparam("ids", expanding=True)),
                                               unacknowledged_condition()),
    select(ItemEvent.item_id, func.count()).where(col(ItemEvent.item_id).in_(bindparam("ids", expanding=True)),
                                                  ItemEvent.kind == "urged")
    .group_by(ItemEvent.item_id),
)


def _marks(session: Session, ids: list[int]) -> tuple[set[int], dict[int, int]]:
    """Which of the listed items are 未签收 (the one condition) and how often each was urged.

    Asked of the listed ids after the page is found: as columns of the page's query, PostgreSQL
    worked them out for every matching item before sorting (1.8 ms became 140 ms on 100k items).
    """
    return _marks_of(plain_rows(session), ids)


def _marks_of(connection: Connection, ids: list[int]) -> tuple[set[int], dict[int, int]]:
    unacknowledged: set[int] = set()
    urged: dict[int, int] = {}
    sqlite = connection.dialect.name == "sqlite"
    for start in range(0, len(ids), MARKS_CHUNK):
        chunk = {"ids": ids[start:start + MARKS_CHUNK]}
        for item_id, count in (sqlite_rows(connection, _MARKS_AMONG, chunk) if sqlite
                               else connection.execute(_MARKS_AMONG, chunk)):
            if count:
                urged[item_id] = count
            else:
                unacknowledged.add(item_id)
    return unacknowledged, urged


def _marks_within(session: Session, where: list[Any]) -> tuple[set[int], dict[int, int]]:
    """`_marks` for every item within `where` (a whole list, not a page), asked with the list's own
    conditions rather than thousands of ids: a third of the time on 10k items (docs/benchmarks.md)."""
    unacknowledged, urged = _marks_within_statements(where)
    connection = plain_rows(session)
    return set(connection.execute(unacknowledged).scalars().all()), dict(connection.execute(urged).all())


def _marks_within_statements(where: list[Any]) -> tuple[Any, Any]:
    return (select(Item.id).where(*where, unacknowledged_condition()),
            select(ItemEvent.item_id, func.count()).join(Item, col(Item.id) == ItemEvent.item_id)
            .where(*where, ItemEvent.kind == "urged").group_by(ItemEvent.item_id))


def list_statements() -> dict[str, Any]:
    """The statements `list_rows` runs for the CLI's unfiltered list (sorted by document), by name, with
    the archived documents' ids, a page's limit and offset and the listed ids as bound parameters
    (archived, limit, offset, ids): models/read/report_sql.py, read by models.read.listed.sqlite_items."""
    out: dict[str, Any] = {"items_marks_among": _MARKS_AMONG}
    for suffix, where in (("", []), ("_archived", [not_archived(bindparam("archived", expanding=True))])):
        rows = _ROWS_IN_ORDER["document"].where(*where)
        unacknowledged, urged = _marks_within_statements(where)
        out.update({f"items{suffix}": rows.limit(listed.MAX_EXPORT_ROWS + 1),
                    f"items_page{suffix}": rows.offset(bindparam("offset")).limit(bindparam("limit")),
                    f"items_unacknowledged{suffix}": unacknowledged, f"items_urged{suffix}": urged})
    return out


# An item's page reads these on every view: built once, the ids bound at each call, and read as
# plain rows (one query for the document, lead unit and supervisor where three ORM loads were).
_FACTS = (
    select(Document.short_name, Document.title, Unit.name, Person.name, Person.email).select_from(Item)
    .outerjoin(Document, col(Document.id) == Item.document_id).outerjoin(Unit, col(Unit.id) == Item.lead_unit_id)
    .outerjoin(Person, col(Person.id) == Item.supervisor_id).where(Item.id == bindparam("item_id"))
)
_CO_UNITS = (
    select(Unit.id, Unit.name).join(ItemCoUnit, col(ItemCoUnit.unit_id) == Unit.id)
    .where(ItemCoUnit.item_id == bindparam("item_id")).order_by(col(Unit.name))
)
_REPORTS = (
    select(ProgressReport.at, Unit.name, Person.name, ProgressReport.text, ProgressReport.percent)
    .join(Unit, col(Unit.id) == ProgressReport.unit_id).join(Person, col(Person.id) == ProgressReport.person_id)
    .where(ProgressReport.item_id == bindparam("item_id"))
    .order_by(col(ProgressReport.at).desc(), col(ProgressReport.id).desc())
)
_PENDING_EXTENSION = select(ExtensionRequest.requested_deadline, ExtensionRequest.reason,
                            ExtensionRequest.requested_at).where(
    ExtensionRequest.item_id == bindparam("item_id"), ExtensionRequest.status == ExtensionStatus.PENDING)
_ACKNOWLEDGEMENTS = select(ItemAcknowledgement.unit_id, ItemAcknowledgement.person_id, ItemAcknowledgement.at).where(
    ItemAcknowledgement.item_id == bindparam("item_id"))
_ACTOR_UNITS = (select(Person.id, Unit.name).join(Unit, col(Unit.id) == Person.unit_id)
                .where(col(Person.id).in_(bindparam("ids", expanding=True))))


# The timeline and the files as plain rows: loading them as ORM objects cost 0.2 ms a page each.
_EVENTS = (
    select(ItemEvent.id, ItemEvent.kind, ItemEvent.at, ItemEvent.actor_id, ItemEvent.actor_label,
           ItemEvent.from_status, ItemEvent.to_status, ItemEvent.payload)
    .where(ItemEvent.item_id == bindparam("item_id")).order_by(col(ItemEvent.at).desc(), col(ItemEvent.id).desc())
)
_ATTACHMENTS = (
    select(Attachment.id, Attachment.name, Attachment.size, Attachment.sha256, Attachment.content_type,
           Attachment.event_id, Attachment.at)
    .where(Attachment.item_id == bindparam("item_id")).order_by(col(Attachment.id))
)


def show_statements() -> dict[str, Any]:
    """What `duban show` reads of `find_item` and `item_detail`, by name, with the item's id (or its
    document's short name and its number) and the acknowledging units' ids as bound parameters:
    models/read/report_sql.py, read by models.read.shown.sqlite_item_detail."""
    from models.attachments import Attachment

    shown = (Item.id, Item.document_id, Item.number, Item.title, Item.category, Item.status, Item.deadline,
             Item.original_deadline, Item.escalation_level, Item.version, Item.next_action_at)
    item_id: Any = bindparam("item_id")
    return {
        "item_by_id": select(*shown).where(Item.id == item_id),
        "document_by_name": select(Document.id).where(Document.short_name == bindparam("document")),
        "item_by_number": select(*shown).where(Item.document_id == bindparam("document_id"),
                                               Item.number == bindparam("number")),
        "item_facts": _FACTS, "item_co_units": _CO_UNITS, "item_acknowledgements": _ACKNOWLEDGEMENTS,
        "item_events": select(ItemEvent.id, ItemEvent.kind, ItemEvent.at, ItemEvent.actor_id, ItemEvent.actor_label,
                              ItemEvent.from_status, ItemEvent.to_status, ItemEvent.payload)
        .where(ItemEvent.item_id == item_id).order_by(col(ItemEvent.at), col(ItemEvent.id)),
        "unit_names_among": select(Unit.id, Unit.name).where(col(Unit.id).in_(bindparam("ids", expanding=True))),
        "item_attachments": select(Attachment.id, Attachment.name, Attachment.size, Attachment.sha256,
                                   Attachment.content_type, Attachment.event_id, Attachment.at)
        .where(Attachment.item_id == item_id).order_by(col(Attachment.id)),
    }


def item_detail(
    session: Session, person: Person | None, item: Item, now: datetime, tz: ZoneInfo,
    locale: str | None = None,
) -> dict[str, Any]:
    """One item as its page, the API and `duban show` give it: facts, timeline (newest first),
    progress reports, a pending extension request and (for a person) the actions they may take.

    With a `locale`, each timeline entry also carries its words (`line`, models.read.timeline).
    """
    connection = plain_rows(session)
    ids = {"item_id": item.id}
    reads = _SqliteReads(connection) if connection.dialect.name == "sqlite" else _Reads(connection)
    facts = reads.facts(ids)
    document, document_title, lead_unit, supervisor, supervisor_email = facts if facts is not None else (None,) * 5
    if supervisor is not None and supervisor_email is not None:
        supervisor = shown_name(supervisor, supervisor_email)
    co_units = reads.rows(_CO_UNITS, ids)
    reports = reads.reports(ids)
    pending = reads.pending_extension(ids)
    day = Day.at(now, tz)
    events = reads.events(ids)  # newest first
    actors = {e.actor_id for e in events if e.actor_id is not None}
    # each actor's unit, for pages that name an officer by unit
    actor_units: dict[int, str] = dict(reads.rows(_ACTOR_UNITS, {"ids": list(actors)})) if actors else {}
    # 签收, by unit id (as models.lifecycle.acknowledgements, read as plain rows)
    acknowledged = {row.unit_id: row for row in reads.acknowledgements(ids)}
    unit_names = names_of(session, Unit, acknowledged) if acknowledged else {}
    lines: list[TimelineLine | None] = (
        list(timeline_lines(events, locale, tz)) if locale is not None else [None] * len(events)
    )
    return {
        "id": item.id, "ref": f"{item.document_id if document is None else document}/{item.number}",  # as item_ref
        "document": document or "", "document_title": document_title or "", "number": item.number,
        "title": item.title, "category": item.category, "notes": item.notes, "lead_unit": lead_unit or "",
        "co_units": [name for _, name in co_units], "supervisor": supervisor, "supervisor_email": supervisor_email,
        "original_deadline": item.original_deadline, "deadline": item.deadline,
        "status": item.status, "due_state": day.due_state(item.status, item.deadline),
        "light": day.light(item.status, item.deadline),
        "escalation_level": item.escalation_level, "version": item.version,
        "next_action_at": item.next_action_at,
        "timeline": [
            {"id": e.id, "kind": e.kind, "at": e.at, "actor": e.actor_label, "actor_unit": actor_units.get(e.actor_id),
             "from": e.from_status, "to": e.to_status, "payload": e.payload, **({"line": line} if line is not None else {})}
            for e, line in zip(events, lines, strict=True)
        ],
        "progress_reports": [
            {"at": at, "unit": unit, "person": who, "text": text, "percent": percent}
            for at, unit, who, text, percent in reports
        ],
        "attachments": list(as_listed(reads.attachments(ids))),
        "frequency": item.frequency,
        "periods": [period.as_json() for period in item_periods(session, item.id, now, tz)] if item.id else [],
        "acknowledgements": [{"unit": unit_names.get(a.unit_id, ""), "at": a.at, "by_import": a.person_id is None}
                             for a in acknowledged.values()],
        "urged": sum(1 for e in events if e.kind == "urged"),
        "pending_extension": None if pending is None else {
            "requested_deadline": pending.requested_deadline, "reason": pending.reason,
            "requested_at": pending.requested_at,
        },
        "actions": [] if person is None else [
            str(a) for a in allowed_actions(item, person, {unit_id for unit_id, _ in co_units if unit_id is not None})
            if not (a is Action.ACKNOWLEDGE and person.unit_id in acknowledged)  # each unit acknowledges once
        ],
    }


class _Reads:
    """What `item_detail` reads of an item, as SQLAlchemy's rows."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def rows(self, statement: Any, params: dict[str, Any]) -> list[Any]:
        return list(self.connection.execute(statement, params).all())

    def facts(self, ids: dict[str, Any]) -> Any:
        return self.connection.execute(_FACTS, ids).one_or_none()

    def reports(self, ids: dict[str, Any]) -> list[Any]:
        return self.rows(_REPORTS, ids)

    def pending_extension(self, ids: dict[str, Any]) -> Any:
        return self.connection.execute(_PENDING_EXTENSION, ids).first()

    def events(self, ids: dict[str, Any]) -> list[Any]:
        return self.rows(_EVENTS, ids)

    def acknowledgements(self, ids: dict[str, Any]) -> list[Any]:
        return self.rows(_ACKNOWLEDGEMENTS, ids)

    def attachments(self, ids: dict[str, Any]) -> list[Any]:
        return self.rows(_ATTACHMENTS, ids)


class _PendingExtension(NamedTuple):
    requested_deadline: date
    reason: str
    requested_at: datetime | None


class _Acknowledgement(NamedTuple):
    unit_id: int
    person_id: int | None
    at: datetime | None


class _ListedFile(NamedTuple):
    id: int
    name: str
    size: int
    sha256: str
    content_type: str
    event_id: int | None
    at: datetime | None


class _SqliteReads(_Reads):
    """`_Reads` on SQLite through the DBAPI connection (`sqlite_rows`), each value as SQLAlchemy's
    types give it (dates, aware UTC instants, JSON payloads: models.read.shown's readings): the item
    page's nine reads cost 0.2-0.3 ms more through SQLAlchemy (docs/benchmarks.md).
    tests/web/test_item_detail_rows.py compares both."""

    def rows(self, statement: Any, params: dict[str, Any]) -> list[Any]:
        return sqlite_rows(self.connection, statement, params)

    def facts(self, ids: dict[str, Any]) -> Any:
        found = self.rows(_FACTS, ids)
        return found[0] if found else None

    def reports(self, ids: dict[str, Any]) -> list[Any]:
        return [(instant(at), unit, who, text, percent) for at, unit, who, text, percent in self.rows(_REPORTS, ids)]

    def pending_extension(self, ids: dict[str, Any]) -> Any:
        found = self.rows(_PENDING_EXTENSION, ids)
        if not found:
            return None
        deadline, reason, at = found[0]
        return _PendingExtension(date.fromisoformat(deadline), reason, instant(at))

    def events(self, ids: dict[str, Any]) -> list[Any]:
        return [ShownEvent(event_id, kind, instant(at), actor_id, label, before, after, json_value(payload))
                for event_id, kind, at, actor_id, label, before, after, payload in self.rows(_EVENTS, ids)]

    def acknowledgements(self, ids: dict[str, Any]) -> list[Any]:
        return [_Acknowledgement(unit_id, person_id, instant(at))
                for unit_id, person_id, at in self.rows(_ACKNOWLEDGEMENTS, ids)]

    def attachments(self, ids: dict[str, Any]) -> list[Any]:
        return [_ListedFile(file_id, name, size, sha256, content_type, event_id, instant(at))
                for file_id, name, size, sha256, content_type, event_id, at in self.rows(_ATTACHMENTS, ids)]


def as_json(detail: dict[str, Any]) -> dict[str, Any]:
    """Dates and instants as ISO 8601 strings; timeline words left out (they are for people)."""
    def plain(value: Any) -> Any:
        if isinstance(value, date | datetime):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items() if k != "line"}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return {k: plain(v) for k, v in detail.items()}
