"""Deadline calendar feeds: secret per-person feed tokens (stored hashed), and whose open items a feed shows."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import date, datetime

from sqlmodel import Field, Session, SQLModel, col, select

from models.accounts import hash_token
from models.db import UTCDateTime
from models.errors import NotFound
from models.read.filters import ItemFilter, conditions, sees_everything
from models.tables import Document, Item, ItemPeriod, Person, Role, Unit

FEED_PREFIX = "cal_"


class CalendarFeed(SQLModel, table=True):
    """A secret feed URL (/ical/{token}.ics) of one person's open items; revoking ends it for good."""

    __tablename__ = "calendar_feed"
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    # sha256 of the token, as for API tokens: a leaked table does not leak usable feed URLs.
    token_hash: str = Field(unique=True, max_length=64)
    hint: str = Field(max_length=16)  # the first characters, so a person can tell feeds apart
    created_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


def create_feed(session: Session, person: Person, now: datetime) -> str:
    """A new feed token for `person`; the caller shows its URL once and commits. Only its hash is kept."""
    token = FEED_PREFIX + secrets.token_urlsafe(32)
    session.add(CalendarFeed(person_id=person.id, token_hash=hash_token(token), hint=token[:10],  # type: ignore[arg-type]
                             created_at=now))
    return token


def person_for_feed(session: Session, token: str) -> Person | None:
    """The active person whose live feed `token` is; None for anything else (unknown, revoked, inactive)."""
    if not token.startswith(FEED_PREFIX):
        return None
    feed = session.exec(select(CalendarFeed).where(CalendarFeed.token_hash == hash_token(token))).first()
    if feed is None or feed.revoked_at is not None:
        return None
    person = session.get(Person, feed.person_id)
    return person if person is not None and person.active else None


def feeds_of(session: Session, person: Person) -> Sequence[CalendarFeed]:
    return session.exec(select(CalendarFeed).where(CalendarFeed.person_id == person.id)
                        .order_by(col(CalendarFeed.id).desc())).all()


def revoke_feed(session: Session, person: Person, feed_id: int, now: datetime) -> CalendarFeed:
    """Revoke one of `person`'s feeds (a second revoke keeps the first time). The caller commits."""
    feed = session.get(CalendarFeed, feed_id)
    if feed is None or feed.person_id != person.id:
        raise NotFound(f"{person.email} has no calendar feed {feed_id}", code="feed.not_found", params={"id": feed_id})
    if feed.revoked_at is None:
        feed.revoked_at = now
        session.add(feed)
    return feed


def open_items(session: Session, *, unit: Unit | None = None, person: Person | None = None,
               ) -> Sequence[tuple[Item, Document, Unit]]:
    """Open items of a unit (lead or co-unit), or of a person, as the item list gives them
    (models.read.filters): a supervisor's or admin's supervised items; an officer's and a unit
    leader's, the items they may see. The office leadership sees every item, which is no calendar:
    theirs lists none."""
    if unit is not None:
        who, wanted = None, ItemFilter(unit=unit.name, open=True)
    elif person is not None and person.role in (Role.SUPERVISOR, Role.ADMIN):
        who, wanted = None, ItemFilter(supervisor=person.email, open=True)
    elif person is not None and person.role in (Role.OFFICER, Role.LEADER) and not sees_everything(person):
        who, wanted = person, ItemFilter(open=True)
    else:
        return []
    where = conditions(session, who, wanted, date.min, date.min)  # no due-date filter: the days are not used
    query = (select(Item, Document, Unit).join(Document, col(Document.id) == Item.document_id)
             .join(Unit, col(Unit.id) == Item.lead_unit_id).where(*where))
    return session.exec(query.order_by(col(Item.deadline), col(Item.id))).all()


def unreported_periods(session: Session, rows: Sequence[tuple[Item, Document, Unit]]) -> dict[int, list[ItemPeriod]]:
    """The periods (报送周期) of `rows`' recurring items not yet reported, by item id, in order."""
    ids = [item.id for item, _, _ in rows if item.frequency]
    found: dict[int, list[ItemPeriod]] = {}
    if ids:
        for period in session.exec(select(ItemPeriod).where(col(ItemPeriod.item_id).in_(ids),
                                                             col(ItemPeriod.fulfilled_at).is_(None))
                                   .order_by(col(ItemPeriod.item_id), col(ItemPeriod.starts))).all():
            found.setdefault(period.item_id, []).append(period)
    return found
