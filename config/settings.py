"""Settings read from DUBAN_* environment variables and an optional duban.toml."""

from __future__ import annotations

import functools
import ipaddress
import os
import re
import string
from datetime import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

if TYPE_CHECKING:
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


def _toml_path() -> Path:
    return Path(os.environ.get("DUBAN_CONFIG", "duban.toml"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DUBAN_", extra="ignore")

    database_url: str = "sqlite:///duban.db"
    # Kept out of the URL (and so out of every message that shows it): the password alone.
    database_password: SecretStr | None = None
    database_password_file: Path | None = None
    data_dir: Path = Path(".duban")
    timezone: str = "Asia/Shanghai"
    locale: Literal["zh-CN", "en"] = "zh-CN"
    base_url: str = "http://127.0.0.1:8000"

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_password_file: Path | None = None
    smtp_timeout: float = Field(default=30.0, gt=0)
    mail_from: str = "duban@localhost"
    # Mail (issue 4): connections per delivery run, when mail may go out, how long to retry.
    smtp_max_connections: int = Field(default=4, ge=1, le=64)
    delivery_window: bool = True
    delivery_window_start: time = time(8, 30)
    delivery_window_end: time = time(17, 30)
    delivery_retry_max_age_hours: float = Field(default=48.0, gt=0)
    # Messages a connection may send ahead of the database recording what the server answered: it
    # bounds the duplicates a crash can cause (this many plus one, per connection), and costs
    # throughput when commits are slow (notifications/README.md has the figures).
    delivery_max_unrecorded: int = Field(default=32, ge=1, le=10_000)
    # How long a delivery run's claim on its rows holds: a run killed mid-send leaves them to the
    # first run after this (notifications/delivery.py:lease). At least 20 SMTP timeouts in any case.
    delivery_lease_seconds: float = Field(default=600.0, ge=1, le=86_400)
    digest_cron: str = "0 9 * * mon"
    # 催办: an item's lead unit is urged at most once in this many hours, from every interface (0: no limit).
    urge_interval_hours: float = Field(default=24.0, ge=0)
    # The weekly digest attaches the weekly 通报 (.docx) for the leadership and the supervisors.
    digest_attach_notice: bool = True

    policy_file: Path | None = None
    calendar_file: Path | None = None
    scoring_file: Path | None = None  # the 考核 scoring model (config/scoring.yaml when unset)
    # The sweep (issue 3): its schedule under `duban serve` (cron, in `timezone`).
    sweep_cron: str = "*/15 * * * *"

    # Uploads (issue 14): limits checked while a file arrives and before it is parsed.
    import_max_mb: int = Field(default=20, ge=1, le=1024)
    import_parse_seconds: float = Field(default=120.0, gt=0)
    xlsx_max_unzipped_mb: int = Field(default=100, ge=1)
    xlsx_max_shared_strings: int = Field(default=500_000, ge=1)
    xlsx_max_shared_strings_mb: int = Field(default=50, ge=1)
    xlsx_max_cells: int = Field(default=2_000_000, ge=1)
    # Evidence files (佐证材料, issue 11): per-file limit and the kinds accepted (models/attachments.py).
    attachment_max_mb: int = Field(default=20, ge=1, le=1024)
    attachment_types: list[str] = Field(default_factory=lambda: ["pdf", "image", "office", "ofd", "zip"])

    # The office's documents (the weekly 通报 and the 督办通知单, notifications/documents/): the name in
    # the red header and the signature, whom they are addressed to, and their document numbers.
    office_name: str = "督查督办办公室"
    notice_addressee: str = "各有关单位"
    weekly_notice_number: str = "督通〔{year}〕{week}号"  # {year}, {week}: the ISO week's
    item_notice_number: str = "督办〔{year}〕{item}号"  # {year}: the day it is made; {item}: the item's id
    # The weekly 通报 lists each unit's longest overdue items, this many, and counts the rest (等N项).
    weekly_notice_items_per_unit: int = Field(default=5, ge=1, le=1000)

    # Reverse proxies (addresses or networks) whose X-Forwarded-For is believed. None by default,
    # so no client can choose the address the login throttle counts against. A list in duban.toml;
    # DUBAN_TRUSTED_PROXIES takes them comma-separated.
    trusted_proxies: Annotated[list[str], NoDecode] = []

    # Signs the web app's session cookies; when neither is set, web.auth keeps one in data_dir.
    secret_key: SecretStr | None = None
    secret_key_file: Path | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_toml_path())
        return (init_settings, env_settings, toml)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}; use an IANA name such as Asia/Shanghai") from None
        return value

    @field_validator("weekly_notice_number", "item_notice_number")
    @classmethod
    def _known_fields(cls, value: str, info: Any) -> str:
        allowed = {"weekly_notice_number": {"year", "week"}, "item_notice_number": {"year", "item"}}[info.field_name]
        try:
            fields = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a valid pattern ({exc})") from None
        if not fields <= allowed:
            raise ValueError(f"{value!r} uses {', '.join(sorted(fields - allowed))}; it may use only "
                             + ", ".join("{" + f + "}" for f in sorted(allowed)))
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        if isinstance(value, str):
            value = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in value if isinstance(value, list) else []:
            try:
                ipaddress.ip_network(str(entry), strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network (such as 10.0.0.1 or 10.0.0.0/8)") from None
        return value

    @field_validator("mail_from")
    @classmethod
    def _address(cls, value: str) -> str:
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

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("must start with sqlite:// or postgresql://")
        return value

    @model_validator(mode="after")
    def _password_from_file(self) -> Settings:
        for name in ("smtp", "database"):
            path: Path | None = getattr(self, f"{name}_password_file")
            if path is None:
                continue
            try:
                secret = path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ValueError(f"DUBAN_{name.upper()}_PASSWORD_FILE: cannot read {path}: {exc.strerror}") from None
            setattr(self, f"{name}_password", SecretStr(secret))
        return self

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
    """Read settings; a bad value raises SettingsError naming the DUBAN_* variable."""
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
def get_settings() -> Settings:
    return load_settings()
