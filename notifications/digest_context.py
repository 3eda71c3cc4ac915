"""Digest contents: everything the weekly digests show, loaded in bulk and shaped per audience.

One pass over the ledger (items, co-units, sign-off events), then a context per supervisor, per
leadership address and per unit contact address; and, when something needs fixing, a system
health report for the admins (sweep warnings, calendar coverage, dead mail). Pure data: rendering
and queuing are in `notifications.digest`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from config.policy import Policy
from config.settings import Settings
from models.deadlines import ACTIVE_STATUSES, is_overdue
from models.notices import digest_leadership
from models.notices import unreached_notices as find_unreached
from models.outbox import OutboxMessage, OutboxStatus
from models.read.due import load_reminder_window
from models.read.figures import rate
from models.sweep_tables import SweepRun
from models.tables import (
    Document,
    Item,
    ItemCoUnit,
    ItemEvent,
    Person,
    ProgressReport,
    Role,
    Status,
    Unit,
)
from notifications.outbox import item_url

SWEEP_SILENCE = timedelta(days=1)  # no sweep for this long is a problem the admins hear about
DEAD_MAIL_SHOWN = 20


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class Digest:
    audience: str
    recipient: str
    locale: str
    context: dict[str, Any]
    escalation_rows: list[dict[str, Any]]


@dataclass
class _Facts:
    """Everything the digests need, loaded once."""

    now: datetime
    today: date
    items: list[dict[str, Any]]
    documents: dict[int, str]
    units: dict[int, Unit]
    co_units: dict[int, set[int]]
    signed_this_week: set[int]
    signed_before: set[int]


def _load(session: Session, now: datetime, settings: Settings) -> _Facts:
    tz, today = settings.tz, now.astimezone(settings.tz).date()
    week_ago = now - timedelta(days=7)
    documents: dict[int, str] = dict(session.execute(select(Document.id, Document.short_name)).all())  # type: ignore[call-overload]
    units = {u.id: u for u in session.exec(select(Unit)).all()}  # type: ignore[call-overload]
    cols = (Item.id, Item.document_id, Item.number, Item.title, Item.lead_unit_id, Item.supervisor_id,
            Item.original_deadline, Item.deadline, Item.status, Item.escalation_level, Item.created_at)
    items = []
    for row in session.execute(select(*cols).where(Item.status != Status.CANCELLED)).all():  # type: ignore[call-overload]
        item = dict(zip(("id", "document_id", "number", "title", "lead_unit_id", "supervisor_id",
                         "original_deadline", "deadline", "status", "level", "created_at"), row, strict=True))
        item["overdue"] = is_overdue(item["status"], item["deadline"], now, tz)
        item["days_left"] = (item["deadline"] - today).days
        items.append(item)
    open_ids = {i["id"] for i in items if i["status"] in ACTIVE_STATUSES}
    co_units: dict[int, set[int]] = defaultdict(set)
    for item_id, unit_id in session.execute(select(ItemCoUnit.item_id, ItemCoUnit.unit_id)).all():  # type: ignore[call-overload]
        if item_id in open_ids:
            co_units[item_id].add(unit_id)
    signed = session.execute(
        select(ItemEvent.item_id, func.max(ItemEvent.at)).where(ItemEvent.kind == "signed_off")  # type: ignore[call-overload]
        .group_by(ItemEvent.item_id)
    ).all()
    signed_off_ids = {i["id"] for i in items if i["status"] == Status.SIGNED_OFF}
    signed_at = dict(signed)
    # Items imported as already done have no `signed_off` event: they count as done since import.
    signed_at.update({i["id"]: i["created_at"] for i in items
                      if i["status"] == Status.SIGNED_OFF and i["id"] not in signed_at})
    this_week = {item_id for item_id, at in signed_at.items() if item_id in signed_off_ids and _aware(at) >= week_ago}
    before = {item_id for item_id, at in signed_at.items() if item_id in signed_off_ids and _aware(at) < week_ago}
    return _Facts(now, today, items, documents, units, co_units, this_week, before)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _attention(session: Session, items: list[dict[str, Any]]) -> None:
    """Add the last progress report and the times returned to the items a digest lists in detail."""
    ids = [i["id"] for i in items]
    latest: dict[int, tuple[str, datetime]] = {}
    returned: Counter[int] = Counter()
    for chunk in range(0, len(ids), 5000):
        part = ids[chunk:chunk + 5000]
        last_ids = select(func.max(ProgressReport.id)).where(col(ProgressReport.item_id).in_(part)).group_by(ProgressReport.item_id)
        for item_id, text, at in session.execute(
            select(ProgressReport.item_id, ProgressReport.text, ProgressReport.at)  # type: ignore[call-overload]
            .where(col(ProgressReport.id).in_(last_ids))
        ).all():
            latest[item_id] = (text, at)
        for item_id, count in session.execute(
            select(ItemEvent.item_id, func.count()).where(ItemEvent.kind == "returned", col(ItemEvent.item_id).in_(part))  # type: ignore[call-overload]
            .group_by(ItemEvent.item_id)
        ).all():
            returned[item_id] = count
    for item in items:
        text, at = latest.get(item["id"], ("", None))
        item["last_progress"], item["last_progress_at"] = text, at
        item["times_returned"] = returned[item["id"]]


def _line(item: dict[str, Any], facts: _Facts, base_url: str) -> dict[str, Any]:
    return {
        **item, "ref": f"{facts.documents.get(item['document_id'], item['document_id'])}/{item['number']}",
        "lead_unit": facts.units[item["lead_unit_id"]].name, "days_overdue": max(0, -item["days_left"]),
        "url": item_url(base_url, item["id"]),
    }


def _unit_table(items: Iterable[dict[str, Any]], facts: _Facts) -> list[dict[str, Any]]:
    """Per lead unit: open, overdue, signed off this week, total, rate; ranked by overdue."""
    rows: dict[int, Counter[str]] = defaultdict(Counter)
    for item in items:
        row = rows[item["lead_unit_id"]]
        row["total"] += 1
        row["open"] += item["status"] != Status.SIGNED_OFF
        row["overdue"] += item["overdue"]
        row["signed_off"] += item["status"] == Status.SIGNED_OFF
        row["signed_this_week"] += item["id"] in facts.signed_this_week
    table: list[dict[str, Any]] = [
        {"unit": facts.units[uid].name, **row, "rate": rate(row["signed_off"], row["total"])} for uid, row in rows.items()
    ]
    table.sort(key=lambda r: (-r["overdue"], -r["open"], r["unit"]))
    for rank, entry in enumerate(table, 1):
        entry["rank"] = rank
    return table


def compile_digests(session: Session, now: datetime, settings: Settings, skip: set[tuple[str, str]] | None = None) -> tuple[list[Digest], int]:
    """This week's non-empty digests (leaving out `skip`: (audience, address) already sent); and how many were empty."""
    from config.policy import load_policy

    facts = _load(session, now, settings)
    policy = load_policy(settings.policy_file)  # the settings given: the demo passes its own
    skip = skip or set()
    base_url, digests, empty = settings.base_url, [], 0
    people = {p.email.lower(): p for p in session.exec(select(Person).where(Person.active)).all()}  # type: ignore[call-overload]
    locale_of = {email: p.locale or settings.locale for email, p in people.items()}
    common = {"week": iso_week(facts.today), "as_of": now.astimezone(settings.tz), "base_url": base_url.rstrip("/")}

    attention = [i for i in facts.items if i["overdue"] or (i["level"] > 0 and i["status"] in ACTIVE_STATUSES)]
    _attention(session, attention)

    # Supervisors: their overdue and escalated items, by level and lead unit.
    by_supervisor: dict[int, list[dict[str, Any]]] = defaultdict(list)
    all_by_supervisor: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for item in facts.items:
        if item["supervisor_id"] is not None:
            all_by_supervisor[item["supervisor_id"]].append(item)
    for item in attention:
        if item["supervisor_id"] is not None:
            by_supervisor[item["supervisor_id"]].append(item)
    for person in people.values():
        if person.role != Role.SUPERVISOR or ("supervisor", person.email.lower()) in skip:
            continue
        mine = by_supervisor.get(person.id, [])  # type: ignore[arg-type]
        if not mine:
            empty += 1
            continue
        lines = sorted((_line(i, facts, base_url) for i in mine),
                       key=lambda li: (-li["level"], li["lead_unit"], -li["days_overdue"], li["ref"]))
        groups: dict[int, dict[str, list[dict[str, Any]]]] = {}
        for li in lines:
            groups.setdefault(li["level"], {}).setdefault(li["lead_unit"], []).append(li)
        units = _unit_table(all_by_supervisor[person.id], facts)  # type: ignore[index]
        digests.append(Digest("supervisor", person.email.lower(), locale_of.get(person.email.lower(), settings.locale), {
            **common, "name": person.name, "groups": groups, "count": len(lines),
            "overdue": sum(li["overdue"] for li in lines), "units": units,
        }, lines))

    # Leadership: rate per document with the change since last week, level 2+ items, the unit ranking.
    leaders = digest_leadership(policy, [email for email, p in people.items() if p.role == Role.LEADER])
    documents = _documents_table(facts)
    level2 = sorted((_line(i, facts, base_url) for i in attention if i["level"] >= 2),
                    key=lambda li: (-li["level"], -li["days_overdue"], li["ref"]))
    ranking = [row for row in _unit_table(facts.items, facts) if row["overdue"]]
    scores = _last_month_scores(session, facts.today, now, settings) if leaders else None
    for addr in leaders:
        if ("leadership", addr) in skip:
            continue
        if not documents:
            empty += 1
            continue
        digests.append(Digest("leadership", addr, locale_of.get(addr, settings.locale), {
            **common, "documents": documents, "level2": level2, "ranking": ranking[:30],
            "overdue": sum(i["overdue"] for i in facts.items), "scores": scores,
        }, level2))

    # Units: each contact address, its units' overdue and due-soon items, as lead and as co-unit.
    # Due soon: within the policy's first reminder, in working days (as the web's traffic lights).
    workdays, due_soon_until = _reminder_window(facts.today, policy)
    per_unit: dict[int, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for item in facts.items:
        if item["status"] not in ACTIVE_STATUSES or not (item["overdue"] or item["deadline"] <= due_soon_until):
            continue
        per_unit[item["lead_unit_id"]].append(("lead", item))
        for unit_id in facts.co_units.get(item["id"], ()):
            per_unit[unit_id].append(("co", item))
    by_address: dict[str, list[int]] = defaultdict(list)
    for unit in facts.units.values():
        for addr in unit.contact_emails or []:
            by_address[addr.strip().lower()].append(unit.id)  # type: ignore[arg-type]
    shared: dict[tuple[int, ...], tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    for addr, unit_ids in sorted(by_address.items()):
        if ("unit", addr) in skip:
            continue
        units_key = tuple(sorted(unit_ids))
        if units_key in shared:  # the unit's other contacts get the very same digest (rendered once)
            context, rows = shared[units_key]
            digests.append(Digest("unit", addr, locale_of.get(addr, settings.locale), context, rows))
            continue
        sections: list[dict[str, Any]] = []
        for unit_id in sorted(unit_ids):
            entries = per_unit.get(unit_id, [])
            if not entries:
                continue
            lines = [{**_line(item, facts, base_url), "role": role} for role, item in entries]
            overdue = sorted((li for li in lines if li["overdue"]), key=lambda li: (-li["days_overdue"], li["ref"]))
            soon = sorted((li for li in lines if not li["overdue"]), key=lambda li: (li["days_left"], li["ref"]))
            sections.append({"unit": facts.units[unit_id].name, "overdue": overdue, "due_soon": soon})
        if not sections:
            empty += 1
            continue
        rows = [li for s in sections for li in s["overdue"]]
        context = {**common, "sections": sections, "overdue": len(rows), "due_soon_workdays": workdays,
                   "due_soon": sum(len(s["due_soon"]) for s in sections)}
        shared[units_key] = (context, rows)
        digests.append(Digest("unit", addr, locale_of.get(addr, settings.locale), context, rows))

    # Admins: what needs fixing in the system itself; nothing is sent in a healthy week.
    admins = [p for email, p in people.items() if p.role == Role.ADMIN and ("admin", email) not in skip]
    if admins:
        health = system_health(session, now, facts.today, settings.tz)
        for person in admins:
            if not health["problems"]:
                empty += 1
                continue
            email = person.email.lower()
            digests.append(Digest("admin", email, locale_of.get(email, settings.locale),
                                  {**common, "name": person.name, **health}, []))
    return digests, empty


def system_health(session: Session, now: datetime, today: date, tz: ZoneInfo) -> dict[str, Any]:
    """The past week's sweeps and their warnings, calendar coverage of this year and next, dead mail."""
    from config.calendar import CalendarError, load_calendar
    from models.sweep import calendar_warnings

    since = now - timedelta(days=7)
    runs = session.exec(select(
        func.count(), func.max(SweepRun.now), func.sum(SweepRun.examined), func.sum(SweepRun.notifications),
    ).where(SweepRun.now >= since)).one()
    warnings: list[str] = []
    for (found,) in session.execute(select(SweepRun.warnings).where(SweepRun.now >= since)):  # type: ignore[call-overload]
        warnings += [w for w in found or [] if w not in warnings]
    try:
        coverage = calendar_warnings(load_calendar(), (today.year, today.year + 1))
    except CalendarError as exc:
        coverage = [str(exc)]
    warnings += [w for w in coverage if w not in warnings]
    latest = session.exec(select(func.max(SweepRun.now))).one()
    last = _aware(latest).astimezone(tz) if latest else None
    dead = session.exec(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.DEAD)
                        .order_by(col(OutboxMessage.id).desc()).limit(DEAD_MAIL_SHOWN)).all()
    dead_count = session.exec(select(func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.status == OutboxStatus.DEAD)).one()
    silent = last is None or now - last > SWEEP_SILENCE
    unreached = unreached_notices(session, since)
    return {
        "sweeps": {"runs": runs[0], "examined": runs[2] or 0, "notifications": runs[3] or 0},
        "last_sweep": last, "silent": silent, "warnings": warnings, "dead_count": dead_count,
        "dead": [{"id": m.id, "subject": m.subject, "recipients": ", ".join(m.recipients),
                  "error": m.last_error, "at": _aware(m.created_at).astimezone(tz)} for m in dead],
        "unreached": unreached,
        "problems": len(warnings) + (1 if dead_count else 0) + (1 if silent else 0) + (1 if unreached else 0),
    }


def unreached_notices(session: Session, since: datetime | None = None) -> list[dict[str, Any]]:
    """Notices that reached nobody, not even through the fallback (models/notices.py), newest first."""
    return [{"kind": n.kind, "level": n.level, "at": n.at, "item_id": n.item_id, "ref": n.ref, "title": n.title}
            for n in find_unreached(session, since)]


def _last_month_scores(session: Session, today: date, now: datetime, settings: Settings) -> dict[str, Any] | None:
    """Last month's 考核 scores and ranks (docs/scoring.md), the first 30; None when the scoring file
    cannot be used (`duban doctor` names the problem)."""
    from config.calendar import load_calendar
    from config.scoring import DEFAULT_SCORING_FILE, ScoringError, load_scoring
    from models.scoring import number, period_of, scoreboard

    start, end = period_of("month", today.replace(day=1) - timedelta(days=1))
    try:
        model = load_scoring(settings.scoring_file or DEFAULT_SCORING_FILE)
    except ScoringError:
        return None
    board = scoreboard(session, model, load_calendar(settings.calendar_file), settings.tz, start, end, now)
    return {"start": start, "end": end, "base": number(board.base),
            "url": f"{settings.base_url.rstrip('/')}/score?period=month&on={start.isoformat()}",
            "units": [{"rank": u.rank, "unit": u.unit, "score": number(u.score),
                       "deductions": number(-sum((x.points for x in u.deductions), Decimal(0))),
                       "additions": number(sum((x.points for x in u.additions), Decimal(0)))}
                      for u in board.units[:30]]}


def _reminder_window(today: date, policy: Policy) -> tuple[int, date]:
    """(working days, last deadline day) of "due soon" (models.read.due, as the pages count it)."""
    window = load_reminder_window(policy)
    return window.workdays, window.until(today)


def _documents_table(facts: _Facts) -> list[dict[str, Any]]:
    per_doc: dict[int, Counter[str]] = defaultdict(Counter)
    week_ago = facts.now - timedelta(days=7)
    for item in facts.items:
        row = per_doc[item["document_id"]]
        row["total"] += 1
        row["signed_off"] += item["status"] == Status.SIGNED_OFF
        row["overdue"] += item["overdue"]
        if _aware(item["created_at"]) < week_ago:
            row["total_before"] += 1
            row["signed_before"] += item["id"] in facts.signed_before
    table: list[dict[str, Any]] = []
    for doc_id, row in per_doc.items():
        now_rate = rate(row["signed_off"], row["total"])
        before = rate(row["signed_before"], row["total_before"]) if row["total_before"] else None
        table.append({
            "document": facts.documents.get(doc_id, str(doc_id)), "total": row["total"],
            "signed_off": row["signed_off"], "overdue": row["overdue"], "rate": now_rate,
            "change": None if before is None else round(now_rate - before, 1),
        })
    table.sort(key=lambda r: r["document"])
    return table
