"""Administration of people (add, change role, unit and language, deactivate), units (add, rename,
parent unit, contacts, leaders) and documents (title, default supervisor, category, archive); every
change logged.

Each change is one `AdminChange` row naming who changed what, from which value to which (the log
the admin pages and `duban user add|set|deactivate` write; people are never deleted, so history keeps
their names). A deactivated person cannot log in (web.deps), their API tokens and calendar feeds stop
working (models.accounts), and the outbox queues no mail to them (notifications.outbox).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, String
from sqlmodel import Field, Session, SQLModel, col, func, select

from models.db import UTCDateTime
from models.errors import InvalidInput
from models.read.filters import match_unit
from models.tables import Document, Person, Role, Unit

LOCALES = ("zh-CN", "en")


class AdminChange(SQLModel, table=True):
    """One administrative change: a person's, unit's or document's fields, old and new."""

    __tablename__ = "admin_change"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    by: str = Field(max_length=320)  # the admin's email, or "cli" for the command line
    kind: str = Field(sa_type=String(16), index=True)  # person, unit, document
    target: str = Field(max_length=320)  # the person's email, the unit's name, the document's short name
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # field: [old, new]


def people(session: Session) -> list[Person]:
    """Everyone, active first, by email."""
    return list(session.exec(select(Person).order_by(col(Person.active).desc(), col(Person.email))).all())


def set_person(session: Session, person: Person, now: datetime, by: str, *, role: Role | None = None,
               unit: str | None = None, locale: str | None = None, name: str | None = None) -> AdminChange | None:
    """Change a person's role, unit (name or code, "" for none), language or name ("" keeps it); None
    when nothing changed.

    Refused (nothing written): an unknown language or unit (closest names), an officer left without
    a unit, the last active admin losing the admin role.
    """
    changes: dict[str, list[Any]] = {}
    if locale is not None:
        if locale not in LOCALES:
            raise InvalidInput(f"{locale!r} is not a language duban speaks; use {' or '.join(LOCALES)}",
                               code="person.bad_locale", params={"locale": locale, "locales": " / ".join(LOCALES)})
        if locale != person.locale:
            changes["locale"] = [person.locale, locale]
    new_unit_id = person.unit_id
    if unit is not None:
        new_unit = match_unit(session, unit) if unit.strip() else None
        new_unit_id = new_unit.id if new_unit else None
        if new_unit_id != person.unit_id:
            changes["unit"] = [_unit_name(session, person.unit_id), new_unit.name if new_unit else None]
    new_role = role or person.role
    if new_role == Role.OFFICER and new_unit_id is None:
        raise InvalidInput(f"{person.email}: an officer needs a unit (the unit whose items they work on)",
                           code="person.officer_needs_unit", params={"email": person.email})
    if new_role != person.role:
        if person.role == Role.ADMIN:
            _keep_an_admin(session, person)
        changes["role"] = [str(person.role), str(new_role)]
    new_name = (name or "").strip() or person.name
    if new_name != person.name:
        changes["person_name"] = [person.name, new_name]
    if not changes:
        return None
    person.role, person.unit_id, person.name = new_role, new_unit_id, new_name
    person.locale = locale if locale is not None else person.locale
    session.add(person)
    return _log(session, now, by, "person", person.email, changes)


def add_person(session: Session, now: datetime, by: str, email: str, name: str, role: Role, unit: str = "",
               locale: str | None = None) -> Person:
    """A new person (refused: a malformed or taken email, and set_person's refusals)."""
    address = checked_email(email)
    if session.exec(select(Person.id).where(Person.email == address)).first() is not None:
        raise InvalidInput(f"{address} is already a person here; change them in their row",
                           code="person.exists", params={"email": address})
    unit_id = match_unit(session, unit).id if unit.strip() else None
    if role == Role.OFFICER and unit_id is None:
        raise InvalidInput(f"{address}: an officer needs a unit (the unit whose items they work on)",
                           code="person.officer_needs_unit", params={"email": address})
    if locale is not None and locale not in LOCALES:
        raise InvalidInput(f"{locale!r} is not a language duban speaks; use {' or '.join(LOCALES)}",
                           code="person.bad_locale", params={"locale": locale, "locales": " / ".join(LOCALES)})
    person = Person(email=address, name=name.strip() or address, role=role, unit_id=unit_id, locale=locale)
    session.add(person)
    session.add(AdminChange(**person_added(now, by, address, role, _unit_name(session, unit_id))))
    return person


def person_added(now: datetime, by: str, email: str, role: Role, unit: str | None) -> dict[str, Any]:
    """The log's row for a new person, as column values: by an admin's email, "cli", or
    `imported_by(file)` for a ledger import (which inserts its rows in bulk, in its own transaction)."""
    return {"at": now, "by": by, "kind": "person", "target": email,
            "changes": {"added": [None, {"role": str(role), "unit": unit}]}}


IMPORT = "import"  # AdminChange.by of a ledger import: "import:<file>"


def imported_by(file: str) -> str:
    return f"{IMPORT}:{file}"


def deactivate(session: Session, person: Person, now: datetime, by: str) -> AdminChange | None:
    """Deactivate a person (None if they already were); the last active admin is refused."""
    if not person.active:
        return None
    if person.role == Role.ADMIN:
        _keep_an_admin(session, person)
    person.active = False
    session.add(person)
    return _log(session, now, by, "person", person.email, {"active": [True, False]})


def _keep_an_admin(session: Session, person: Person) -> None:
    others = session.exec(select(func.count()).select_from(Person).where(
        Person.role == Role.ADMIN, col(Person.active), Person.id != person.id)).one()
    if not others:
        raise InvalidInput(f"{person.email} is the last active admin; make someone else admin first",
                           code="person.last_admin", params={"email": person.email})


def _unit_name(session: Session, unit_id: int | None) -> str | None:
    unit = session.get(Unit, unit_id) if unit_id is not None else None
    return unit.name if unit else None


def _log(session: Session, now: datetime, by: str, kind: str, target: str, changes: dict[str, list[Any]]) -> AdminChange:
    change = AdminChange(at=now, by=by, kind=kind, target=target, changes=changes)
    session.add(change)
    return change


def save_unit(session: Session, now: datetime, by: str, unit: Unit | None, *, name: str, code: str = "",
              parent: str = "", contacts: str = "", leaders: str = "") -> Unit:
    """Add a unit (`unit` None) or change one: name, code, parent unit, contact and leader emails
    (separated by commas, spaces or 、). Refused: an empty or taken name or code, a malformed email,
    an unknown parent (closest names), a parent that is the unit itself or one of its own units."""
    name, code = name.strip(), code.strip()
    if not name:
        raise InvalidInput("a unit needs a name", code="unit.needs_name")
    for column, value in ((Unit.name, name), (Unit.code, code)):
        if value:
            taken = session.exec(select(Unit.id).where(column == value)).first()
            if taken is not None and (unit is None or taken != unit.id):
                raise InvalidInput(f"{value!r} is already another unit's name or code",
                                   code="unit.taken", params={"value": value})
    parent_unit = match_unit(session, parent) if parent.strip() else None
    if parent_unit is not None and unit is not None and _within(session, parent_unit, unit):
        raise InvalidInput(f"{parent_unit.name} is {name} or one of its own units; it cannot be its parent",
                           code="unit.parent_cycle", params={"unit": name, "parent": parent_unit.name})
    fields = {"name": name, "code": code or None, "parent": parent_unit.name if parent_unit else None,
              "contact_emails": _emails(contacts, "contact_emails"), "leader_emails": _emails(leaders, "leader_emails")}
    old = _unit_fields(session, unit) if unit is not None else {}
    changes = {k: [old.get(k), v] for k, v in fields.items() if old.get(k) != v}
    unit = unit or Unit(name=name)
    unit.name, unit.code = name, code or None
    unit.parent_id = parent_unit.id if parent_unit else None
    unit.contact_emails, unit.leader_emails = fields["contact_emails"], fields["leader_emails"]  # type: ignore[assignment]
    session.add(unit)
    if changes:
        _log(session, now, by, "unit", name, changes)
    return unit


def _within(session: Session, candidate: Unit, unit: Unit) -> bool:
    """Whether `candidate` is `unit` or below it (following parents up from the candidate)."""
    seen: set[int] = set()
    current: Unit | None = candidate
    while current is not None and current.id not in seen:
        if current.id == unit.id:
            return True
        seen.add(current.id)  # type: ignore[arg-type]
        current = session.get(Unit, current.parent_id) if current.parent_id is not None else None
    return False


def _unit_fields(session: Session, unit: Unit) -> dict[str, Any]:
    return {"name": unit.name, "code": unit.code, "parent": _unit_name(session, unit.parent_id),
            "contact_emails": list(unit.contact_emails), "leader_emails": list(unit.leader_emails)}


def checked_email(text: str, field: str = "email") -> str:
    """An address as people and units' contacts keep it (trimmed, lower case), checked by the ledger
    import's rule (config.settings.address_problem); the refusal names the form's `field` (email,
    contact_emails, leader_emails): not an address, more than name@domain, or not ASCII before the @."""
    from config.settings import address_problem

    address = text.strip().lower()
    problem = address_problem(address)
    if problem == "email_not_ascii":
        raise InvalidInput(f"{field}: {address}: the part before the @ is not ASCII; mail to it needs SMTPUTF8, "
                           "which duban does not use", code="person.email_not_ascii",
                           params={"email": address, "field": field})
    if problem == "not_plain_email":
        raise InvalidInput(f"{field}: {text.strip()!r} is not a plain email address; write only name@domain",
                           code="person.not_plain_email", params={"email": text.strip(), "field": field})
    if problem is not None:
        raise InvalidInput(f"{field}: {text!r} is not an email address", code="person.bad_email",
                           params={"email": text, "field": field})
    return address


def _emails(text: str, field: str) -> list[str]:
    out: list[str] = []
    for raw in re.split(r"[\s,;，；、]+", text.strip()):
        if raw and (address := checked_email(raw, field)) not in out:
            out.append(address)
    return out


def save_document(session: Session, now: datetime, by: str, document: Document, *, title: str,
                  supervisor: str = "", category: str | None = None) -> None:
    """Change a document's title, default supervisor (an active supervisor's or admin's email, ""
    for none; models.notices.set_document_supervisor's refusals) and category (None: left as is)."""
    from models.notices import set_document_supervisor

    old_supervisor = _email_of(session, document.default_supervisor_id)
    set_document_supervisor(session, document.short_name, supervisor.strip() or None)
    new_supervisor = _email_of(session, document.default_supervisor_id)
    changes: dict[str, list[Any]] = {}
    if title.strip() != document.title:
        changes["title"] = [document.title, title.strip()]
        document.title = title.strip()
    if category is not None and category.strip() != document.category:
        changes["category"] = [document.category, category.strip()]
        document.category = category.strip()
    if new_supervisor != old_supervisor:
        changes["default_supervisor"] = [old_supervisor, new_supervisor]
    session.add(document)
    if changes:
        _log(session, now, by, "document", document.short_name, changes)


def set_document_category(session: Session, now: datetime, by: str, document: Document, category: str) -> AdminChange | None:
    """Set a document's category (类别; "" for none); None when it already was that."""
    category = category.strip()
    if category == document.category:
        return None
    change = _log(session, now, by, "document", document.short_name, {"category": [document.category, category]})
    document.category = category
    session.add(document)
    return change


def archive_document(session: Session, now: datetime, by: str, document: Document, archived: bool = True) -> AdminChange | None:
    """Archive a document (归档) or take it out of the archive; None when it already was so.

    Nothing of its items or their history changes: they drop out of lists, counts, the dashboard
    and the digests (models/read/filters.py, `current_documents`) and come back when unarchived.
    """
    if (document.archived_at is not None) == archived:
        return None
    document.archived_at = now if archived else None
    session.add(document)
    return _log(session, now, by, "document", document.short_name, {"archived": [not archived, archived]})


def _email_of(session: Session, person_id: int | None) -> str | None:
    person = session.get(Person, person_id) if person_id is not None else None
    return person.email if person else None
