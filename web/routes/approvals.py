"""What waits on supervisors (/approvals): submitted items and extension requests, oldest first;
and 催办 of a selection of the item list (/items).

Signing off or returning a selection takes two posts, no script needed: /approvals/confirm shows
the chosen items with the one comment (销号) or reason (退回, required), and its button sends them
with their versions to /approvals/sign-off or /approvals/return, which answer with what became of
each item (models/approvals.py). Urging a selection goes the same way: /items/urge/confirm, then
/items/urge, with one message (required) for every item.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response
from sqlalchemy import or_
from sqlmodel import Session, col, select

from models.approvals import Chosen, check_request, decide
from models.attachments import submitted_files
from models.errors import InvalidInput, NotFound
from models.lifecycle import Action
from models.read.filters import scope_condition
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
from web.deps import (
    DbInt,
    NowDep,
    PageRouter,
    SessionDep,
    SupervisorUser,
    UrgerUser,
    after_change,
)
from web.i18n import reason_message
from web.render import locale_for, render

router = PageRouter(include_in_schema=False)
SHOWN = 500
ChosenIds = Annotated[list[DbInt], Form(alias="item")]
ChosenVersions = Annotated[list[DbInt], Form(alias="version")]
OneText = Annotated[str, Form(max_length=2000)]  # the one comment or reason for every chosen item


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


# Where each bulk action's confirmation posts to and the report leads back to.
POST_TO = {Action.SIGN_OFF: "/approvals/sign-off", Action.RETURN: "/approvals/return", Action.URGE: "/items/urge"}
BACK_TO = {Action.SIGN_OFF: "/approvals", Action.RETURN: "/approvals", Action.URGE: "/items"}
URGED_FROM = ("/items", "/my")  # the pages a 催办 of a selection starts from, and its report leads back to
BackTo = Annotated[str, Form(max_length=2000)]  # any other page: /items


def _back(action: Action, back: str) -> str:
    return back if action is Action.URGE and back in URGED_FROM else BACK_TO[action]


def _chosen_items(session: Session, user: Person, item_ids: list[int]) -> list[tuple[Item, str, str]]:
    """The chosen items with their document's short name and lead unit, in the order chosen; one the
    person may not see is missing to them."""
    scope = scope_condition(user)
    rows = session.exec(
        select(Item, Document.short_name, Unit.name)
        .join(Document, col(Document.id) == Item.document_id).join(Unit, col(Unit.id) == Item.lead_unit_id)
        .where(col(Item.id).in_(item_ids), *([scope] if scope is not None else []))
    ).all()
    found = {item.id: (item, document, unit) for item, document, unit in rows}
    for item_id in item_ids:
        if item_id not in found:
            raise NotFound(f"no item with id {item_id}", code="item.not_found", params={"id": item_id})
    return [found[item_id] for item_id in dict.fromkeys(item_ids)]


@router.post("/approvals/confirm")
def confirm(
    request: Request, session: SessionDep, user: SupervisorUser, action: Annotated[Action, Form()],
    item_ids: ChosenIds = [],  # noqa: B006 - FastAPI copies defaults
    comment: OneText = "", reason: OneText = "",
) -> Response:
    """The step before a bulk decision: the chosen items as they are now, the comment or reason, and
    one button that sends them with their versions (a plain form; no script needed)."""
    return _confirm(request, session, user, action, item_ids, comment if action is Action.SIGN_OFF else reason)


def _confirm(request: Request, session: Session, user: Person, action: Action, item_ids: list[int],
             text: str, back: str = "") -> Response:
    check_request(action, item_ids, text)
    back = _back(action, back)
    return render(request, "approvals_confirm.html", user, nav=back.lstrip("/"), action=action,
                  text=text.strip(), chosen=_chosen_items(session, user, item_ids), post_to=POST_TO[action],
                  back=back)


@router.post("/items/urge/confirm")
def urge_confirm(request: Request, session: SessionDep, user: UrgerUser,
                 item_ids: ChosenIds = [], text: OneText = "", back: BackTo = "") -> Response:  # noqa: B006
    """催办 of the items chosen on /items or /my: the step before, as for a bulk decision."""
    return _confirm(request, session, user, Action.URGE, item_ids, text, back)


@router.post("/items/urge")
def bulk_urge(request: Request, session: SessionDep, user: UrgerUser, now: NowDep,
              item_ids: ChosenIds = [], versions: ChosenVersions = [],  # noqa: B006 - FastAPI copies defaults
              text: OneText = "", back: BackTo = "") -> Response:
    return _decide(request, session, user, now, Action.URGE, item_ids, versions, text, back)


@router.post("/approvals/sign-off")
def bulk_sign_off(request: Request, session: SessionDep, user: SupervisorUser, now: NowDep,
                  item_ids: ChosenIds = [], versions: ChosenVersions = [],  # noqa: B006 - FastAPI copies defaults
                  text: OneText = "") -> Response:
    return _decide(request, session, user, now, Action.SIGN_OFF, item_ids, versions, text)


@router.post("/approvals/return")
def bulk_return(request: Request, session: SessionDep, user: SupervisorUser, now: NowDep,
                item_ids: ChosenIds = [], versions: ChosenVersions = [],  # noqa: B006 - FastAPI copies defaults
                text: OneText = "") -> Response:
    return _decide(request, session, user, now, Action.RETURN, item_ids, versions, text)


def _decide(request: Request, session: Session, user: Person, now: datetime, action: Action, item_ids: list[int],
            versions: list[int], text: str, back: str = "") -> Response:
    """Sign off, return or urge the confirmed items one by one, then say what became of each."""
    if len(versions) != len(item_ids):
        raise InvalidInput("confirm the chosen items first (the confirmation step sends each item's version)",
                           code="bulk.not_confirmed")
    outcomes = decide(session, action, user, now, [Chosen(i, v) for i, v in zip(item_ids, versions, strict=True)], text)
    session.commit()
    if any(outcome.done for outcome in outcomes):
        after_change(request, now)
    locale = locale_for(request, user)
    back = _back(action, back)
    return render(request, "approvals_report.html", user, nav=back.lstrip("/"), action=action,
                  text=text.strip(), back=back, outcomes=[(o, reason_message(o.error, o.ref, locale) if o.error else "") for o in outcomes])
