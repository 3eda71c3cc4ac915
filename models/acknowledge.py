"""签收 reminders: a lead unit that has not acknowledged a new item within the policy's
`acknowledge.within` working days is reminded, once.

The due instant is `Item.acknowledge_due_at` (set at assignment, cleared by the acknowledgement,
models/lifecycle.py), indexed, so finding what is due costs nothing when nothing is. Clearing it is
compare-and-set on its old value: a second or parallel sweep finds nothing to do, and the
notification's unique key makes a duplicate impossible even so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, true, update
from sqlmodel import Session

from config.policy import Policy
from models.deadlines import ACTIVE_STATUSES
from models.notices import ItemRef, People
from models.tables import SWEEP_ACTOR, Item, ItemEvent, Notification

ITEM: Any = Item.__table__  # type: ignore[attr-defined]
EVENT: Any = ItemEvent.__table__  # type: ignore[attr-defined]
NOTIFICATION: Any = Notification.__table__  # type: ignore[attr-defined]
ACTOR_LABEL = SWEEP_ACTOR


def remind_unacknowledged(session: Session, now: datetime, policy: Policy, batch_size: int = 1000) -> int:
    """Queue every 签收 reminder due at `now`; returns how many. The caller commits."""
    from models.sweep import archived_documents

    reminded = 0
    archived = archived_documents(session)  # an archived document's items wait, as in the sweep
    while True:
        rows = session.execute(
            select(ITEM.c.id, ITEM.c.document_id, ITEM.c.lead_unit_id, ITEM.c.supervisor_id,
                   ITEM.c.acknowledge_due_at, ITEM.c.deadline_version, ITEM.c.number, ITEM.c.title,
                   ITEM.c.status)
            .where(ITEM.c.acknowledge_due_at <= now, ITEM.c.document_id.not_in(archived) if archived else true())
            .order_by(ITEM.c.acknowledge_due_at, ITEM.c.id).limit(batch_size)
        ).all()
        if not rows:
            return reminded
        refs = [ItemRef(r.id, r.document_id, r.lead_unit_id, r.supervisor_id) for r in rows]
        people = People(session, policy)
        people.load(refs)
        people.load_documents(refs)
        for row, ref in zip(rows, refs, strict=True):
            claimed = session.execute(
                update(ITEM).where(ITEM.c.id == row.id, ITEM.c.acknowledge_due_at == row.acknowledge_due_at)
                .values(acknowledge_due_at=None, version=ITEM.c.version + 1)
            )
            if claimed.rowcount != 1 or row.status not in ACTIVE_STATUSES:  # type: ignore[attr-defined]
                continue  # someone else got there first, or the item no longer waits on its unit
            due = row.acknowledge_due_at.isoformat()
            session.execute(insert(EVENT).values(
                item_id=row.id, kind="acknowledge_reminded", at=now, actor_id=None, actor_label=ACTOR_LABEL,
                from_status=row.status, to_status=row.status, payload={"due_at": due}))
            recipients = people.recipients(policy.acknowledge, ref)
            session.execute(insert(NOTIFICATION).values(
                key=f"acknowledge_reminder:{row.id}:{due}", item_id=row.id, kind="acknowledge_reminder",
                deadline_version=row.deadline_version, to_addrs=recipients.to, cc_addrs=recipients.cc,
                unreached=recipients.unreached, created_at=now, outbox_id=None,
                payload={"document": people.documents.get(row.document_id, ""), "number": row.number,
                         "title": row.title, "within": policy.acknowledge_within, **recipients.notes()}))
            reminded += 1
        if len(rows) < batch_size:
            return reminded
