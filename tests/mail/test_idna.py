"""Domains that are not ASCII (督办.中国) go in IDNA, in the headers and in MAIL FROM / RCPT TO; a part
before the @ that is not ASCII (it would need SMTPUTF8) is refused where the address is entered."""

from __future__ import annotations

import asyncio
import email
from datetime import UTC, datetime
from email import policy

import pytest
from sqlmodel import Session

from config.settings import SettingsError, load_settings
from models.admin import add_person
from models.errors import InvalidInput
from models.tables import Role
from notifications import mime
from notifications.builders import Envelope, assemble, message_id_for
from notifications.transport import SmtpTransport
from tests.mail.conftest import SmtpSink
from web.i18n import error_message

SENDER, OFFICE = "duban@督办.中国", "duban@xn--wfrp96f.xn--fiqs8s"
LEAD, LEAD_WIRE = "lead@市发改委.中国", "lead@xn--ooru3lxzde9i.xn--fiqs8s"


def test_the_domain_goes_in_idna_and_the_part_before_the_at_as_it_is() -> None:
    assert mime.ascii_address(SENDER) == OFFICE
    assert mime.ascii_address("duban@督办。中国") == OFFICE, "the ideographic full stop is a dot (UTS 46)"
    assert mime.ascii_address("a.b@dc.gov.cn") == "a.b@dc.gov.cn"
    assert mime.ascii_domain("例子.测试") == "xn--fsqu00a.xn--0zwm56d"
    assert mime.ascii_address("not-an-address") == "not-an-address"


def test_headers_name_the_domains_in_idna_and_stay_ascii() -> None:
    mail = assemble(Envelope(SENDER, "督查督办办公室", [LEAD, "b@example.gov.cn"], message_id_for("k", SENDER),
                             datetime(2024, 6, 3, tzinfo=UTC)), "催办", text="正文", html="<p>正文</p>")
    assert mail.raw.isascii()
    parsed = email.message_from_string(mail.raw, policy=policy.default)
    assert parsed["From"].addresses[0].addr_spec == OFFICE and parsed["From"].addresses[0].display_name == "督查督办办公室"
    assert [a.addr_spec for a in parsed["To"].addresses] == [LEAD_WIRE, "b@example.gov.cn"]
    assert parsed["Message-ID"].endswith("@xn--wfrp96f.xn--fiqs8s>")


@pytest.mark.parametrize("pipelining", [False, True])
def test_the_envelope_names_the_domains_in_idna_and_refusals_the_address_as_given(
    smtp_sink: SmtpSink, pipelining: bool
) -> None:
    smtp_sink.handler.pipelining = pipelining
    smtp_sink.handler.refuse = {"gone@xn--wfrp96f.xn--fiqs8s": "550 5.1.1 Unknown"}
    transport = SmtpTransport.from_settings(smtp_sink.settings(mail_from=SENDER))
    assert transport.local_hostname == "xn--wfrp96f.xn--fiqs8s", "EHLO names the domain in IDNA"

    async def go() -> dict[str, str]:
        conn = await transport.connect()
        try:
            return await conn.send(SENDER, [LEAD, "gone@督办.中国"], b"Message-ID: <i@x>\r\nSubject: hi\r\n\r\nbody\r\n")
        finally:
            await conn.close()

    assert asyncio.run(go()) == {"gone@督办.中国": "550 5.1.1 Unknown"}
    (received,) = smtp_sink.handler.received
    assert received.sender == OFFICE and received.recipients == [LEAD_WIRE]


def test_a_part_before_the_at_that_is_not_ascii_is_refused_where_it_is_entered(session: Session) -> None:
    assert load_settings(mail_from=SENDER).mail_from == SENDER  # a Chinese domain is fine
    with pytest.raises(SettingsError) as refused:
        load_settings(mail_from="督办@督办.中国")
    assert "督办@督办.中国" in str(refused.value) and "SMTPUTF8" in str(refused.value)
    now = datetime(2024, 6, 3, tzinfo=UTC)
    with pytest.raises(InvalidInput) as entered:
        add_person(session, now, "admin@dc.gov.cn", "张三@督办.中国", "张三", Role.SUPERVISOR)
    assert entered.value.code == "person.email_not_ascii" and entered.value.params == {"email": "张三@督办.中国", "field": "email"}
    assert "“张三@督办.中国”的@前部分含非ASCII字符" in error_message(entered.value, "zh-CN")
    assert "“张三@督办.中国”: the part before the @" in error_message(entered.value, "en")
    assert add_person(session, now, "admin@dc.gov.cn", "zhangsan@督办.中国", "张三", Role.SUPERVISOR).email == \
        "zhangsan@督办.中国"
