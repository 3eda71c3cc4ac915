"""JSON under /api/v1 for scripts: items, lifecycle actions, figures, outbox status (bearer tokens)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlmodel import Session

from models.accounts import find_token, revoke_token, tokens_of
from models.approvals import Chosen, decide
from models.errors import Forbidden
from models.lifecycle import Action, apply
from models.queries import find_person
from models.read.filters import UnitRole
from models.read.views import SORTS, ItemQuery, as_json, item_detail, page_of_items
from models.tables import Person, Role, Status
from web.access import check_version, require_sees_everything, visible_item
from web.deps import ApiUser, DbInt, NowDep, SessionDep, SettingsDep, after_change, require_urger
from web.itemview import action_payload
from web.routes.outbox import outbox_counts

router = APIRouter(prefix="/api/v1", tags=["api"])


class Me(BaseModel):
    id: int
    name: str
    email: str
    role: Role
    unit_id: int | None


class ItemSummary(BaseModel):
    id: int
    ref: str
    document: str
    number: str
    title: str
    lead_unit: str
    status: Status
    due_state: str
    light: str = Field(description="red: overdue; yellow: due within the reminder window; green: on track")
    deadline: date
    original_deadline: date
    escalation_level: int
    version: int
    unacknowledged: bool = Field(description="未签收: worked on and not acknowledged by its lead unit")
    urged: int = Field(description="催办: how many times the item was urged")


class ItemPage(BaseModel):
    total: int
    page: int
    per_page: int
    items: list[ItemSummary]


class ActionBody(BaseModel):
    """The fields an action needs: progress, urge, instruct (批示) and comment (留言) `text` (and
    `percent`), submit `evidence`, return/cancel/reject `reason`, extension request `deadline` and
    `reason`, sign-off `comment`; edit any of `title`, `deadline` (with `reason`), `lead_unit`,
    `co_units`, `supervisor`, `category`, `frequency` (e.g. 每季度 or "quarterly"; "" for none; a field
    left out stays as it is)."""

    version: DbInt | None = Field(default=None, description="The item's version you acted on; 409 if it changed since")
    text: str | None = None
    percent: int | None = Field(default=None, ge=0, le=100)
    evidence: str | None = None
    reason: str | None = None
    deadline: date | None = None
    comment: str | None = None
    title: str | None = Field(default=None, max_length=2000)
    lead_unit: str | None = Field(default=None, max_length=200, description="A unit's name or code")
    co_units: list[str] | None = Field(default=None, max_length=100, description="Unit names or codes; [] for none")
    supervisor: str | None = Field(default=None, max_length=320, description="A supervisor's email")
    category: str | None = Field(default=None, max_length=200)
    frequency: str | None = Field(default=None, max_length=100, description="频次, e.g. 每季度 or quarterly; '' for none")


@router.get("/me", response_model=Me)
def me(user: ApiUser) -> Any:
    return user


@router.get("/items", response_model=ItemPage)
def items(
    session: SessionDep, user: ApiUser, now: NowDep, settings: SettingsDep,
    document: str = "", unit: str = "", unit_role: UnitRole = UnitRole.ANY, status: Status | None = None,
    open: bool = False, overdue: bool = False,
    due_soon: bool = False, unacknowledged: bool = False, returned: bool = False, level: Annotated[DbInt | None, Query(ge=0)] = None, q: str = "", archived: bool = False,
    supervisor: Annotated[str, Query(max_length=320)] = "",
    sort: Annotated[str, Query(pattern="^(" + "|".join(SORTS) + ")$")] = "deadline",
    page: Annotated[DbInt, Query(ge=1, le=100_000)] = 1, per_page: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Any:
    """Items the token's person may see, filtered like the /items page (unit: name, part of it or code;
    unit_role: lead, co or any; open: not signed off or cancelled; unacknowledged: 未签收, worked on and
    not acknowledged by the lead unit; returned: returned by the supervisor, worked on again; archived: items of archived documents too;
    supervisor: the email of the items' supervisor)."""
    query = ItemQuery(document=document, unit=unit, unit_role=unit_role, status=status, open=open, overdue=overdue,
                      due_soon=due_soon, unacknowledged=unacknowledged, returned=returned, level=level, q=q, archived=archived, supervisor=supervisor,
                      sort=sort, page=page, per_page=per_page)
    found = page_of_items(session, user, query, now, settings.tz)
    return {"total": found.total, "page": page, "per_page": per_page,
            "items": [row.as_dict() for row in found.rows]}


@router.get("/items/{item_id}")
def item(item_id: DbInt, session: SessionDep, user: ApiUser, now: NowDep, settings: SettingsDep) -> dict[str, Any]:
    """One item with its timeline, progress reports, pending extension and the actions you may take."""
    return as_json(item_detail(session, user, visible_item(session, user, item_id), now, settings.tz))


@router.post("/items/{item_id}/{action}")
def act(request: Request, item_id: DbInt, action: Action, body: ActionBody, session: SessionDep, user: ApiUser,
        now: NowDep, settings: SettingsDep) -> dict[str, Any]:
    """Take a lifecycle action; 403 if you may not, 409 if the state does not allow it or the item changed."""
    item_row = visible_item(session, user, item_id)
    check_version(item_row, body.version)
    apply(session, item_row, action, user, now, **action_payload(action, body.model_dump()))
    session.commit()
    after_change(request, now)
    return as_json(item_detail(session, user, item_row, now, settings.tz))


class ChosenItem(BaseModel):
    id: DbInt
    version: DbInt = Field(description="The item's version you decided on; a changed item is left as it is")


class BulkBody(BaseModel):
    """Items to sign off or return at once, with one `comment` (sign-off) or `reason` (return, required)."""

    items: list[ChosenItem] = Field(max_length=500)
    comment: str | None = Field(default=None, max_length=2000)
    reason: str | None = Field(default=None, max_length=2000)


@router.post("/approvals/{action}")
def bulk(request: Request, action: Literal["sign_off", "return"], body: BulkBody, session: SessionDep, user: ApiUser,
         now: NowDep) -> dict[str, Any]:
    """Sign off or return several items; each one `done` or refused with its `code`, `params` and `detail`
    (e.g. `bulk.changed_meanwhile` when its version moved on). 400 (nothing done) without items or a reason."""
    decision = Action(action)
    text = (body.comment if decision is Action.SIGN_OFF else body.reason) or ""
    return _decide(request, session, user, now, decision, body.items, text)


class UrgeBody(BaseModel):
    """Items to urge (催办) at once, with one message `text` (required) for every item's lead unit."""

    items: list[ChosenItem] = Field(max_length=500)
    text: str = Field(default="", max_length=2000)


@router.post("/urge")
def urge(request: Request, body: UrgeBody, session: SessionDep, user: ApiUser, now: NowDep) -> dict[str, Any]:
    """Urge several items; each one `done` or refused with its `code`, `params` and `detail` (e.g.
    `action.wrong_state` for a closed item, `bulk.changed_meanwhile` when its version moved on). 400
    (nothing done) without items or a message; 403 for officers."""
    return _decide(request, session, require_urger(user), now, Action.URGE, body.items, body.text)


def _decide(request: Request, session: Session, user: Person, now: datetime, action: Action,
            chosen: list[ChosenItem], text: str) -> dict[str, Any]:
    """Act on each chosen item (models/approvals.py), commit once, and answer per item."""
    outcomes = decide(session, action, user, now, [Chosen(c.id, c.version) for c in chosen], text)
    session.commit()
    if any(o.done for o in outcomes):
        after_change(request, now)
    return {"items": [{"id": o.item_id, "ref": o.ref, "done": o.done,
                       **({"code": o.error.code, "params": o.error.params, "detail": str(o.error)} if o.error else {})}
                      for o in outcomes]}


@router.get("/report")
def report(request: Request, session: SessionDep, user: ApiUser, now: NowDep, settings: SettingsDep) -> dict[str, Any]:
    """Per document and per lead unit: total, signed off, rate, open, due soon, overdue; escalation counts."""
    figures = request.app.state.figures.get(session, user, now, settings.tz)
    return {
        "as_of": now.astimezone(settings.tz).isoformat(), "overall": figures.overall.as_dict(),
        "week_starts": [d.isoformat() for d in figures.week_starts],
        "documents": [r.as_dict() for r in figures.documents], "units": [r.as_dict() for r in figures.units],
        "escalation": {str(level): n for level, n in figures.escalation.items()},
    }


@router.get("/outbox")
def outbox(session: SessionDep, user: ApiUser) -> dict[str, int]:
    """Messages by status (sent, pending, failed, dead)."""
    require_sees_everything(user)
    return outbox_counts(session)


class TokenInfo(BaseModel):
    id: int
    hint: str = Field(description="The token's first characters, to tell tokens apart")
    created_at: datetime
    last_used_at: datetime | None = Field(description="Last request with it (recorded at most every 5 minutes)")
    revoked_at: datetime | None


@router.get("/tokens", response_model=list[TokenInfo])
def tokens(session: SessionDep, user: ApiUser, email: str | None = None) -> Any:
    """Your API tokens, newest first; admins may name someone else with `email`."""
    person = user
    if email is not None and email.strip().lower() != user.email:
        if user.role != Role.ADMIN:
            raise Forbidden(f"{user.email} ({user.role}): only admins may list other people's tokens",
                            code="token.others_admin_only", params={"email": user.email, "role": user.role})
        person = find_person(session, email)
    return tokens_of(session, person)


@router.delete("/tokens/{token_id}", response_model=TokenInfo)
def revoke(token_id: DbInt, session: SessionDep, user: ApiUser, now: NowDep) -> Any:
    """Revoke one of your tokens (admins: anyone's); revoking the token you call with ends its use too."""
    token = find_token(session, token_id, by=user)
    revoke_token(session, token, now)
    session.commit()
    return token
