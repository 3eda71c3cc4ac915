"""Checking parsed rows against each other and the database, and deciding what changes."""

from __future__ import annotations

import difflib
from dataclasses import replace
from datetime import date
from typing import Any

from config.i18n import LOCALES, gettext
from config.settings import address_problem
from models.frequency import FrequencyError, parse_frequency
from models.ledger.dates import DeadlineError, parse_deadline
from models.ledger.parse import ParsedFiles, RawRow, split_list
from models.ledger.plan import (
    ItemPlan,
    ItemUpdate,
    LedgerError,
    PersonPlan,
    Plan,
    Snapshot,
    UnitPlan,
)
from models.ledger.problems import Problem
from models.tables import Role, Status

# One word per state, the pages' word (config/i18n), as the items export writes it; the import accepts each.
STATUS_WORDS: dict[str, dict[Status, str]] = {
    locale: {status: gettext(locale, status.value) for status in Status} for locale in LOCALES
}
# A new item's starting state (an existing item's state is never changed by an import). A ledger
# carries no submission, so an item written as submitted starts in progress.
STATUSES: dict[str, Status] = {
    "": Status.ASSIGNED, "进行中": Status.IN_PROGRESS,
    "已完成": Status.SIGNED_OFF, "已办结": Status.SIGNED_OFF, "已落实": Status.SIGNED_OFF, "已销号": Status.SIGNED_OFF,
    "已取消": Status.CANCELLED,
    **{s.value: s for s in (Status.ASSIGNED, Status.IN_PROGRESS, Status.SIGNED_OFF, Status.CANCELLED)},
    **{word: Status.IN_PROGRESS if status == Status.SUBMITTED else status
       for words in STATUS_WORDS.values() for status, word in words.items()},
}
_LIMITS = {"document": 200, "number": 32, "title": 2000, "category": 200, "notes": 4000, "name": 200, "code": 64}


class _Checker:
    def __init__(self, parsed: ParsedFiles, snapshot: Snapshot) -> None:
        self.parsed, self.db = parsed, snapshot
        self.problems: list[Problem] = list(parsed.problems)
        self.plan = Plan()
        # unit name or code -> the unit's (new) name, from the import first, then the database
        self.unit_keys: dict[str, str] = {}
        self.planned_people: dict[str, tuple[PersonPlan, RawRow]] = {}
        self.suggestions: dict[str, list[str]] = {}
        self.unit_names = {u.id: u.name for u in snapshot.units.values()}
        self.emails_by_person = {pid: email for email, (pid, _, _) in snapshot.people.items()}

    def problem(self, row: RawRow, column: str | None, *, code: str, **params: Any) -> None:
        """A problem with a cell; the column as the file's header wrote it."""
        self.problems.append(Problem(row.file, row.sheet, row.row, row.columns.get(column or "", column),
                                     code=code, params=params))

    def text(self, row: RawRow, name: str, required: bool = False) -> str:
        value = row.text(name)
        if required and not value:
            self.problem(row, name, code="ledger.row.empty")
        if len(value) > _LIMITS.get(name, 10_000):
            self.problem(row, name, code="ledger.row.too_long", max=_LIMITS[name])
        return value

    def emails(self, row: RawRow, name: str, required: bool = False) -> list[str]:
        found = []
        for part in split_list(row.values.get(name)):
            if self.address(row, name, part):
                found.append(part.lower())
        if required and not found and not split_list(row.values.get(name)):
            self.problem(row, name, code="ledger.row.no_email")
        return list(dict.fromkeys(found))

    def address(self, row: RawRow, column: str, text: str) -> bool:
        """A plain name@domain, as delivery will take it; anything else is a problem with the cell."""
        problem = address_problem(text)
        if problem is not None:
            # each code spelt out where it is raised, as tests/web/test_error_messages.py reads them
            self.problem(row, column, value=text, code={
                "not_plain_email": "ledger.row.not_plain_email", "email_not_ascii": "ledger.row.email_not_ascii",
                "not_email": "ledger.row.not_email"}[problem])
        return problem is None

    def unit(self, row: RawRow, column: str, key: str) -> str | None:
        name = self.unit_keys.get(key)
        if name is None:
            if key not in self.suggestions:  # a misspelt unit tends to repeat over many rows
                close = difflib.get_close_matches(key, list(self.unit_keys), n=3, cutoff=0.4)
                self.suggestions[key] = list(dict.fromkeys(self.unit_keys[c] for c in close))
            if closest := self.suggestions[key]:
                self.problem(row, column, code="ledger.row.unknown_unit_near", unit=key, closest=closest)
            else:
                self.problem(row, column, code="ledger.row.unknown_unit", unit=key)
        return name

    # -- units ---------------------------------------------------------------------------------
    def check_units(self) -> None:
        db_by_name = {u.name: u for u in self.db.units.values()}
        db_by_code = {u.code: u for u in self.db.units.values() if u.code}
        seen: dict[str, RawRow] = {}
        rows: list[tuple[RawRow, UnitPlan]] = []
        for row in self.parsed.units:
            name, code = self.text(row, "name", required=True), self.text(row, "code") or None
            emails = self.emails(row, "emails", required=True)
            leaders = self.emails(row, "leader_emails") if row.has("leader_emails") else []
            for column, key in (("name", name), ("code", code)):
                if key and key in seen:
                    self.problem(row, column, code="ledger.row.duplicate_unit", unit=key,
                                 where=_where(seen[key], row))
                elif key:
                    seen[key] = row
            existing = (db_by_code.get(code) if code else None) or db_by_name.get(name)
            if existing and name in db_by_name and db_by_name[name].id != existing.id:
                self.problem(row, "name", code="ledger.row.name_taken", name=name,
                             other_code=db_by_name[name].code)
            plan = UnitPlan(name, code, self.text(row, "parent") or None, emails, leaders,
                            existing.id if existing else None)
            rows.append((row, plan))
        for unit in self.db.units.values():
            self.unit_keys[unit.name] = unit.name
            if unit.code:
                self.unit_keys[unit.code] = unit.name
        for _row, plan in rows:
            if plan.existing_id is not None:
                old = self.db.units[plan.existing_id]
                self.unit_keys.pop(old.name, None)
                self.unit_keys.pop(old.code or "", None)
            self.unit_keys[plan.name] = plan.name
            if plan.code:
                self.unit_keys[plan.code] = plan.name
        for row, plan in rows:
            if plan.parent:
                parent = self.unit(row, "parent", plan.parent)
                if parent == plan.name:
                    self.problem(row, "parent", code="ledger.row.own_parent")
                plan.parent = parent
            self._unit_changes(row, plan)
        self._parent_cycles(rows)
        for row, plan in rows:
            self._unit_people(row, plan)

    def _parent_cycles(self, rows: list[tuple[RawRow, UnitPlan]]) -> None:
        """上级单位 must form a tree: escalations walk up it (config/policy.py, `unit_leaders_up`)."""
        names = dict(self.unit_names)  # unit id -> its name after the import (a unit may be renamed)
        names.update({plan.existing_id: plan.name for _row, plan in rows if plan.existing_id is not None})
        parents = {names[u.id]: names.get(u.parent_id) if u.parent_id else None for u in self.db.units.values()}
        for row, plan in rows:
            if plan.existing_id is None or row.has("parent"):
                parents[plan.name] = plan.parent
        for row, plan in rows:
            path, unit = [plan.name], parents.get(plan.name)
            while unit is not None and unit not in path:
                path.append(unit)
                unit = parents.get(unit)
            if unit == plan.name and len(path) > 1:  # own parent: ledger.row.own_parent says so
                self.problem(row, "parent", code="ledger.row.parent_cycle", path=" → ".join([*path, plan.name]))

    def _unit_changes(self, row: RawRow, plan: UnitPlan) -> None:
        if plan.existing_id is None:
            self.plan.new_units.append(plan)
            return
        old = self.db.units[plan.existing_id]
        parent = self.db.units.get(old.parent_id) if old.parent_id else None
        new: dict[str, Any] = {"name": plan.name, "code": plan.code or old.code, "emails": tuple(plan.emails)}
        if row.has("leader_emails"):
            new["leaders"] = tuple(plan.leaders)
        if row.has("parent"):
            new["parent"] = plan.parent
        current = {"name": old.name, "code": old.code, "emails": old.emails, "leaders": old.leaders,
                   "parent": parent.name if parent else None}
        plan.changes = {k: v for k, v in new.items() if v != current[k]}
        if plan.changes:
            self.plan.changed_units.append(plan)

    def _unit_people(self, row: RawRow, plan: UnitPlan) -> None:
        for email in plan.emails:
            self.person(row, "emails", PersonPlan(email, f"{plan.name}联络员", Role.OFFICER, plan.name))
        for email in plan.leaders:
            self.person(row, "leader_emails", PersonPlan(email, f"{plan.name}分管领导", Role.LEADER, plan.name))

    def person(self, row: RawRow, column: str, wanted: PersonPlan) -> None:
        if wanted.email in self.db.people:
            _, role, _ = self.db.people[wanted.email]
            if wanted.role == Role.SUPERVISOR and role not in (Role.SUPERVISOR, Role.ADMIN):
                self.problem(row, column, code="ledger.row.not_supervisor", email=wanted.email, role=str(role))
            return
        if wanted.email in self.planned_people:
            planned, first = self.planned_people[wanted.email]
            # A leader may also be listed as a contact; a supervisor is nobody else, an officer has one unit.
            clash = planned.role != wanted.role and Role.SUPERVISOR in (planned.role, wanted.role)
            if clash or (wanted.role == Role.OFFICER and planned.role == Role.OFFICER and planned.unit != wanted.unit):
                taken = {"email": wanted.email, "role": str(planned.role), "where": _where(first, row)}
                if planned.unit:
                    self.problem(row, column, code="ledger.row.person_taken", unit=planned.unit, **taken)
                else:
                    self.problem(row, column, code="ledger.row.person_taken_no_unit", **taken)
            return
        wanted = replace(wanted, file=row.file)
        self.planned_people[wanted.email] = (wanted, row)
        self.plan.new_people.append(wanted)

    # -- ledger --------------------------------------------------------------------------------
    def check_ledger(self) -> None:
        seen: dict[tuple[str, str], RawRow] = {}
        documents_in_import: dict[str, None] = {}
        for row in self.parsed.ledger:
            item = self._item(row)
            if item is None:
                continue
            key = (item.document, item.number)
            if key in seen:
                self.problem(row, "number", code="ledger.row.duplicate_item", ref=item.ref,
                             where=_where(seen[key], row))
                continue
            seen[key] = row
            documents_in_import.setdefault(item.document)
            self._compare(row, item)
        for name in documents_in_import:
            if name not in self.db.documents:
                self.plan.new_documents.append(name)
        by_id = {document_id: name for name, document_id in self.db.documents.items()}
        self.plan.missing = sorted(
            f"{by_id[record.document_id]}/{record.number}" for record in self.db.items.values()
            if by_id[record.document_id] in documents_in_import and (by_id[record.document_id], record.number) not in seen
        )

    def _item(self, row: RawRow) -> ItemPlan | None:
        before = len(self.problems)
        document, number = self.text(row, "document", True), self.text(row, "number", True)
        title = self.text(row, "title", True)
        lead = self.unit(row, "lead_unit", lead_key) if (lead_key := row.text("lead_unit")) else None
        if not lead_key:
            self.problem(row, "lead_unit", code="ledger.row.empty")
        co_units = [self.unit(row, "co_units", key) for key in split_list(row.values.get("co_units"))]
        deadline = self._deadline(row)
        frequency = self._frequency(row)
        supervisor = None
        if (raw := row.text("supervisor")) and self.address(row, "supervisor", raw):
            supervisor = raw.lower()
            self.person(row, "supervisor", PersonPlan(supervisor, supervisor.split("@")[0], Role.SUPERVISOR, None))
        status = STATUSES.get(row.text("status").lower() if row.text("status").isascii() else row.text("status"))
        if status is None:
            self.problem(row, "status", code="ledger.row.unknown_status", value=row.text("status"),
                         accepted=[word for word in STATUSES if word and not word.isascii()])
        if len(self.problems) > before or lead is None or deadline is None or status is None:
            return None
        co = [name for name in dict.fromkeys(co_units) if name and name != lead]
        return ItemPlan(document, number, title, self.text(row, "category"), lead, co, supervisor, deadline,
                        status, self.text(row, "notes"), row.file, row.sheet, row.row, frequency)

    def _deadline(self, row: RawRow) -> date | None:
        try:
            return parse_deadline(row.values.get("deadline"))
        except DeadlineError as exc:
            self.problem(row, "deadline", code=exc.code, **exc.params)
            return None

    def _frequency(self, row: RawRow) -> str | None:
        try:
            frequency = parse_frequency(row.values.get("frequency"))
        except FrequencyError as exc:
            self.problem(row, "frequency", code=exc.code, **exc.params)
            return None
        return frequency.code if frequency else None

    def _compare(self, row: RawRow, item: ItemPlan) -> None:
        document_id = self.db.documents.get(item.document)
        record = self.db.items.get((document_id, item.number)) if document_id is not None else None
        if record is None:
            self.plan.new_items.append(item)
            return
        names = self.unit_names
        changes: dict[str, tuple[Any, Any]] = {}
        if record.title != item.title:
            changes["title"] = (record.title, item.title)
        # The ledger's last deadline or the current one (after an extension, as an export writes it).
        if item.deadline not in (self.db.imported_deadlines.get(record.id, record.deadline), record.deadline):
            changes["deadline"] = (record.deadline, item.deadline)
        if names.get(record.lead_unit_id) != item.lead_unit:
            changes["lead_unit"] = (names.get(record.lead_unit_id), item.lead_unit)
        if row.has("co_units"):
            old = sorted(names[u] for u in self.db.co_units.get(record.id, frozenset()))
            if old != sorted(item.co_units):
                changes["co_units"] = (old, sorted(item.co_units))
        for name in ("category", "notes", "frequency"):
            if row.has(name) and getattr(record, name) != getattr(item, name):
                changes[name] = (getattr(record, name), getattr(item, name))
        if row.has("supervisor"):
            old_supervisor = self.emails_by_person.get(record.supervisor_id or 0)
            if old_supervisor != item.supervisor:
                changes["supervisor"] = (old_supervisor, item.supervisor)
        if changes:
            self.plan.changed_items.append(ItemUpdate(record.id, item, changes))
        else:
            self.plan.unchanged += 1


def _where(first: RawRow, current: RawRow) -> dict[str, Any]:
    """Where the first of two duplicates is, as a message of its own (a `ledger.where.*` code)."""
    if (first.file, first.sheet) == (current.file, current.sheet):
        return dict(code="ledger.where.row", row=first.row)
    if first.sheet:
        return dict(code="ledger.where.sheet", file=first.file, sheet=first.sheet, row=first.row)
    return dict(code="ledger.where.file", file=first.file, row=first.row)


def build_plan(parsed: ParsedFiles, snapshot: Snapshot) -> Plan:
    """Every problem in all files at once (LedgerError), or the plan of what changes."""
    checker = _Checker(parsed, snapshot)
    checker.check_units()
    checker.check_ledger()
    if checker.problems:
        order = {name: index for index, name in enumerate(parsed.files)}
        problems = sorted(checker.problems, key=lambda p: (order.get(p.file, 0), p.sheet or "", p.row or 0))
        raise LedgerError(problems)
    return checker.plan
