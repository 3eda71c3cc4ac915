"""Factories: build units, people, documents and items with sensible defaults."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session

from models.tables import Document, Item, ItemCoUnit, Person, Role, Status, Unit

_seq = itertools.count(1)
T0 = datetime(2024, 1, 2, 1, 0, tzinfo=UTC)


def make_unit(session: Session, name: str | None = None, **kw: Any) -> Unit:
    n = next(_seq)
    unit = Unit(
        name=name or f"单位{n}",
        code=kw.pop("code", f"U{n:04d}"),
        contact_emails=kw.pop("contact_emails", [f"unit{n}@example.gov.cn"]),
        leader_emails=kw.pop("leader_emails", [f"leader{n}@example.gov.cn"]),
        **kw,
    )
    session.add(unit)
    session.flush()
    return unit


def make_person(session: Session, role: Role = Role.OFFICER, unit: Unit | None = None, **kw: Any) -> Person:
    n = next(_seq)
    person = Person(
        name=kw.pop("name", f"{role}{n}"),
        email=kw.pop("email", f"{role}{n}@example.gov.cn"),
        role=role,
        unit_id=unit.id if unit else None,
        **kw,
    )
    session.add(person)
    session.flush()
    return person


def make_document(session: Session, short_name: str | None = None, **kw: Any) -> Document:
    n = next(_seq)
    document = Document(short_name=short_name or f"文件{n}", title=kw.pop("title", f"关于第{n}号文件"), **kw)
    session.add(document)
    session.flush()
    return document


def make_item(
    session: Session,
    *,
    document: Document | None = None,
    lead_unit: Unit | None = None,
    co_units: tuple[Unit, ...] = (),
    supervisor: Person | None = None,
    deadline: date = date(2024, 6, 30),
    status: Status = Status.ASSIGNED,
    number: str | None = None,
    **kw: Any,
) -> Item:
    document = document or make_document(session)
    lead_unit = lead_unit or make_unit(session)
    item = Item(
        document_id=document.id,  # type: ignore[arg-type]
        number=number or str(next(_seq)),
        title=kw.pop("title", "推动政策落地见效"),
        lead_unit_id=lead_unit.id,  # type: ignore[arg-type]
        supervisor_id=supervisor.id if supervisor else None,
        original_deadline=kw.pop("original_deadline", deadline),
        deadline=deadline,
        status=status,
        created_at=kw.pop("created_at", T0),
        updated_at=kw.pop("updated_at", T0),
        **kw,
    )
    session.add(item)
    session.flush()
    for unit in co_units:
        session.add(ItemCoUnit(item_id=item.id, unit_id=unit.id))  # type: ignore[arg-type]
    session.flush()
    return item
