"""Web accounts: API tokens (stored hashed) and login attempts (for throttling)."""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime, timedelta

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import bindparam, delete, update
from sqlmodel import Field, Session, SQLModel, col, select
from sqlmodel.sql.expression import SelectOfScalar

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


class WebSession(SQLModel, table=True):
    """A logged-in browser. Its cookie holds a random id; this row, found by that id's hash, is what
    makes the cookie valid, so logging out or changing the password ends it at once."""

    __tablename__ = "web_session"
    id_hash: str = Field(primary_key=True, max_length=64)  # sha256 of the id: a leaked table logs no one in
    person_id: int = Field(foreign_key="person.id", index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


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


def record_attempt(session: Session, account: str, address: str, now: datetime, succeeded: bool) -> None:
    session.add(LoginAttempt(account=account, address=address, at=now, succeeded=succeeded))


SESSION_LIFETIME = timedelta(hours=12)


def start_web_session(session: Session, person: Person, now: datetime) -> str:
    """A new session for `person`: the id for the cookie (only its hash is stored). The caller commits.

    Sessions that have expired, anyone's, are removed on the way: logins are rare enough.
    """
    session.execute(delete(WebSession).where(col(WebSession.expires_at) <= now))
    session_id = secrets.token_urlsafe(32)
    session.add(WebSession(id_hash=hash_token(session_id), person_id=person.id,  # type: ignore[arg-type]
                           created_at=now, expires_at=now + SESSION_LIFETIME))
    return session_id


@functools.cache
def _person_for_web_session_query() -> SelectOfScalar[Person]:
    """Built once: every page checks the login, and building the joined ORM statement cost more
    than running it. The session's hash and the time are bound per call."""
    return (
        select(Person).join(WebSession, col(WebSession.person_id) == Person.id)
        .where(col(WebSession.id_hash) == bindparam("id_hash"), col(WebSession.expires_at) > bindparam("now"),
               col(Person.active).is_(True))
    )


def person_for_web_session(session: Session, session_id: str, now: datetime) -> Person | None:
    """Whose live session this is (None: unknown, ended, expired, or the person deactivated); one lookup."""
    return session.exec(
        _person_for_web_session_query(), params={"id_hash": hash_token(session_id), "now": now}
    ).first()


def end_web_sessions(session: Session, person: Person, *, keep: str | None = None) -> None:
    """End `person`'s sessions, all but `keep` (an id) if given. The caller commits."""
    query = delete(WebSession).where(col(WebSession.person_id) == person.id)
    if keep is not None:
        query = query.where(col(WebSession.id_hash) != hash_token(keep))
    session.execute(query)


def end_web_session(session: Session, session_id: str) -> None:
    session.execute(delete(WebSession).where(col(WebSession.id_hash) == hash_token(session_id)))


def set_password(session: Session, person: Person, password: str, *, keep_session: str | None = None) -> None:
    """A new password; every session of the person ends but `keep_session` (the one that changed it)."""
    person.password_hash = hash_password(password)
    session.add(person)
    end_web_sessions(session, person, keep=keep_session)
