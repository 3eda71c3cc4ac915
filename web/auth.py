"""Who is asking: passwords (argon2id), login throttling, the cookie secret, CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from config.settings import Settings
from models.accounts import hash_password, recent_failures, record_attempt, verify_password
from models.errors import DubanError, Forbidden, InvalidInput
from models.tables import Person

THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20


class TooManyAttempts(DubanError):
    """Too many failed logins for an account or from an address; shown as 429."""


class BadCredentials(Forbidden):
    pass


def authenticate(session: Session, email: str, password: str, address: str, now: datetime) -> Person:
    """The person with these credentials; records the attempt (the caller commits).

    Refuses without checking the password once an account or an address has had too many
    failures within the window, so guessing stays slow even with many addresses or accounts.
    """
    account = email.strip().lower()
    since = now - THROTTLE_WINDOW
    if (recent_failures(session, account=account, since=since) >= MAX_FAILURES_PER_ACCOUNT
            or recent_failures(session, address=address, since=since) >= MAX_FAILURES_PER_ADDRESS):
        raise TooManyAttempts("too many failed logins; wait 15 minutes and try again",
                              code="login.too_many_attempts", params={"minutes": 15})
    person = session.exec(select(Person).where(Person.email == account)).first()
    ok = verify_password(password, person.password_hash if person else None)
    ok = ok and person is not None and person.active
    record_attempt(session, account, address, now, succeeded=ok)
    if not ok or person is None:
        raise BadCredentials("wrong email or password", code="login.bad_credentials")
    return person


def change_password(person: Person, current: str, new: str, repeated: str) -> None:
    if not verify_password(current, person.password_hash):
        raise BadCredentials("the current password is wrong", code="password.current_wrong")
    if new != repeated:
        raise InvalidInput("the two new passwords differ", code="password.mismatch")
    person.password_hash = hash_password(new)


def session_stamp(person: Person) -> str:
    """Changes whenever the password does, so a password change ends every other session."""
    return hashlib.sha256((person.password_hash or "").encode()).hexdigest()[:16]


def secret_key(settings: Settings) -> str:
    """DUBAN_SECRET_KEY, else DUBAN_SECRET_KEY_FILE, else a key generated once into data_dir."""
    if settings.secret_key is not None:
        key = settings.secret_key.get_secret_value().strip()
        if len(key) < 16:
            raise InvalidInput("DUBAN_SECRET_KEY is too short (at least 16 characters)", code="secret_key.too_short")
        return key
    path = settings.secret_key_file or Path(settings.data_dir) / "secret_key"
    if not path.exists() and settings.secret_key_file is None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the data directory: private (duban doctor)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(48))
    try:
        key = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise InvalidInput(f"DUBAN_SECRET_KEY_FILE: cannot read {path}: {exc.strerror}", code="secret_key.unreadable",
                           params={"path": str(path), "problem": exc.strerror}) from None
    if len(key) < 16:
        raise InvalidInput(f"the secret key in {path} is too short (at least 16 characters)",
                           code="secret_key.file_too_short", params={"path": str(path)})
    return key


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str | None, submitted: str | None) -> bool:
    return bool(expected and submitted) and hmac.compare_digest(str(expected), str(submitted))
