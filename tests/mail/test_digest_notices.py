"""The digests and who is told: the leadership of the policy given, notices that reached nobody."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session

from config.settings import load_settings
from models.lifecycle import Action, apply
from models.tables import Role
from notifications.digest import queue_digests
from tests.factories import make_document, make_item, make_person, make_unit
from tests.mail.test_digest import digests, text


def test_the_leadership_digest_goes_to_the_leadership_of_the_policy_in_the_settings_given(
    session: Session, now: Any, tmp_path: Path
) -> None:
    # The demo passes its own policy file: the digest used to read the configured one and fall
    # back to the leader role (the units' 分管领导).
    policy = tmp_path / "policy.yaml"
    policy.write_text("leadership_emails: [zhuren@example.gov.cn]\n", encoding="utf-8")
    make_person(session, Role.LEADER, email="fsz-wang@example.gov.cn")
    make_item(session, deadline=date(2024, 5, 1))
    session.commit()
    queue_digests(session, now, load_settings(delivery_window=False, policy_file=policy))
    leadership = sorted(addr for audience, addr in digests(session) if audience == "leadership")
    assert leadership == ["zhuren@example.gov.cn"]


def test_the_admins_digest_lists_the_items_whose_notices_reached_nobody(session: Session, now: Any) -> None:
    lead = make_unit(session, contact_emails=["lead@fgw.gov.cn"])
    officer = make_person(session, Role.OFFICER, lead)
    item = make_item(session, lead_unit=lead, document=make_document(session, "新时代意见"), number="7",
                     title="推动出台若干政策措施", deadline=date(2024, 6, 30))
    session.commit()
    apply(session, item, Action.SUBMIT, officer, now - timedelta(days=1), evidence="已印发")  # no supervisor, no admin
    make_person(session, Role.ADMIN, email="admin@dc.gov.cn")
    session.commit()
    queue_digests(session, now, load_settings(delivery_window=False))
    body = text(digests(session)[("admin", "admin@dc.gov.cn")])
    assert "无人接收的通知：1条" in body and "新时代意见/7 推动出台若干政策措施（待销号" in body


def test_the_admins_digest_names_the_escalation_level_that_reached_nobody(session: Session, now: Any) -> None:
    from models.tables import Notification

    item = make_item(session, lead_unit=make_unit(session, contact_emails=[]), document=make_document(session, "建设方案"),
                     number="3", title="建设物流枢纽", deadline=date(2024, 6, 30))
    session.add(Notification(key="level-2", item_id=item.id, kind="escalated", unreached=True, payload={"level": 2},
                             created_at=now - timedelta(days=1)))
    make_person(session, Role.ADMIN, email="admin@dc.gov.cn")
    session.commit()
    queue_digests(session, now, load_settings(delivery_window=False))
    message = digests(session)[("admin", "admin@dc.gov.cn")]
    assert "建设方案/3 建设物流枢纽（第2级升级督办" in text(message)
    assert "第2级升级督办" in str(message.get_body(("html",)).get_content())
