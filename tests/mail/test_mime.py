"""Mail written directly (notifications/mime.py) says exactly what the `email` package wrote, on a
corpus of every mail: each notice kind, grouped and for-information notices, every digest audience
with its attachments, in zh-CN and en.

How they are compared, and why: the two messages are parsed with the standard library (compat32)
and must have the same parts in the same order, the same headers in each part with the same
decoded values (RFC 2047 words decoded with email.header.decode_header, parameters with RFC 2231
collapsed), and each part's base64 body equal byte for byte; the Message-ID and the boundaries are
equal too. Not the whole message byte for byte: where a long header is folded and where an
encoded word is cut are the writer's choice (RFC 5322 2.2.3, RFC 2047 5), and copying the email
package's folding would copy the cost this change removes. Sub-parts no longer carry a
MIME-Version header (RFC 2045 4 asks it of the message only; the email package added it to the
parts add_alternative and add_attachment made), so that header is compared on the message alone.
(policy.default's address parser is not used to decode: it keeps the space between two encoded
words of a display name, for the old output as well, against RFC 2047 6.2.)
"""

from __future__ import annotations

import base64
import email
import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from email import policy
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.utils import collapse_rfc2231_value, format_datetime, getaddresses
from functools import partial
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.settings import load_settings
from notifications import builders, digest
from notifications.builders import (
    KIND_ORDER,
    Attachment,
    Envelope,
    ItemLine,
    Mail,
    build_notice,
    message_id_for,
    ordered_sections,
)
from notifications.render import clean_header

AT = datetime(2024, 6, 3, 1, 0, tzinfo=UTC)


def old_assemble(envelope: Envelope, subject: str, *, text: str, html: str,
                 attachments: Sequence[Attachment] = ()) -> Mail:
    """The builder as it was: the `email` package's EmailMessage, policy.SMTP, as_string."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = Address(clean_header(envelope.sender_name), addr_spec=clean_header(envelope.sender))
    message["To"] = ", ".join(clean_header(addr) for addr in envelope.to)
    message["Subject"] = clean_header(subject)
    message["Date"] = format_datetime(envelope.date)
    message["Message-ID"] = clean_header(envelope.message_id)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(text, cte="base64")
    message.add_alternative(html, subtype="html", cte="base64")
    for attachment in attachments:
        message.add_attachment(attachment.content, maintype=attachment.maintype, subtype=attachment.subtype,
                               filename=clean_header(attachment.filename))
    seed = hashlib.sha256(str(message["Message-ID"]).encode()).hexdigest()[:24]
    for i, part in enumerate(p for p in message.walk() if p.is_multipart()):
        part.set_boundary(f"=_duban_{seed}_{i}")
    return Mail(subject=str(message["Subject"]), message_id=str(message["Message-ID"]),
                raw=message.as_string(policy=policy.SMTP))


def decoded(value: str) -> str:
    return str(make_header(decode_header(re.sub(r"\r?\n(?=[ \t])", "", value))))


def params(part: Message, header: str) -> list[tuple[str, str]]:
    return [(name, collapse_rfc2231_value(value)) for name, value in part.get_params([], header=header)]


def assert_same(new: Mail, old: Mail) -> None:
    assert (new.subject, new.message_id) == (old.subject, old.message_id)
    new_parts = list(email.message_from_string(new.raw, policy=policy.compat32).walk())
    old_parts = list(email.message_from_string(old.raw, policy=policy.compat32).walk())
    assert len(new_parts) == len(old_parts)
    for depth, (a, b) in enumerate(zip(new_parts, old_parts, strict=True)):
        names = [n for n in b.keys() if depth == 0 or n != "MIME-Version"]
        assert a.keys() == names
        for name in names:
            if name in ("Content-Type", "Content-Disposition"):
                assert params(a, name) == params(b, name), name
            else:
                assert decoded(a[name]) == decoded(b[name]), name
        assert a.get_payload() == b.get_payload() if not a.is_multipart() else a.get_boundary() == b.get_boundary()
    assert_well_formed(new.raw)


def assert_well_formed(raw: str) -> None:
    assert raw.isascii() and raw.endswith("\r\n")
    assert "\n" not in raw.replace("\r\n", "") and "\r" not in raw.replace("\r\n", "")
    head = raw.split("\r\n\r\n", 1)[0]
    assert all(len(line) <= 78 for line in head.split("\r\n")), head
    for word in re.findall(r"=\?utf-8\?b\?([^?]*)\?=", head):  # RFC 2047 5: no character split between words
        base64.b64decode(word).decode("utf-8")
    assert all(len(line) <= 998 for line in raw.split("\r\n"))


def line(item_id: int, title: str = "推动政策落地见效", unit: str = "市发改委", days_left: int = 3, **details: Any) -> ItemLine:
    return ItemLine(item_id=item_id, ref=f"新时代意见/{item_id}", title=title, lead_unit=unit,
                    deadline=date(2024, 6, 6), original_deadline=date(2024, 6, 1), days_left=days_left,
                    url=f"https://duban.example/items/{item_id}", details=details)


def envelope(sender_name: str = "督办系统", to: Sequence[str] = ("unit@example.gov.cn",)) -> Envelope:
    return Envelope("duban@dc.gov.cn", sender_name, list(to), message_id_for("k1", "duban@dc.gov.cn"), AT)


def both(build: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Mail, Mail]:
    new = build()
    with monkeypatch.context() as m:
        m.setattr(builders, "assemble", old_assemble)
        old = build()
    return new, old


NOTICES = [
    *[(locale, {kind: [line(7)]}, {}) for locale in ("zh-CN", "en") for kind in (*KIND_ORDER, "a_kind_no_template_has")],
    *[(locale, {"overdue": [line(1, days_left=-5), line(2, days_left=-1)], "reminder": [line(3)],
                "returned": [line(4, reason="材料不全 & <b>重报</b>")]}, {"escalated": [line(5, days_left=-9, level=2)]})
      for locale in ("zh-CN", "en")],
    *[(locale, {}, {"signed_off": [line(6)]}) for locale in ("zh-CN", "en")],
    ("zh-CN", {"overdue": [line(i, title="推动数字经济和实体经济深度融合，完善配套政策" * 3) for i in range(1, 40)]}, {}),
]


@pytest.mark.parametrize(("locale", "action", "fyi"), NOTICES)
def test_notices_are_the_same_mail_as_the_email_package_wrote(locale, action, fyi, monkeypatch) -> None:
    for sender_name in ("督办系统", "duban", 'Du "ban", office. (test)', "督办系统 Supervision Office " * 4, ""):
        new, old = both(partial(
            build_notice, envelope(sender_name, to=["unit@example.gov.cn", "second.contact@example.gov.cn"]),
            locale=locale, sections=ordered_sections(action), fyi=ordered_sections(fyi),
            base_url="https://duban.example"), monkeypatch)
        assert_same(new, old)


def digest_calls(session: Any, now: Any, mail_world: Any, monkeypatch: pytest.MonkeyPatch,
                 locale: str) -> list[tuple[Envelope, dict[str, Any]]]:
    """Every `build_digest` call of one weekly run with everyone reading `locale`: (envelope, arguments),
    for comparing two ways of building the same mails (tests/mail/test_gettext_direct.py too)."""
    calls: list[tuple[Envelope, dict[str, Any]]] = []
    real = builders.build_digest

    def recording(envelope: Envelope, **kwargs: Any) -> Mail:
        calls.append((envelope, kwargs))
        return real(envelope, **kwargs)

    for person in mail_world["people"].values():
        person.locale = locale
    session.commit()
    monkeypatch.setattr(digest, "build_digest", recording)
    digest.queue_digests(session, now, load_settings(delivery_window=False, base_url="https://duban.example",
                                                      locale=locale))
    monkeypatch.setattr(digest, "build_digest", real)
    assert {kwargs["audience"] for _, kwargs in calls} == {"supervisor", "leadership", "unit"}
    return calls


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_digest_is_the_same_mail_as_the_email_package_wrote(session, now, mail_world, monkeypatch, locale) -> None:
    real = builders.build_digest
    calls = digest_calls(session, now, mail_world, monkeypatch, locale)
    assert any(kwargs["attachments"] for _, kwargs in calls)  # the escalation list
    more = [Attachment("通报-2024年第23周" * 4 + ".docx", b"PK\x03\x04" + bytes(range(256)) * 9,
                       "application", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
            Attachment("a long English name for an attachment, with spaces and a comma, week 23.xlsx", b"")]
    for envelope, kwargs in calls:
        for extra in ([], more):
            attachments = [*kwargs["attachments"], *extra]
            new, old = both(partial(real, envelope, **{**kwargs, "attachments": attachments}), monkeypatch)
            assert_same(new, old)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=120), st.text(max_size=60))
def test_any_subject_and_sender_name_read_back_as_written(subject: str, name: str) -> None:
    """What a reader decodes is the cleaned text, whatever it holds (quotes, '=?', CJK, emoji, long words)."""
    mail = builders.assemble(envelope(name), subject, text=subject, html=name)
    message = email.message_from_string(mail.raw, policy=policy.compat32)
    assert decoded(message["Subject"]) == clean_header(subject) == mail.subject
    ((display, address),) = getaddresses([message["From"]])
    assert (decoded(display), address) == (clean_header(name), "duban@dc.gov.cn")
    assert_well_formed(mail.raw)


def test_readdressing_a_digest_still_finds_its_to_and_message_id() -> None:
    mail = builders.assemble(envelope(to=["jxw@example.gov.cn"]), "周报", text="t", html="h")
    other = digest._readdress(mail.raw, "jxw@example.gov.cn", "jxw2@example.gov.cn", mail.message_id, "<x@y>")
    message = email.message_from_string(other, policy=policy.default)
    assert (message["To"], message["Message-ID"]) == ("jxw2@example.gov.cn", "<x@y>")

