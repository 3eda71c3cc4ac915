"""What waits on supervisors (/approvals): submitted items and extension requests, oldest first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import or_
from sqlmodel import Session, col, select

from models.attachments import submitted_files
from models.errors import InvalidInput
from models.lifecycle import Action, apply
from models.tables import (
    Document,
    ExtensionRequest,
    ExtensionStatus,
    Item,
    ItemEvent,
    Person,
    Role,
    Status,
    Unit,
)
from web.deps import DbInt, NowDep, SessionDep, SupervisorUser, after_change, csrf_protect
from web.render import flash, redirect, render

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)
SHOWN = 500


def _mine(person: Person) -> Any | None:
    """Items this person may decide on: admins all; supervisors theirs and the unassigned ones."""
    if person.role == Role.ADMIN:
        return None
    return or_(Item.supervisor_id == person.id, col(Item.supervisor_id).is_(None))


def waiting(session: Session, person: Person) -> tuple[list[Any], list[Any]]:
    mine = _mine(person)
    scope = [mine] if mine is not None else []
    submitted = session.exec(
        select(Item, Document.short_name, Unit.name)
        .join(Document, col(Document.id) == Item.document_id).join(Unit, col(Unit.id) == Item.lead_unit_id)
        .where(Item.status == Status.SUBMITTED, *scope)
        .order_by(col(Item.updated_at), col(Item.id)).limit(SHOWN)
    ).all()
    extensions = session.exec(
        select(ExtensionRequest, Item, Document.short_name, Unit.name)
        .join(Item, col(Item.id) == ExtensionRequest.item_id)
        .join(Document, col(Document.id) == Item.document_id).join(Unit, col(Unit.id) == Item.lead_unit_id)
        .where(ExtensionRequest.status == ExtensionStatus.PENDING, *scope)
        .order_by(col(ExtensionRequest.requested_at), col(ExtensionRequest.id)).limit(SHOWN)
    ).all()
    return list(submitted), list(extensions)


def evidence_of(session: Session, item_ids: list[int]) -> dict[int, str]:
    """Each item's evidence from its latest submission, so a supervisor can judge from the list."""
    if not item_ids:
        return {}
    events = session.exec(
        select(ItemEvent.item_id, ItemEvent.payload)  # type: ignore[call-overload]
        .where(col(ItemEvent.item_id).in_(item_ids), ItemEvent.kind == "submitted").order_by(col(ItemEvent.id))
    ).all()
    return {item_id: str(payload.get("evidence", "")) for item_id, payload in events}  # the latest wins


@router.get("/approvals")
def approvals(request: Request, session: SessionDep, user: SupervisorUser) -> Response:
    submitted, extensions = waiting(session, user)
    item_ids = [item.id for item, _, _ in submitted]
    return render(request, "approvals.html", user, nav="approvals", submitted=submitted, extensions=extensions,
                  evidence=evidence_of(session, item_ids), files=submitted_files(session, item_ids))


@router.post("/approvals/sign-off")
def bulk_sign_off(
    request: Request, session: SessionDep, user: SupervisorUser, now: NowDep,
    item_ids: Annotated[list[DbInt], Form(alias="item")] = [],  # noqa: B006 - FastAPI copies defaults
) -> Response:
    """All or nothing: one refused item (named in the message) leaves every other one as it was."""
    if not item_ids:
        raise InvalidInput("choose at least one item to sign off", code="sign_off.none_chosen")
    for item_id in dict.fromkeys(item_ids):
        item = session.get(Item, item_id)
        if item is None:
            raise InvalidInput(f"no item with id {item_id}", code="item.not_found", params={"id": item_id})
        apply(session, item, Action.SIGN_OFF, user, now)
    session.commit()
    after_change(request, now)
    flash(request, "Done.")
    return redirect("/approvals")
