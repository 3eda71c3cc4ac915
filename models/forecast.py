"""The forecast: what the sweep will remind, flag or escalate in the coming days, and to whom."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from config.calendar import WorkCalendar
from config.policy import Policy
from models.deadlines import ACTIVE_STATUSES
from models.notices import People
from models.schedule import upcoming
from models.sweep import DUE_COLUMNS, ITEM, DueRow, archived_documents


@dataclass(frozen=True)
class ForecastEntry:
    when: datetime
    item_id: int
    ref: str
    title: str
    kind: str
    threshold: str
    level: int
    to: list[str]
    cc: list[str]
    also: list[str]  # thresholds crossed at the same sweep, recorded but not notified
    fallback: str | None = None  # who `to` fell back to (models/notices.py), when the audience named nobody


def forecast(
    session: Session, *, now: datetime, until: datetime, policy: Policy, calendar: WorkCalendar, tz: ZoneInfo
) -> list[ForecastEntry]:
    """Every notification sweeps would queue from `now` to `until`; reads only, writes nothing."""
    query = (
        select(*DUE_COLUMNS)
        .where(ITEM.c.next_action_at <= until, ITEM.c.status.in_(list(ACTIVE_STATUSES)))
        .order_by(ITEM.c.next_action_at, ITEM.c.id)
    )
    if archived := archived_documents(session):  # not swept while archived (models/sweep.py)
        query = query.where(ITEM.c.document_id.not_in(archived))
    rows = [DueRow(*r) for r in session.execute(query)]
    directory = People(session, policy)
    entries: list[ForecastEntry] = []
    for start in range(0, len(rows), 500):
        batch = rows[start:start + 500]
        directory.load(batch)
        for row in batch:
            document = directory.documents.get(row.document_id, "")
            rules = policy.rules_for(document, row.category)
            for when, notified, also in upcoming(
                row.deadline, rules, calendar, tz, since=row.next_action_at, now=now, until=until
            ):
                crossed = sorted([*also, notified], key=lambda t: t.at)
                for threshold, recipients in directory.catch_up(notified, crossed, row):
                    entries.append(ForecastEntry(
                        when=when, item_id=row.id, ref=f"{document}/{row.number}", title=row.title,
                        kind=threshold.kind, threshold=threshold.key, level=threshold.level,
                        to=recipients.to, cc=recipients.cc, also=[t.key for t in crossed if t is not threshold],
                        fallback=recipients.fallback.value if recipients.fallback else None,
                    ))
    entries.sort(key=lambda e: (e.when, e.ref))
    return entries
