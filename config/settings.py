"""Settings read from DUBAN_* environment variables and an optional duban.toml: the rules every reading
applies, and the two readings (the model in config/settings_model.py, and the plain one for commands
that only read values, config/settings_plain.py) behind `get_settings`."""

from __future__ import annotations

import functools
import ipaddress
import os
import re
import string
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from config.settings_model import Settings as Settings
    from models.ledger.parse import XlsxLimits

EMAIL_RE = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+")
# A plain addr-spec (RFC 5322 dot-atom@domain): what a contact address in the data must be.
# EMAIL_RE alone lets through `Bcc:x@y` or `"x"@y`, which delivery then refuses.
_ATOM = r"[\w!#$%&'*+/=?^`{|}~-]+"
_LABEL = r"[^\W_](?:[\w-]*[^\W_])?"
ADDR_SPEC = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*")


def address_problem(address: str) -> str | None:
    """What is wrong with `address` as one duban keeps and mails, the one rule for the ledger import,
    the admin pages, `duban user`, the policy file and settings: None for a plain name@domain (ADDR_SPEC)
    whose part before the @ is ASCII; else "not_plain_email" (an address with more around it: a name,
    <>, quotes, Bcc:), "email_not_ascii" or "not_email". Callers word it naming their row or field."""
    if ADDR_SPEC.fullmatch(address):
        return "email_not_ascii" if smtputf8_needed(address) else None
    return "not_plain_email" if EMAIL_RE.fullmatch(address) else "not_email"


def smtputf8_needed(address: str) -> bool:
    """Whether mail from or to `address` would need SMTPUTF8 (RFC 6531), which duban does not use:
    its part before the @ is not ASCII. A domain that is not ASCII (督办.中国) is fine: it goes in
    IDNA (notifications/mime.py, ascii_address)."""
    return not address.rpartition("@")[0].isascii()


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable."""


def toml_path() -> Path:
    return Path(os.environ.get("DUBAN_CONFIG", "duban.toml"))


# The checks of single values beyond their type, each raising ValueError with the words the user
# sees after "DUBAN_<NAME>: " (the model runs them as validators; the plain reading, to vouch).

def known_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {value!r}; use an IANA name such as Asia/Shanghai") from None
    return value


NUMBER_FIELDS = {"weekly_notice_number": {"year", "week"}, "item_notice_number": {"year", "item"}}


def known_fields(value: str, allowed: set[str]) -> str:
    """A document number's pattern uses only the fields `allowed` ({year}, {week} ...)."""
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid pattern ({exc})") from None
    if not fields <= allowed:
        raise ValueError(f"{value!r} uses {', '.join(sorted(fields - allowed))}; it may use only "
                         + ", ".join("{" + f + "}" for f in sorted(allowed)))
    return value


def networks(value: object) -> object:
    """Trusted proxies: a list, or (from the environment) comma-separated, each an address or network."""
    if isinstance(value, str):
        value = [entry.strip() for entry in value.split(",") if entry.strip()]
    for entry in value if isinstance(value, list) else []:
        try:
            ipaddress.ip_network(str(entry), strict=False)
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network (such as 10.0.0.1 or 10.0.0.0/8)") from None
    return value


def sender_address(value: str) -> str:
    problem = address_problem(value.strip())
    if problem == "not_email":
        raise ValueError(f"{value!r} is not an email address")
    if problem == "not_plain_email":
        raise ValueError(f"{value!r} is not a plain email address; write only name@domain (no display name, "
                         "<>, quotes or Bcc:)")
    if problem == "email_not_ascii":
        raise ValueError(f"{value.strip()!r}: the part before the @ is not ASCII, which mail servers take only "
                         "with SMTPUTF8 (duban does not use it); the domain may be 督办.中国, the part before @ "
                         "must be ASCII letters, digits or . _ -")
    return value.strip()


def known_database(value: str) -> str:
    if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
        raise ValueError("must start with sqlite:// or postgresql://")
    return value


# Which check each field gets: after its type is checked, or (BEFORE_CHECKS) on the value as read.
CHECKS: dict[str, Callable[[Any], Any]] = {
    "timezone": known_timezone, "mail_from": sender_address, "database_url": known_database,
    **{name: functools.partial(known_fields, allowed=allowed) for name, allowed in NUMBER_FIELDS.items()},
}
BEFORE_CHECKS: dict[str, Callable[[Any], Any]] = {"trusted_proxies": networks}

SECRET_FILES = ("smtp", "database")  # DUBAN_<NAME>_PASSWORD_FILE fills <name>_password


def password_from_file(name: str, path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"DUBAN_{name.upper()}_PASSWORD_FILE: cannot read {path}: {exc.strerror}") from None


class SettingsProperties:
    """What both readings work out from the values (the fields are declared in config/settings_model.py)."""

    if TYPE_CHECKING:  # declared for the type checker only: pydantic would take them for fields
        database_url: str
        database_password: Any  # a SecretStr or config.settings_plain.Secret: get_secret_value()
        data_dir: Path
        timezone: str
        xlsx_max_unzipped_mb: int
        xlsx_max_shared_strings: int
        xlsx_max_shared_strings_mb: int
        xlsx_max_cells: int

    @property
    def xlsx_limits(self) -> XlsxLimits:
        from models.ledger.parse import XlsxLimits

        mb = 1024 * 1024
        return XlsxLimits(self.xlsx_max_unzipped_mb * mb, self.xlsx_max_shared_strings,
                          self.xlsx_max_shared_strings_mb * mb, self.xlsx_max_cells)

    @property
    def uploads_dir(self) -> Path:
        """Ledger uploads waiting to be applied (private; removed once applied or after an hour)."""
        return self.data_dir / "uploads"

    @property
    def attachments_dir(self) -> Path:
        """Evidence files by content hash; on a shared volume when several servers share PostgreSQL."""
        return self.data_dir / "attachments"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def sqlalchemy_url(self) -> str:
        """The URL with the psycopg 3 driver named, as SQLAlchemy wants it, and the password put in."""
        url = self.database_url
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        if self.database_password is None:
            return url
        from sqlalchemy.engine import make_url

        return make_url(url).set(password=self.database_password.get_secret_value()).render_as_string(
            hide_password=False
        )

    @property
    def database_display(self) -> str:
        """The database URL to show people: a password written into it is masked."""
        if "@" not in self.database_url:
            return self.database_url
        from sqlalchemy.engine import make_url

        return make_url(self.database_url).render_as_string(hide_password=True)


def load_settings(**overrides: object) -> Settings:
    """Read settings with the model; a bad value raises SettingsError naming the DUBAN_* variable."""
    from pydantic import ValidationError

    from config.settings_model import Settings

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "settings"
            variable = f"DUBAN_{field.upper()}" if error["loc"] else "settings"
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{variable}: {message}")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(problems)) from None


@functools.cache
def get_settings(plain: bool = False) -> Settings:
    """The settings, read once a process. `plain=True` for code that only reads values (the read
    commands, the policy and calendar files' paths): the plain reading when it vouches for every
    value (it imports no pydantic, 0.15 s of a command's start), else the model's. A plain reading
    hands anything else it is asked for (model_copy ...) to the model's."""
    if plain:
        from config.settings_plain import read_plain

        found = read_plain()
        return cast("Settings", found) if found is not None else get_settings()
    return load_settings()


def __getattr__(name: str) -> Any:
    if name == "Settings":  # the model, imported when a module asks for it (pydantic: 0.15 s)
        from config.settings_model import Settings

        return Settings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
