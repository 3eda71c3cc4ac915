"""The outbox: pending notifications grouped into one message per recipient address; listing and retrying.

Each address gets one mail per run listing every item that needs its attention (the addresses
in a notification's `to`), and, in a section of its own, the items it is copied on for
information (`cc`). An address in both sees the item once, as needing attention.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, Row, bindparam, func, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from config.i18n import pgettext
from models.bulk import Many
from models.deadlines import ACTIVE_STATUSES
from models.errors import Forbidden, InvalidInput, NotFound
from models.notices import THRESHOLD_TEMPLATES, still_true, template_for
from models.outbox import OutboxMessage, OutboxStatus, queue_columns
from models.period_sweep import KINDS as PERIOD_KINDS
from models.periods import period_named, still_due
from models.queries import find_person
from models.tables import Document, Item, ItemCoUnit, Notification, Person, Role, Unit
from notifications.builders import (
    Envelope,
    ItemLine,
    build_notice,
    message_id_for,
    ordered_sections,
)

if TYPE_CHECKING:  # the model (pydantic-settings) is built only where settings are read with it
    from config.settings import Settings

_GROUPING = -1  # outbox_id while a run is grouping a notification (never committed)
_NOTIFICATION = Notification.__table__  # type: ignore[attr-defined]
# A grouped notification's message: one statement for every (notification, message) pair (models/bulk.py).
_LINK = Many(update(_NOTIFICATION).where(_NOTIFICATION.c.id == bindparam("n"), _NOTIFICATION.c.outbox_id == _GROUPING)
             .values(outbox_id=bindparam("m")), ("n", "m"))
PERIOD_NOTICES = frozenset(PERIOD_KINDS.values())


def sender_name(locale: str) -> str:
    """The From name mail carries in `locale`: 督办系统 / duban."""
    return pgettext(locale, "sender", "duban")


# A pending notification as grouping reads it: these columns, not an ORM object (building thousands
# of those, and decoding columns a mail does not use, was a large part of grouping).
_PENDING_COLUMNS = [col(getattr(Notification, name)) for name in ("id", "item_id", "kind", "to_addrs", "cc_addrs", "payload")]
_Pending = Row[Any]


@dataclass
class _Mailbox:
    action: dict[str, dict[int, _Pending]] = field(default_factory=lambda: defaultdict(dict))
    fyi: dict[str, dict[int, _Pending]] = field(default_factory=lambda: defaultdict(dict))

    def notification_ids(self) -> list[int]:
        return sorted({n.id for group in (*self.action.values(), *self.fyi.values())  # type: ignore[misc]
                       for n in group.values()})


def item_url(base_url: str, item_id: int) -> str:
    return f"{base_url.rstrip('/')}/items/{item_id}"


def group_pending(session: Session, now: datetime, settings: Settings, limit: int = 20000) -> int:
    """Queue one message per address for the pending notifications; returns the messages queued.

    Commits. The UPDATEs skip the ORM's session synchronisation: evaluating each WHERE against
    every loaded notification made grouping quadratic (60 s for 5,000 notifications). A parallel run that got to the same notifications first makes this one roll back
    and queue nothing (compare-and-set on `outbox_id`).
    """
    pending = session.execute(
        select(*_PENDING_COLUMNS).where(col(Notification.outbox_id).is_(None)).order_by(col(Notification.id)).limit(limit)
    ).all()
    if not pending:
        return 0
    ids = [n.id for n in pending]
    try:
        claimed = cast(CursorResult[Any], session.execute(
            update(Notification).where(col(Notification.id).in_(ids), col(Notification.outbox_id).is_(None))
            .values(outbox_id=_GROUPING).execution_options(synchronize_session=False)
        )).rowcount
        if claimed != len(ids):  # another run is grouping (some of) them
            session.rollback()
            return 0
        mails = _messages(session, pending, now, settings)
        ids = queue_columns(session, mails)
        # One statement run for every (notification, message) pair, in the messages' order: a
        # notification in several messages (to one address, copied to another) keeps the first.
        _LINK.run(session.connection(),
                  [(n, outbox_id) for outbox_id, (columns, _) in zip(ids, mails, strict=True) for n in columns["notification_ids"]])
        # Notifications with nobody to tell are done too: 0 marks them.
        session.execute(update(Notification).where(Notification.outbox_id == _GROUPING).values(outbox_id=0)
                        .execution_options(synchronize_session=False))
        session.commit()
    except (IntegrityError, OperationalError):
        # SQLite: another writer changed the snapshot; PostgreSQL: a parallel run queued the same key.
        session.rollback()
        return 0
    return len(ids)


def _messages(session: Session, pending: Sequence[_Pending], now: datetime,
              settings: Settings) -> list[tuple[dict[str, Any], str]]:
    """Each message's outbox columns (models.outbox.queue_columns) and its rendered mail."""
    mailboxes: dict[str, _Mailbox] = defaultdict(_Mailbox)
    for n in _periods_still_due(session, pending):
        for addr in _addresses(n.to_addrs):
            mailboxes[addr].action[n.kind][n.item_id] = n  # the newest notice of a kind per item wins
        for addr in _addresses(n.cc_addrs):
            mailboxes[addr].fyi[n.kind][n.item_id] = n
    for addr in _deactivated(session, mailboxes.keys()):
        del mailboxes[addr]  # a deactivated person gets no mail (models/admin.py)
    lines = _item_lines(session, {n.item_id for n in pending}, now, settings)
    for box in mailboxes.values():
        box.action, box.fyi = _true_now(box.action, lines), _true_now(box.fyi, lines)
        for kind, by_item in box.action.items():
            for item_id in by_item:
                box.fyi.get(kind, {}).pop(item_id, None)
    locales = _locales(session, mailboxes.keys(), settings.locale)
    units_by_contact = _units_by_contact(session)
    out = []
    for addr in sorted(mailboxes):
        box = mailboxes[addr]
        notification_ids = box.notification_ids()
        key = "notice:" + hashlib.sha256(f"{addr}|{','.join(map(str, notification_ids))}".encode()).hexdigest()[:48]
        locale = locales.get(addr, settings.locale)
        unit_ids = units_by_contact.get(addr, set())

        def section_lines(group: dict[int, _Pending], _units: set[int] = unit_ids) -> list[ItemLine]:
            return [_line(lines[item_id], n, _units, settings.base_url) for item_id, n in sorted(group.items())]

        sections = ordered_sections({kind: section_lines(group) for kind, group in box.action.items()})
        fyi = ordered_sections({kind: section_lines(group) for kind, group in box.fyi.items()})
        if not sections and not fyi:
            continue
        envelope = Envelope(
            sender=settings.mail_from, sender_name=sender_name(locale), to=[addr],
            message_id=message_id_for(key, settings.mail_from), date=now,
        )
        mail = build_notice(envelope, locale=locale, sections=sections, fyi=fyi, base_url=settings.base_url)
        kinds = {s.kind for s in (*sections, *fyi)}
        out.append(({
            "key": key, "kind": kinds.pop() if len(kinds) == 1 else "notice", "locale": locale, "recipients": [addr],
            "item_ids": sorted({line.item_id for s in (*sections, *fyi) for line in s.lines}),
            "notification_ids": notification_ids, "subject": mail.subject,
            "message_id": envelope.message_id, "status": OutboxStatus.PENDING,
            "next_attempt_at": now, "created_at": now,
        }, mail.raw))
    return out


def _true_now(by_kind: dict[str, dict[int, _Pending]], facts: dict[int, _ItemFacts]) -> dict[str, dict[int, _Pending]]:
    """What one mail says of each item is true when it is built: the item's latest state wins.

    Each notice is shown in its kind's template (models/notices.py). A notice no longer true of
    the item's state is left out (新交办 or 退回 of an item since signed
    off, 待销号 of one since returned); of several sweep notices only the newest stays; and one
    saying "new" or "due soon" of an item overdue by now is shown as overdue. Days left and days
    overdue are the mail's own (`_item_lines`, at building time), never the queued ones.
    """
    per_item: dict[int, list[_Pending]] = defaultdict(list)
    for group in by_kind.values():
        for item_id, n in group.items():
            if item_id in facts and still_true(n.kind, facts[item_id].item.status):
                per_item[item_id].append(n)
    out: dict[str, dict[int, _Pending]] = defaultdict(dict)
    for item_id, notices in per_item.items():
        sweeps = [n for n in notices if n.kind in THRESHOLD_TEMPLATES]
        overdue = facts[item_id].days_left < 0 and facts[item_id].item.status in ACTIVE_STATUSES
        for n in notices:
            if sweeps and n.kind in THRESHOLD_TEMPLATES and n is not max(sweeps, key=lambda m: m.id or 0):
                continue
            section = template_for("overdue" if overdue and n.kind in ("assigned", "reminder") else n.kind)
            if section not in out or item_id not in out[section] or (out[section][item_id].id or 0) < (n.id or 0):
                out[section][item_id] = n
    return out


def _periods_still_due(session: Session, pending: Sequence[_Pending]) -> list[_Pending]:
    """A period's notice (reminded, missed, escalated) is true while that period is not reported and
    still due on the day it names: one built after the unit reported, or after the due day moved, is
    left out (as an item's notice whose state moved on, `_true_now`)."""
    named = {n.id: period for n in pending
             if n.kind in PERIOD_NOTICES and (period := period_named(n.item_id, n.payload or {})) is not None}
    due = still_due(session, set(named.values()))
    return [n for n in pending if n.id not in named or named[n.id] in due]


def _addresses(addrs: Iterable[str]) -> list[str]:
    return sorted({a.strip().lower() for a in addrs if a and a.strip()})


@dataclass(frozen=True)
class _ItemFacts:
    item: Row[Any]  # the item's columns a mail shows or decides by (_ITEM_COLUMNS), not an ORM object
    document: str
    lead_unit: str
    co_unit_ids: frozenset[int]
    days_left: int


# Columns, not ORM objects: building thousands of Items was most of reading them.
_ITEM_COLUMNS = [col(getattr(Item, name)) for name in
                 ("id", "number", "title", "status", "deadline", "original_deadline", "lead_unit_id")]


def _item_lines(session: Session, item_ids: set[int], now: datetime, settings: Settings) -> dict[int, _ItemFacts]:
    today = now.astimezone(settings.tz).date()
    rows = session.execute(
        select(*_ITEM_COLUMNS, col(Document.short_name), col(Unit.name))
        .join(Document, col(Document.id) == Item.document_id)
        .join(Unit, col(Unit.id) == Item.lead_unit_id)
        .where(col(Item.id).in_(item_ids))
    ).all()
    co: dict[int, set[int]] = defaultdict(set)
    for item_id, unit_id in session.exec(
        select(ItemCoUnit.item_id, ItemCoUnit.unit_id).where(col(ItemCoUnit.item_id).in_(item_ids))
    ).all():
        co[item_id].add(unit_id)
    return {
        row.id: _ItemFacts(row, row.short_name, row.name, frozenset(co[row.id]), (row.deadline - today).days)
        for row in rows
    }


def _line(facts: _ItemFacts, n: _Pending, unit_ids: set[int], base_url: str) -> ItemLine:
    item = facts.item
    role = "co" if unit_ids and item.lead_unit_id not in unit_ids and unit_ids & facts.co_unit_ids else "lead"
    details: dict[str, Any] = dict(n.payload or {})
    return ItemLine(
        item_id=item.id, ref=f"{facts.document}/{item.number}", title=item.title,
        lead_unit=facts.lead_unit, deadline=item.deadline, original_deadline=item.original_deadline,
        days_left=facts.days_left, url=item_url(base_url, item.id), role=role, details=details,
    )


def _locales(session: Session, addrs: Iterable[str], default: str) -> dict[str, str]:
    addrs = list(addrs)
    found = {}
    for chunk in range(0, len(addrs), 500):
        for email, locale in session.exec(
            select(Person.email, Person.locale).where(func.lower(Person.email).in_(addrs[chunk:chunk + 500]))
        ).all():
            found[email.lower()] = locale or default
    return found


def _deactivated(session: Session, addrs: Iterable[str]) -> set[str]:
    """The addresses among `addrs` that belong to deactivated people."""
    wanted = set(addrs)
    return {email.lower() for email in session.exec(select(Person.email).where(~col(Person.active))).all()
            if email.lower() in wanted}


def _units_by_contact(session: Session) -> dict[str, set[int]]:
    """The units each address speaks for (as a contact), to tell lead from co-unit involvement."""
    index: dict[str, set[int]] = defaultdict(set)
    for unit_id, contacts in session.exec(select(Unit.id, Unit.contact_emails)).all():
        for addr in contacts or []:
            index[addr.strip().lower()].add(unit_id)  # type: ignore[arg-type]
    return index


def list_outbox(session: Session, status: str | None, limit: int) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(col(OutboxMessage.id).desc()).limit(limit)
    if status:
        if status not in set(OutboxStatus):
            raise InvalidInput(f"unknown status {status!r}; use one of {', '.join(OutboxStatus)}",
                               code="outbox.unknown_status", params={"status": status, "options": list(OutboxStatus)})
        query = query.where(OutboxMessage.status == status)
    return list(session.scalars(query).all())


def retry_dead(session: Session, message_id: int, by: str, now: datetime) -> OutboxMessage:
    """Queue a dead message again (admins only); the retry age starts afresh. The caller commits."""
    actor = find_person(session, by)
    if actor.role != Role.ADMIN or not actor.active:
        raise Forbidden(f"only an active admin may retry outbox messages; {actor.email} is {actor.role}",
                        code="outbox.admin_only", params={"email": actor.email, "role": actor.role})
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(f"no outbox message with id {message_id}", code="outbox.not_found", params={"id": message_id})
    if message.status != OutboxStatus.DEAD:
        raise InvalidInput(f"outbox message {message_id} is {message.status}; only dead messages can be retried",
                           code="outbox.not_dead", params={"id": message_id, "status": message.status})
    message.last_error = f"requeued by {actor.email} at {now.isoformat()} (first queued {message.created_at.isoformat()}); was: {message.last_error}"
    message.status, message.attempts, message.claim = OutboxStatus.PENDING, 0, None
    message.next_attempt_at = message.created_at = now
    session.add(message)
    return message
