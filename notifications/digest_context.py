"""Digest contents: everything the weekly digests show, loaded in bulk and shaped per audience.

The figures (per document, per lead unit, a supervisor's units) come from the shared read side
(`models.read.figures`, filtered by `models.read.filters.ItemFilter`), so a digest's number equals
the dashboard's and `duban report`'s for the same scope and day. The item lists (overdue,
escalated, due soon) and the week's leaders' instructions (批示) are loaded in one pass; then a
context per supervisor, per leadership address and per unit contact address; and, when something
needs fixing, a system health report for the admins (sweep warnings, calendar coverage, dead mail).
Deactivated people get no digest. Pure data: rendering and queuing are in `notifications.digest`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from config.settings import Settings
from models.deadlines import ACTIVE_STATUSES, start_of_day
from models.notices import digest_leadership
from models.notices import unreached_notices as find_unreached
from models.outbox import OutboxMessage, OutboxStatus
from models.read.due import Day, active, load_reminder_window
from models.read.figures import (
    CityRows,
    Row,
    by_attention,
    document_rows,
    rate_change,
    signed_off_since,
    supervisors_unit_rows,
    unit_rows,
)
from models.read.filters import ItemFilter, conditions, current_documents
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
RANKING_SHOWN = 30


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

    @property
    def shown_to(self) -> str:
        """The recipient as a clerk knows them: the person's name (a supervisor's or an admin's digest, as
        the digest greets them), the units a contact address writes for, else the address itself."""
        name = self.context.get("name")
        if name:
            return str(name)
        units = [section["unit"] for section in self.context.get("sections", ())]
        return "、".join(units) if units else self.recipient


@dataclass
class _Facts:
    """The items the digests list, loaded once (the figures are counted by the read side)."""

    day: Day
    since: datetime  # the digest's week: from 00:00 seven days ago
    items: list[dict[str, Any]]
    documents: dict[int, str]
    units: dict[int, Unit]
    co_units: dict[int, set[int]]
    instructions: list[dict[str, Any]]  # this week's 批示, oldest first


def _load(session: Session, day: Day, base_url: str) -> _Facts:
    since = start_of_day(day.today - timedelta(days=7), day.tz)
    documents: dict[int, str] = dict(session.execute(select(Document.id, Document.short_name)).all())  # type: ignore[call-overload]
    units = {u.id: u for u in session.exec(select(Unit)).all()}  # type: ignore[call-overload]
    cols = (Item.id, Item.document_id, Item.number, Item.title, Item.lead_unit_id, Item.supervisor_id,
            Item.original_deadline, Item.deadline, Item.status, Item.escalation_level, Item.created_at)
    items = []
    current = (Item.status != Status.CANCELLED, current_documents())  # archived documents are not reported on
    # Only what a digest can list: worked-on items overdue, due soon or escalated, and those with a 批示
    # this week (three in four items are neither: loading them all held ~80 MB for nothing).
    listed = and_(active(), or_(col(Item.deadline) <= day.soon_until, col(Item.escalation_level) > 0))
    instructed = select(ItemEvent.item_id).where(ItemEvent.kind == "instructed", col(ItemEvent.at) >= since,
                                                 col(ItemEvent.at) <= day.now)
    # Plain columns, read through the connection: the ORM's result layer only wraps the same rows.
    read = session.connection().execute
    for row in read(select(*cols).where(*current, or_(listed, col(Item.id).in_(instructed)))).all():  # type: ignore[call-overload]
        item = dict(zip(("id", "document_id", "number", "title", "lead_unit_id", "supervisor_id",
                         "original_deadline", "deadline", "status", "level", "created_at"), row, strict=True))
        item["overdue"] = day.overdue(item["status"], item["deadline"])
        item["due_soon"] = day.due_soon(item["status"], item["deadline"])
        item["days_left"] = (item["deadline"] - day.today).days
        items.append(item)
    by_id = {i["id"]: i for i in items}
    instructions = _instructions(session, since, day.now, by_id)
    wanted = {i["id"] for i in items if i["status"] in ACTIVE_STATUSES} | {n["item_id"] for n in instructions}
    co_units: dict[int, set[int]] = defaultdict(set)
    for item_id, unit_id in read(select(ItemCoUnit.item_id, ItemCoUnit.unit_id)).all():  # type: ignore[call-overload]
        if item_id in wanted:
            co_units[item_id].add(unit_id)
    facts = _Facts(day, since, items, documents, units, co_units, instructions)
    for entry in instructions:
        entry.update({**_line(by_id[entry["item_id"]], facts, base_url), "day": entry["at"].astimezone(day.tz).date()})
    return facts


def _instructions(session: Session, since: datetime, now: datetime, items: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """Leaders' instructions (批示, event `instructed`) written from `since` to `now` on items not cancelled."""
    rows = session.execute(
        select(ItemEvent.id, ItemEvent.item_id, ItemEvent.at, ItemEvent.actor_label, ItemEvent.payload, Person.name)  # type: ignore[call-overload]
        .outerjoin(Person, col(Person.id) == ItemEvent.actor_id)
        .where(ItemEvent.kind == "instructed", col(ItemEvent.at) >= since, col(ItemEvent.at) <= now)
        .order_by(col(ItemEvent.at), col(ItemEvent.id))
    ).all()
    return [{"event_id": event_id, "item_id": item_id, "at": _aware(at), "leader": name or label.split(" <", 1)[0],
             "text": str((payload or {}).get("text", ""))}
            for event_id, item_id, at, label, payload, name in rows if item_id in items]


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


def unit_table(session: Session, day: Day, base: ItemFilter, since: datetime, base_url: str,
               rows: dict[int, Row] | None = None) -> list[dict[str, Any]]:
    """Per lead unit of the items `base` lists: the read side's figures (`unit_rows`, or `rows` when
    counted already), those needing attention first (as the dashboard lists them), with the items
    signed off since `since`."""
    rows = unit_rows(session, day, base) if rows is None else rows
    signed = signed_off_since(session, Item.lead_unit_id, conditions(session, None, base, day.today, day.soon_until),
                              since)
    return _unit_table(rows, signed, base_url)


def _unit_table(rows: dict[int, Row], signed: dict[int, int], base_url: str) -> list[dict[str, Any]]:
    unit_of = {id(row): unit_id for unit_id, row in rows.items()}
    return [{**_figures(row, base_url), "unit": row.name, "rank": place, "signed_this_week": signed.get(unit_of[id(row)], 0)}
            for place, row in enumerate(by_attention(rows.values()), 1)]


def document_table(session: Session, day: Day, base_url: str,
                   rows: dict[int, Row] | None = None) -> list[dict[str, Any]]:
    """Per document over every item (`duban report`'s rows, or `rows` when counted already), with the
    rate's change over the past week."""
    rows = document_rows(session, None, ItemFilter(), day) if rows is None else rows
    change = rate_change(session, [], day.today - timedelta(days=7), day.tz, rows)
    return sorted(({**_figures(row, base_url), "document": row.name, "change": change[k]} for k, row in rows.items()),
                  key=lambda r: r["document"])


def _figures(row: Row, base_url: str) -> dict[str, Any]:
    return {"total": row.total, "signed_off": row.signed_off, "open": row.open, "due_soon": row.due_soon,
            "overdue": row.overdue, "rate": row.rate, "url": f"{base_url.rstrip('/')}{row.url()}"}


def _leadership(session: Session, day: Day, facts: _Facts, attention: list[dict[str, Any]], base_url: str,
                settings: Settings, city: CityRows) -> dict[str, Any]:
    documents = document_table(session, day, base_url, city.documents)
    level2 = sorted((_line(i, facts, base_url) for i in attention if i["level"] >= 2),
                    key=lambda li: (-li["level"], -li["days_overdue"], li["ref"]))
    ranking = [row for row in unit_table(session, day, ItemFilter(), facts.since, base_url, city.units)
               if row["overdue"]]
    return {"documents": documents, "level2": level2, "ranking": ranking[:RANKING_SHOWN],
            "overdue": sum(d["overdue"] for d in documents), "instructions": facts.instructions,
            "scores": _last_month_scores(session, day.today, day.now, settings)}


def digest_day(now: datetime, settings: Settings) -> Day:
    """The digests' day: `now` with the reminder window of the settings' policy (as compile_digests)."""
    from config.policy import load_policy

    policy = load_policy(settings.policy_file)  # the settings given: the demo passes its own
    return Day.at(now, settings.tz, load_reminder_window(policy))


def compile_digests(session: Session, now: datetime, settings: Settings, skip: set[tuple[str, str]] | None = None,
                    city: CityRows | None = None) -> tuple[list[Digest], int]:
    """This week's non-empty digests (leaving out `skip`: (audience, address) already sent); and how many
    were empty. Deactivated people get none and are not counted. `city`: the city's rows if already
    counted on the digests' day (`digest_day`); counted here otherwise."""
    from config.policy import load_policy

    policy = load_policy(settings.policy_file)  # the settings given: the demo passes its own
    window = load_reminder_window(policy)
    day = Day.at(now, settings.tz, window)
    if city is None or city.day != day:
        city = CityRows(session, day)
    base_url = settings.base_url
    facts = _load(session, day, base_url)
    skip = skip or set()
    digests: list[Digest] = []
    empty = 0
    people = {p.email.lower(): p for p in session.exec(select(Person).where(Person.active)).all()}  # type: ignore[call-overload]
    deactivated = {email.lower() for email in session.exec(select(Person.email).where(~col(Person.active))).all()}
    locale_of = {email: p.locale or settings.locale for email, p in people.items()}
    common = {"week": iso_week(day.today), "as_of": now.astimezone(settings.tz), "base_url": base_url.rstrip("/")}

    attention = [i for i in facts.items if i["overdue"] or (i["level"] > 0 and i["status"] in ACTIVE_STATUSES)]
    _attention(session, attention)
    # The leadership's contents first: counting last month's scores needs ~75 MB for a while
    # (100k items), freed before the other digests' contents are built rather than on top of them
    # (bench.digest's peak RSS). Listed after the supervisors' digests, as before.
    leaders = [addr for addr in digest_leadership(policy, [email for email, p in people.items() if p.role == Role.LEADER])
               if addr not in deactivated]
    leaders = [addr for addr in leaders if ("leadership", addr) not in skip]
    leadership = _leadership(session, day, facts, attention, base_url, settings, city) if leaders else {}

    # Supervisors: their overdue and escalated items, by level and lead unit; the week's 批示 on them.
    by_supervisor: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for item in attention:
        if item["supervisor_id"] is not None:
            by_supervisor[item["supervisor_id"]].append(item)
    supervisor_of = {i["id"]: i["supervisor_id"] for i in facts.items}
    # Every supervisor's unit table from grouped queries (as unit_table(ItemFilter(supervisor=…)) gives).
    tables = supervisors_unit_rows(session, day, facts.since) if any(
        p.role == Role.SUPERVISOR for p in people.values()) else {}
    for person in people.values():
        if person.role != Role.SUPERVISOR or ("supervisor", person.email.lower()) in skip:
            continue
        mine = by_supervisor.get(person.id, [])  # type: ignore[arg-type]
        instructions = [n for n in facts.instructions if supervisor_of[n["item_id"]] == person.id]
        if not mine and not instructions:
            empty += 1
            continue
        lines = sorted((_line(i, facts, base_url) for i in mine),
                       key=lambda li: (-li["level"], li["lead_unit"], -li["days_overdue"], li["ref"]))
        groups: dict[int, dict[str, list[dict[str, Any]]]] = {}
        for li in lines:
            groups.setdefault(li["level"], {}).setdefault(li["lead_unit"], []).append(li)
        units = _unit_table(*tables.get(person.id, ({}, {})), base_url)  # type: ignore[arg-type]
        digests.append(Digest("supervisor", person.email.lower(), locale_of.get(person.email.lower(), settings.locale), {
            **common, "name": person.shown_name(), "groups": groups, "count": len(lines),
            "overdue": sum(li["overdue"] for li in lines), "units": units, "instructions": instructions,
        }, lines))
    del tables, by_supervisor  # ~25 MB for 1,000 units: let go before the units' digests are built

    # Leadership: rate per document with the change over the week, level 2+ items, the units with
    # overdue items (as the dashboard lists them), last month's scores, the week's 批示.
    if leaders:
        context = {**common, **leadership}  # one object for every leader: the same digest, rendered once
        for addr in leaders:
            if not leadership["documents"]:
                empty += 1
                continue
            digests.append(Digest("leadership", addr, locale_of.get(addr, settings.locale), context,
                                  leadership["level2"]))

    # Units: each contact address, its units' overdue and due-soon items (the read side's rules, the
    # policy's first reminder in working days), as lead and as co-unit; the week's 批示 on them.
    per_unit: dict[int, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for item in facts.items:
        if not (item["overdue"] or item["due_soon"]):
            continue
        per_unit[item["lead_unit_id"]].append(("lead", item))
        for unit_id in facts.co_units.get(item["id"], ()):
            per_unit[unit_id].append(("co", item))
    lead_of = {i["id"]: i["lead_unit_id"] for i in facts.items}
    by_address: dict[str, list[int]] = defaultdict(list)
    for unit in facts.units.values():
        for addr in unit.contact_emails or []:
            if addr.strip().lower() not in deactivated:
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
            lines = [{**_line(item, facts, base_url), "role": role} for role, item in entries]
            overdue = sorted((li for li in lines if li["overdue"]), key=lambda li: (-li["days_overdue"], li["ref"]))
            soon = sorted((li for li in lines if not li["overdue"]), key=lambda li: (li["days_left"], li["ref"]))
            instructions = [n for n in facts.instructions
                            if lead_of[n["item_id"]] == unit_id or unit_id in facts.co_units.get(n["item_id"], ())]
            if overdue or soon or instructions:
                sections.append({"unit": facts.units[unit_id].name, "overdue": overdue, "due_soon": soon,
                                 "instructions": instructions})
        if not sections:
            empty += 1
            continue
        rows = [li for s in sections for li in s["overdue"]]
        context = {**common, "sections": sections, "overdue": len(rows), "due_soon_workdays": window.workdays,
                   "due_soon": sum(len(s["due_soon"]) for s in sections),
                   "instructions": list({n["event_id"]: n for s in sections for n in s["instructions"]}.values())}
        shared[units_key] = (context, rows)
        digests.append(Digest("unit", addr, locale_of.get(addr, settings.locale), context, rows))

    # Admins: what needs fixing in the system itself; nothing is sent in a healthy week.
    admins = [p for email, p in people.items() if p.role == Role.ADMIN and ("admin", email) not in skip]
    if admins:
        health = system_health(session, now, day.today, settings.tz)
        for person in admins:
            if not health["problems"]:
                empty += 1
                continue
            email = person.email.lower()
            digests.append(Digest("admin", email, locale_of.get(email, settings.locale),
                                  {**common, "name": person.shown_name(), **health}, []))
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
    # Totals only (explain=False): the digest shows each unit's sums, not its lines.
    board = scoreboard(session, model, load_calendar(settings.calendar_file), settings.tz, start, end, now,
                       explain=False)
    return {"start": start, "end": end, "base": number(board.base),
            "url": f"{settings.base_url.rstrip('/')}/score?period=month&on={start.isoformat()}",
            "units": [{"rank": u.rank, "unit": u.unit, "score": number(u.score),
                       "deductions": number(-u.deducted), "additions": number(u.added)}
                      for u in board.units[:30]]}
