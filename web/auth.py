"""Who is asking: passwords (argon2id), login throttling, the cookie secret, CSRF tokens."""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Sequence
from datetime import datetime
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from pathlib import Path

from sqlmodel import Session, select

from config.datadir import make_private
from config.settings import Settings
from models.accounts import record_attempt, set_password, verify_password
from models.errors import DubanError, Forbidden, InvalidInput
from models.tables import Person
from models.throttle import Throttled, attempt_succeeded, claim_attempt


class TooManyAttempts(DubanError):
    """Too many failed logins for an account or from an address; shown as 429."""


class BadCredentials(Forbidden):
    pass


def authenticate(session: Session, email: str, password: str, address: str, now: datetime) -> Person:
    """The person with these credentials; records the attempt (the caller commits).

    The attempt is counted (and committed) before the password is checked, so parallel guesses
    cannot outrun the throttle (models/throttle.py); a refused attempt checks nothing.
    """
    account = email.strip().lower()[:320]
    try:
        claim = claim_attempt(session, account, address, now)
    except Throttled as exc:
        raise TooManyAttempts(f"too many failed logins; wait {exc.minutes} minutes and try again",
                              code="login.too_many_attempts", params={"minutes": exc.minutes}) from None
    person = session.exec(select(Person).where(Person.email == account)).first()
    ok = verify_password(password, person.password_hash if person else None)
    ok = ok and person is not None and person.active
    record_attempt(session, account, address, now, succeeded=ok)
    if not ok or person is None:
        raise BadCredentials("wrong email or password", code="login.bad_credentials")
    attempt_succeeded(session, claim, now)
    return person


Network = IPv4Network | IPv6Network


def trusted_networks(settings: Settings) -> tuple[Network, ...]:
    return tuple(ip_network(entry, strict=False) for entry in settings.trusted_proxies)


def client_address(peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """The address a request came from, as far as it can be believed.

    The connection's peer, unless the peer is a trusted proxy: then X-Forwarded-For, read from
    the right (each proxy appends the address it saw), skipping trusted proxies. A client can
    write anything at the left of that header, so with no trusted proxies it is never read.
    """
    if peer is None:
        return "unknown"
    hops = [peer]
    if forwarded_for and _is_trusted(peer, trusted):
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()] + hops
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop[:64]
    return hops[0][:64]


def _is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in trusted)


def change_password(session: Session, person: Person, current: str, new: str, repeated: str,
                    keep_session: str | None) -> None:
    """Every other session of the person ends (the caller commits)."""
    if not verify_password(current, person.password_hash):
        raise BadCredentials("the current password is wrong", code="password.current_wrong")
    if new != repeated:
        raise InvalidInput("the two new passwords differ", code="password.mismatch")
    set_password(session, person, new, keep_session=keep_session)


def secret_key(settings: Settings) -> str:
    """DUBAN_SECRET_KEY, else DUBAN_SECRET_KEY_FILE, else a key generated once into data_dir."""
    if settings.secret_key is not None:
        key = settings.secret_key.get_secret_value().strip()
        if len(key) < 16:
            raise InvalidInput("DUBAN_SECRET_KEY is too short (at least 16 characters)", code="secret_key.too_short")
        return key
    path = settings.secret_key_file or Path(settings.data_dir) / "secret_key"
    if not path.exists() and settings.secret_key_file is None:
        make_private(path.parent)  # the data directory: private (duban doctor)
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
