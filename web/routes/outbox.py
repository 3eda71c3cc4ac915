"""The outbox (/outbox): sent, pending and dead mail with reasons; admins retry a dead message."""

from __future__ import annotations

import email
import email.policy
import mailbox
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlmodel import Session, col, func, select

from models.errors import NotFound
from models.tables import Notification
from web.access import require_sees_everything
from web.deps import AdminUser, CurrentUser, DbInt, NowDep, PageRouter, SessionDep
from web.render import flash, redirect, render

router = PageRouter(include_in_schema=False)
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
    if outbox_model() is None:
        queued = session.exec(
            select(Notification).where(col(Notification.outbox_id).is_(None))
            .order_by(col(Notification.created_at).desc()).limit(SHOWN)
        ).all()
        return render(request, "outbox.html", user, nav="outbox", messages=None, queued=queued,
                      counts=outbox_counts(session), status=status)
    from notifications.outbox import list_outbox

    return render(request, "outbox.html", user, nav="outbox", messages=list_outbox(session, status or None, SHOWN),
                  queued=None, counts=outbox_counts(session), status=status, catcher=_maildir(request) is not None)


@router.post("/outbox/{message_id}/retry")
def retry(request: Request, message_id: DbInt, session: SessionDep, user: AdminUser, now: NowDep) -> Response:
    """Queue a dead message again, as `duban outbox --retry` does."""
    from notifications.outbox import retry_dead

    retry_dead(session, message_id, user.email, now)
    session.commit()
    flash(request, "Done.")
    return redirect("/outbox")


def _maildir(request: Request) -> mailbox.Maildir | None:
    """The demo's mail catcher (a Maildir): app.state.maildir if `duban serve` set it, else ./mail."""
    path = Path(getattr(request.app.state, "maildir", None) or "mail")
    if not all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
        return None
    return mailbox.Maildir(str(path), factory=None, create=False)


@router.get("/outbox/caught")
def caught(request: Request, user: CurrentUser, key: str = "") -> Response:
    """The mail the demo's mail catcher received, readable without a mail client."""
    require_sees_everything(user)
    box = _maildir(request)
    if box is None:
        raise NotFound("no mail catcher here (the demo keeps its mail in ./mail)", code="catcher.missing")
    if key:
        if key not in box:
            raise NotFound(f"no caught message {key!r}", code="catcher.no_message", params={"key": key})
        message = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
        body = message.get_body(preferencelist=("html", "plain"))
        content = body.get_content() if body is not None else ""
        html = content if body is not None and body.get_content_type() == "text/html" else None
        return render(request, "caught.html", user, nav="outbox", messages=None, message=message,
                      sent_at=_sent_at(message), html=html, text=None if html else content)
    headers = []
    for msg_key in box.keys()[:SHOWN]:
        parsed = email.message_from_bytes(box.get_bytes(msg_key), policy=email.policy.default)
        headers.append((msg_key, _sent_at(parsed), parsed["To"], parsed["Subject"]))
    headers.sort(key=lambda h: h[1] or datetime.min.replace(tzinfo=UTC), reverse=True)
    return render(request, "caught.html", user, nav="outbox", messages=headers, message=None)


def _sent_at(message: email.message.Message) -> datetime | None:
    """The Date header as an instant (shown in local time like every other time), None when unreadable."""
    header = message["Date"]
    sent = getattr(header, "datetime", None)
    return sent if isinstance(sent, datetime) and sent.tzinfo else None
