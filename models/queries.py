"""Finding things: items by reference, people by email, filtered item lists, timelines."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from models.deadlines import ACTIVE_STATUSES
from models.errors import InvalidInput, NotFound
from models.tables import Document, Item, ItemCoUnit, ItemEvent, Person, Status, Unit


def find_item(session: Session, ref: str) -> Item:
    """An item by `DOCUMENT/NUMBER` (e.g. `新时代意见/12`) or by its numeric id."""
    ref = ref.strip()
    if ref.isdigit():
        item = session.get(Item, int(ref))
        if item is None:
            raise NotFound(f"no item with id {ref}", code="item.not_found", params={"id": ref})
        return item
    document_name, sep, number = ref.rpartition("/")
    if not sep or not document_name or not number:
        raise InvalidInput(f"{ref!r} is not an item reference; write DOCUMENT/NUMBER (e.g. 新时代意见/12) or an id",
                           code="item.bad_ref", params={"ref": ref})
    document = session.exec(select(Document).where(Document.short_name == document_name)).first()
    if document is None:
        raise NotFound(f"no document named {document_name!r} (item {ref})", code="document.not_found",
                       params={"document": document_name})
    item = session.exec(select(Item).where(Item.document_id == document.id, Item.number == number)).first()
    if item is None:
        raise NotFound(f"document {document_name!r} has no item {number!r}", code="document.no_item",
                       params={"document": document_name, "number": number})
    return item


def find_person(session: Session, email: str) -> Person:
    person = session.exec(select(Person).where(Person.email == email.strip().lower())).first()
    if person is None:
        raise NotFound(f"no person with email {email!r}", code="person.not_found", params={"email": email})
    return person


def find_unit(session: Session, name_or_code: str) -> Unit:
    unit = session.exec(
        select(Unit).where(or_(Unit.name == name_or_code, Unit.code == name_or_code))
    ).first()
    if unit is None:
        raise NotFound(f"no unit named or coded {name_or_code!r}", code="unit.not_found",
                       params={"unit": name_or_code})
    return unit


@dataclass(frozen=True)
class ItemFilter:
    document: str | None = None
    unit: str | None = None  # lead unit or co-unit, by name or code
    status: Status | None = None
    overdue: bool = False


def list_items(
    session: Session, filters: ItemFilter, now: datetime, tz: ZoneInfo, limit: int | None = None
) -> Sequence[tuple[Item, Document, Unit]]:
    query = (
        select(Item, Document, Unit)
        .join(Document, col(Document.id) == Item.document_id)
        .join(Unit, col(Unit.id) == Item.lead_unit_id)
    )
    if filters.document:
        document_id = session.exec(select(Document.id).where(Document.short_name == filters.document)).first()
        if document_id is None:
            names = session.exec(select(Document.short_name).order_by(col(Document.short_name))).all()
            close = difflib.get_close_matches(filters.document, names, n=3, cutoff=0.3)
            hint = f"; did you mean {', '.join(close)}?" if close else f"; documents: {', '.join(names) or 'none yet'}"
            raise NotFound(f"no document named {filters.document!r}{hint}", code="document.not_found",
                           params={"document": filters.document})
        query = query.where(Item.document_id == document_id)
    if filters.unit:
        unit = find_unit(session, filters.unit)
        co_items = select(ItemCoUnit.item_id).where(ItemCoUnit.unit_id == unit.id)
        query = query.where(or_(Item.lead_unit_id == unit.id, col(Item.id).in_(co_items)))
    if filters.status:
        query = query.where(Item.status == filters.status)
    if filters.overdue:
        # overdue <=> deadline day ended before now, in the office's timezone
        last_ended_day = now.astimezone(tz).date() - timedelta(days=1)
        query = query.where(and_(col(Item.status).in_(list(ACTIVE_STATUSES)), col(Item.deadline) <= last_ended_day))
    query = query.order_by(col(Document.short_name), col(Item.id))
    if limit:
        query = query.limit(limit)
    return session.exec(query).all()


def timeline(session: Session, item: Item) -> Sequence[ItemEvent]:
    return session.exec(
        select(ItemEvent).where(ItemEvent.item_id == item.id).order_by(col(ItemEvent.at), col(ItemEvent.id))
    ).all()


def co_unit_names(session: Session, item: Item) -> list[str]:
    return list(session.exec(
        select(Unit.name).join(ItemCoUnit, col(ItemCoUnit.unit_id) == Unit.id)
        .where(ItemCoUnit.item_id == item.id).order_by(col(Unit.name))
    ).all())

