"""A grouped mail says what is true when it is built: the item's latest state, today's day counts."""

from __future__ import annotations

import email
from datetime import UTC, date, datetime
from email import policy
from typing import Any

from sqlmodel import Session, select

from models.outbox import OutboxMessage
from models.tables import Notification, Status
from notifications.outbox import group_pending
from tests.factories import make_item, make_unit
from tests.mail.conftest import SmtpSink, notify, raw_of

EARLIER = datetime(2024, 5, 20, 1, tzinfo=UTC)


def only_message(session: Session) -> OutboxMessage:
    session.expire_all()
    (message,) = session.exec(select(OutboxMessage)).all()
    return message


def text_of(message: OutboxMessage) -> str:
    parsed = email.message_from_string(raw_of(message), policy=policy.default)
    return parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_an_item_signed_off_since_is_not_also_new_or_returned(session: Session, now: Any, smtp_sink: SmtpSink) -> None:
    unit = make_unit(session, contact_emails=["u@example.gov.cn"])
    item = make_item(session, lead_unit=unit, status=Status.SIGNED_OFF)
    notify(session, item, "assigned", unit.contact_emails, at=EARLIER)
    notify(session, item, "returned", unit.contact_emails, reason="材料不全", at=EARLIER)
    notify(session, item, "signed_off", unit.contact_emails)
    session.commit()
    assert group_pending(session, now, smtp_sink.settings()) == 1
    message = only_message(session)
    text = text_of(message)
    assert message.subject == "【督办】1项事项已销号"
    assert "新交办" not in text and "退回" not in text
    assert all(n.outbox_id is not None for n in session.exec(select(Notification)))


def test_a_submission_since_returned_is_not_shown_to_the_supervisor(session: Session, now: Any, smtp_sink: SmtpSink) -> None:
    item = make_item(session, status=Status.IN_PROGRESS)
    notify(session, item, "submitted", ["sup@dc.gov.cn"], evidence="已印发")
    notify(session, make_item(session, status=Status.SUBMITTED), "submitted", ["sup@dc.gov.cn"], evidence="已完成")
    session.commit()
    group_pending(session, now, smtp_sink.settings())
    message = only_message(session)
    assert message.item_ids == [item.id + 1] and "已印发" not in text_of(message)


def test_days_are_counted_when_the_mail_is_built_and_a_late_reminder_is_an_overdue_notice(
    session: Session, now: Any, smtp_sink: SmtpSink
) -> None:
    # A reminder queued when 7 days were left, grouped with a later sweep's notices two weeks on.
    unit = make_unit(session, contact_emails=["u@example.gov.cn"])
    late = make_item(session, lead_unit=unit, deadline=date(2024, 5, 20))
    notify(session, late, "reminder", unit.contact_emails, key="reminder:late", at=EARLIER, days_left=7)
    notify(session, late, "overdue", unit.contact_emails, key="overdue:late", days_overdue=0)
    alone = make_item(session, lead_unit=unit, deadline=date(2024, 5, 27))
    notify(session, alone, "reminder", unit.contact_emails, key="reminder:alone", at=EARLIER, days_left=7)
    session.commit()
    group_pending(session, now, smtp_sink.settings())
    text = text_of(only_message(session))
    assert "剩余天数：-" not in text and "即将到期" not in text
    assert "逾期天数：14" in text and "逾期天数：7" in text
    assert text.count(f"/items/{late.id}") == 1


def test_an_assignment_of_an_item_overdue_by_now_is_announced_as_overdue(session: Session, now: Any, smtp_sink: SmtpSink) -> None:
    unit = make_unit(session, contact_emails=["u@example.gov.cn"])
    notify(session, make_item(session, lead_unit=unit, deadline=date(2024, 5, 31)), "assigned", unit.contact_emails)
    session.commit()
    group_pending(session, now, smtp_sink.settings())
    message = only_message(session)
    assert message.subject == "【督办】1项事项已逾期" and "新交办" not in text_of(message)



def test_a_period_notice_built_after_the_unit_reported_is_left_out(session: Session, now: Any, smtp_sink: SmtpSink) -> None:
    from models.tables import ItemPeriod

    unit = make_unit(session, contact_emails=["u@example.gov.cn"])
    reported, open_ = (make_item(session, lead_unit=unit, status=Status.IN_PROGRESS, deadline=date(2024, 12, 31),
                                 frequency="monthly", title=title) for title in ("已报送事项", "未报送事项"))
    april, may = (date(2024, 4, 1), date(2024, 4, 30)), (date(2024, 5, 1), date(2024, 5, 31))
    for item, (starts, ends), fulfilled in ((open_, april, None), (reported, may, datetime(2024, 6, 2, 3, tzinfo=UTC)),
                                            (open_, may, None)):
        session.add(ItemPeriod(item_id=item.id, starts=starts, ends=ends, due=ends, fulfilled_at=fulfilled, level=1))
        for kind in ("period_missed", "period_escalated"):
            notify(session, item, kind, unit.contact_emails, key=f"{kind}:{item.id}:{starts}", at=EARLIER,
                   period=f"{starts} – {ends}", period_due=ends.isoformat())
    # The newest notice of a kind wins for an item: here one naming a due day that has moved since (the
    # item's deadline changed: May's report was due on the 27th, now on the 31st) is no longer true either.
    notify(session, open_, "period_missed", unit.contact_emails, key="period_missed:moved", at=EARLIER,
           period="2024-05-01 – 2024-05-31", period_due="2024-05-27")
    session.commit()
    assert group_pending(session, now, smtp_sink.settings()) == 1
    message = only_message(session)
    assert "已报送事项" not in text_of(message) and message.item_ids == [open_.id]
    session.expire_all()
    sent = {n.key for n in session.exec(select(Notification)) if n.outbox_id == message.id}
    assert sent == {f"period_missed:{open_.id}:2024-05-01", f"period_escalated:{open_.id}:2024-05-01"}
    assert all(n.outbox_id is not None for n in session.exec(select(Notification)))  # the others are done too
