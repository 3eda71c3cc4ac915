"""The outbox: mail messages waiting to go out, and the weekly digests already queued."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    insert,
    select,
)
from sqlmodel import Field, Session, SQLModel

from models.db import UTCDateTime


class OutboxStatus(StrEnum):
    PENDING = "pending"  # never tried
    FAILED = "failed"  # a temporary failure; tried again at next_attempt_at
    SENT = "sent"
    DEAD = "dead"  # a permanent failure, or temporary ones for longer than the retry age


DUE_STATUSES = (OutboxStatus.PENDING, OutboxStatus.FAILED)


class OutboxMessage(SQLModel, table=True):
    """One rendered email to one or more addresses, sent at least once and (nearly) at most once.

    The message is rendered when it is queued (its `OutboxBody`), so every attempt sends the same
    bytes with the same Message-ID. A claim sets `claim` and pushes `next_attempt_at` out by a
    lease: a delivery process killed mid-send leaves the row to be claimed again once the lease
    expires.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_status_next", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=200)
    kind: str = Field(max_length=40)
    locale: str = Field(default="zh-CN", max_length=8)
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    refused_recipients: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    item_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    notification_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    subject: str = Field(default="", max_length=500)
    message_id: str = Field(max_length=250)
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, sa_type=String(16))
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    claim: str | None = Field(default=None, max_length=40)
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)

    def __init__(self, **data: Any) -> None:
        # SQLModel's tables take unknown keywords without a word: a body given here would be lost.
        if "raw" in data:
            raise TypeError("OutboxMessage has no raw: queue its body with models.outbox.queue(session, "
                            "[(message, raw)])")
        super().__init__(**data)


class OutboxBody(SQLModel, table=True):
    """A queued message's bytes, apart from its row: claiming it and recording what happened
    change a few small columns, and a row holding the 7-10 KB body next to them would be written
    out whole each time (SQLite rewrites the record and its overflow pages)."""

    __tablename__ = "outbox_body"

    outbox_id: int = Field(sa_column=Column(Integer, ForeignKey("outbox_message.id", ondelete="CASCADE"),
                                            primary_key=True, autoincrement=False))
    raw: str = Field(sa_column=Column(Text, nullable=False))


def queue(session: Session, messages: Sequence[tuple[OutboxMessage, str]]) -> None:
    """Add outbox messages with their bodies (rendered mail, `raw`), each message given its id; the
    caller commits. The rows are written as `queue_columns` writes them: one way in for every message."""
    ids = queue_columns(session, [(message.model_dump(exclude={"id"}), raw) for message, raw in messages])
    for (message, _), outbox_id in zip(messages, ids, strict=True):
        message.id = outbox_id


def queue_columns(session: Session, messages: Sequence[tuple[dict[str, Any], str]]) -> list[int]:
    """Add outbox messages given as their columns with their bodies (rendered mail); the caller commits.
    Columns, not OutboxMessage objects (building hundreds of those and flushing them through the ORM
    was a tenth of grouping): OutboxMessage's defaults for the columns not given, as its constructor
    fills them in. Returns their ids, in order."""
    if not messages:
        return []
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    defaults = _message_defaults()
    ids = list(session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                               [{**defaults, **columns} for columns, _ in messages]).scalars())
    session.execute(insert(OutboxBody.__table__),  # type: ignore[attr-defined]
                    [{"outbox_id": outbox_id, "raw": raw} for outbox_id, (_, raw) in zip(ids, messages, strict=True)])
    return ids


def _message_defaults() -> dict[str, Any]:
    """Each column with a default as OutboxMessage(...) fills it in (its default factories called)."""
    fields = OutboxMessage.model_fields
    return {name: field.get_default(call_default_factory=True) for name, field in fields.items()
            if name != "id" and not field.is_required()}


def bodies(session: Session, outbox_ids: Iterable[int]) -> dict[int, str]:
    """The rendered mail of each of these outbox messages, by id."""
    ids = list(outbox_ids)
    table = OutboxBody.__table__  # type: ignore[attr-defined]
    found: dict[int, str] = {}
    for start in range(0, len(ids), 5000):
        found.update(session.execute(  # type: ignore[arg-type]
            select(table.c.outbox_id, table.c.raw).where(table.c.outbox_id.in_(ids[start:start + 5000]))).all())
    return found


def body(session: Session, outbox_id: int) -> str:
    """One outbox message's rendered mail."""
    return bodies(session, [outbox_id])[outbox_id]


class DigestSent(SQLModel, table=True):
    """A weekly digest queued for one address: at most one per (audience, address, ISO week)."""

    __tablename__ = "digest_sent"
    __table_args__ = (UniqueConstraint("audience", "recipient", "week", name="uq_digest_sent_week"),)

    id: int | None = Field(default=None, primary_key=True)
    audience: str = Field(max_length=16)  # supervisor, leadership, unit
    recipient: str = Field(max_length=320)
    week: str = Field(max_length=8)  # ISO week, e.g. 2024-W23
    outbox_id: int | None = Field(default=None)
    created_at: datetime = Field(sa_type=UTCDateTime)
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
