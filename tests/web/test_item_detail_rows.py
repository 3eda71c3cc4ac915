"""The item page's timeline and files, read as plain rows, are what the ORM objects gave (web7)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, select

from config.settings import get_settings
from models.attachments import Attachment, as_listed
from models.read import views
from models.read.views import item_detail
from models.tables import ExtensionRequest, ItemAcknowledgement, ItemEvent
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
    # On SQLite the page reads on the DBAPI connection (models.read.views._SqliteReads): every value
    # as SQLAlchemy's rows give it, with a pending extension and 签收 (one by import) besides.
    session.add(ExtensionRequest(item_id=item.id, requester_id=world.people["lead"].id,
                                 requested_deadline=date(2024, 8, 1), reason="申请延期 <理由>", requested_at=now))
    session.add(ItemAcknowledgement(item_id=item.id, unit_id=world.units["swj"].id, person_id=None, at=now))
    session.add(ItemAcknowledgement(item_id=item.id, unit_id=world.units["czj"].id,
                                    person_id=world.people["co"].id, at=now - timedelta(hours=1)))
    session.commit()
    plain = item_detail(session, world.people["sup"], item, now, get_settings().tz, "zh-CN")
    original = views._SqliteReads
    views._SqliteReads = views._Reads  # type: ignore[misc]
    try:
        general = item_detail(session, world.people["sup"], item, now, get_settings().tz, "zh-CN")
    finally:
        views._SqliteReads = original  # type: ignore[misc]
    assert plain == general
    assert plain["pending_extension"]["requested_deadline"] == date(2024, 8, 1)
    assert len(plain["acknowledgements"]) == 3 and plain["progress_reports"] and len(plain["attachments"]) == 3
    assert _same_types(plain, general)


def _same_types(plain: Any, general: Any) -> bool:
    """The same values of the same types, all the way down (a Row and a tuple compare equal)."""
    if isinstance(general, dict):
        return plain.keys() == general.keys() and all(_same_types(plain[k], general[k]) for k in general)
    if isinstance(general, list):
        return len(plain) == len(general) and all(_same_types(p, g) for p, g in zip(plain, general, strict=True))
    return type(plain) is type(general) and plain == general
