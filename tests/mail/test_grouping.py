"""Grouping pending notifications into one message per recipient address."""

from __future__ import annotations

import email
import threading
from datetime import date
from email import policy
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.outbox import OutboxMessage
from models.tables import Notification, Role, Status
from notifications.outbox import group_pending
from tests.factories import make_item, make_person, make_unit
from tests.mail.conftest import SmtpSink, notify, raw_of


def messages(session: Session) -> list[OutboxMessage]:
    session.expire_all()
    return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())


def text_of(message: OutboxMessage) -> str:
    parsed = email.message_from_string(raw_of(message), policy=policy.default)
    return parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_a_unit_with_30_items_due_gets_one_mail(session: Session, now: Any, smtp_sink: SmtpSink) -> None:
    unit = make_unit(session, "市发改委", contact_emails=["fgw@example.gov.cn"])
    for _ in range(30):
        notify(session, make_item(session, lead_unit=unit, deadline=date(2024, 6, 10)), "reminder", unit.contact_emails)
    session.commit()

    assert group_pending(session, now, smtp_sink.settings()) == 1
    (message,) = messages(session)
    assert message.recipients == ["fgw@example.gov.cn"] and len(message.item_ids) == 30
    assert message.subject == "【督办提醒】30项事项即将到期"
    assert text_of(message).count("剩余天数：7") == 30
    assert all(n.outbox_id == message.id for n in session.exec(select(Notification)).all())


def test_each_contact_gets_their_own_mail_and_a_cc_gets_one_for_information(session: Session, now: Any, smtp_sink: SmtpSink) -> None:
    unit = make_unit(session, contact_emails=["a@example.gov.cn", "b@example.gov.cn"])
    supervisor = make_person(session, Role.SUPERVISOR, email="sup@dc.gov.cn")
    for _ in range(3):
        item = make_item(session, lead_unit=unit, supervisor=supervisor, deadline=date(2024, 5, 20))
        notify(session, item, "escalated", unit.contact_emails, cc=[supervisor.email], level=1)
    session.commit()

    assert group_pending(session, now, smtp_sink.settings()) == 3
    by_addr = {m.recipients[0]: m for m in messages(session)}
    assert set(by_addr) == {"a@example.gov.cn", "b@example.gov.cn", "sup@dc.gov.cn"}
    assert by_addr["a@example.gov.cn"].subject == "【升级督办】3项逾期事项已升级督办"
    assert "抄送（供参阅）" in text_of(by_addr["sup@dc.gov.cn"])
    assert "抄送（供参阅）" not in text_of(by_addr["a@example.gov.cn"])


def test_an_address_in_to_and_cc_sees_the_item_once_as_needing_action(session: Session, now: Any, smtp_sink: SmtpSink) -> None:
    item = make_item(session)
    notify(session, item, "overdue", ["x@example.gov.cn"], cc=["x@example.gov.cn"])
    session.commit()
    group_pending(session, now, smtp_sink.settings())
    (message,) = messages(session)
    assert text_of(message).count(f"/items/{item.id}") == 1 and "抄送" not in text_of(message)


def test_different_kinds_share_one_mail_with_a_section_each(session: Session, now: Any, smtp_sink: SmtpSink) -> None:
    unit = make_unit(session, contact_emails=["u@example.gov.cn"])
    notify(session, make_item(session, lead_unit=unit), "reminder", unit.contact_emails)
    notify(session, make_item(session, lead_unit=unit, deadline=date(2024, 5, 1)), "overdue", unit.contact_emails)
    notify(session, make_item(session, lead_unit=unit), "returned", unit.contact_emails, reason="材料不全")
    session.commit()
    group_pending(session, now, smtp_sink.settings())
    (message,) = messages(session)
    text = text_of(message)
    assert message.kind == "notice" and message.subject == "【督办】3项事项需要您关注"
    assert text.index("逾期事项") < text.index("即将到期提醒") < text.index("销号申请被退回")
    assert "退回理由：材料不全" in text


def test_a_person_with_english_locale_gets_english_mail(session: Session, now: Any, smtp_sink: SmtpSink) -> None:
    unit = make_unit(session, contact_emails=["en@example.gov.cn"])
    make_person(session, Role.OFFICER, unit=unit, email="en@example.gov.cn", locale="en")
    notify(session, make_item(session, lead_unit=unit, status=Status.SIGNED_OFF), "signed_off", unit.contact_emails)
    session.commit()
    group_pending(session, now, smtp_sink.settings())
    (message,) = messages(session)
    assert message.locale == "en" and message.subject == "[duban] 1 item signed off"


def test_a_second_run_queues_nothing_and_new_notifications_go_in_a_new_mail(session: Session, now: Any, smtp_sink: SmtpSink) -> None:
    unit = make_unit(session, contact_emails=["u@example.gov.cn"])
    notify(session, make_item(session, lead_unit=unit), "reminder", unit.contact_emails)
    session.commit()
    settings = smtp_sink.settings()
    assert group_pending(session, now, settings) == 1
    assert group_pending(session, now, settings) == 0
    notify(session, make_item(session, lead_unit=unit), "reminder", unit.contact_emails)
    session.commit()
    assert group_pending(session, now, settings) == 1
    first, second = messages(session)
    assert first.key != second.key and first.message_id != second.message_id


def test_parallel_grouping_runs_never_put_a_notification_in_two_mails(engine: Engine, now: Any, smtp_sink: SmtpSink) -> None:
    with Session(engine) as session:
        units = [make_unit(session) for _ in range(5)]
        for unit in units:
            for _ in range(20):
                notify(session, make_item(session, lead_unit=unit), "reminder", unit.contact_emails)
        session.commit()
    settings = smtp_sink.settings()
    barrier = threading.Barrier(4)

    def run() -> None:
        with Session(engine) as session:
            barrier.wait()
            while group_pending(session, now, settings, limit=30):
                pass

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with Session(engine) as session:
        while group_pending(session, now, settings):  # whatever a losing run left behind
            pass
        grouped = [nid for m in messages(session) for nid in m.notification_ids]
        assert sorted(grouped) == sorted(set(grouped))
        assert len(grouped) == 100
        assert all(n.outbox_id for n in session.exec(select(Notification)).all())
