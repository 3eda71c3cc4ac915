"""Delivery against a real SMTP server on loopback: sent, retried, dead, refused, stalled, claims."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from config.settings import SettingsError, load_settings
from models.errors import Forbidden, InvalidInput
from models.outbox import OutboxMessage, OutboxStatus, queue
from models.tables import Role
from notifications.delivery import backoff, claim_due, deliver, lease
from notifications.outbox import retry_dead
from notifications.transport import SmtpTransport
from tests.factories import make_item, make_person, make_unit
from tests.mail.conftest import SmtpSink, free_port, queue_mail


def rows(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())


def test_delivers_each_message_once_with_the_message_id_of_its_key(engine: Engine, now: datetime, smtp_sink: SmtpSink) -> None:
    queue_mail(engine, [f"u{i}@example.gov.cn" for i in range(12)], per_address=2)
    summary = deliver(engine, now, smtp_sink.settings())
    assert (summary.grouped, summary.sent, summary.retried, summary.dead) == (12, 12, 0, 0)
    outbox = rows(engine)
    assert all(r.status == OutboxStatus.SENT and r.sent_at == now and r.attempts == 1 for r in outbox)
    assert sorted(smtp_sink.handler.message_ids()) == sorted(r.message_id for r in outbox)
    assert deliver(engine, now, smtp_sink.settings()).sent == 0


def test_a_temporary_failure_retries_later_with_backoff_then_sends(engine: Engine, now: datetime, smtp_sink: SmtpSink) -> None:
    queue_mail(engine, ["u@example.gov.cn"])
    smtp_sink.handler.data_reply = "451 4.3.0 Try again later"
    summary = deliver(engine, now, smtp_sink.settings())
    (row,) = rows(engine)
    assert (summary.retried, row.status, row.attempts) == (1, OutboxStatus.FAILED, 1)
    assert row.last_error == "451 4.3.0 Try again later"
    assert now + timedelta(seconds=30) <= row.next_attempt_at <= now + timedelta(seconds=60)

    smtp_sink.handler.data_reply = None
    assert deliver(engine, now + timedelta(seconds=10), smtp_sink.settings()).sent == 0  # not due yet
    assert deliver(engine, row.next_attempt_at, smtp_sink.settings()).sent == 1
    (row,) = rows(engine)
    assert row.status == OutboxStatus.SENT and row.attempts == 2


def test_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    for attempts, step in ((1, 60), (2, 120), (5, 960), (20, 6 * 3600)):
        delay = backoff(attempts).total_seconds()
        assert step / 2 <= delay <= step


def test_temporary_failures_older_than_the_retry_age_become_dead(engine: Engine, now: datetime, smtp_sink: SmtpSink) -> None:
    queue_mail(engine, ["u@example.gov.cn"])
    smtp_sink.handler.data_reply = "421 4.7.0 Too busy"
    settings = smtp_sink.settings(delivery_retry_max_age_hours=1)
    deliver(engine, now, settings)
    summary = deliver(engine, now + timedelta(hours=2), settings)
    (row,) = rows(engine)
    assert summary.dead == 1 and row.status == OutboxStatus.DEAD
    assert "gave up after 2 attempts" in row.last_error and "421" in row.last_error


def test_a_permanent_failure_is_dead_at_once_with_the_servers_reply(engine: Engine, now: datetime, smtp_sink: SmtpSink) -> None:
    queue_mail(engine, ["u@example.gov.cn"])
    smtp_sink.handler.data_reply = "554 5.7.1 Message rejected as spam"
    summary = deliver(engine, now, smtp_sink.settings())
    (row,) = rows(engine)
    assert summary.dead == 1 and row.status == OutboxStatus.DEAD
    assert row.last_error == "554 5.7.1 Message rejected as spam"
    smtp_sink.handler.data_reply = None
    assert deliver(engine, now + timedelta(days=1), smtp_sink.settings()).sent == 0


def test_a_refused_recipient_is_dead_and_others_still_go_out(engine: Engine, now: datetime, smtp_sink: SmtpSink) -> None:
    queue_mail(engine, ["gone@example.gov.cn", "ok@example.gov.cn"])
    smtp_sink.handler.refuse = {"gone@example.gov.cn": "550 5.1.1 No such user"}
    summary = deliver(engine, now, smtp_sink.settings())
    by_addr = {r.recipients[0]: r for r in rows(engine)}
    assert (summary.sent, summary.dead) == (1, 1)
    assert by_addr["gone@example.gov.cn"].last_error == "gone@example.gov.cn: 550 5.1.1 No such user"
    assert by_addr["ok@example.gov.cn"].status == OutboxStatus.SENT


def test_a_message_refused_for_some_recipients_records_which(engine: Engine, now: datetime, smtp_sink: SmtpSink) -> None:
    with Session(engine) as session:
        queue(session, [(OutboxMessage(key="digest:x", kind="digest_leadership",
                                       recipients=["a@x.cn", "b@x.cn", "c@x.cn"], message_id="<m1@x>",
                                       next_attempt_at=now, created_at=now),
                         "Message-ID: <m1@x>\r\nSubject: hi\r\n\r\nbody\r\n")])
        session.commit()
    smtp_sink.handler.refuse = {"b@x.cn": "550 5.1.1 Unknown", "c@x.cn": "452 4.2.2 Mailbox full"}
    summary = deliver(engine, now, smtp_sink.settings())
    (row,) = rows(engine)
    assert summary.sent == 1 and summary.refused_recipients == 2 and row.status == OutboxStatus.SENT
    assert row.refused_recipients == {"b@x.cn": "550 5.1.1 Unknown", "c@x.cn": "452 4.2.2 Mailbox full"}
    assert smtp_sink.handler.received[0].recipients == ["a@x.cn"]


def test_a_stalled_server_times_out_and_does_not_hang_delivery(sqlite_url: str, now: datetime, smtp_sink: SmtpSink) -> None:
    from models.db import make_engine

    engine = make_engine(sqlite_url)
    queue_mail(engine, [f"u{i}@example.gov.cn" for i in range(20)])
    smtp_sink.handler.stall_seconds = 30
    started = time.monotonic()
    summary = deliver(engine, now, smtp_sink.settings(smtp_timeout=0.5))
    elapsed = time.monotonic() - started
    assert summary.sent == 0 and summary.retried >= 1
    assert elapsed < 15, "one timeout must stop the run, not queue up twenty of them"
    assert all(r.status in (OutboxStatus.FAILED, OutboxStatus.PENDING) for r in rows(engine))
    assert any("no answer within 0.5s" in r.last_error for r in rows(engine))


def test_an_unreachable_server_leaves_everything_for_the_next_run(sqlite_url: str, now: datetime, smtp_sink: SmtpSink) -> None:
    from models.db import make_engine

    engine = make_engine(sqlite_url)
    queue_mail(engine, [f"u{i}@example.gov.cn" for i in range(5)])
    summary = deliver(engine, now, smtp_sink.settings(smtp_port=free_port()))
    assert summary.sent == 0 and summary.dead == 0
    assert summary.retried >= 1 and "connecting to 127.0.0.1" in summary.errors[0]
    assert deliver(engine, now + timedelta(hours=1), smtp_sink.settings()).sent == 5


def test_starttls_mode_refuses_a_server_that_does_not_offer_it(sqlite_url: str, now: datetime, smtp_sink: SmtpSink) -> None:
    from models.db import make_engine

    engine = make_engine(sqlite_url)
    queue_mail(engine, ["u@example.gov.cn"])
    summary = deliver(engine, now, smtp_sink.settings(smtp_security="starttls", smtp_username="duban",
                                                      smtp_password="secret"))
    (row,) = rows(engine)
    assert summary.sent == 0 and smtp_sink.handler.received == []
    assert row.status == OutboxStatus.FAILED and "does not offer STARTTLS" in row.last_error


def test_transport_reads_the_password_from_the_settings(smtp_sink: SmtpSink, tmp_path: Any) -> None:
    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret\n")
    transport = SmtpTransport.from_settings(smtp_sink.settings(smtp_username="duban", smtp_password_file=secret))
    assert (transport.username, transport.password) == ("duban", "s3cret")


def test_outside_the_delivery_window_mail_waits_for_the_next_working_morning(engine: Engine, smtp_sink: SmtpSink) -> None:
    queue_mail(engine, ["u@example.gov.cn"])
    settings = smtp_sink.settings(delivery_window=True)
    friday_evening = datetime(2024, 6, 7, 10, 0, tzinfo=UTC)  # 18:00 in Shanghai
    summary = deliver(engine, friday_evening, settings, is_workday=lambda d: d.weekday() < 5)
    assert summary.grouped == 1 and summary.sent == 0
    assert summary.window_opens == datetime(2024, 6, 10, 0, 30, tzinfo=UTC)  # Monday 08:30
    monday = datetime(2024, 6, 10, 0, 30, tzinfo=UTC)
    assert deliver(engine, monday, settings, is_workday=lambda d: d.weekday() < 5).sent == 1


def test_the_window_follows_the_office_calendar(smtp_sink: SmtpSink) -> None:
    from notifications.window import next_window

    holiday = datetime(2024, 6, 10, 2, 0, tzinfo=UTC)  # Dragon Boat Festival, Monday 10:00 local
    opens = next_window(holiday, start=smtp_sink.settings().delivery_window_start,
                        end=smtp_sink.settings().delivery_window_end, tz=smtp_sink.settings().tz,
                        is_workday=lambda d: d.weekday() < 5 and d.isoformat() != "2024-06-10")
    assert opens == datetime(2024, 6, 11, 0, 30, tzinfo=UTC)


def test_a_claim_holds_for_the_lease_setting_then_the_rows_are_due_again(engine: Engine, now: datetime, smtp_sink: SmtpSink) -> None:
    """A run killed after claiming leaves its rows to the first run after DUBAN_DELIVERY_LEASE_SECONDS."""
    with Session(engine) as session:
        queue(session, [(OutboxMessage(key="k", kind="reminder", recipients=["u@x.cn"], message_id="<k@x>",
                                       next_attempt_at=now, created_at=now), "Subject: x\r\n\r\nx\r\n")])
        session.commit()
        settings = smtp_sink.settings(delivery_lease_seconds=90, smtp_timeout=2.0)
        _, batch = claim_due(session, now, settings, limit=10)  # ... and the run dies here
        assert len(batch) == 1
        assert claim_due(session, now + timedelta(seconds=89), settings, limit=10)[1] == []
        assert [c.id for c in claim_due(session, now + timedelta(seconds=90), settings, limit=10)[1]] == [batch[0].id]
    # never shorter than 20 SMTP timeouts: a batch of slow sends outlives a short lease otherwise
    assert lease(smtp_sink.settings(delivery_lease_seconds=5, smtp_timeout=3.0)) == timedelta(seconds=60)
    assert lease(load_settings()) == timedelta(minutes=10)
    with pytest.raises(SettingsError, match="DUBAN_DELIVERY_LEASE_SECONDS"):
        load_settings(delivery_lease_seconds=0)


def test_a_claim_takes_only_due_rows_oldest_first_with_their_bodies_and_counts_the_attempt(
        engine: Engine, now: datetime, smtp_sink: SmtpSink) -> None:
    """The claim (one UPDATE ... RETURNING, then the bodies): pending and failed rows whose time has
    come, oldest first up to the limit, each with its own body byte for byte; sent, dead, claimed
    and later rows stay as they were."""
    states = [  # (status, next attempt): five due, four not
        (OutboxStatus.PENDING, now - timedelta(minutes=3)), (OutboxStatus.FAILED, now - timedelta(minutes=2)),
        (OutboxStatus.PENDING, now), (OutboxStatus.FAILED, now), (OutboxStatus.PENDING, now),
        (OutboxStatus.PENDING, now + timedelta(seconds=1)), (OutboxStatus.FAILED, now + timedelta(hours=1)),
        (OutboxStatus.SENT, now - timedelta(hours=1)), (OutboxStatus.DEAD, now - timedelta(hours=1)),
    ]
    raws = [f"Message-ID: <{i}@x>\r\nSubject: {i}\r\n\r\n{'正文' * i}\r\n.{i}\r\n" for i in range(len(states))]
    with Session(engine) as session:
        queue(session, [(OutboxMessage(key=f"k{i}", kind="reminder", recipients=[f"u{i}@x.cn", "all@x.cn"],
                                       message_id=f"<{i}@x>", status=status, attempts=i, next_attempt_at=at,
                                       created_at=now - timedelta(days=1)), raws[i])
                        for i, (status, at) in enumerate(states)])
        session.commit()
        ids = [m.id for m in rows(engine)]
        settings = smtp_sink.settings(delivery_lease_seconds=600)
        token, first = claim_due(session, now, settings, limit=3)
        _, second = claim_due(session, now, settings, limit=10)
        assert claim_due(session, now, settings, limit=10)[1] == []
    assert [c.id for c in first] == ids[:3] and [c.id for c in second] == ids[3:5]
    for c in (*first, *second):
        i = ids.index(c.id)
        assert (c.raw, c.recipients, c.attempts) == (raws[i], [f"u{i}@x.cn", "all@x.cn"], i + 1)
        assert c.created_at == now - timedelta(days=1)
    after = rows(engine)
    assert [(r.claim is not None, r.attempts) for r in after] == [(True, i + 1) for i in range(5)] + [
        (False, i) for i in range(5, 9)]
    assert {r.claim for r in after[:3]} == {token}
    assert all(r.next_attempt_at == now + timedelta(seconds=600) for r in after[:5])
    assert [(r.status, r.next_attempt_at) for r in after[5:]] == states[5:]


def test_parallel_claims_never_hand_out_the_same_row(engine: Engine, now: datetime, smtp_sink: SmtpSink) -> None:
    with Session(engine) as session:
        queue(session, [(OutboxMessage(key=f"k{i}", kind="reminder", recipients=[f"u{i}@x.cn"], message_id=f"<{i}@x>",
                                       next_attempt_at=now, created_at=now), "Subject: x\r\n\r\nx\r\n")
                        for i in range(60)])
        session.commit()
    settings = smtp_sink.settings()
    claimed: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(4)

    def claimer() -> None:
        with Session(engine) as session:
            barrier.wait()
            while True:
                for attempt in range(5):
                    try:
                        _, batch = claim_due(session, now, settings, limit=7)
                        break
                    except Exception:  # SQLite: database is locked under contention
                        session.rollback()
                        if attempt == 4:
                            raise
                if not batch:
                    return
                with lock:
                    claimed.extend(c.id for c in batch)

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 60


def test_an_admin_may_queue_a_dead_message_again_and_others_may_not(session: Session, now: datetime) -> None:
    admin = make_person(session, Role.ADMIN, email="admin@dc.gov.cn")
    officer = make_person(session, Role.OFFICER, email="officer@dc.gov.cn")
    message = OutboxMessage(key="k", kind="reminder", recipients=["u@x.cn"], message_id="<1@x>",
                            status=OutboxStatus.DEAD, attempts=3, last_error="550 no", next_attempt_at=now,
                            created_at=now - timedelta(days=3))
    session.add(message)
    session.commit()
    with pytest.raises(Forbidden, match="only an active admin"):
        retry_dead(session, message.id, officer.email, now)  # type: ignore[arg-type]
    retry_dead(session, message.id, admin.email, now)  # type: ignore[arg-type]
    session.commit()
    assert (message.status, message.attempts, message.next_attempt_at) == (OutboxStatus.PENDING, 0, now)
    assert "requeued by admin@dc.gov.cn" in message.last_error
    with pytest.raises(InvalidInput, match="only dead messages"):
        retry_dead(session, message.id, admin.email, now)  # type: ignore[arg-type]


def test_a_return_through_the_lifecycle_reaches_the_lead_unit_by_mail(engine: Engine, now: datetime, smtp_sink: SmtpSink) -> None:
    from models.lifecycle import Action, apply
    from models.tables import Status

    with Session(engine) as session:
        unit = make_unit(session, "市发改委", contact_emails=["fgw@example.gov.cn"])
        supervisor = make_person(session, Role.SUPERVISOR, email="sup@dc.gov.cn")
        item = make_item(session, lead_unit=unit, supervisor=supervisor, status=Status.SUBMITTED)
        apply(session, item, Action.RETURN, supervisor, now, reason="请补充印发文件文号")
        session.commit()
    assert deliver(engine, now, smtp_sink.settings()).sent == 1
    (received,) = smtp_sink.handler.received
    assert received.recipients == ["fgw@example.gov.cn"]
    body = received.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "销号申请被退回" in body and "退回理由：请补充印发文件文号" in body


def test_a_body_given_to_the_row_is_refused_not_lost() -> None:
    """The body lives in outbox_body (queue()); SQLModel would otherwise drop an unknown `raw` silently."""
    with pytest.raises(TypeError, match="queue"):
        OutboxMessage(key="k", kind="reminder", recipients=["u@x.cn"], message_id="<1@x>", raw="Subject: x\r\n\r\n")


def test_the_recorder_starts_a_write_when_its_delay_is_up_only_if_one_may_start():
    """`_write_soon` and `_delay_up` share one rule: outcomes wait, a writer is free, none failed."""
    from notifications.delivery import DeliverySummary, _Recorder

    recorder = _Recorder(None, datetime(2024, 7, 3, tzinfo=UTC), None, DeliverySummary(), limit=10)  # type: ignore[arg-type]
    started: list[int] = []
    recorder._start = lambda: started.append(len(recorder.pending))  # type: ignore[method-assign]
    recorder._delay_up()
    assert started == []  # nothing waits
    recorder.pending.append(("token", object()))  # type: ignore[arg-type]
    recorder.free = []
    recorder._delay_up()
    assert started == []  # every writer is writing: the first to end writes the rest
    recorder.free, recorder.error = [0], RuntimeError("connection cut")
    recorder._delay_up()
    assert started == []  # recording failed: nothing more is written
    recorder.error = None
    recorder._delay_up()
    assert started == [1] and recorder.timer is None
    recorder.thread.shutdown()


def test_queue_and_queue_columns_write_the_same_rows_and_bodies(engine: Engine, now: datetime) -> None:
    """One way into the outbox: a message queued as an OutboxMessage and the same one as its columns
    give the same row and body, byte for byte (but the id and key), and queue gives each message its id."""
    from sqlalchemy import text

    from models.outbox import queue_columns

    raw = "Message-ID: <1@x>\r\nSubject: 督办\r\n\r\n正文\r\n"
    given = {"kind": "reminder", "locale": "en", "recipients": ["u@x.cn", "v@x.cn"], "item_ids": [3, 1],
             "subject": "督办 [x]", "message_id": "<1@x>", "next_attempt_at": now, "created_at": now}
    with Session(engine) as session:
        message = OutboxMessage(key="as-object", **given)
        queue(session, [(message, raw)])
        (column_id,) = queue_columns(session, [({"key": "as-columns", **given}, raw)])
        session.commit()
        assert message.id is not None and message.id != column_id
        found = {row[0]: row[1:] for row in session.execute(text(
            "SELECT m.id, m.*, b.raw FROM outbox_message m JOIN outbox_body b ON b.outbox_id = m.id")).all()}
    columns = [c for c in OutboxMessage.__table__.columns.keys()]  # type: ignore[attr-defined]
    skip = {columns.index("id"), columns.index("key")}
    as_object, as_columns = ([v for n, v in enumerate(found[i]) if n not in skip] for i in (message.id, column_id))
    assert as_object == as_columns and as_object[-1] == raw
