"""The tables: units, people, documents, items and their append-only history."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.db import UTCDateTime
from models.states import SWEEP_ACTOR as SWEEP_ACTOR
from models.states import Role as Role
from models.states import Status as Status
from models.states import shown_name as shown_name

OPEN_STATUSES = frozenset({Status.ASSIGNED, Status.IN_PROGRESS, Status.SUBMITTED})
FINAL_STATUSES = frozenset({Status.SIGNED_OFF, Status.CANCELLED})


def _utc(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


class UnitBase(SQLModel):
    code: str | None = Field(default=None, unique=True, max_length=64)
    name: str = Field(unique=True, max_length=200)
    parent_id: int | None = Field(default=None, foreign_key="unit.id")
    contact_emails: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    leader_emails: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Unit(UnitBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class PersonBase(SQLModel):
    name: str = Field(max_length=200)
    email: str = Field(unique=True, max_length=320)
    role: Role = Field(sa_type=String(16))
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    locale: str | None = Field(default=None, max_length=8)
    active: bool = True


class Person(PersonBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    password_hash: str | None = Field(default=None, max_length=512)

    def label(self) -> str:
        return f"{self.name} <{self.email}> ({self.role})"

    def shown_name(self) -> str:
        return shown_name(self.name, self.email)


class DocumentBase(SQLModel):
    short_name: str = Field(unique=True, max_length=200)
    title: str = Field(default="", max_length=500)
    issuer: str = Field(default="", max_length=200)
    issue_date: date | None = None


class Document(DocumentBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # Told when an item of this document has no supervisor of its own (models/notices.py).
    default_supervisor_id: int | None = Field(default=None, foreign_key="person.id")
    category: str = Field(default="", max_length=200)  # 类别, set by admins (models/admin.py)
    # 归档: set when an admin archives it; its items drop out of lists, figures and digests
    # (models/read/filters.py, `current_documents`) but stay readable.
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ItemCoUnit(SQLModel, table=True):
    __tablename__ = "item_co_unit"
    item_id: int = Field(sa_column=Column(Integer, ForeignKey("item.id", ondelete="CASCADE"), primary_key=True))
    unit_id: int = Field(sa_column=Column(Integer, ForeignKey("unit.id"), primary_key=True, index=True))


class ItemAcknowledgement(SQLModel, table=True):
    """签收: a unit (the lead unit or a co-unit) has acknowledged the item, by whom and when.

    No person: the ledger import recorded it, the item being imported as under way (办理中): its lead
    unit is working on it already and is neither reminded nor counted as 未签收."""

    __tablename__ = "item_acknowledgement"
    item_id: int = Field(sa_column=Column(Integer, ForeignKey("item.id", ondelete="CASCADE"), primary_key=True))
    unit_id: int = Field(sa_column=Column(Integer, ForeignKey("unit.id"), primary_key=True))
    person_id: int | None = Field(default=None, foreign_key="person.id", nullable=True)
    at: datetime = _utc()


# Declared outside the class so the mapper can be told to use it as its version counter.
_item_version = Column("version", Integer, nullable=False)


class ItemBase(SQLModel):
    document_id: int = Field(foreign_key="document.id")
    number: str = Field(max_length=32)
    title: str = Field(max_length=2000)
    category: str = Field(default="", max_length=200)
    lead_unit_id: int = Field(foreign_key="unit.id", index=True)
    supervisor_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    original_deadline: date
    deadline: date
    notes: str = Field(default="", max_length=4000)


class Item(ItemBase, table=True):
    __table_args__ = (
        UniqueConstraint("document_id", "number", name="uq_item_document_number"),
        Index("ix_item_status_deadline", "status", "deadline"),
        Index("ix_item_deadline_id", "deadline", "id"),  # created by migration 0004 (web lists)
    )
    # The ORM checks `version` in every UPDATE's WHERE clause: a lost race raises StaleDataError.
    __mapper_args__ = {"version_id_col": _item_version}  # noqa: RUF012

    id: int | None = Field(default=None, primary_key=True)
    status: Status = Field(default=Status.ASSIGNED, sa_type=String(16))
    # Bumped whenever the deadline changes; reminders are keyed by it.
    deadline_version: int = 1
    escalation_level: int = 0
    next_action_at: datetime | None = _utc(default=None, nullable=True, index=True)
    # 签收: when the lead unit, not having acknowledged the item, is reminded (None: acknowledged,
    # reminded already, or no reminder); indexed so the sweep finds the due ones without a scan.
    acknowledge_due_at: datetime | None = _utc(default=None, nullable=True, index=True)
    # 频次: how often the item recurs (models.frequency's canonical text), None when it does not.
    frequency: str | None = Field(default=None, max_length=64)
    version: int = Field(default=1, sa_column=_item_version)
    created_at: datetime = _utc()
    updated_at: datetime = _utc()


class ItemEvent(SQLModel, table=True):
    """Append-only: database triggers refuse UPDATE and DELETE (see the first migration)."""

    __tablename__ = "item_event"
    __table_args__ = (
        Index("ix_item_event_kind_at", "kind", "at"),  # migration 0004 (trend)
        Index("ix_item_event_item_at", "item_id", "at", "id"),  # migration 0016 (scoring's read in order)
    )
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id")  # looked up by ix_item_event_item_at (migration 0018)
    kind: str = Field(max_length=40)
    at: datetime = _utc()
    actor_id: int | None = Field(default=None, foreign_key="person.id")
    actor_label: str = Field(max_length=400)
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str | None = Field(default=None, max_length=16)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))




class ItemPeriod(SQLModel, table=True):
    """One period of a recurring item (频次): an obligation with its own deadline (models.periods).

    `fulfilled_event_id` is the lead unit's report or submission that fulfilled it; `level` the
    escalation level the sweep has reached and `next_action_at` the instant from which its
    thresholds are not handled yet (models/period_sweep.py), so nothing repeats.
    """

    __tablename__ = "item_period"
    item_id: int = Field(sa_column=Column(Integer, ForeignKey("item.id", ondelete="CASCADE"), primary_key=True))
    starts: date = Field(primary_key=True)
    ends: date
    due: date
    fulfilled_at: datetime | None = _utc(default=None, nullable=True)
    fulfilled_event_id: int | None = Field(default=None, foreign_key="item_event.id")
    level: int = 0
    next_action_at: datetime | None = _utc(default=None, nullable=True, index=True)


class ProgressReport(SQLModel, table=True):
    __tablename__ = "progress_report"
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    person_id: int = Field(foreign_key="person.id")
    text: str = Field(max_length=8000)
    percent: int | None = Field(default=None, ge=0, le=100)
    at: datetime = _utc()


class ExtensionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ExtensionRequest(SQLModel, table=True):
    __tablename__ = "extension_request"
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    requested_deadline: date
    reason: str = Field(max_length=4000)
    requester_id: int = Field(foreign_key="person.id")
    requested_at: datetime = _utc()
    status: ExtensionStatus = Field(default=ExtensionStatus.PENDING, sa_type=String(16))
    decider_id: int | None = Field(default=None, foreign_key="person.id")
    decided_at: datetime | None = _utc(default=None, nullable=True)
    decision_reason: str = Field(default="", max_length=4000)


class Notification(SQLModel, table=True):
    """One thing someone must be told about one item, queued in the transaction that caused it.

    `key` is unique (e.g. `reminder:42:v1:before-7`), so a retried or parallel sweep cannot
    queue the same notification twice. The mail layer groups pending notifications (those
    with no `outbox_id`) into one message per recipient.
    """

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=200)
    item_id: int = Field(foreign_key="item.id", index=True)
    kind: str = Field(max_length=40)
    deadline_version: int = 1
    to_addrs: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    cc_addrs: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _utc()
    outbox_id: int | None = Field(default=None, index=True)
    # Nobody could be told, not even through the fallback: the admins' digest lists these.
    unreached: bool = Field(default=False, index=True)
