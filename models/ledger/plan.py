"""What an import will do, and what the database holds before it: plain data, no database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from models.errors import InvalidInput
from models.ledger.problems import Problem
from models.tables import Role, Status


@dataclass(frozen=True)
class UnitRecord:
    id: int
    name: str
    code: str | None
    parent_id: int | None
    emails: tuple[str, ...]
    leaders: tuple[str, ...]


@dataclass(frozen=True)
class ItemRecord:
    id: int
    document_id: int
    number: str
    title: str
    category: str
    notes: str
    lead_unit_id: int
    supervisor_id: int | None
    deadline: date
    status: str
    frequency: str | None = None


@dataclass
class Snapshot:
    """The rows an import compares against, loaded once (no per-row queries)."""

    units: dict[int, UnitRecord] = field(default_factory=dict)
    people: dict[str, tuple[int, Role, int | None]] = field(default_factory=dict)  # email -> id, role, unit
    documents: dict[str, int] = field(default_factory=dict)
    items: dict[tuple[int, str], ItemRecord] = field(default_factory=dict)
    co_units: dict[int, frozenset[int]] = field(default_factory=dict)
    # The deadline the ledger last gave an item, where it differs from the current one
    # (an approved extension): a re-import of the same ledger must not undo the extension.
    imported_deadlines: dict[int, date] = field(default_factory=dict)


@dataclass
class UnitPlan:
    name: str
    code: str | None
    parent: str | None
    emails: list[str]
    leaders: list[str]
    existing_id: int | None = None
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PersonPlan:
    email: str
    name: str
    role: Role
    unit: str | None
    file: str = ""  # the file that first names them (the people page's log says the import added them)


@dataclass
class ItemPlan:
    document: str
    number: str
    title: str
    category: str
    lead_unit: str
    co_units: list[str]
    supervisor: str | None
    deadline: date
    status: Status
    notes: str
    file: str
    sheet: str | None
    row: int
    frequency: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.document}/{self.number}"

    @property
    def actor_label(self) -> str:
        return f"import:{self.file}"


@dataclass
class ItemUpdate:
    item_id: int
    plan: ItemPlan
    changes: dict[str, tuple[Any, Any]]  # field -> (old, new)


@dataclass
class Plan:
    new_units: list[UnitPlan] = field(default_factory=list)
    changed_units: list[UnitPlan] = field(default_factory=list)
    new_people: list[PersonPlan] = field(default_factory=list)
    new_documents: list[str] = field(default_factory=list)
    new_items: list[ItemPlan] = field(default_factory=list)
    changed_items: list[ItemUpdate] = field(default_factory=list)
    unchanged: int = 0
    missing: list[str] = field(default_factory=list)


@dataclass
class ImportSummary:
    files: list[str]
    dry_run: bool
    documents_created: int
    units_created: int
    units_updated: int
    people_created: int
    items_created: int
    items_updated: int
    items_unchanged: int
    missing: list[str]
    notifications_queued: int = 0
    changes: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, plan: Plan, files: list[str], dry_run: bool) -> ImportSummary:
        return cls(
            files=files, dry_run=dry_run, documents_created=len(plan.new_documents),
            units_created=len(plan.new_units), units_updated=len(plan.changed_units),
            people_created=len(plan.new_people), items_created=len(plan.new_items),
            items_updated=len(plan.changed_items), items_unchanged=plan.unchanged, missing=plan.missing,
            changes=[{"item": u.plan.ref, **{k: [_shown(o), _shown(n)] for k, (o, n) in u.changes.items()}}
                     for u in plan.changed_items],
        )

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def _shown(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "、".join(map(str, value)) or "-"
    return "-" if value in (None, "") else str(value)


class LedgerError(InvalidInput):
    """The files cannot be imported; `problems` lists every one (file, sheet, row, column, reason)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        text = problems_text(problems)
        super().__init__(f"the import was refused ({count}); nothing was written:\n{text}",
                         code="ledger.refused", params={"count": len(problems), "problems": text})


def problems_text(problems: list[Problem]) -> str:
    lines = []
    for p in problems:
        where = [p.file] + ([f"sheet {p.sheet}"] if p.sheet else []) + ([f"row {p.row}"] if p.row else [])
        where += [f"column {p.column}"] if p.column else []
        lines.append(f"  {', '.join(where)}: {p.reason}")
    return "\n".join(lines)
