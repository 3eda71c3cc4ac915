"""Which items a list, a count or an export covers: who may see what, and the filters people set.

One `ItemFilter` is turned into SQL conditions here (`conditions`) and into a query string
(`ItemFilter.url`), so a figure and the list its link opens are worked out from the same object.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, NamedTuple
from urllib.parse import quote_plus

from sqlalchemy import Connection, and_, bindparam, false, func, or_, union
from sqlalchemy.orm import object_session
from sqlmodel import Session, col, select

from models.errors import InvalidInput, NotFound
from models.read.counts import bound_constant, run_sqlite
from models.read.due import (
    active,
    due_soon_condition,
    overdue_condition,
    unacknowledged_condition,
    unfinished_condition,
)
from models.states import UnitRole as UnitRole
from models.tables import Document, Item, ItemCoUnit, ItemEvent, Person, Role, Status, Unit


def sees_everything(person: Person | None) -> bool:
    """Supervisors, admins, the office leadership (and the CLI, which acts as no one) see every item;
    so does a leader who oversees no unit (see `overseen_units`)."""
    if person is None or person.role in (Role.SUPERVISOR, Role.ADMIN):
        return True
    return person.role == Role.LEADER and not overseen_units(person)


def overseen_units(person: Person) -> frozenset[int]:
    """The units a leader oversees (分管): those listing their email among the unit's leaders, and
    their own unit. Empty for the office leadership (the policy's `leadership_emails`), for anyone
    not a leader, and for a leader not attached to a session (nothing to look the units up in)."""
    session = object_session(person)
    if person.role != Role.LEADER or session is None:
        return frozenset()
    email = person.email.strip().lower()
    if email in _leadership_emails():
        return frozenset()
    rows = session.execute(select(Unit.id, Unit.leader_emails)).all()
    units = {unit_id for unit_id, leaders in rows if email in (e.strip().lower() for e in leaders or ())}
    if person.unit_id is not None:
        units.add(person.unit_id)
    return frozenset(units)


def _leadership_emails() -> set[str]:
    """The policy's office leadership; none while the policy file is broken (`duban doctor` says so)."""
    from config.policy import load_policy
    from config.yamlfile import ConfigFileError

    try:
        return {e.strip().lower() for e in load_policy().leadership_emails}
    except ConfigFileError:
        return set()


def scope_condition(person: Person | None) -> Any | None:
    """A WHERE condition on Item limiting rows to what `person` may see (None: no limit).

    Officers see the items their unit leads or works on as a co-unit, and nothing else; a unit's
    leaders the same for every unit they oversee.
    """
    if sees_everything(person):
        return None
    assert person is not None
    if person.role == Role.LEADER:
        unit_ids = sorted(overseen_units(person))
    elif person.role == Role.OFFICER and person.unit_id is not None:
        unit_ids = [person.unit_id]
    else:
        return false()
    return scope_within(unit_ids)


def scope_units(person: Person | None) -> frozenset[int] | None:
    """The units whose items `person` sees (None: every unit's)."""
    if sees_everything(person):
        return None
    assert person is not None
    if person.role == Role.LEADER:
        return overseen_units(person)
    return frozenset({person.unit_id}) if person.role == Role.OFFICER and person.unit_id is not None else frozenset()


def may_see(session: Session, person: Person | None, item: Item) -> bool:
    """The one-item form of `scope_condition`: the same units, the same rule."""
    units = scope_units(person)
    if units is None:
        return True
    co_unit = select(ItemCoUnit.unit_id).where(ItemCoUnit.item_id == item.id, col(ItemCoUnit.unit_id).in_(units))
    return item.lead_unit_id in units or session.exec(co_unit).first() is not None


@dataclass(frozen=True)
class ItemFilter:
    document: str = ""  # short name
    unit: str = ""  # name, part of a name, or code (see match_unit)
    unit_role: UnitRole = UnitRole.ANY
    status: Status | None = None
    open: bool = False  # not signed off, not cancelled (the figures' 在办)
    overdue: bool = False
    due_soon: bool = False
    unacknowledged: bool = False  # 未签收: worked on, its lead unit has not acknowledged it
    returned: bool = False  # worked on again after the supervisor returned it (退回)
    level: int | None = None
    q: str = ""  # words in the title, or the item number
    supervisor: str = ""  # the email of the item's supervisor (督办人)
    archived: bool = False  # 含已归档: items of archived documents too (see current_documents)

    def params(self, **changes: Any) -> dict[str, str]:
        """The filter as URL parameters (only the ones set, in this order), with `changes` applied."""
        f = replace(self, **changes) if changes else self
        # Tested one by one, not a dict of every field filtered: a digest links some 44,000 rows.
        out: dict[str, Any] = {}
        if f.document:
            out["document"] = f.document
        if f.unit:
            out["unit"] = f.unit
            if f.unit_role != UnitRole.ANY:
                out["unit_role"] = str(f.unit_role)
        if f.status:
            out["status"] = f.status
        for name in ("open", "overdue", "due_soon", "unacknowledged", "returned"):
            if getattr(f, name):
                out[name] = "1"
        if f.level is not None:
            out["level"] = str(f.level)
        if f.q:
            out["q"] = f.q
        if f.supervisor:
            out["supervisor"] = f.supervisor
        if f.archived:
            out["archived"] = "1"
        return out

    def url(self, path: str = "/items", **changes: Any) -> str:
        """`path` with the filter's parameters: the address of the list this filter gives."""
        params = self.params(**changes)  # the names need no quoting: letters and "_"
        return f"{path}?{'&'.join([f'{k}={_quoted(v)}' for k, v in params.items()])}" if params else path


# urlencode's quoting, remembered: a digest links 1,000 units' rows for each of 50 supervisors, and the
# same names and addresses recur.
_quoted = functools.lru_cache(maxsize=8192)(quote_plus)


def match_unit(session: Session, text: str) -> Unit:
    """The one unit `text` names: its exact name or code, else the one whose name or code contains it
    ("发改委" and "fgw" find 市发改委). Several or none is refused, naming the closest units."""
    text = text.strip()
    lowered = text.lower()
    # The name or code as written first: both are indexed, lower(code) makes SQLite read every unit.
    exact = session.exec(select(Unit).where(or_(Unit.name == text, Unit.code == text))).first()
    if exact is None:
        exact = session.exec(select(Unit).where(or_(Unit.name == text, func.lower(Unit.code) == lowered))).first()
    if exact is not None:
        return exact
    found = session.exec(select(Unit).where(or_(
        col(Unit.name).contains(text, autoescape=True), func.lower(Unit.code).contains(lowered, autoescape=True),
    )).order_by(col(Unit.name)).limit(11)).all()
    if len(found) == 1:
        return found[0]
    if found:
        names = [u.name for u in found[:10]]
        raise InvalidInput(f"{text!r} matches several units: {', '.join(names)}; write more of the name",
                           code="unit.ambiguous", params={"unit": text, "matches": "、".join(names)})
    names = list(session.exec(select(Unit.name)).all())
    close = difflib.get_close_matches(text, names, n=5, cutoff=0.3)
    if close:
        raise InvalidInput(f"no unit named or coded {text!r}; closest: {', '.join(close)}",
                           code="unit.not_found_close", params={"unit": text, "closest": "、".join(close)})
    raise InvalidInput(f"no unit named or coded {text!r}", code="unit.not_found", params={"unit": text})


def match_document(session: Session, name: str) -> int:
    """The id of the document with short name `name`; refused with the closest names otherwise."""
    document_id = session.exec(select(Document.id).where(Document.short_name == name.strip())).first()
    if document_id is not None:
        return document_id
    names = list(session.exec(select(Document.short_name).order_by(col(Document.short_name))).all())
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.3)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; documents: {', '.join(names) or 'none yet'}"
    raise NotFound(f"no document named {name!r}{hint}", code="document.not_found", params={"document": name})


def unit_condition(unit_id: int, role: UnitRole) -> Any:
    led = Item.lead_unit_id == unit_id
    co_items = select(ItemCoUnit.item_id).where(ItemCoUnit.unit_id == unit_id)
    if role == UnitRole.LEAD:
        return led
    if role == UnitRole.CO:
        return col(Item.id).in_(co_items)
    return or_(led, col(Item.id).in_(co_items))


def returned_condition() -> Any:
    """Worked on, and the last change of its state was a return by the supervisor (退回)."""
    last_change = (
        select(ItemEvent.kind).where(ItemEvent.item_id == Item.id, col(ItemEvent.from_status) != col(ItemEvent.to_status))
        .order_by(col(ItemEvent.id).desc()).limit(1).correlate(Item).scalar_subquery()
    )
    return and_(active(), last_change == "returned")


def current_documents() -> Any:
    """Items of documents not archived (归档). Lists, counts, the dashboard and the digests cover only
    these; `ItemFilter(archived=True)` (含已归档) or a document filter shows the others, and an
    archived document's items stay readable at their own address."""
    archived = select(Document.id).where(col(Document.archived_at).is_not(None))
    return col(Item.document_id).not_in(archived)


def _current_documents_of(session: Session) -> Any | None:
    """`current_documents` with the archived documents looked up first: None when there are none
    (the usual case), else a list of ids. As a subquery, SQLite read every item to count the
    unfiltered list (10 ms of 100k items); without it, the count takes an index (docs/benchmarks.md)."""
    archived = archived_documents(plain_rows(session))
    return not_archived(archived) if archived else None


def archived_documents(connection: Connection) -> list[int]:
    """The ids of the archived documents (ARCHIVED_DOCUMENTS), asked on every list page."""
    return first_column(connection, ARCHIVED_DOCUMENTS)


def not_archived(archived: Any) -> Any:
    """Items of none of the documents `archived` (their ids, or a bound parameter for them)."""
    return col(Item.document_id).not_in(archived)


ARCHIVED_DOCUMENTS = select(Document.id).where(col(Document.archived_at).is_not(None))


def conditions(session: Session, person: Person | None, f: ItemFilter, today: date, soon_until: date) -> list[Any]:
    """`f` as WHERE conditions on Item, within what `person` may see (None: everything).

    Unknown or ambiguous documents and units are refused (InvalidInput) rather than matching nothing.
    """
    return conditions_and_unit(session, person, f, today, soon_until)[0]


class UnitNamed(NamedTuple):
    """The unit a list's filter names: what the list shows of it."""

    id: int
    name: str


_UNIT_NAMED = select(Unit.id, Unit.name).where(or_(Unit.name == bindparam("text"), Unit.code == bindparam("text")))


def _unit_named(session: Session, text: str) -> UnitNamed:
    """`match_unit`'s unit for a list, its name or code as written read as a plain row on SQLite (the
    ORM's load of the Unit cost 0.1 ms of a filtered page); anything else (no such name or code, or
    one unit's name that is another's code) is match_unit's to answer, as before."""
    connection = plain_rows(session)
    if connection.dialect.name == "sqlite":
        found = sqlite_rows(connection, _UNIT_NAMED, {"text": text.strip()})
        if len(found) == 1:
            return UnitNamed(*found[0])
    unit = match_unit(session, text)
    assert unit.id is not None
    return UnitNamed(unit.id, unit.name)


def conditions_and_unit(session: Session, person: Person | None, f: ItemFilter, today: date,
                        soon_until: date) -> tuple[list[Any], UnitNamed | None]:
    """`conditions`, and the unit `f.unit` names (None without a unit filter): the list names it
    above its rows, and looking it up again cost 0.3 ms a page."""
    unit: UnitNamed | None = None
    for text in (f.document, f.unit, f.q, f.supervisor):
        if "\x00" in text:  # PostgreSQL refuses a NUL in any string: say so rather than fail
            raise InvalidInput("a filter cannot contain a NUL character", code="filter.nul",
                               params={"value": text.replace("\x00", "")})
    out: list[Any] = []
    scope = scope_condition(person)
    if scope is not None:
        out.append(scope)
    if not f.archived and not f.document:  # a document asked for by name is shown, archived or not
        current = _current_documents_of(session)
        if current is not None:
            out.append(current)
    if f.document:
        out.append(Item.document_id == match_document(session, f.document))
    if f.unit:
        unit = _unit_named(session, f.unit)
        out.append(unit_condition(unit.id, f.unit_role))
    if f.status:
        out.append(Item.status == f.status)
    if f.open:
        out.append(unfinished_condition())
    if f.overdue:
        out.append(overdue_condition(today))
    if f.due_soon:
        out.append(due_soon_condition(today, soon_until))
    if f.unacknowledged:
        out.append(unacknowledged_condition())
    if f.returned:
        out.append(returned_condition())
    if f.level is not None:
        out.append(Item.escalation_level == f.level)
    if f.q.strip():
        text = f.q.strip()
        out.append(or_(col(Item.title).contains(text, autoescape=True), Item.number == text))
    if f.supervisor:
        out.append(Item.supervisor_id == match_supervisor(session, f.supervisor))
    return out, unit


def match_supervisor(session: Session, email: str) -> int:
    """The id of the person with `email` (any role: a supervisor may have been made admin since)."""
    person_id = session.exec(select(Person.id).where(Person.email == email.strip().lower())).first()
    if person_id is None:
        raise InvalidInput(f"no person with email {email!r}", code="person.not_found", params={"email": email})
    return person_id


def visible_units(session: Session, person: Person | None) -> tuple[str, ...]:
    """Names of the units a person's items involve (everyone's for those who see everything), to pick from."""
    units = scope_units(person)
    # Through the connection: the ORM's row handling cost a third of the time for 1,000 names.
    connection = plain_rows(session)
    if units is not None:
        return tuple(first_column(connection, _SCOPED_UNIT_NAMES, {"units": sorted(units)}))
    if connection.dialect.name == "sqlite":
        # One string from SQLite, sorted here once per distinct answer: the item list asks on every
        # request, and 1,000 rows through SQLAlchemy cost 1.1 ms (docs/benchmarks.md). Python's
        # order of str is SQLite's BINARY collation's (UTF-8 bytes sort as code points); a name
        # holding the separator makes the count disagree, and then the plain query answers.
        ((count, joined),) = sqlite_rows(connection, _ALL_UNIT_NAMES_JOINED)
        found = _sorted_names(joined or "")
        if len(found) == count:
            return found
    return tuple(connection.execute(_ALL_UNIT_NAMES).scalars().all())


def scope_within(units: Any) -> Any:
    """`scope_condition`'s rule for the units `units` (a list, or a bound parameter)."""
    # A UNION of two index lookups: `lead = u OR id IN (...)` makes both databases scan every item.
    led = select(Item.id).where(col(Item.lead_unit_id).in_(units))
    co_led = select(ItemCoUnit.item_id).where(col(ItemCoUnit.unit_id).in_(units))
    return col(Item.id).in_(union(led, co_led))


# Built once, the units bound at each call (the item list asks on every request).
_ALL_UNIT_NAMES = select(Unit.name).order_by(col(Unit.name))
_ALL_UNIT_NAMES_JOINED = select(func.count(Unit.name), func.group_concat(Unit.name, "\x1f"))
_SCOPED = scope_within(bindparam("units", expanding=True))
_SCOPED_UNIT_NAMES = select(Unit.name).where(or_(
    col(Unit.id).in_(select(Item.lead_unit_id).where(_SCOPED)),
    col(Unit.id).in_(select(ItemCoUnit.unit_id).join(Item, col(Item.id) == ItemCoUnit.item_id).where(_SCOPED)),
)).order_by(col(Unit.name))


@functools.lru_cache(maxsize=64)
def _sorted_names(joined: str) -> tuple[str, ...]:
    return tuple(sorted(joined.split("\x1f"))) if joined else ()


def plain_rows(session: Session) -> Connection:
    """The session's connection, for queries of columns (no ORM entities), after the flush that
    `session.exec` would do: the ORM's handling of the rows cost as much as the query itself."""
    if session.autoflush:
        session.flush()
    return session.connection()


def sqlite_rows(connection: Connection, statement: Any, params: Mapping[str, Any] | None = None) -> list[Any]:
    """`connection.execute(statement, params).all()` on SQLite, run on its DBAPI connection: the
    statement compiled once (by SQLAlchemy, for SQLite) and kept, its rows as sqlite3 gives them.
    SQLAlchemy's own round (the statement's cache key, its execution context, the result's
    processing) cost 10-100 µs a statement more than SQLite's work on the desk's list pages
    (docs/benchmarks.md). For module-level statements whose columns SQLite gives as SQLAlchemy
    does (numbers, text; no dates, no JSON), with numbers, text or lists of them as parameters."""
    compiled = _SQLITE_COMPILED.get(id(statement))
    if compiled is None or compiled[0] is not statement:
        compiled = _SQLITE_COMPILED[id(statement)] = (statement, *compiled_for_sqlite(statement))
    _, sql, constants = compiled
    return run_sqlite(connection.connection.driver_connection, sql, {**constants, **(params or {})})


_SQLITE_COMPILED: dict[int, tuple[Any, str, dict[str, Any]]] = {}


def first_column(connection: Connection, statement: Any, params: Mapping[str, Any] | None = None) -> list[Any]:
    """`connection.execute(statement, params).scalars().all()`, through `sqlite_rows` on SQLite."""
    if connection.dialect.name == "sqlite":
        return [row[0] for row in sqlite_rows(connection, statement, params)]
    return list(connection.execute(statement, params).scalars().all())


def compiled_for_sqlite(statement: Any) -> tuple[str, dict[str, Any]]:
    """`statement` as SQLite text with named parameters, and its constant parameters' values as
    SQLAlchemy binds them (as models.read.figures compiles models/read/report_sql.py)."""
    from sqlalchemy.dialects.sqlite import pysqlite

    compiled = statement.compile(dialect=pysqlite.dialect(paramstyle="named"))
    processors = compiled._bind_processors
    constants = {key: bound_constant(processors.get(key), value) for key, value in compiled.params.items()
                 if value is not None}  # None: a parameter given at each call
    return compiled.string, constants
