"""The cookie-signing key: DUBAN_SECRET_KEY, else DUBAN_SECRET_KEY_FILE, else generated once (0600)."""

from __future__ import annotations

import stat

import pytest

from config.settings import Settings
from models.errors import InvalidInput
from web.auth import secret_key


def test_a_key_is_generated_once_into_the_data_dir_readable_only_by_its_owner(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")  # type: ignore[arg-type]
    key = secret_key(settings)
    path = tmp_path / "data" / "secret_key"
    assert len(key) >= 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret_key(settings) == key


def test_the_key_file_and_the_variable_take_precedence(tmp_path):
    path = tmp_path / "key"
    path.write_text("a-key-from-a-file-0123456789\n")
    assert secret_key(Settings(data_dir=tmp_path, secret_key_file=path)) == "a-key-from-a-file-0123456789"  # type: ignore[arg-type]
    assert secret_key(Settings(data_dir=tmp_path, secret_key="from-the-environment-0123")) == "from-the-environment-0123"  # type: ignore[arg-type]


def test_a_missing_key_file_is_named(tmp_path):
    with pytest.raises(InvalidInput, match="DUBAN_SECRET_KEY_FILE"):
        secret_key(Settings(data_dir=tmp_path, secret_key_file=tmp_path / "nope"))  # type: ignore[arg-type]


def test_a_short_key_is_refused(tmp_path):
    with pytest.raises(InvalidInput, match="DUBAN_SECRET_KEY is too short"):
        secret_key(Settings(data_dir=tmp_path, secret_key="short"))  # type: ignore[arg-type]
