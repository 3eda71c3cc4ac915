"""Login throttling: failures counted per account-and-address, per account and per address, in the database.

A password is checked only after a failure has been counted for it, atomically (compare-and-set
on the counter row), so parallel guesses cannot all pass the check before any is recorded; a
correct password then takes its count back. The state lives in the database, so it holds across
worker processes and on PostgreSQL.

The counters are meant to slow a guesser without letting a stranger lock out a real person:
- each account-and-address pair has a few free failures, then a delay that doubles with each
  further failure (up to an hour); a correct password resets the pair;
- the account as a whole and the address as a whole have larger budgets, for guessers that
  spread over many addresses or many accounts, but a pair that has logged in successfully
  before (a known address) is not held back by them: someone else guessing at your account
  from elsewhere does not keep you out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel, col

from models.db import UTCDateTime, is_postgres


class LoginThrottle(SQLModel, table=True):
    """One counter (`pair:`, `account:`, `address:`) or one known pair (`known:`) per key."""

    __tablename__ = "login_throttle"
    key: str = Field(primary_key=True, max_length=400)
    failures: int = 0  # consecutive, since the last success (pairs) or the last quiet day
    last_at: datetime = Field(sa_type=UTCDateTime, index=True)  # last failure; for `known:`, last success


@dataclass(frozen=True)
class Budget:
    free: int  # failures allowed without waiting
    first_delay: timedelta = timedelta(minutes=1)  # after them; doubled with each further failure
    max_delay: timedelta = timedelta(hours=1)

    def wait(self, failures: int, last_at: datetime, now: datetime) -> timedelta:
        """How long until the next attempt may be checked (zero: now)."""
        if failures < self.free:
            return timedelta(0)
        delay = min(self.first_delay * 2 ** min(failures - self.free, 16), self.max_delay)
        return max(last_at + delay - now, timedelta(0))


PAIR = Budget(free=5)
ACCOUNT = Budget(free=20)
ADDRESS = Budget(free=50)
FORGET_AFTER = timedelta(days=1)  # a counter quiet this long starts again from zero
KNOWN_FOR = timedelta(days=90)  # a pair that logged in within this time is a known address
_CLAIM_TRIES = 200  # compare-and-set rounds lost to parallel attempts before giving up


class Throttled(Exception):
    """No attempt may be checked yet; `wait` says for how long."""

    def __init__(self, wait: timedelta) -> None:
        super().__init__(f"wait {wait}")
        self.wait = wait

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.wait.total_seconds() / 60))


@dataclass(frozen=True)
class Claim:
    """The counters one attempt counted a failure against, and its known-address key."""

    counted: tuple[str, ...]
    known: str


def claim_attempt(session: Session, account: str, address: str, now: datetime) -> Claim:
    """Count a failure for this attempt up front and commit it, or raise Throttled (nothing counted).

    Call before checking the password; when it is right, call `attempt_succeeded` with the claim.
    """
    pair, known = f"pair:{account} {address}", f"known:{account} {address}"
    budgets = [(pair, PAIR)]
    known_row = session.get(LoginThrottle, known)
    if known_row is None or now - known_row.last_at > KNOWN_FOR:
        budgets += [(f"account:{account}", ACCOUNT), (f"address:{address}", ADDRESS)]
    session.rollback()  # the reads below must see what other attempts committed
    for _ in range(_CLAIM_TRIES):
        if _claim_all(session, budgets, now):
            session.commit()
            return Claim(tuple(key for key, _budget in budgets), known)
        session.rollback()
    raise Throttled(PAIR.first_delay)  # only under a flood of parallel attempts


def _claim_all(session: Session, budgets: list[tuple[str, Budget]], now: datetime) -> bool:
    """False when another attempt changed a counter first (try again); raises Throttled when one is spent.

    Keys are always taken in the same order (pair, account, address), so two attempts never wait
    on each other's rows in a cycle.
    """
    for key, budget in budgets:
        row = session.get(LoginThrottle, key, populate_existing=True)
        if row is None:
            if not _insert(session, key, 1, now, replace=False):
                return False
            continue
        failures = 0 if now - row.last_at > FORGET_AFTER else row.failures
        wait = budget.wait(failures, row.last_at, now)
        if wait > timedelta(0):
            session.rollback()
            raise Throttled(wait)
        changed = session.execute(
            update(LoginThrottle)
            .where(col(LoginThrottle.key) == key, col(LoginThrottle.failures) == row.failures,
                   col(LoginThrottle.last_at) == row.last_at)
            .values(failures=failures + 1, last_at=now)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            return False
    return True


def _insert(session: Session, key: str, failures: int, now: datetime, *, replace: bool) -> bool:
    """INSERT, doing nothing (False) or replacing the row when the key is there already."""
    dialect = postgresql if is_postgres(session) else sqlite
    statement = dialect.insert(LoginThrottle).values(key=key, failures=failures, last_at=now)
    if replace:
        statement = statement.on_conflict_do_update(index_elements=["key"],
                                                    set_={"failures": failures, "last_at": now})
    else:
        statement = statement.on_conflict_do_nothing()
    # RETURNING, not the row count: PostgreSQL's driver reports none for this statement.
    return session.execute(statement.returning(col(LoginThrottle.key))).first() is not None


def attempt_succeeded(session: Session, claim: Claim, now: datetime) -> None:
    """The password was right: reset the pair, give back the failure counted for the whole account and
    address, remember the pair as a known address, and forget long-quiet rows. The caller commits."""
    pair, *wholes = claim.counted
    session.execute(delete(LoginThrottle).where(col(LoginThrottle.key) == pair))
    if wholes:
        session.execute(
            update(LoginThrottle)
            .where(col(LoginThrottle.key).in_(wholes), col(LoginThrottle.failures) > 0)
            .values(failures=col(LoginThrottle.failures) - 1)
        )
    _insert(session, claim.known, 0, now, replace=True)
    session.execute(delete(LoginThrottle).where(col(LoginThrottle.last_at) < now - KNOWN_FOR))
