"""Who may see which items: the one place the web and the API ask.

Officers see items whose lead unit or a co-unit is their unit, and nothing else; supervisors,
leaders and admins see everything. Who may *act* is the lifecycle's rule
(`models.lifecycle.allowed_actions` / `apply`), not this module's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import false, union
from sqlmodel import Session, col, select

from models.errors import ConflictError, Forbidden, NotFound
from models.lifecycle import co_unit_ids
from models.tables import Item, ItemCoUnit, Person, Role


def sees_everything(person: Person) -> bool:
    return person.role in (Role.SUPERVISOR, Role.LEADER, Role.ADMIN)


def visible_clause(person: Person) -> Any | None:
    """A WHERE condition on Item limiting rows to what `person` may see (None: no limit)."""
    if sees_everything(person):
        return None
    if person.role != Role.OFFICER or person.unit_id is None:
        return false()
    # A UNION of two index lookups: `lead = u OR id IN (...)` makes both databases scan every item.
    led = select(Item.id).where(Item.lead_unit_id == person.unit_id)
    co_led = select(ItemCoUnit.item_id).where(ItemCoUnit.unit_id == person.unit_id)
    return col(Item.id).in_(union(led, co_led))


def visible_item(session: Session, person: Person, item_id: int) -> Item:
    """The item, if `person` may see it; otherwise NotFound, exactly as for a missing id."""
    item = session.get(Item, item_id)
    if item is None or not may_see(session, person, item):
        raise NotFound(f"no item with id {item_id}", code="item.not_found", params={"id": item_id})
    return item


def may_see(session: Session, person: Person, item: Item) -> bool:
    if sees_everything(person):
        return True
    if person.role != Role.OFFICER or person.unit_id is None:
        return False
    return person.unit_id == item.lead_unit_id or person.unit_id in co_unit_ids(session, item)


def check_version(item: Item, version: int | None) -> None:
    """A form or request made from an older copy of the item is refused like a lost race."""
    if version is not None and version != item.version:
        raise ConflictError(
            f"item {item.id} was changed by someone else since you loaded it; nothing was applied. "
            "Reload the item and try again.",
            code="item.changed_since_loaded", params={"id": item.id},
        )


def require_sees_everything(person: Person) -> None:
    if not sees_everything(person):
        raise Forbidden(f"{person.email} ({person.role}) may not see this page", code="page.not_allowed",
                        params={"email": person.email, "role": person.role})
