"""Settings: defaults, duban.toml, *_FILE secrets, and bad values named by their variable."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from config import clock
from config.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in list(__import__("os").environ):
        if name.startswith("DUBAN_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_are_the_embedded_installation():
    s = load_settings()
    assert s.database_url == "sqlite:///duban.db" and s.timezone == "Asia/Shanghai" and s.locale == "zh-CN"


def test_environment_beats_duban_toml(monkeypatch, tmp_path):
    (tmp_path / "duban.toml").write_text('timezone = "Europe/Berlin"\nlocale = "en"\n', encoding="utf-8")
    monkeypatch.setenv("DUBAN_LOCALE", "zh-CN")
    s = load_settings()
    assert (s.timezone, s.locale) == ("Europe/Berlin", "zh-CN")


def test_password_file_is_read_and_never_shown(monkeypatch, tmp_path):
    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret\n", encoding="utf-8")
    monkeypatch.setenv("DUBAN_SMTP_PASSWORD_FILE", str(secret))
    s = load_settings()
    assert s.smtp_password is not None and s.smtp_password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(s) and "s3cret" not in str(s.model_dump())


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DUBAN_TIMEZONE", "Mars/Olympus", "DUBAN_TIMEZONE: unknown timezone 'Mars/Olympus'"),
        ("DUBAN_SMTP_PORT", "seventy", "DUBAN_SMTP_PORT"),
        ("DUBAN_SMTP_SECURITY", "ssl", "DUBAN_SMTP_SECURITY"),
        ("DUBAN_LOCALE", "fr", "DUBAN_LOCALE"),
        ("DUBAN_DATABASE_URL", "mysql://x", "DUBAN_DATABASE_URL: must start with sqlite:// or postgresql://"),
        ("DUBAN_MAIL_FROM", "not-an-address", "DUBAN_MAIL_FROM"),
        ("DUBAN_SMTP_PASSWORD_FILE", "/nonexistent/pw", "DUBAN_SMTP_PASSWORD_FILE: cannot read /nonexistent/pw"),
    ],
)
def test_bad_value_names_the_variable(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert message in str(error.value)


def test_postgres_url_gets_the_psycopg_driver(monkeypatch):
    monkeypatch.setenv("DUBAN_DATABASE_URL", "postgresql://u@db/duban")
    assert load_settings().sqlalchemy_url == "postgresql+psycopg://u@db/duban"


def test_clock_freezes_and_parses_instants_with_offsets():
    at = datetime(2024, 6, 30, 1, 0, tzinfo=UTC)
    with clock.frozen(at):
        assert clock.now() == at
    assert clock.now() != at
    assert clock.parse_instant("2024-06-30T09:00+08:00") == at
    with pytest.raises(ValueError, match="no UTC offset"):
        clock.parse_instant("2024-06-30T09:00")


def test_database_password_comes_from_its_file_and_is_never_shown(monkeypatch, tmp_path):
    secret = tmp_path / "db-password"
    secret.write_text("p@ss:w/rd\n", encoding="utf-8")
    monkeypatch.setenv("DUBAN_DATABASE_URL", "postgresql://duban@db:5432/duban")
    monkeypatch.setenv("DUBAN_DATABASE_PASSWORD_FILE", str(secret))
    s = load_settings()
    assert s.sqlalchemy_url == "postgresql+psycopg://duban:p%40ss%3Aw%2Frd@db:5432/duban"
    assert s.database_display == "postgresql://duban@db:5432/duban"
    monkeypatch.delenv("DUBAN_DATABASE_PASSWORD_FILE")
    monkeypatch.setenv("DUBAN_DATABASE_URL", "postgresql://duban:inline@db/duban")
    assert load_settings().database_display == "postgresql://duban:***@db/duban"
