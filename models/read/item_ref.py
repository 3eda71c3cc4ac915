"""An item by the reference people write, `DOCUMENT/NUMBER` (e.g. `新时代意见/12`) or its id: how it is
read and the refusals naming it, for models.queries.find_item and the CLI's plain reading alike."""

from __future__ import annotations

from models.errors import InvalidInput, NotFound


def parse_ref(ref: str) -> tuple[int | None, str, str]:
    """(id, "", "") for an id, (None, document, number) for DOCUMENT/NUMBER; refused otherwise."""
    if ref.isdigit():
        return int(ref), "", ""
    document_name, sep, number = ref.rpartition("/")
    if not sep or not document_name or not number:
        raise InvalidInput(f"{ref!r} is not an item reference; write DOCUMENT/NUMBER (e.g. 新时代意见/12) or an id",
                           code="item.bad_ref", params={"ref": ref})
    return None, document_name, number


def no_item_with_id(ref: str) -> NotFound:
    return NotFound(f"no item with id {ref}", code="item.not_found", params={"id": ref})


def no_document(document_name: str, ref: str) -> NotFound:
    return NotFound(f"no document named {document_name!r} (item {ref})", code="document.not_found",
                    params={"document": document_name})


def no_item_numbered(document_name: str, number: str) -> NotFound:
    return NotFound(f"document {document_name!r} has no item {number!r}", code="document.no_item",
                    params={"document": document_name, "number": number})
