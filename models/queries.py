"""Finding one thing: an item by reference, a person by email (units: models.read.filters.match_unit)."""

from __future__ import annotations

from sqlmodel import Session, select

from models.errors import InvalidInput, NotFound
from models.tables import Document, Item, Person


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
