"""The outbox (/outbox): sent, pending and dead mail with reasons; admins retry a dead message."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import update
from sqlmodel import Session, col, func, select

from models.errors import ConflictError, NotFound
from models.tables import Notification
from web.access import require_sees_everything
from web.deps import AdminUser, CurrentUser, NowDep, SessionDep, csrf_protect
from web.render import flash, redirect, render

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)
SHOWN = 200


def outbox_model() -> Any | None:
    """The mail issue's outbox table, or None while it is not there yet."""
    try:
        from models.outbox import OutboxMessage
    except ImportError:
        return None
    return OutboxMessage


def outbox_counts(session: Session) -> dict[str, int]:
    model = outbox_model()
    if model is None:
        pending = session.exec(
            select(func.count()).select_from(Notification).where(col(Notification.outbox_id).is_(None))
        ).one()
        return {"queued": int(pending)}
    return {str(status): int(n) for status, n in session.exec(
        select(model.status, func.count()).group_by(model.status)
    ).all()}


@router.get("/outbox")
def outbox(request: Request, session: SessionDep, user: CurrentUser, status: str = "") -> Response:
    require_sees_everything(user)
    model = outbox_model()
    if model is None:
        queued = session.exec(
            select(Notification).where(col(Notification.outbox_id).is_(None))
            .order_by(col(Notification.created_at).desc()).limit(SHOWN)
        ).all()
        return render(request, "outbox.html", user, nav="outbox", messages=None, queued=queued,
                      counts=outbox_counts(session), status=status)
    query = select(model).order_by(col(model.created_at).desc(), col(model.id).desc()).limit(SHOWN)
    if status:
        query = query.where(model.status == status)
    return render(request, "outbox.html", user, nav="outbox", messages=session.exec(query).all(), queued=None,
                  counts=outbox_counts(session), status=status)


@router.post("/outbox/{message_id}/retry")
def retry(request: Request, message_id: int, session: SessionDep, user: AdminUser, now: NowDep) -> Response:
    """Dead -> pending, due now; compare-and-set, so two admins clicking at once retry it once."""
    model = outbox_model()
    if model is None or session.get(model, message_id) is None:
        raise NotFound(f"no outbox message with id {message_id}")
    result = session.exec(  # type: ignore[call-overload]
        update(model).where(col(model.id) == message_id, col(model.status) == "dead")
        .values(status="pending", next_attempt_at=now, claim=None)
    )
    if result.rowcount != 1:
        raise ConflictError(f"outbox message {message_id} is not dead (any more); nothing was changed")
    session.commit()
    flash(request, "Done.")
    return redirect("/outbox")
