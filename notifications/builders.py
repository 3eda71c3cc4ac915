"""Pure message builders: data in, a `Mail` (subject and the bytes to send) out (no database, no clock)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import format_datetime
from typing import Any

from notifications import mime
from notifications.render import (
    clean_header,
    environment,
    locale_or_default,
    render,
    render_subject,
)
from notifications.sections import write_notice

# The order sections appear in a grouped mail: what needs action first.
KIND_ORDER = (
    "escalated", "overdue", "urged", "instructed", "repeat_reminder", "reminder", "period_escalated", "period_missed",
    "period_reminder", "acknowledge_reminder", "returned", "assigned", "edited",
    "extension_approved", "extension_rejected", "submitted", "extension_requested",
    "signed_off", "cancelled", "commented",
)
KNOWN_KINDS = frozenset(KIND_ORDER)
GENERIC_KIND = "generic"
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
DOCX_TYPE = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")


@dataclass(frozen=True)
class ItemLine:
    """One item as a mail shows it."""

    item_id: int
    ref: str
    title: str
    lead_unit: str
    deadline: date
    original_deadline: date
    days_left: int  # negative once overdue
    url: str
    role: str = "lead"  # lead or co: how the recipient's unit is involved
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def days_overdue(self) -> int:
        return max(0, -self.days_left)


@dataclass(frozen=True)
class Section:
    kind: str
    lines: Sequence[ItemLine]


@dataclass(frozen=True)
class Envelope:
    """Who sends, who receives, the Message-ID and the Date: everything but the content."""

    sender: str
    sender_name: str
    to: Sequence[str]
    message_id: str
    date: datetime


@dataclass(frozen=True)
class Mail:
    """A built message: its subject as written, its Message-ID, and its text as sent (CRLF, 7-bit)."""

    subject: str
    message_id: str
    raw: str


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str = XLSX_TYPE[0]
    subtype: str = XLSX_TYPE[1]


def message_id_for(key: str, sender: str) -> str:
    """A Message-ID that depends only on the outbox key: every re-send carries the same one."""
    domain = mime.ascii_domain(sender.rpartition("@")[2]) or "localhost"
    return f"<duban.{hashlib.sha256(key.encode()).hexdigest()[:40]}@{clean_header(domain)}>"


def ordered_sections(by_kind: Mapping[str, Sequence[ItemLine]]) -> list[Section]:
    rank = {kind: i for i, kind in enumerate(KIND_ORDER)}
    kinds = sorted(by_kind, key=lambda k: (rank.get(k, len(rank)), k))
    return [Section(kind if kind in KNOWN_KINDS else GENERIC_KIND, by_kind[kind]) for kind in kinds if by_kind[kind]]


def build_notice(
    envelope: Envelope,
    *,
    locale: str,
    sections: Sequence[Section],
    fyi: Sequence[Section] = (),
    base_url: str = "",
) -> Mail:
    """One grouped mail: a section per kind for items needing action, then those copied for information."""
    locale = locale_or_default(locale)
    kinds = {s.kind for s in (*sections, *fyi)}
    count = len({line.item_id for s in (*sections, *fyi) for line in s.lines})
    context: dict[str, Any] = {
        "locale": locale, "sections": list(sections), "fyi": list(fyi), "count": count,
        "counts": {s.kind: len(s.lines) for s in sections}, "base_url": base_url.rstrip("/"),
        "only_fyi": not sections,
    }
    subject_template = next(iter(kinds)) if len(kinds) == 1 and sections else "notice"
    env = environment(locale)  # each text written around its sections once for such a notice (sections.py)
    return assemble(
        envelope, clean_header(write_notice(env, f"{subject_template}.subject.txt", context)),
        text=write_notice(env, "notice.txt", context),
        html=write_notice(env, "notice.html", context),
    )


def build_digest(
    envelope: Envelope,
    *,
    audience: str,
    locale: str,
    context: Mapping[str, Any],
    attachments: Sequence[Attachment] = (),
) -> Mail:
    """A weekly digest (audience: supervisor, leadership, unit or admin), with its files attached
    (the escalation list, the weekly notice), in the order given."""
    locale = locale_or_default(locale)
    name = f"digest_{audience}"
    ctx = {"locale": locale, **context}
    return assemble(
        envelope, render_subject(locale, name, **ctx),
        text=render(locale, f"{name}.txt", **ctx),
        html=render(locale, f"{name}.html", **ctx),
        attachments=attachments,
    )


def assemble(envelope: Envelope, subject: str, *, text: str, html: str,
             attachments: Sequence[Attachment] = ()) -> Mail:
    """The message as sent: headers, text and HTML alternatives, then the attachments (notifications/mime.py).

    MIME boundaries are derived from the Message-ID, so the same data always gives the same bytes.
    """
    subject, message_id = clean_header(subject), clean_header(envelope.message_id)
    headers = [
        mime.mailbox("From", clean_header(envelope.sender_name), clean_header(envelope.sender)),
        mime.addresses("To", [clean_header(addr) for addr in envelope.to]),
        mime.unstructured("Subject", subject),
        f"Date: {format_datetime(envelope.date)}",
        f"Message-ID: {message_id}",
        # Tell autoresponders and mail clients this is machine mail (RFC 3834).
        "Auto-Submitted: auto-generated",
        "X-Auto-Response-Suppress: All",
    ]
    seed = hashlib.sha256(message_id.encode()).hexdigest()[:24]
    raw = mime.message(
        headers,
        [mime.text_part(text, "plain"), mime.text_part(html, "html")],
        [mime.attachment_part(f"{a.maintype}/{a.subtype}", clean_header(a.filename), a.content) for a in attachments],
        boundary=f"=_duban_{seed}",
    )
    return Mail(subject=subject, message_id=message_id, raw=raw)
