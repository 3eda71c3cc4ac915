"""The weekly escalation digest (通报): rendered, attached and queued once per address and week.

Each (audience, address) gets at most one digest per ISO week: a `digest_sent` row is inserted
with ON CONFLICT DO NOTHING in the same transaction as its outbox message, so a second run, a
parallel run or a late run (after downtime, same week) queues nothing twice. Empty digests are
not queued. What a digest contains is built in `notifications.digest_context`.
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from config.i18n import N_, gettext, locale_or_default, week_name
from config.settings import Settings
from models.db import is_postgres
from models.errors import InvalidInput
from models.outbox import DigestSent, OutboxStatus, queue_columns
from models.read.figures import CityRows
from models.sheets import DATE, Column, Table, xlsx
from models.tables import Person
from notifications.builders import (
    DOCX_TYPE,
    Attachment,
    Envelope,
    build_digest,
    message_id_for,
)
from notifications.digest_context import Digest, compile_digests, digest_day, iso_week
from notifications.mime import addresses
from notifications.outbox import sender_name
from notifications.render import clean_header

__all__ = ["Digest", "DigestSummary", "compile_digests", "digest_due", "digest_html", "iso_week", "preview_digests",
           "queue_digests", "week_done", "write_previews"]

AUDIENCES = ("supervisor", "leadership", "unit", "admin")
NOTICE_AUDIENCES = ("leadership", "supervisor")  # those whose digest carries the weekly 通报 (.docx)
RUN_MARKER = ("run", "*")  # a digest_sent row that says this week's run completed
WRITE_BATCH = 20  # messages rendered and written at a time, at most,
WRITE_CHARS = 2_000_000  # and as soon as their bodies reach this (a supervisor's digest can be over 1 MB)


def digest_due(now: datetime, settings: Settings) -> bool:
    """Has this week's digest time (DUBAN_DIGEST_CRON, local time) passed at `now`?"""
    from apscheduler.triggers.cron import CronTrigger

    local = now.astimezone(settings.tz)
    monday = datetime.combine(local.date() - timedelta(days=local.weekday()), datetime.min.time(), tzinfo=settings.tz)
    trigger = CronTrigger.from_crontab(settings.digest_cron, timezone=settings.tz)
    first = trigger.get_next_fire_time(None, monday)
    return first is not None and first <= local and iso_week(first.date()) == iso_week(local.date())


def week_done(session: Session, week: str) -> bool:
    audience, recipient = RUN_MARKER
    return session.exec(
        select(DigestSent.id).where(DigestSent.audience == audience, DigestSent.recipient == recipient,
                                    DigestSent.week == week)
    ).first() is not None


@dataclass
class DigestSummary:
    week: str
    queued: int = 0
    already_sent: int = 0
    empty: int = 0
    by_audience: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"week": self.week, "queued": self.queued, "already_sent": self.already_sent, "empty": self.empty,
                **{audience: self.by_audience[audience] for audience in AUDIENCES}}


# width, number format, wrapped: one per column of the escalation list
_ESCALATION_LAYOUT = ((16, None, False), (40, None, True), (16, None, False), (9, None, False), (9, None, False),
                      (12, DATE, False), (12, DATE, False), (40, None, True), (12, DATE, False), (9, None, False))


_ESCALATION_HEADERS = (N_("Item"), N_("Task"), N_("Lead unit"), N_("Escalation"), N_("Days overdue"),
                       N_("Original deadline"), N_("Deadline"), N_("Last progress"), N_("Reported"),
                       N_("Times returned"))


def escalation_xlsx(rows: list[dict[str, Any]], locale: str, tz: tzinfo) -> bytes:
    """The escalation list as a workbook, through the one safe writer (models.sheets)."""
    headers = [gettext(locale, h) for h in _ESCALATION_HEADERS]
    columns = [Column(header, width, number_format, wrap)
               for header, (width, number_format, wrap) in zip(headers, _ESCALATION_LAYOUT, strict=True)]
    table = Table(gettext(locale, N_("Escalation list")), columns, (
        [r["ref"], r["title"], r["lead_unit"], r["level"], r["days_overdue"], r["original_deadline"],
         r["deadline"], r.get("last_progress", ""), _local_day(r.get("last_progress_at"), tz),
         r.get("times_returned", 0)] for r in rows))
    return xlsx(table)


def _local_day(at: datetime | None, tz: tzinfo) -> date | None:
    return at.astimezone(tz).date() if at else None


class _Renderer:
    """Renders digests, each distinct one once: contacts sharing a digest (the same context
    object) get a copy with their own To and Message-ID; identical workbooks are built once."""

    def __init__(self, now: datetime, settings: Settings, notices: dict[str, Attachment] | None = None) -> None:
        self.now, self.settings = now, settings
        self.notices = notices or {}  # the weekly 通报 per language
        self.workbooks: dict[tuple[str, tuple[int, ...]], bytes] = {}
        # The last digest rendered (-> raw, subject, to, message-id); those sharing it come next
        # (_rendering_order), so no more is held.
        self.rendered: dict[tuple[str, str, int], tuple[str, str, str, str]] = {}

    def message(self, digest: Digest, key: str) -> tuple[dict[str, Any], str]:
        """The outbox row's columns of one digest (models.outbox.queue_columns) and its rendered mail."""
        settings = self.settings
        message_id = message_id_for(key, settings.mail_from)
        same = (digest.audience, digest.locale, id(digest.context))
        if same in self.rendered:
            raw, subject, to, first_id = self.rendered[same]
            raw = _readdress(raw, to, digest.recipient, first_id, message_id)
        else:
            envelope = Envelope(sender=settings.mail_from, sender_name=sender_name(digest.locale),
                                to=[digest.recipient], message_id=message_id, date=self.now)
            mail = build_digest(envelope, audience=digest.audience, locale=digest.locale, context=digest.context,
                                attachments=self.attachments(digest))
            raw, subject = mail.raw, mail.subject
            self.rendered = {same: (raw, subject, digest.recipient, message_id)}
        return {
            "key": key, "kind": f"digest_{digest.audience}", "locale": digest.locale, "recipients": [digest.recipient],
            "item_ids": [r["id"] for r in digest.escalation_rows][:1000], "notification_ids": [],
            "subject": subject, "message_id": message_id,
            "status": OutboxStatus.PENDING, "next_attempt_at": self.now, "created_at": self.now,
        }, raw

    def attachments(self, digest: Digest) -> list[Attachment]:
        escalation = self.escalation_list(digest)
        notice = self.notices.get(digest.locale) if digest.audience in NOTICE_AUDIENCES else None
        return [a for a in (escalation, notice) if a is not None]

    def escalation_list(self, digest: Digest) -> Attachment | None:
        # The escalation list goes to those who escalate: supervisors and the leadership. A unit's
        # digest lists its own items in the body.
        if not digest.escalation_rows or digest.audience not in ("supervisor", "leadership"):
            return None
        week = digest.context["week"]
        name = gettext(digest.locale, N_("escalation-list-{week}.xlsx")).format(week=week_name(week, digest.locale))
        ids = (digest.locale, tuple(r["id"] for r in digest.escalation_rows))
        if ids not in self.workbooks:
            self.workbooks[ids] = escalation_xlsx(digest.escalation_rows, digest.locale, self.settings.tz)
        return Attachment(name, self.workbooks[ids])


def weekly_notices(session: Session, locales: set[str], now: datetime, settings: Settings,
                   city: CityRows | None = None) -> dict[str, Attachment]:
    """The weekly 通报 (`duban notice weekly`) as a .docx in each of `locales`; none when
    `digest_attach_notice` is off or there are no items to report. `city`: rows counted already at `now`."""
    from notifications.documents.facts import weekly_facts_by_locale
    from notifications.documents.notices import weekly_notice

    if not settings.digest_attach_notice or not locales:
        return {}
    try:  # counted once; only the words differ between languages
        by_locale = weekly_facts_by_locale(session, settings, None, now, sorted(locales), city)
    except InvalidInput:  # nothing to report yet
        return {}
    out: dict[str, Attachment] = {}
    for locale, facts in by_locale.items():
        buffer = io.BytesIO()
        weekly_notice(facts).save(buffer)
        _give_back_freed_memory()
        name = gettext(locale, N_("weekly-notice-{week}.docx")).format(week=week_name(facts.week, locale))
        out[locale] = Attachment(name, buffer.getvalue(), *DOCX_TYPE)
    return out


def _give_back_freed_memory() -> None:
    """Free the document's tree and return its heap to the system. python-docx's package and parts
    refer to each other, so the tree goes only with a collection; libxml2 then frees into malloc's
    lists, which Python's own small-object arenas do not reuse, hence glibc's malloc_trim. Without
    both, the digests compiled next add ~90 MB on top of it (bench.digest: 356 -> 280 MiB peak)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the heap stays as it is
        pass


def _notice_locales(digests: list[Digest]) -> set[str]:
    return {d.locale for d in digests if d.audience in NOTICE_AUDIENCES}


def _readers_locales(session: Session, settings: Settings) -> set[str]:
    """Every language a digest can be in: the default and those active people chose."""
    chosen = session.exec(select(Person.locale).where(Person.active, col(Person.locale).is_not(None))).all()
    return {settings.locale, *(locale for locale in chosen if locale)}


def _readdress(raw: str, old_to: str, new_to: str, old_id: str, new_id: str) -> str:
    """The same message for another address: only the To and Message-ID header lines change."""
    head, sep, body = raw.partition("\r\n\r\n")
    lines = head.split("\r\n")
    swap = {addresses("To", [clean_header(old_to)]): addresses("To", [clean_header(new_to)]),  # as assemble wrote it
            f"Message-ID: {old_id}": f"Message-ID: {new_id}"}
    replaced = [swap.get(line, line) for line in lines]
    if sum(a != b for a, b in zip(lines, replaced, strict=True)) != 2:
        raise ValueError("cannot readdress a digest whose To or Message-ID header is folded")
    return "\r\n".join(replaced) + sep + body


def _rendering_order(digests: list[Digest]) -> list[Digest]:
    """`digests` with those sharing a context (a unit's contacts) next to each other, otherwise in
    their order: the renderer then keeps only the last one it rendered."""
    first: dict[tuple[str, str, int], int] = {}
    for n, d in enumerate(digests):
        first.setdefault((d.audience, d.locale, id(d.context)), n)
    return [d for _, d in sorted(((first[(d.audience, d.locale, id(d.context))], n), d)
                                 for n, d in enumerate(digests))]


def digest_key(audience: str, recipient: str, week: str) -> str:
    return f"digest:{audience}:{week}:{hashlib.sha256(recipient.encode()).hexdigest()[:40]}"


def queue_digests(session: Session, now: datetime, settings: Settings) -> DigestSummary:
    """Compile and queue this week's digests, each (audience, address) at most once. Commits."""
    week = iso_week(now.astimezone(settings.tz).date())
    summary = DigestSummary(week)
    done = set(session.execute(
        select(DigestSent.audience, DigestSent.recipient).where(  # type: ignore[call-overload]
            DigestSent.week == week, DigestSent.audience != RUN_MARKER[0])
    ).all())
    # The 通报 is built before the digests are compiled, in every language a reader may have: its
    # document tree (~100 MB for 1,000 units) and the digests' contents are then never held together.
    # Once the week's run is done, later runs build it only if a digest still needs it.
    early = not week_done(session, week)
    city = week_city(session, now, settings)
    notices = weekly_notices(session, _readers_locales(session, settings), now, settings, city) if early else {}
    digests, summary.empty = compile_digests(session, now, settings, skip=done, city=city)
    needed = _notice_locales(digests)
    notices = {locale: notice for locale, notice in notices.items() if locale in needed}
    if not early:
        notices = weekly_notices(session, needed, now, settings, city)
    summary.already_sent = len(done)
    session.rollback()  # end the read: the writes below start a fresh transaction
    insert = pg_insert if is_postgres(session) else sqlite_insert
    table = DigestSent.__table__  # type: ignore[attr-defined]
    # Claim (audience, address, week) first, in one order for every run: a parallel run on
    # PostgreSQL waits for ours and then claims none of them, never deadlocks.
    digests.sort(key=lambda d: (d.audience, d.recipient))
    won: dict[tuple[str, str], int] = {}
    for start in range(0, len(digests), 500):
        rows = session.execute(
            insert(table).values([{"audience": d.audience, "recipient": d.recipient, "week": week,
                                   "created_at": now, "summary": {}} for d in digests[start:start + 500]])
            .on_conflict_do_nothing(index_elements=["audience", "recipient", "week"])
            .returning(table.c.id, table.c.audience, table.c.recipient)
        ).all()
        won.update({(audience, recipient): row_id for row_id, audience, recipient in rows})
    claimed = len(digests)
    renderer = _Renderer(now, settings, notices)
    queued = _rendering_order([d for d in digests if (d.audience, d.recipient) in won])
    summary.already_sent += claimed - len(queued)  # parallel runs queued those first
    summary.queued = len(queued)
    summary.by_audience.update(d.audience for d in queued)
    # Rendered and written in batches that are then let go (the bodies of 2,000 digests are ~120 MB),
    # and each digest's contents with them: `queued` is the one list left holding them, popped from.
    del digests
    queued.reverse()
    sent: list[dict[str, Any]] = []
    batch: list[tuple[int, dict[str, Any], tuple[dict[str, Any], str]]] = []
    size = 0
    while queued:
        d = queued.pop()
        mail = renderer.message(d, digest_key(d.audience, d.recipient, week))
        batch.append((won[(d.audience, d.recipient)],
                      {k: d.context[k] for k in ("overdue", "count", "due_soon") if k in d.context}, mail))
        size += len(mail[1])
        if len(batch) >= WRITE_BATCH or size >= WRITE_CHARS or not queued:
            ids = queue_columns(session, [m for _, _, m in batch])  # rows, not ORM objects to build and flush
            sent += [{"b_id": claim, "b_outbox": outbox_id, "b_summary": figures}
                     for (claim, figures, _), outbox_id in zip(batch, ids, strict=True)]
            batch, size = [], 0
    if sent:
        session.connection().execute(
            update(table).where(table.c.id == bindparam("b_id"))
            .values(outbox_id=bindparam("b_outbox"), summary=bindparam("b_summary")), sent)
    session.execute(
        insert(table).values(audience=RUN_MARKER[0], recipient=RUN_MARKER[1], week=week,
                             created_at=now, summary=summary.as_dict())
        .on_conflict_do_nothing(index_elements=["audience", "recipient", "week"])
    )
    session.commit()
    return summary


def week_city(session: Session, now: datetime, settings: Settings) -> CityRows:
    """The city's rows on the digests' day, counted once for the 通报 and the leadership digest."""
    return CityRows(session, digest_day(now, settings))


def preview_digests(session: Session, now: datetime, settings: Settings) -> list[Digest]:
    """This week's digests as queue_digests compiles them (the same call, on the same city's rows),
    for every address, those already sent too; nothing is queued and the read is ended."""
    digests, _ = compile_digests(session, now, settings, city=week_city(session, now, settings))
    session.rollback()
    return digests


def digest_html(digest: Digest) -> str:
    """A digest's HTML as its mail carries it (notifications.builders.build_digest renders it so)."""
    from notifications.render import render

    locale = locale_or_default(digest.locale)
    return render(locale, f"digest_{digest.audience}.html", **{"locale": locale, **digest.context})


def write_previews(session: Session, now: datetime, settings: Settings, directory: Path) -> list[Path]:
    """Write each digest's HTML to `directory` (nothing is queued)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for digest in preview_digests(session, now, settings):
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in digest.recipient)
        path = directory / f"{digest.audience}-{safe}.html"
        path.write_text(digest_html(digest), encoding="utf-8")
        written.append(path)
    return written
