"""The weekly escalation digest (通报): rendered, attached and queued once per address and week.

Each (audience, address) gets at most one digest per ISO week: a `digest_sent` row is inserted
with ON CONFLICT DO NOTHING in the same transaction as its outbox message, so a second run, a
parallel run or a late run (after downtime, same week) queues nothing twice. Empty digests are
not queued. What a digest contains is built in `notifications.digest_context`.
"""

from __future__ import annotations

import hashlib
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from config.settings import Settings
from models.db import is_postgres
from models.outbox import DigestSent, OutboxMessage, OutboxStatus
from notifications.builders import Attachment, Envelope, as_raw, build_digest, message_id_for
from notifications.digest_context import Digest, compile_digests, iso_week
from notifications.outbox import SENDER_NAME

__all__ = ["Digest", "DigestSummary", "compile_digests", "digest_due", "iso_week", "queue_digests",
           "week_done", "write_previews"]

AUDIENCES = ("supervisor", "leadership", "unit")
RUN_MARKER = ("run", "*")  # a digest_sent row that says this week's run completed


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


def escalation_xlsx(rows: list[dict[str, Any]], locale: str) -> bytes:
    """The escalation list as a workbook (write-only mode: fast and small)."""
    from openpyxl import Workbook

    zh = locale != "en"
    headers = (["事项", "内容", "牵头单位", "督办级别", "逾期天数", "原定时限", "现时限", "最近进展", "进展日期", "退回次数"]
               if zh else ["Item", "Task", "Lead unit", "Level", "Days overdue", "Original deadline", "Deadline",
                           "Last progress", "Reported", "Times returned"])
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("督办清单" if zh else "Escalation list")
    sheet.append(headers)
    for r in rows:
        at = r.get("last_progress_at")
        sheet.append([r["ref"], r["title"], r["lead_unit"], r["level"], r["days_overdue"], r["original_deadline"],
                      r["deadline"], r.get("last_progress", ""), at.date() if at else None, r.get("times_returned", 0)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def render_digest(digest: Digest, now: datetime, settings: Settings, key: str,
                  workbooks: dict[tuple[str, tuple[int, ...]], bytes] | None = None) -> OutboxMessage:
    envelope = Envelope(sender=settings.mail_from, sender_name=SENDER_NAME.get(digest.locale, "duban"),
                        to=[digest.recipient], message_id=message_id_for(key, settings.mail_from), date=now)
    attachment = None
    # The escalation list goes to those who escalate: supervisors and the leadership. A unit's
    # digest lists its own items in the body.
    if digest.escalation_rows and digest.audience in ("supervisor", "leadership"):
        name = f"督办清单-{digest.context['week']}.xlsx" if digest.locale != "en" else f"escalation-list-{digest.context['week']}.xlsx"
        # The leadership's addresses all get the same list: build each distinct workbook once.
        ids = (digest.locale, tuple(r["id"] for r in digest.escalation_rows))
        workbooks = {} if workbooks is None else workbooks
        if ids not in workbooks:
            workbooks[ids] = escalation_xlsx(digest.escalation_rows, digest.locale)
        attachment = Attachment(name, workbooks[ids])
    message = build_digest(envelope, audience=digest.audience, locale=digest.locale, context=digest.context,
                           attachment=attachment)
    return OutboxMessage(
        key=key, kind=f"digest_{digest.audience}", locale=digest.locale, recipients=[digest.recipient],
        item_ids=[r["id"] for r in digest.escalation_rows][:1000], notification_ids=[],
        subject=str(message["Subject"]), message_id=envelope.message_id, raw=as_raw(message),
        status=OutboxStatus.PENDING, next_attempt_at=now, created_at=now,
    )


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
    digests, summary.empty = compile_digests(session, now, settings, skip=done)
    summary.already_sent = len(done)
    session.rollback()  # end the read: the writes below start a fresh transaction
    insert = pg_insert if is_postgres(session) else sqlite_insert
    workbooks: dict[tuple[str, tuple[int, ...]], bytes] = {}
    # One order for every run: parallel runs on PostgreSQL wait on each other's rows, never deadlock.
    for digest in sorted(digests, key=lambda d: (d.audience, d.recipient)):
        row = session.execute(
            insert(DigestSent).values(audience=digest.audience, recipient=digest.recipient, week=week,  # type: ignore[attr-defined]
                                      created_at=now, summary={})
            .on_conflict_do_nothing(index_elements=["audience", "recipient", "week"])
            .returning(DigestSent.id)
        ).first()
        if row is None:  # a parallel run queued it first
            summary.already_sent += 1
            continue
        message = render_digest(digest, now, settings, digest_key(digest.audience, digest.recipient, week), workbooks)
        session.add(message)
        session.flush()
        sent = session.get(DigestSent, row[0])
        assert sent is not None
        sent.outbox_id = message.id
        sent.summary = {k: digest.context[k] for k in ("overdue", "count", "due_soon") if k in digest.context}
        session.add(sent)
        summary.queued += 1
        summary.by_audience[digest.audience] += 1
    session.execute(
        insert(DigestSent).values(audience=RUN_MARKER[0], recipient=RUN_MARKER[1], week=week,  # type: ignore[attr-defined]
                                  created_at=now, summary=summary.as_dict())
        .on_conflict_do_nothing(index_elements=["audience", "recipient", "week"])
    )
    session.commit()
    return summary


def write_previews(session: Session, now: datetime, settings: Settings, directory: Path) -> list[Path]:
    """Write each digest's HTML to `directory` (nothing is queued)."""
    from notifications.render import render

    digests, _ = compile_digests(session, now, settings)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for digest in digests:
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in digest.recipient)
        path = directory / f"{digest.audience}-{safe}.html"
        path.write_text(render(digest.locale, f"digest_{digest.audience}.html", locale=digest.locale, **digest.context),
                        encoding="utf-8")
        written.append(path)
    session.rollback()
    return written
