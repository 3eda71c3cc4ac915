"""The settings model (pydantic-settings): every field declared once, with its type, default and
limits; the checks beyond a value's type are config.settings'. `python -m config.settings_model` writes
config/settings_fields.py, from which the plain reading (config/settings_plain.py) reads the fields."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from config.settings import (
    BEFORE_CHECKS,
    CHECKS,
    SECRET_FILES,
    SettingsProperties,
    password_from_file,
    toml_path,
)


class Settings(SettingsProperties, BaseSettings):
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
        toml = TomlConfigSettingsSource(settings_cls, toml_file=toml_path())
        return (init_settings, env_settings, toml)

    @field_validator(*CHECKS)
    @classmethod
    def _checked(cls, value: Any, info: ValidationInfo) -> Any:
        return CHECKS[str(info.field_name)](value)

    @field_validator(*BEFORE_CHECKS, mode="before")
    @classmethod
    def _checked_as_read(cls, value: Any, info: ValidationInfo) -> Any:
        return BEFORE_CHECKS[str(info.field_name)](value)

    @model_validator(mode="after")
    def _password_from_file(self) -> Settings:
        for name in SECRET_FILES:
            path: Path | None = getattr(self, f"{name}_password_file")
            if path is not None:
                setattr(self, f"{name}_password", SecretStr(password_from_file(name, path)))
        return self


def fields_module() -> str:
    """config/settings_fields.py: each field's kind, whether it may be None, its default and its
    limits, as the plain reading (config/settings_plain.py) reads them."""
    lines = ['"""The settings\' fields for the plain reading (config/settings_plain.py), generated by',
             '`python -m config.settings_model` from its Settings model; do not edit."""', "",
             "from datetime import time", "from pathlib import Path", "from typing import Any", "",
             "# name: (kind, may be None, default, limits)",
             "FIELDS: dict[str, tuple[str, bool, Any, dict[str, Any]]] = {"]
    for name, field in Settings.model_fields.items():
        kind, optional = _kind(field.annotation, field.metadata)
        default = field.default_factory() if field.default_factory is not None else field.default  # type: ignore[call-arg]
        limits: dict[str, Any] = {key: getattr(m, key) for m in field.metadata for key in ("ge", "gt", "le")
                                  if hasattr(m, key)}
        if kind == "choice":
            limits["choices"] = get_args(field.annotation)
        lines.append(f"    {name!r}: ({kind!r}, {optional!r}, {_literal(default)}, {limits!r}),")
    lines.append("}")
    return "\n".join(lines) + "\n"


KINDS: dict[Any, str] = {str: "str", SecretStr: "secret", Path: "path", int: "int", float: "float", bool: "bool",
                         time: "time", list[str]: "list"}


def _kind(annotation: Any, metadata: list[Any]) -> tuple[str, bool]:
    args = get_args(annotation)
    if get_origin(annotation) is UnionType and len(args) == 2 and args[1] is type(None):
        return _kind(args[0], metadata)[0], True
    if get_origin(annotation) is Literal and all(isinstance(a, str) for a in args):
        return "choice", False
    if annotation == list[str] and NoDecode in metadata:
        return "words", False  # a list, comma-separated in the environment
    if annotation in KINDS:
        return KINDS[annotation], False
    raise TypeError(f"config/settings_plain.py reads no field of type {annotation}: teach it, or leave the field out")


def _literal(value: Any) -> str:
    if isinstance(value, Path):
        return f"Path({str(value)!r})"
    if isinstance(value, time):
        return f"time.fromisoformat({value.isoformat()!r})"
    return repr(value)


if __name__ == "__main__":
    (Path(__file__).parent / "settings_fields.py").write_text(fields_module(), encoding="utf-8")
