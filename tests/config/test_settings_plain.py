"""The plain reading of the settings (config/settings_plain.py) against the model's: the same values
wherever it vouches for them, and the model's errors wherever the model refuses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import get_settings, load_settings
from config.settings_model import Settings, fields_module
from config.settings_plain import read_plain


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in list(__import__("os").environ):
        if name.upper().startswith("DUBAN_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_fields_module_is_generated_from_the_model():
    assert (Path(__file__).parents[2] / "config" / "settings_fields.py").read_text(encoding="utf-8") == fields_module()


# (environment, duban.toml, whether the plain reading vouches for it)
CASES = [
    ({}, None, True),
    ({"DUBAN_DATABASE_URL": "sqlite:////tmp/x.db", "DUBAN_LOCALE": "en", "DUBAN_TIMEZONE": "Europe/Berlin"}, None, True),
    ({"duban_locale": "en"}, None, True),
    ({"Duban_Smtp_Port": "2525"}, None, True),
    ({"DUBAN_SMTP_PORT": "007", "DUBAN_SMTP_TIMEOUT": "2", "DUBAN_URGE_INTERVAL_HOURS": "0.5"}, None, True),
    ({"DUBAN_DELIVERY_WINDOW": "off", "DUBAN_DIGEST_ATTACH_NOTICE": "YES"}, None, True),
    ({"DUBAN_DELIVERY_WINDOW_START": "07:15", "DUBAN_DELIVERY_WINDOW_END": "18:00:30"}, None, True),
    ({"DUBAN_DATA_DIR": "/srv/duban", "DUBAN_POLICY_FILE": "policy.yaml"}, None, True),
    ({"DUBAN_SMTP_USERNAME": "", "DUBAN_SMTP_PASSWORD": "s3cret", "DUBAN_SECRET_KEY": "k" * 20}, None, True),
    ({"DUBAN_ATTACHMENT_TYPES": '["pdf", "zip"]', "DUBAN_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"}, None, True),
    ({"DUBAN_MAIL_FROM": "  office@督办.中国 "}, None, True),
    ({"DUBAN_WEEKLY_NOTICE_NUMBER": "督通〔{year}〕第{week}期"}, None, True),
    ({"DUBAN_DATABASE_URL": "postgresql://duban@db/duban"}, None, True),
    ({}, 'timezone = "Europe/Berlin"\nlocale = "en"\nsmtp_port = 2525\nsmtp_timeout = 5\n', True),
    ({"DUBAN_LOCALE": "zh-CN"}, 'locale = "en"\ndelivery_window = false\ndelivery_window_start = 07:30:00\n', True),
    ({}, 'trusted_proxies = ["10.0.0.1"]\nattachment_types = ["pdf"]\ndata_dir = "d"\n', True),
    ({}, 'urge_interval_hours = 0\nsmtp_password = "x"\n', True),
    # refused by the model: the plain reading leaves them to it
    ({"DUBAN_TIMEZONE": "Mars/Olympus"}, None, False),
    ({"DUBAN_SMTP_PORT": "seventy"}, None, False),
    ({"DUBAN_SMTP_PORT": "0"}, None, False),
    ({"DUBAN_SMTP_PORT": "70000"}, None, False),
    ({"DUBAN_SMTP_TIMEOUT": "0"}, None, False),
    ({"DUBAN_SMTP_SECURITY": "ssl"}, None, False),
    ({"DUBAN_LOCALE": "fr"}, None, False),
    ({"DUBAN_DATABASE_URL": "mysql://x"}, None, False),
    ({"DUBAN_MAIL_FROM": "not-an-address"}, None, False),
    ({"DUBAN_MAIL_FROM": "Office <o@x.cn>"}, None, False),
    ({"DUBAN_SMTP_PASSWORD_FILE": "/nonexistent/pw"}, None, False),
    ({"DUBAN_TRUSTED_PROXIES": "10.0.0.1, proxy"}, None, False),
    ({"DUBAN_ATTACHMENT_TYPES": "pdf"}, None, False),
    ({"DUBAN_DELIVERY_WINDOW": "maybe"}, None, False),
    ({"DUBAN_DELIVERY_WINDOW_START": "25:00"}, None, False),
    ({"DUBAN_ITEM_NOTICE_NUMBER": "督办〔{year}〕{week}号"}, None, False),
    ({}, 'smtp_port = "x"\n', False),
    ({}, "smtp_port = 0\n", False),
    ({}, "locale = 3\n", False),
    ({}, 'timezone = "Nowhere/Else"\n', False),
    ({}, "trusted_proxies = [1]\n", False),
    ({}, "this is not toml", False),
]


@pytest.mark.parametrize(("env", "toml", "vouched"), CASES)
def test_plain_reading_agrees_with_the_model(monkeypatch, tmp_path, env, toml, vouched):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if toml is not None:
        (tmp_path / "duban.toml").write_text(toml, encoding="utf-8")
    plain = read_plain()
    try:
        model: Settings | None = load_settings()
    except Exception as exc:  # noqa: BLE001 - whatever the model raises, the plain reading must not vouch
        model, error = None, exc
    assert (plain is not None) == vouched
    if model is None:
        assert plain is None
        with pytest.raises(type(error)) as raised:  # the same error, worded by the model
            get_settings(plain=True)
        assert str(raised.value) == str(error)
        return
    assert plain is not None or not vouched
    for name in Settings.model_fields:
        mine, theirs = getattr(plain or model, name), getattr(model, name)
        if hasattr(theirs, "get_secret_value"):
            assert mine.get_secret_value() == theirs.get_secret_value(), name
            assert str(mine) == str(theirs) and repr(mine) == repr(theirs)
        else:
            assert (mine, type(mine)) == (theirs, type(theirs)), name
    for prop in ("tz", "sqlalchemy_url", "database_display", "uploads_dir", "attachments_dir", "xlsx_limits"):
        assert getattr(plain or model, prop) == getattr(model, prop)


def test_password_files_fill_the_passwords_and_are_never_shown(monkeypatch, tmp_path):
    (tmp_path / "pw").write_text("s3cret\n", encoding="utf-8")
    monkeypatch.setenv("DUBAN_SMTP_PASSWORD_FILE", str(tmp_path / "pw"))
    monkeypatch.setenv("DUBAN_DATABASE_URL", "postgresql://duban@db/duban")
    monkeypatch.setenv("DUBAN_DATABASE_PASSWORD_FILE", str(tmp_path / "pw"))
    plain = read_plain()
    assert plain is not None and plain.smtp_password.get_secret_value() == "s3cret"
    assert plain.sqlalchemy_url == load_settings().sqlalchemy_url
    assert "s3cret" not in repr(plain)


def test_what_the_plain_reading_lacks_the_model_answers():
    plain = read_plain()
    assert plain is not None and plain.model_copy(update={"locale": "en"}).locale == "en"


def test_a_read_command_imports_no_pydantic(tmp_path):
    code = ("import sys; from config.settings import get_settings; get_settings(plain=True).tz; "
            "from cli.words import _; _('error:'); assert 'pydantic' not in sys.modules, 'pydantic imported'")
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[2], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "DUBAN_CONFIG": str(tmp_path / "none.toml")})
    assert done.returncode == 0, done.stderr


def test_the_model_is_read_once_for_what_the_plain_reading_lacks(monkeypatch):
    import config.settings

    plain = read_plain()
    assert plain is not None
    readings = []
    real = config.settings.load_settings
    monkeypatch.setattr(config.settings, "load_settings", lambda: readings.append(1) or real())
    assert plain.model_copy(update={"locale": "en"}).locale == "en"
    assert plain.model_dump()["locale"] == plain.locale
    assert len(readings) == 1
