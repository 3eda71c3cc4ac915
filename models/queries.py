"""Finding one thing: an item by reference, a person by email (units: models.read.filters.match_unit)."""

from __future__ import annotations

from sqlmodel import Session, select

from models.errors import NotFound
from models.read.item_ref import no_document, no_item_numbered, no_item_with_id, parse_ref
from models.tables import Document, Item, Person


def find_item(session: Session, ref: str) -> Item:
    """An item by `DOCUMENT/NUMBER` (e.g. `新时代意见/12`) or by its numeric id."""
    ref = ref.strip()
    item_id, document_name, number = parse_ref(ref)
    if item_id is not None:
        item = session.get(Item, item_id)
        if item is None:
            raise no_item_with_id(ref)
        return item
    document = session.exec(select(Document).where(Document.short_name == document_name)).first()
    if document is None:
        raise no_document(document_name, ref)
    item = session.exec(select(Item).where(Item.document_id == document.id, Item.number == number)).first()
    if item is None:
        raise no_item_numbered(document_name, number)
    return item


def find_person(session: Session, email: str) -> Person:
    person = session.exec(select(Person).where(Person.email == email.strip().lower())).first()
    if person is None:
        raise NotFound(f"no person with email {email!r}", code="person.not_found", params={"email": email})
    return person
