"""The item list behind /items, its .xlsx export and /api/v1/items: filters, sort, pages."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from models.deadlines import ACTIVE_STATUSES
from models.errors import NotFound
from models.queries import find_unit
from models.tables import Document, Item, ItemCoUnit, Person, Status, Unit
from web.access import visible_clause
from web.calendar import Day, due_soon_until

SORTS: dict[str, tuple[Any, ...]] = {
    "deadline": (col(Item.deadline), col(Item.id)),
    "-deadline": (col(Item.deadline).desc(), col(Item.id).desc()),
    "ref": (col(Item.document_id), col(Item.id)),
    "level": (col(Item.escalation_level).desc(), col(Item.deadline), col(Item.id)),
    "updated": (col(Item.updated_at).desc(), col(Item.id).desc()),
}
PER_PAGE = 50
MAX_EXPORT_ROWS = 100_000


@dataclass(frozen=True)
class ItemQuery:
    document: str = ""  # short name
    unit: str = ""  # lead unit or co-unit, by name or code
    status: Status | None = None
    overdue: bool = False
    due_soon: bool = False
    level: int | None = None
    q: str = ""
    sort: str = "deadline"
    page: int = 1
    per_page: int = PER_PAGE

    def params(self, **changes: Any) -> dict[str, Any]:
        """The query as URL parameters (only the ones set), with `changes` applied."""
        query = replace(self, **changes)
        out = {
            "document": query.document, "unit": query.unit, "status": query.status or "",
            "overdue": "1" if query.overdue else "", "due_soon": "1" if query.due_soon else "",
            "level": "" if query.level is None else str(query.level), "q": query.q,
            "sort": "" if query.sort == "deadline" else query.sort, "page": "" if query.page == 1 else str(query.page),
        }
        return {k: v for k, v in out.items() if v}

    def url(self, path: str = "/items", **changes: Any) -> str:
        """`path` with the query's parameters (see params): the address of this view."""
        params = self.params(**changes)
        return f"{path}?{urlencode(params)}" if params else path


class ListedItem(NamedTuple):
    """The columns of an item that lists show (plain tuples: ORM objects cost more than the query)."""

    id: int
    number: str
    title: str
    status: Status
    deadline: date
    original_deadline: date
    escalation_level: int
    version: int


LISTED_COLUMNS = tuple(col(getattr(Item, name)) for name in ListedItem._fields)


@dataclass(frozen=True)
class ItemRow:
    item: ListedItem
    document: str
    lead_unit: str
    due_state: str
    light: str

    @property
    def ref(self) -> str:
        return f"{self.document}/{self.item.number}"

    def as_dict(self) -> dict[str, Any]:
        item = self.item
        return {
            "id": item.id, "ref": self.ref, "document": self.document, "number": item.number,
            "title": item.title, "lead_unit": self.lead_unit, "status": item.status,
            "due_state": self.due_state, "light": self.light, "deadline": item.deadline.isoformat(),
            "original_deadline": item.original_deadline.isoformat(),
            "escalation_level": item.escalation_level, "version": item.version,
        }


def _conditions(session: Session, person: Person, query: ItemQuery, now: datetime, tz: ZoneInfo) -> list[Any]:
    conditions: list[Any] = []
    visible = visible_clause(person)
    if visible is not None:
        conditions.append(visible)
    if query.document:
        document_id = session.exec(select(Document.id).where(Document.short_name == query.document)).first()
        conditions.append(Item.document_id == (document_id or -1))
    if query.unit:
        try:
            unit_id = find_unit(session, query.unit).id
        except NotFound:
            unit_id = -1
        co_items = select(ItemCoUnit.item_id).where(ItemCoUnit.unit_id == unit_id)
        conditions.append(or_(Item.lead_unit_id == unit_id, col(Item.id).in_(co_items)))
    if query.status:
        conditions.append(Item.status == query.status)
    today = now.astimezone(tz).date()
    active = col(Item.status).in_(list(ACTIVE_STATUSES))
    if query.overdue:
        conditions.append(and_(active, col(Item.deadline) <= today - timedelta(days=1)))
    if query.due_soon:
        conditions.append(and_(active, col(Item.deadline) >= today, col(Item.deadline) <= due_soon_until(today)))
    if query.level is not None:
        conditions.append(Item.escalation_level == query.level)
    if query.q.strip():
        text = query.q.strip()
        conditions.append(or_(col(Item.title).contains(text, autoescape=True), Item.number == text))
    return conditions


def list_rows(
    session: Session, person: Person, query: ItemQuery, now: datetime, tz: ZoneInfo, *, everything: bool = False
) -> list[ItemRow]:
    """One page of rows (or, for the export, every row up to MAX_EXPORT_ROWS)."""
    return _rows(session, _conditions(session, person, query, now, tz), query, now, tz, everything)


def page_of_items(
    session: Session, person: Person, query: ItemQuery, now: datetime, tz: ZoneInfo
) -> tuple[list[ItemRow], int]:
    """One page of rows and how many match in all (the filters worked out once for both)."""
    conditions = _conditions(session, person, query, now, tz)
    return _rows(session, conditions, query, now, tz, False), _count(session, conditions)


def _count(session: Session, conditions: list[Any]) -> int:
    return int(session.exec(select(func.count()).select_from(Item).where(*conditions)).one())


def _rows(
    session: Session, conditions: list[Any], query: ItemQuery, now: datetime, tz: ZoneInfo, everything: bool
) -> list[ItemRow]:
    statement = (
        select(*LISTED_COLUMNS, Document.short_name, Unit.name)
        .join(Document, col(Document.id) == Item.document_id)
        .join(Unit, col(Unit.id) == Item.lead_unit_id)
        .where(*conditions)
        .order_by(*SORTS.get(query.sort, SORTS["deadline"]))
    )
    if everything:
        statement = statement.limit(MAX_EXPORT_ROWS)
    else:
        statement = statement.offset((max(query.page, 1) - 1) * query.per_page).limit(query.per_page)
    day = Day.at(now, tz)
    out = []
    for row in session.exec(statement).all():
        item = ListedItem(*row[:-2])
        out.append(ItemRow(item, row[-2], row[-1], day.due_state(item.status, item.deadline),
                           day.light(item.status, item.deadline)))
    return out
