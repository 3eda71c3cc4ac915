"""Web accounts: API tokens (stored hashed) and login attempts (for throttling)."""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime, timedelta

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import func, update
from sqlmodel import Field, Session, SQLModel, col, select

from models.db import UTCDateTime
from models.errors import InvalidInput, NotFound
from models.tables import Person, Role

TOKEN_PREFIX = "dbn_"
MIN_PASSWORD_LENGTH = 8
_hasher = PasswordHash((Argon2Hasher(),))


@functools.cache
def _dummy_hash() -> str:
    """Verified when the account does not exist, so a wrong email costs as long as a wrong password.

    Made on first use: hashing at import cost every CLI command half a second or more.
    """
    return _hasher.hash("not a password")


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    # sha256 of the token: tokens are 256 random bits, so a fast hash is enough and a leaked
    # table does not leak usable tokens.
    token_hash: str = Field(unique=True, max_length=64)
    hint: str = Field(max_length=16)  # the first characters, so a person can tell tokens apart
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class LoginAttempt(SQLModel, table=True):
    __tablename__ = "login_attempt"
    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=320, index=True)
    address: str = Field(max_length=64, index=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    succeeded: bool = False


def hash_password(password: str) -> str:
    """argon2id, with pwdlib's recommended parameters."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD_LENGTH} characters",
                           code="password.too_short", params={"min": MIN_PASSWORD_LENGTH})
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _hasher.verify(password, _dummy_hash())
        return False
    return _hasher.verify(password, password_hash)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, person: Person, now: datetime) -> str:
    """A new API token for `person`; the caller shows it once and commits. Only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(
        person_id=person.id, token_hash=hash_token(token),  # type: ignore[arg-type]
        hint=token[:10], created_at=now,
    ))
    return token


def tokens_of(session: Session, person: Person) -> list[ApiToken]:
    """A person's tokens, newest first, revoked ones included (they show when they were revoked)."""
    return list(session.exec(
        select(ApiToken).where(ApiToken.person_id == person.id).order_by(col(ApiToken.id).desc())
    ).all())


def find_token(session: Session, token_id: int, by: Person | None = None, *, own_only: bool = False) -> ApiToken:
    """The token with this id, if `by` may manage it (admins any, others their own; None: the CLI).

    With `own_only`, only `by`'s own, admin or not (the account page manages one's own tokens).
    Someone else's token is refused exactly like a missing one, so ids reveal nothing.
    """
    token = session.get(ApiToken, token_id)
    if token is None or (by is not None and token.person_id != by.id and (own_only or by.role != Role.ADMIN)):
        raise NotFound(f"no API token with id {token_id}", code="token.not_found", params={"id": token_id})
    return token


def revoke_token(session: Session, token: ApiToken, now: datetime) -> bool:
    """Refuse the token from `now` on; False when it was revoked already. The caller commits."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = now
    session.add(token)
    return True


TOKEN_USE_RESOLUTION = timedelta(minutes=5)  # last_used_at is written at most this often per token


def person_for_token(session: Session, token: str, now: datetime | None = None) -> Person | None:
    """Whose active token this is (None for unknown, revoked or a deactivated person's).

    With `now`, records the use in `last_used_at` (and commits that alone) when the last recorded
    use is older than TOKEN_USE_RESOLUTION: readers of the API do not turn every GET into a write.
    """
    row = session.exec(
        select(ApiToken, Person).join(Person, col(Person.id) == ApiToken.person_id)
        .where(ApiToken.token_hash == hash_token(token), col(ApiToken.revoked_at).is_(None))
    ).first()
    if row is None or not row[1].active:
        return None
    found, person = row
    if now is not None and (found.last_used_at is None or now - found.last_used_at >= TOKEN_USE_RESOLUTION):
        session.execute(update(ApiToken).where(col(ApiToken.id) == found.id).values(last_used_at=now))
        session.commit()
    return person


def recent_failures(session: Session, *, account: str | None = None, address: str | None = None,
                    since: datetime) -> int:
    query = select(func.count()).select_from(LoginAttempt).where(
        col(LoginAttempt.at) >= since, LoginAttempt.succeeded == False  # noqa: E712
    )
    if account is not None:
        query = query.where(LoginAttempt.account == account)
    if address is not None:
        query = query.where(LoginAttempt.address == address)
    return int(session.exec(query).one())


def record_attempt(session: Session, account: str, address: str, now: datetime, succeeded: bool) -> None:
    session.add(LoginAttempt(account=account, address=address, at=now, succeeded=succeeded))
