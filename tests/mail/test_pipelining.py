"""The pipelined send path (servers offering PIPELINING): the same outcomes as the plain path."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import pytest

from notifications.transport import DeliveryError, SmtpTransport
from tests.mail.conftest import SmtpSink

RAW = b"Message-ID: <p1@x>\r\nSubject: hi\r\n\r\n.leading dot\r\nbody\r\n"


def send(sink: SmtpSink, recipients: list[str], raw: bytes = RAW, timeout: float = 2.0) -> dict[str, str]:
    async def go() -> dict[str, str]:
        conn = await SmtpTransport("127.0.0.1", sink.port, timeout=timeout).connect()
        try:
            assert conn.pipeline is not None
            return await conn.send("duban@dc.gov.cn", recipients, raw)
        finally:
            await conn.close()

    return asyncio.run(go())


@pytest.fixture
def pipelining_sink(smtp_sink: SmtpSink) -> SmtpSink:
    smtp_sink.handler.pipelining = True
    return smtp_sink


def test_many_messages_over_one_pipelined_connection_arrive_intact(pipelining_sink: SmtpSink) -> None:
    async def go() -> int:
        conn = await SmtpTransport("127.0.0.1", pipelining_sink.port).connect()
        for i in range(20):
            await conn.send("duban@dc.gov.cn", [f"u{i}@x.cn"], RAW.replace(b"<p1@x>", f"<p{i}@x>".encode()))
        await conn.close()
        return conn.sent

    assert asyncio.run(go()) == 20
    received = pipelining_sink.handler.received
    assert [r.message_id for r in received] == [f"<p{i}@x>" for i in range(20)]
    assert received[1].raw.rstrip() == RAW.rstrip()  # dot-stuffing undone by the server


def test_pipelined_partial_refusal_is_reported_per_recipient(pipelining_sink: SmtpSink) -> None:
    pipelining_sink.handler.refuse = {"b@x.cn": "550 5.1.1 Unknown"}
    assert send(pipelining_sink, ["a@x.cn", "b@x.cn"]) == {"b@x.cn": "550 5.1.1 Unknown"}
    assert pipelining_sink.handler.received[0].recipients == ["a@x.cn"]


def test_pipelined_all_refused_is_permanent_and_the_connection_stays_usable(pipelining_sink: SmtpSink) -> None:
    pipelining_sink.handler.refuse = {"b@x.cn": "550 5.1.1 Unknown"}

    async def go() -> None:
        conn = await SmtpTransport("127.0.0.1", pipelining_sink.port).connect()
        with pytest.raises(DeliveryError) as refused:
            await conn.send("duban@dc.gov.cn", ["b@x.cn"], RAW)
        assert refused.value.permanent and "550 5.1.1 Unknown" in refused.value.reply
        assert await conn.send("duban@dc.gov.cn", ["a@x.cn"], RAW) == {}
        await conn.close()

    asyncio.run(go())
    assert len(pipelining_sink.handler.received) == 1


@pytest.mark.parametrize(("reply", "permanent"), [("451 4.3.0 Try later", False), ("554 5.7.1 Spam", True)])
def test_pipelined_data_replies_map_to_temporary_or_permanent(pipelining_sink: SmtpSink, reply: str, permanent: bool) -> None:
    pipelining_sink.handler.data_reply = reply
    with pytest.raises(DeliveryError) as failed:
        send(pipelining_sink, ["a@x.cn"])
    assert failed.value.reply == reply and failed.value.permanent is permanent


def test_a_stalled_pipelined_server_times_out(pipelining_sink: SmtpSink) -> None:
    pipelining_sink.handler.stall_seconds = 30
    started = time.monotonic()
    with pytest.raises(DeliveryError) as stalled:
        send(pipelining_sink, ["a@x.cn"], timeout=0.5)
    assert stalled.value.unreachable and time.monotonic() - started < 5


def test_delivery_through_the_pipelined_path_marks_rows_sent(sqlite_url: str, now: datetime, pipelining_sink: SmtpSink) -> None:
    from sqlmodel import Session, select

    from models.db import make_engine
    from models.outbox import OutboxMessage, OutboxStatus
    from notifications.delivery import deliver
    from tests.mail.conftest import queue_mail

    engine = make_engine(sqlite_url)
    queue_mail(engine, [f"u{i}@example.gov.cn" for i in range(8)], kind="overdue")
    assert deliver(engine, now, pipelining_sink.settings()).sent == 8
    with Session(engine) as session:
        rows = session.exec(select(OutboxMessage)).all()
    assert {r.status for r in rows} == {OutboxStatus.SENT}
    assert sorted(pipelining_sink.handler.message_ids()) == sorted(r.message_id for r in rows)


@pytest.mark.parametrize("address", ["a@x.cn>\r\nRCPT TO:<evil@x.cn", "a@x.cn\nDATA", "no-at-sign", "<a@x.cn>"])
@pytest.mark.parametrize("pipelining", [True, False])
def test_an_address_that_could_smuggle_smtp_commands_is_refused_before_sending(
    smtp_sink: SmtpSink, address: str, pipelining: bool
) -> None:
    smtp_sink.handler.pipelining = pipelining

    async def go() -> None:
        conn = await SmtpTransport("127.0.0.1", smtp_sink.port).connect()
        try:
            with pytest.raises(DeliveryError) as refused:
                await conn.send("duban@dc.gov.cn", [address], RAW)
            assert refused.value.permanent and "not a deliverable address" in refused.value.reply
            assert await conn.send("duban@dc.gov.cn", ["ok@x.cn"], RAW) == {}
        finally:
            await conn.close()

    asyncio.run(go())
    assert [r.recipients for r in smtp_sink.handler.received] == [["ok@x.cn"]]


def raw_for(i: int) -> bytes:
    return RAW.replace(b"<p1@x>", f"<p{i}@x>".encode())


def send_in_turn(sink: SmtpSink, recipients: list[list[str]], writes: list[int] | None = None) -> list[dict[str, str] | DeliveryError]:
    """Send one message per recipient list over one connection, naming each message's follower."""

    async def go() -> list[dict[str, str] | DeliveryError]:
        conn = await SmtpTransport("127.0.0.1", sink.port, timeout=2.0).connect()
        assert conn.pipeline is not None
        if writes is not None:
            write = conn.pipeline.write

            def counting(data: bytes, replies: int) -> list[asyncio.Future[tuple[int, str]]]:
                writes.append(replies)
                return write(data, replies)

            conn.pipeline.write = counting  # type: ignore[method-assign]
        outcomes: list[dict[str, str] | DeliveryError] = []
        for i, to in enumerate(recipients):
            following = recipients[i + 1] if i + 1 < len(recipients) else None
            try:
                outcomes.append(await conn.send("duban@dc.gov.cn", to, raw_for(i), following=following))
            except DeliveryError as exc:
                outcomes.append(exc)
        await conn.close()
        return outcomes

    return asyncio.run(go())


def test_naming_the_next_message_sends_its_envelope_with_this_data(pipelining_sink: SmtpSink) -> None:
    writes: list[int] = []
    outcomes = send_in_turn(pipelining_sink, [[f"u{i}@x.cn"] for i in range(10)], writes)
    assert outcomes == [{}] * 10
    assert pipelining_sink.handler.message_ids() == [f"<p{i}@x>" for i in range(10)]
    # replies awaited per write: the first envelope (MAIL, RCPT, DATA), then each message's data
    # with the next envelope, the last message's data alone, and QUIT
    assert writes == [3] + [1 + 3] * 9 + [1, 1]


def test_a_refused_message_between_others_fails_alone_when_envelopes_go_ahead(pipelining_sink: SmtpSink) -> None:
    pipelining_sink.handler.refuse = {"gone@x.cn": "550 5.1.1 Unknown"}
    pipelining_sink.handler.data_replies = {"<p3@x>": "451 4.3.0 Try later", "<p5@x>": "554 5.7.1 Spam"}
    recipients = [["a@x.cn"], ["b@x.cn", "gone@x.cn"], ["gone@x.cn"], ["c@x.cn"], ["d@x.cn"], ["e@x.cn"], ["f@x.cn"]]
    outcomes = send_in_turn(pipelining_sink, recipients)
    assert outcomes[0] == {} and outcomes[1] == {"gone@x.cn": "550 5.1.1 Unknown"}
    failed = {i: o for i, o in enumerate(outcomes) if isinstance(o, DeliveryError)}
    assert sorted(failed) == [2, 3, 5]
    assert failed[2].permanent and "550 5.1.1 Unknown" in failed[2].reply
    assert not failed[3].permanent and failed[3].reply == "451 4.3.0 Try later"
    assert failed[5].permanent and failed[5].reply == "554 5.7.1 Spam"
    assert outcomes[4] == {} and outcomes[6] == {}
    assert pipelining_sink.handler.message_ids() == ["<p0@x>", "<p1@x>", "<p4@x>", "<p6@x>"]


def test_a_following_message_with_a_bad_address_is_refused_in_its_own_turn(pipelining_sink: SmtpSink) -> None:
    outcomes = send_in_turn(pipelining_sink, [["a@x.cn"], ["a@x.cn>\r\nRCPT TO:<evil@x.cn"], ["b@x.cn"]])
    assert outcomes[0] == {} and outcomes[2] == {}
    assert isinstance(outcomes[1], DeliveryError) and outcomes[1].permanent
    assert [r.recipients for r in pipelining_sink.handler.received] == [["a@x.cn"], ["b@x.cn"]]


def test_closing_with_an_envelope_sent_ahead_sends_no_empty_message(pipelining_sink: SmtpSink) -> None:
    async def go() -> float:
        conn = await SmtpTransport("127.0.0.1", pipelining_sink.port, timeout=2.0).connect()
        await conn.send("duban@dc.gov.cn", ["a@x.cn"], RAW, following=["b@x.cn"])
        assert conn.opened is not None
        started = time.monotonic()
        await conn.close()  # the server waits for b's data: a QUIT now would be taken as text
        return time.monotonic() - started

    assert asyncio.run(go()) < 1
    time.sleep(0.2)
    assert [r.recipients for r in pipelining_sink.handler.received] == [["a@x.cn"]]


def test_delivery_with_envelopes_ahead_records_each_outcome(sqlite_url: str, now: datetime, pipelining_sink: SmtpSink) -> None:
    from sqlmodel import Session, select

    from models.db import make_engine
    from models.outbox import OutboxMessage, OutboxStatus
    from notifications.delivery import deliver
    from tests.mail.conftest import queue_mail

    engine = make_engine(sqlite_url)
    queue_mail(engine, [f"u{i}@example.gov.cn" for i in range(30)], kind="overdue")
    pipelining_sink.handler.refuse = {"u7@example.gov.cn": "550 5.1.1 Unknown", "u19@example.gov.cn": "450 4.2.1 Busy"}
    summary = deliver(engine, now, pipelining_sink.settings(smtp_max_connections=2))
    assert (summary.sent, summary.dead, summary.retried) == (28, 1, 1)
    with Session(engine) as session:
        rows = {r.recipients[0]: r for r in session.exec(select(OutboxMessage)).all()}
    assert rows["u7@example.gov.cn"].status == OutboxStatus.DEAD
    assert rows["u19@example.gov.cn"].status == OutboxStatus.FAILED
    assert sorted(pipelining_sink.handler.message_ids()) == sorted(
        r.message_id for r in rows.values() if r.status == OutboxStatus.SENT)


@pytest.mark.parametrize("pipelining", [True, False])
def test_an_undeliverable_address_among_others_is_refused_alone(smtp_sink: SmtpSink, pipelining: bool) -> None:
    smtp_sink.handler.pipelining = pipelining
    bad = "b@x.cn>\r\nRCPT TO:<evil@x.cn"

    recipients = [["a@x.cn", bad], [bad, "c@x.cn"], ["d@x.cn"]]

    async def one_by_one() -> list[dict[str, str]]:
        conn = await SmtpTransport("127.0.0.1", smtp_sink.port, timeout=2.0).connect()
        assert conn.pipeline is None
        outcomes = [await conn.send("duban@dc.gov.cn", to, raw_for(i)) for i, to in enumerate(recipients)]
        await conn.close()
        return outcomes

    # pipelined, each envelope goes ahead (filtered); without PIPELINING, through aiosmtplib
    outcomes = send_in_turn(smtp_sink, recipients) if pipelining else asyncio.run(one_by_one())
    assert outcomes == [{bad: "not a deliverable address"}, {bad: "not a deliverable address"}, {}]
    assert [r.recipients for r in smtp_sink.handler.received] == [["a@x.cn"], ["c@x.cn"], ["d@x.cn"]]
