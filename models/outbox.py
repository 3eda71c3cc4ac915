"""The outbox: mail messages waiting to go out, and the weekly digests already queued."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.db import UTCDateTime


class OutboxStatus(StrEnum):
    PENDING = "pending"  # never tried
    FAILED = "failed"  # a temporary failure; tried again at next_attempt_at
    SENT = "sent"
    DEAD = "dead"  # a permanent failure, or temporary ones for longer than the retry age


DUE_STATUSES = (OutboxStatus.PENDING, OutboxStatus.FAILED)


class OutboxMessage(SQLModel, table=True):
    """One rendered email to one or more addresses, sent at least once and (nearly) at most once.

    The message is rendered when it is queued (`raw`), so every attempt sends the same bytes with
    the same Message-ID. A claim sets `claim` and pushes `next_attempt_at` out by a lease: a
    delivery process killed mid-send leaves the row to be claimed again once the lease expires.
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
    raw: str = Field(sa_column=Column(Text, nullable=False))
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, sa_type=String(16))
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    claim: str | None = Field(default=None, max_length=40)
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


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
