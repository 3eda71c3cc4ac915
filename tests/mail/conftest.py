"""Mail fixtures: an SMTP server on a loopback port that can accept, refuse, stall, or lack STARTTLS."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer

from config.settings import Settings, load_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=policy.default)  # type: ignore[return-value]

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


@dataclass
class SinkHandler:
    """What the server answers: `data_reply` (e.g. '451 try later') instead of 250, refusals per address."""

    received: list[Received] = field(default_factory=list)
    data_reply: str | None = None
    data_replies: dict[str, str] = field(default_factory=dict)  # Message-ID -> reply to that message's data
    refuse: dict[str, str] = field(default_factory=dict)  # address -> RCPT reply
    stall_seconds: float = 0.0
    delay_seconds: float = 0.0
    pipelining: bool = False  # offer PIPELINING (RFC 2920) in the EHLO reply
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]) -> list[str]:
        session.host_name = hostname
        if self.pipelining:
            return [*responses[:-1], "250-PIPELINING", responses[-1]]
        return responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.stall_seconds:
            await asyncio.sleep(self.stall_seconds)
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        if self.data_reply:
            return self.data_reply
        received = Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
        if received.message_id in self.data_replies:
            return self.data_replies[received.message_id]
        with self.lock:
            self.received.append(received)
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        with self.lock:
            return [r.message_id for r in self.received]


class _Controller(Controller):
    def __init__(self, handler: SinkHandler, port: int, starttls: bool) -> None:
        self._starttls = starttls
        super().__init__(handler, hostname="127.0.0.1", port=port, ready_timeout=10)

    def factory(self) -> SMTPServer:
        return SMTPServer(self.handler, hostname="sink.test", decode_data=False)


@dataclass
class SmtpSink:
    handler: SinkHandler
    port: int

    def settings(self, **overrides: Any) -> Settings:
        options: dict[str, Any] = {
            "smtp_host": "127.0.0.1", "smtp_port": self.port, "smtp_timeout": 2.0,
            "delivery_window": False, "base_url": "https://duban.example.gov.cn",
        }
        return load_settings(**{**options, **overrides})


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """An aiosmtpd server in this process on a free loopback port (no STARTTLS offered)."""
    handler = SinkHandler()
    port = free_port()
    controller = _Controller(handler, port, starttls=False)
    controller.start()
    try:
        yield SmtpSink(handler, port)
    finally:
        handler.stall_seconds = 0
        controller.stop()


@pytest.fixture
def mail_world(session: Any, now: Any) -> dict[str, Any]:
    """Two units, a supervisor and a leader; items in every state a digest cares about.

    `now` is Monday 2024-06-03 09:00 Shanghai. Deadlines: overdue (05-20, level 2), overdue
    (05-30, level 1), overdue not escalated (05-31), due soon (06-05), later (07-31), signed off
    this week, signed off long ago.
    """
    from datetime import date, timedelta

    from models.tables import ItemEvent, Person, Role, Status
    from tests.factories import make_document, make_item, make_person, make_unit

    fgw = make_unit(session, "市发改委", contact_emails=["fgw@example.gov.cn"])
    jxw = make_unit(session, "市经信委", contact_emails=["jxw@example.gov.cn", "jxw2@example.gov.cn"])
    supervisor = make_person(session, Role.SUPERVISOR, name="王督查", email="sup@dc.gov.cn")
    leader = make_person(session, Role.LEADER, name="李主任", email="leader@dc.gov.cn")
    doc = make_document(session, "新时代意见")
    items = {
        "level2": make_item(session, document=doc, lead_unit=fgw, co_units=(jxw,), supervisor=supervisor,
                            deadline=date(2024, 5, 20), escalation_level=2, status=Status.IN_PROGRESS, number="1"),
        "level1": make_item(session, document=doc, lead_unit=fgw, supervisor=supervisor,
                            deadline=date(2024, 5, 30), escalation_level=1, number="2"),
        "overdue": make_item(session, document=doc, lead_unit=jxw, supervisor=supervisor,
                             deadline=date(2024, 5, 31), number="3"),
        "soon": make_item(session, document=doc, lead_unit=jxw, supervisor=supervisor,
                          deadline=date(2024, 6, 5), number="4"),
        "later": make_item(session, document=doc, lead_unit=fgw, supervisor=supervisor,
                           deadline=date(2024, 7, 31), number="5"),
        "signed_now": make_item(session, document=doc, lead_unit=fgw, supervisor=supervisor,
                                deadline=date(2024, 5, 31), status=Status.SIGNED_OFF, number="6"),
        "signed_before": make_item(session, document=doc, lead_unit=jxw, supervisor=supervisor,
                                   deadline=date(2024, 4, 30), status=Status.SIGNED_OFF, number="7"),
    }
    for key, at in (("signed_now", now - timedelta(days=2)), ("signed_before", now - timedelta(days=30))):
        session.add(ItemEvent(item_id=items[key].id, kind="signed_off", at=at, actor_label="test",
                              from_status="submitted", to_status="signed_off"))
    session.commit()
    people: dict[str, Person] = {"supervisor": supervisor, "leader": leader}
    return {"units": {"fgw": fgw, "jxw": jxw}, "items": items, "people": people, "document": doc}


def notify(session: Any, item: Any, kind: str, to: list[str], cc: list[str] | None = None,
           key: str | None = None, at: Any = None, **payload: Any) -> Any:
    """Queue a notification the way lifecycle, import and sweep do."""
    from datetime import UTC, datetime

    from models.tables import Notification

    n = Notification(key=key or f"{kind}:{item.id}:{len(to)}:{','.join(to)}", item_id=item.id, kind=kind,
                     to_addrs=to, cc_addrs=cc or [], payload=payload,
                     created_at=at or datetime(2024, 6, 3, 0, 0, tzinfo=UTC))
    session.add(n)
    session.flush()
    return n


def queue_mail(engine: Any, addresses: list[str], per_address: int = 1, kind: str = "reminder") -> None:
    """A unit per address, each with `per_address` items notified to it (committed)."""
    from sqlmodel import Session

    from tests.factories import make_item, make_unit

    with Session(engine) as session:
        for addr in addresses:
            unit = make_unit(session, contact_emails=[addr])
            for _ in range(per_address):
                notify(session, make_item(session, lead_unit=unit), kind, [addr])
        session.commit()


def raw_of(message: Any) -> str:
    """The rendered mail of an outbox message loaded in a session (its body row)."""
    from sqlmodel import Session

    from models.outbox import body

    return body(Session.object_session(message), message.id)  # type: ignore[arg-type]
