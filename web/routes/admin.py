"""Administration on the desk, for admins only: people (/admin/people: add, change role, unit and
language, deactivate) and units (/admin/units: add, rename, parent, contacts, leaders) and documents (/admin/documents:
title, default supervisor, category, archive). Every change goes through models/admin.py and is logged there."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Form, Request
from fastapi.responses import Response
from sqlmodel import col, select

from models.admin import (
    LOCALES,
    AdminChange,
    add_person,
    archive_document,
    deactivate,
    people,
    save_document,
    save_unit,
    set_person,
)
from models.errors import NotFound
from models.tables import Document, Person, Role, Unit
from web.admin_log import ChangeRow, change_rows
from web.deps import AdminUser, DbInt, NowDep, PageRouter, SessionDep
from web.render import flash, locale_for, redirect, render

router = PageRouter(include_in_schema=False)
CHANGES_SHOWN = 50


@router.get("/admin/people")
def people_page(request: Request, session: SessionDep, user: AdminUser) -> Response:
    units = session.exec(select(Unit).order_by(col(Unit.name))).all()
    changes = _changes(request, session, user, "person")
    return render(request, "admin_people.html", user, nav="admin", people=people(session),
                  units={u.id: u.name for u in units}, roles=list(Role), locales=LOCALES, changes=changes)


@router.post("/admin/people")
def add(request: Request, session: SessionDep, user: AdminUser, now: NowDep, email: Annotated[str, Form()],
        role: Annotated[Role, Form()], name: Annotated[str, Form()] = "", unit: Annotated[str, Form()] = "",
        locale: Annotated[str, Form()] = "") -> Response:
    add_person(session, now, user.email, email, name, role, unit, locale or None)
    session.commit()
    flash(request, "Done.")
    return redirect("/admin/people")


@router.post("/admin/people/{person_id}")
def change(request: Request, person_id: DbInt, session: SessionDep, user: AdminUser, now: NowDep,
           role: Annotated[Role, Form()], unit: Annotated[str, Form()] = "",
           locale: Annotated[str, Form()] = "") -> Response:
    person = _person(session, person_id)
    set_person(session, person, now, user.email, role=role, unit=unit, locale=locale or None)
    session.commit()
    flash(request, "Done.")
    return redirect(f"/admin/people#person-{person_id}")


@router.post("/admin/people/{person_id}/deactivate")
def deactivate_person(request: Request, person_id: DbInt, session: SessionDep, user: AdminUser,
                      now: NowDep) -> Response:
    deactivate(session, _person(session, person_id), now, user.email)
    session.commit()
    flash(request, "Done.")
    return redirect(f"/admin/people#person-{person_id}")


def _changes(request: Request, session: SessionDep, user: Person, kind: str) -> list[ChangeRow]:
    """The latest changes of `kind` (person, unit, document) in the page's words."""
    changes = session.exec(select(AdminChange).where(AdminChange.kind == kind)
                           .order_by(col(AdminChange.id).desc()).limit(CHANGES_SHOWN)).all()
    emails = {change.by for change in changes}
    names = dict(session.exec(select(Person.email, Person.name).where(col(Person.email).in_(emails))).all())
    return change_rows(changes, locale_for(request, user), names)


def _person(session: SessionDep, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"no person with id {person_id}", code="person.no_id", params={"id": person_id})
    return person


@router.get("/admin/units")
def units_page(request: Request, session: SessionDep, user: AdminUser) -> Response:
    units = session.exec(select(Unit).order_by(col(Unit.name))).all()
    changes = _changes(request, session, user, "unit")
    return render(request, "admin_units.html", user, nav="admin_units", units=units,
                  names={u.id: u.name for u in units}, changes=changes)


@router.post("/admin/units")
def add_unit(request: Request, session: SessionDep, user: AdminUser, now: NowDep, name: Annotated[str, Form()],
             code: Annotated[str, Form()] = "", parent: Annotated[str, Form()] = "",
             contacts: Annotated[str, Form()] = "", leaders: Annotated[str, Form()] = "") -> Response:
    save_unit(session, now, user.email, None, name=name, code=code, parent=parent, contacts=contacts, leaders=leaders)
    session.commit()
    flash(request, "Done.")
    return redirect("/admin/units")


@router.post("/admin/units/{unit_id}")
def change_unit(request: Request, unit_id: DbInt, session: SessionDep, user: AdminUser, now: NowDep,
                name: Annotated[str, Form()], code: Annotated[str, Form()] = "", parent: Annotated[str, Form()] = "",
                contacts: Annotated[str, Form()] = "", leaders: Annotated[str, Form()] = "") -> Response:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"no unit with id {unit_id}", code="unit.no_id", params={"id": unit_id})
    save_unit(session, now, user.email, unit, name=name, code=code, parent=parent, contacts=contacts, leaders=leaders)
    session.commit()
    flash(request, "Done.")
    return redirect(f"/admin/units#unit-{unit_id}")


@router.get("/admin/documents")
def documents_page(request: Request, session: SessionDep, user: AdminUser) -> Response:
    documents = session.exec(select(Document).order_by(col(Document.archived_at).is_not(None), col(Document.short_name))).all()
    staff = session.exec(select(Person).where(col(Person.role).in_([Role.SUPERVISOR, Role.ADMIN]),
                                              col(Person.active)).order_by(col(Person.email))).all()
    emails = {p.id: p.email for p in session.exec(select(Person)).all()}
    changes = _changes(request, session, user, "document")
    return render(request, "admin_documents.html", user, nav="admin", documents=documents, staff=staff,
                  emails=emails, changes=changes)


@router.post("/admin/documents/{document_id}")
def change_document(request: Request, document_id: DbInt, session: SessionDep, user: AdminUser, now: NowDep,
                    title: Annotated[str, Form()] = "", supervisor: Annotated[str, Form()] = "",
                    category: Annotated[str | None, Form(max_length=200)] = None) -> Response:
    document = _document(session, document_id)
    save_document(session, now, user.email, document, title=title, supervisor=supervisor, category=category)
    session.commit()
    flash(request, "Done.")
    return redirect(f"/admin/documents#document-{document_id}")


@router.post("/admin/documents/{document_id}/{state}")
def archive(request: Request, document_id: DbInt, state: Literal["archive", "unarchive"], session: SessionDep,
            user: AdminUser, now: NowDep) -> Response:
    """归档 or take out of the archive (models/admin.py archive_document says what that changes)."""
    archive_document(session, now, user.email, _document(session, document_id), archived=state == "archive")
    session.commit()
    if state == "archive":
        flash(request, "Archived: its items no longer show in lists, figures and digests; they stay readable.")
    else:
        flash(request, "Done.")
    return redirect(f"/admin/documents#document-{document_id}")


def _document(session: SessionDep, document_id: int) -> Document:
    document = session.get(Document, document_id)
    if document is None:
        raise NotFound(f"no document with id {document_id}", code="document.no_id", params={"id": document_id})
    return document
