"""Loading what the database holds once, and applying an import plan in bulk (the caller commits)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from config.yamlfile import ConfigFileError
from models.admin import AdminChange, imported_by, person_added
from models.deadlines import ACTIVE_STATUSES, is_overdue
from models.errors import ConflictError, InvalidInput
from models.ledger.parse import ProgressFn, XlsxLimits, read_files
from models.ledger.plan import (
    ImportSummary,
    ItemPlan,
    ItemRecord,
    ItemUpdate,
    Plan,
    Snapshot,
    UnitRecord,
)
from models.ledger.validate import build_plan
from models.lifecycle import change_deadline, require_acknowledgement
from models.notices import NOTICES, ItemRef, People
from models.periods import schedule_periods
from models.schedule import Schedule
from models.tables import (
    OPEN_STATUSES,
    Document,
    Item,
    ItemAcknowledgement,
    ItemCoUnit,
    ItemEvent,
    Notification,
    Person,
    Status,
    Unit,
)

_CHUNK = 1000


def import_ledger(
    session: Session,
    paths: Sequence[Path],
    *,
    now: datetime,
    dry_run: bool = False,
    progress: ProgressFn | None = None,
    schedule: Schedule | None = None,
    limits: XlsxLimits | None = None,
) -> ImportSummary:
    """Read, check and (unless dry_run) apply ledger files, all or nothing. The caller commits.

    `schedule` (default: the configured policy and calendar) places each new item's first
    reminder. Raises LedgerError listing every problem, InvalidInput when the policy or calendar
    file is invalid, or ConflictError when a parallel import got there first; then nothing was
    changed (the caller rolls back).
    """
    if schedule is None:
        try:
            schedule = Schedule.configured()
        except ConfigFileError as exc:
            raise InvalidInput(f"new items cannot be scheduled: {exc}", code="ledger.unschedulable",
                               params={"problem": str(exc)}) from None
    parsed = read_files(paths, progress, limits)
    plan = build_plan(parsed, load_snapshot(session))
    summary = ImportSummary.of(plan, parsed.files, dry_run)
    if not dry_run:
        try:
            summary.notifications_queued = apply_plan(session, plan, now, schedule, progress)
        except IntegrityError:
            raise ConflictError(
                "another import wrote some of the same units, people, documents or items meanwhile; "
                "nothing of this import was written, run it again",
                code="ledger.concurrent_import",
            ) from None
    return summary


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


def load_snapshot(session: Session) -> Snapshot:
    snapshot = Snapshot()
    for unit in session.exec(select(Unit)).all():
        snapshot.units[unit.id] = UnitRecord(  # type: ignore[index]
            unit.id, unit.name, unit.code, unit.parent_id,  # type: ignore[arg-type]
            tuple(unit.contact_emails), tuple(unit.leader_emails),
        )
    for pid, email, role, unit_id in session.exec(select(Person.id, Person.email, Person.role, Person.unit_id)).all():
        snapshot.people[email] = (pid, role, unit_id)  # type: ignore[assignment]
    snapshot.documents = {name: did for name, did in session.exec(select(Document.short_name, Document.id)).all()}  # type: ignore[misc]
    columns = (Item.id, Item.document_id, Item.number, Item.title, Item.category, Item.notes,
               Item.lead_unit_id, Item.supervisor_id, Item.deadline, Item.status, Item.frequency, Item.deadline_version)
    moved: list[int] = []
    for row in session.exec(select(*columns)).all():  # type: ignore[call-overload]
        record = ItemRecord(*row[:-1])
        snapshot.items[(record.document_id, record.number)] = record
        if row[-1] > 1:
            moved.append(record.id)
    co_units: dict[int, set[int]] = {}
    for item_id, unit_id in session.exec(select(ItemCoUnit.item_id, ItemCoUnit.unit_id)).all():
        co_units.setdefault(item_id, set()).add(unit_id)
    snapshot.co_units = {item_id: frozenset(units) for item_id, units in co_units.items()}
    for ids in _chunks(moved):
        events = session.exec(
            select(ItemEvent.item_id, ItemEvent.kind, ItemEvent.payload)
            .where(col(ItemEvent.item_id).in_(ids), col(ItemEvent.kind).in_(["imported", "updated"]))
            .order_by(col(ItemEvent.id))
        ).all()
        for item_id, kind, payload in events:
            value = payload.get("deadline")
            if kind == "updated" and isinstance(value, dict):
                value = value.get("new")
            if isinstance(value, str):
                snapshot.imported_deadlines[item_id] = date.fromisoformat(value)
    return snapshot


def apply_plan(
    session: Session, plan: Plan, now: datetime, schedule: Schedule, progress: ProgressFn | None = None
) -> int:
    """Write the plan; returns how many assignment notices were queued."""
    _apply_units(session, plan)
    unit_ids = {name: uid for uid, name in session.exec(select(Unit.id, Unit.name)).all()}
    session.add_all([
        Person(email=p.email, name=p.name, role=p.role, unit_id=unit_ids[p.unit] if p.unit else None)
        for p in plan.new_people
    ])
    if plan.new_people:  # one executemany: ORM objects cost 0.1 s CPU per thousand people
        session.execute(insert(AdminChange), [person_added(now, imported_by(p.file), p.email, p.role, p.unit)
                                              for p in plan.new_people])
    session.add_all([Document(short_name=name, title=name) for name in plan.new_documents])
    session.flush()
    people = {email: pid for pid, email in session.exec(select(Person.id, Person.email)).all()}
    documents = {name: did for did, name in session.exec(select(Document.id, Document.short_name)).all()}
    directory = People(session, schedule.policy)
    queued = _insert_items(session, plan, now, schedule, unit_ids, people, documents, directory, progress)
    queued += _update_items(session, plan.changed_items, now, unit_ids, people, directory,
                            schedule.acknowledge_due_at(now))
    session.flush()
    _schedule_periods(session, plan, documents, schedule)
    return queued


def _schedule_periods(session: Session, plan: Plan, documents: dict[str, int], schedule: Schedule) -> None:
    """Periods for new recurring items and for items whose frequency or deadline changed."""
    keys = [(documents[p.document], p.number) for p in plan.new_items if p.frequency]
    changed = [u.item_id for u in plan.changed_items if {"frequency", "deadline"} & u.changes.keys()]
    items: list[Item] = []
    for chunk in _chunks(keys):
        numbers = {number for _, number in chunk}
        found = session.exec(select(Item).where(col(Item.number).in_(numbers))).all()
        wanted = set(chunk)
        items += [item for item in found if (item.document_id, item.number) in wanted]
    for ids in _chunks(changed):
        items += session.exec(select(Item).where(col(Item.id).in_(ids))).all()
    schedule_periods(session, items, schedule)


def _apply_units(session: Session, plan: Plan) -> None:
    new = [Unit(name=u.name, code=u.code, contact_emails=u.emails, leader_emails=u.leaders) for u in plan.new_units]
    session.add_all(new)
    for change in plan.changed_units:
        unit = session.get(Unit, change.existing_id)
        assert unit is not None
        for key, value in change.changes.items():
            if key in ("name", "code"):
                setattr(unit, key, value)
            elif key == "emails":
                unit.contact_emails = list(value)
            elif key == "leaders":
                unit.leader_emails = list(value)
        session.add(unit)
    session.flush()
    ids = {unit.name: unit.id for unit in session.exec(select(Unit)).all()}
    parents = [(u.name, u.parent) for u in plan.new_units if u.parent]
    parents += [(u.name, u.changes["parent"]) for u in plan.changed_units if "parent" in u.changes]
    for name, parent in parents:
        unit = session.get(Unit, ids[name])
        assert unit is not None
        unit.parent_id = ids[parent] if parent else None
        session.add(unit)
    session.flush()


def _insert_items(
    session: Session, plan: Plan, now: datetime, schedule: Schedule, unit_ids: dict[str, int], people: dict[str, int],
    documents: dict[str, int], directory: People, progress: ProgressFn | None,
) -> int:
    items, events, co_units, notices = Item.__table__, ItemEvent.__table__, ItemCoUnit.__table__, Notification.__table__  # type: ignore[attr-defined]
    total, done, queued = len(plan.new_items), 0, 0
    acknowledge_due_at = schedule.acknowledge_due_at(now)
    for chunk in _chunks(plan.new_items):
        # Plain executemany, no RETURNING: SQLite would insert row by row to keep RETURNING in order.
        session.execute(insert(items), [{
            "document_id": documents[p.document], "number": p.number, "title": p.title, "category": p.category,
            "lead_unit_id": unit_ids[p.lead_unit], "supervisor_id": people[p.supervisor] if p.supervisor else None,
            "original_deadline": p.deadline, "deadline": p.deadline, "notes": p.notes, "status": p.status.value,
            "frequency": p.frequency,
            "deadline_version": 1, "escalation_level": 0, "version": 1, "created_at": now, "updated_at": now,
            # From the first threshold, even one already behind: the next sweep catches up (events
            # for every threshold crossed, one notice). Submitted items wait on the supervisor.
            "next_action_at": schedule.first_action_at(p.document, p.category, p.deadline)
            if p.status in ACTIVE_STATUSES else None,
            # 签收: only a fresh assignment waits for its lead unit (an item imported as under way is not).
            "acknowledge_due_at": acknowledge_due_at if p.status == Status.ASSIGNED else None,
        } for p in chunk])
        done += len(chunk)
        if progress:
            progress("apply", done, total)
    involved = list({documents[p.document] for p in plan.new_items})
    item_ids = {
        (document_id, number): item_id
        for item_id, document_id, number in session.exec(
            select(Item.id, Item.document_id, Item.number).where(col(Item.document_id).in_(involved))
        ).all()
    }
    for chunk in _chunks(plan.new_items):
        ids = [item_ids[(documents[p.document], p.number)] for p in chunk]
        session.execute(insert(events), [{
            "item_id": item_id, "kind": "imported", "at": now, "actor_id": None, "actor_label": p.actor_label,
            "from_status": None, "to_status": p.status.value,
            "payload": {"imported_as": p.status.value, "deadline": p.deadline.isoformat(),
                        "file": p.file, **({"sheet": p.sheet} if p.sheet else {}), "row": p.row},
        } for item_id, p in zip(ids, chunk, strict=True)])
        links = [{"item_id": item_id, "unit_id": unit_ids[u]} for item_id, p in zip(ids, chunk, strict=True) for u in p.co_units]
        if links:
            session.execute(insert(co_units), links)
        # 签收: an item imported as under way is acknowledged by the import (no person), as its lead
        # unit is working on it already; a fresh assignment waits for the unit (acknowledge_due_at).
        under_way = [{"item_id": item_id, "unit_id": unit_ids[p.lead_unit], "person_id": None, "at": now}
                     for item_id, p in zip(ids, chunk, strict=True) if p.status == Status.IN_PROGRESS]
        if under_way:
            session.execute(insert(ItemAcknowledgement.__table__), under_way)  # type: ignore[attr-defined]
        # An item imported already late is not announced as new: the next sweep catches it up and
        # tells the lead unit it is overdue (and escalates it as far as it has gone).
        told = [(item_id, p, ItemRef(item_id, documents[p.document], unit_ids[p.lead_unit],
                                     people[p.supervisor] if p.supervisor else None))
                for item_id, p in zip(ids, chunk, strict=True)
                if p.status in OPEN_STATUSES and not is_overdue(p.status, p.deadline, now, schedule.tz)]
        directory.load([ref for _, _, ref in told])
        mail = [_assigned(f"assigned:{item_id}", ref, p, directory, now, {}) for item_id, p, ref in told]
        if mail:
            session.execute(insert(notices), mail)
        queued += len(mail)
    return queued


def _assigned(
    key: str, ref: ItemRef, plan: ItemPlan, directory: People, now: datetime, extra: dict[str, Any],
    deadline_version: int = 1,
) -> dict[str, Any]:
    """An assignment notice (the `assigned` row of models/notices.py) as a Notification's columns."""
    recipients = directory.recipients(NOTICES["assigned"].audience, ref)
    return {
        "key": key, "item_id": ref.id, "kind": "assigned", "deadline_version": deadline_version,
        "to_addrs": recipients.to, "cc_addrs": recipients.cc, "unreached": recipients.unreached,
        "payload": {"document": plan.document, "number": plan.number, "title": plan.title,
                    "deadline": plan.deadline.isoformat(), **extra, **recipients.notes()},
        "created_at": now, "outbox_id": None,
    }


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _update_items(
    session: Session, updates: list[ItemUpdate], now: datetime, unit_ids: dict[str, int], people: dict[str, int],
    directory: People, acknowledge_due_at: datetime | None,
) -> int:
    """Apply changed rows; returns how many assignment notices were queued (a new lead unit gets one)."""
    queued = 0
    for chunk in _chunks(updates):
        loaded = {i.id: i for i in session.exec(select(Item).where(col(Item.id).in_([u.item_id for u in chunk]))).all()}
        for update in chunk:
            item, plan = loaded[update.item_id], update.plan
            for key in update.changes:
                if key == "deadline":
                    change_deadline(item, plan.deadline)
                elif key == "lead_unit":
                    item.lead_unit_id = unit_ids[plan.lead_unit]
                    if item.status in OPEN_STATUSES:  # the new lead unit acknowledges it afresh
                        require_acknowledgement(session, item, item.lead_unit_id, acknowledge_due_at)
                elif key == "supervisor":
                    item.supervisor_id = people[plan.supervisor] if plan.supervisor else None
                elif key == "co_units":
                    session.execute(delete(ItemCoUnit).where(col(ItemCoUnit.item_id) == item.id))
                    session.add_all([ItemCoUnit(item_id=item.id, unit_id=unit_ids[u]) for u in plan.co_units])  # type: ignore[arg-type]
                else:
                    setattr(item, key, getattr(plan, key))
            if item.status in OPEN_STATUSES and {"deadline", "lead_unit"} & update.changes.keys():
                item.next_action_at = now  # reminders follow the new deadline or unit from the next sweep
            if item.status in OPEN_STATUSES and "lead_unit" in update.changes:
                session.flush()  # the new co-units, for the directory
                ref = ItemRef(item.id, item.document_id, item.lead_unit_id, item.supervisor_id)  # type: ignore[arg-type]
                directory.load([ref])
                session.add(Notification(**_assigned(
                    f"assigned:{item.id}:{now.isoformat()}:{plan.lead_unit}", ref, plan, directory, now,
                    {"deadline": item.deadline.isoformat(), "reassigned_from": update.changes["lead_unit"][0]},
                    deadline_version=item.deadline_version,
                )))
                queued += 1
            item.updated_at = now
            session.add(item)
            session.add(ItemEvent(
                item_id=item.id, kind="updated", at=now, actor_id=None, actor_label=plan.actor_label,  # type: ignore[arg-type]
                from_status=item.status, to_status=item.status,
                payload={**{k: {"old": _plain(o), "new": _plain(n)} for k, (o, n) in update.changes.items()},
                         "file": plan.file, **({"sheet": plan.sheet} if plan.sheet else {}), "row": plan.row},
            ))
    return queued
