"""The item page's timeline and files, read as plain rows, are what the ORM objects gave (web7)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from config.settings import get_settings
from models.attachments import Attachment, as_listed
from models.read.views import item_detail
from models.tables import ItemEvent
from tests.web.test_evidence import PDF, PNG, _report


def _old_reads(
    session: Session, item_id: int
) -> tuple[list[dict[str, Any]], list[dict[str, object]]]:
    """As item_detail read them before: ItemEvent objects oldest first, reversed; Attachment objects by id."""
    events = list(
        reversed(
            session.exec(
                select(ItemEvent)
                .where(ItemEvent.item_id == item_id)
                .order_by(col(ItemEvent.at), col(ItemEvent.id))
            ).all()
        )
    )
    timeline = [
        {
            "id": e.id,
            "kind": e.kind,
            "at": e.at,
            "actor": e.actor_label,
            "from": e.from_status,
            "to": e.to_status,
            "payload": e.payload,
        }
        for e in events
    ]
    files = list(
        as_listed(
            session.exec(
                select(Attachment).where(Attachment.item_id == item_id).order_by(col(Attachment.id))
            ).all()
        )
    )
    return timeline, files


def test_the_timeline_and_files_are_those_the_orm_read(world, client_for, session, now):  # type: ignore[no-untyped-def]
    item = world.items["ours"]
    lead, sup = client_for(world.people["lead"]), client_for(world.people["sup"])
    assert _report(lead, item, [("整改报告.pdf", PDF), ("现场照片.png", PNG)]).status_code == 303
    session.refresh(item)
    assert _report(lead, item, [("again.pdf", PDF)], text="再次报送 <b>&</b>").status_code == 303
    session.refresh(item)
    assert (
        sup.post(
            f"/items/{item.id}/act",
            data={"csrf_token": "test-csrf-token", "action": "urge", "text": "请抓紧"},
        ).status_code
        == 303
    )
    # Two events at one instant: the order between them is by id, newest first, as before.
    first = session.exec(select(ItemEvent).where(ItemEvent.item_id == item.id)).first()
    assert first is not None
    session.add(
        ItemEvent(
            item_id=item.id,
            kind="commented",
            at=first.at,
            actor_id=world.people["sup"].id,
            actor_label="督查 <sup@dc.gov.cn> (supervisor)",
            payload={"text": "同一时刻"},
        )
    )
    session.add(
        ItemEvent(
            item_id=item.id,
            kind="commented",
            at=first.at - timedelta(days=1),
            actor_id=None,
            actor_label="import:台账.xlsx",
            payload={},
        )
    )
    session.commit()
    session.expire_all()

    timeline, files = _old_reads(session, item.id)
    assert len(timeline) >= 5 and len(files) == 3
    detail = item_detail(session, world.people["sup"], item, now, get_settings().tz, "zh-CN")
    assert [
        {k: e[k] for k in ("id", "kind", "at", "actor", "from", "to", "payload")}
        for e in detail["timeline"]
    ] == timeline
    assert [type(e["at"]) for e in detail["timeline"]] == [type(e["at"]) for e in timeline]
    assert all(e["at"].tzinfo is not None for e in detail["timeline"])
    assert detail["attachments"] == files
    assert detail["urged"] == 1
    page = sup.get(f"/items/{item.id}").text
    assert page.count('href="/attachments/') >= 3 and "同一时刻" in page
