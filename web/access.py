"""Who may see which items: the one place the web and the API ask.

Officers see items whose lead unit or a co-unit is their unit, and nothing else; a unit's leaders
(分管领导) the same for every unit they oversee; supervisors, admins and the office leadership see
everything (lists and counts use the same rule as a condition:
models.read.filters.scope_condition). Who may *act* is the lifecycle's rule
(`models.lifecycle.allowed_actions` / `apply`), not this module's.
"""

from __future__ import annotations

from typing import NoReturn

from sqlmodel import Session

from models.errors import ConflictError, Forbidden, NotFound
from models.read.filters import may_see as may_see
from models.read.filters import sees_everything as sees_everything
from models.tables import Item, Person, Role


def visible_item(session: Session, person: Person, item_id: int) -> Item:
    """The item, if `person` may see it; otherwise NotFound, exactly as for a missing id."""
    item = session.get(Item, item_id)
    if item is None or not may_see(session, person, item):
        raise NotFound(f"no item with id {item_id}", code="item.not_found", params={"id": item_id})
    return item


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
        _refuse_page(person)


def require_office_papers(person: Person) -> None:
    """The scores and the notices (通报, 督办通知单) are the office's papers, issued to every unit's leaders:
    supervisors, admins and every leader read them (a unit's leaders the whole city's ranking too), officers
    do not. An item's 督办通知单 still needs the item to be visible (`visible_item`)."""
    if person.role == Role.OFFICER:
        _refuse_page(person)


def _refuse_page(person: Person) -> NoReturn:
    raise Forbidden(f"{person.email} ({person.role}) may not see this page", code="page.not_allowed",
                    params={"email": person.email, "role": person.role})
