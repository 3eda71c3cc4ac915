"""`duban doctor` on the data directory: exists or can be made, writable, closed to other users."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cli.sweep import _check_data_dir


def _check(path: Path) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    _check_data_dir(path, lambda name, state, text: found.append((state, text)))
    return found


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUBAN_LOCALE", "en")


def test_a_private_writable_directory_is_ok(tmp_path):
    (tmp_path / "data").mkdir(mode=0o700)
    assert _check(tmp_path / "data") == [("ok", f"{tmp_path / 'data'}: writable, only this user may read it")]


def test_a_missing_directory_that_can_be_made_is_ok(tmp_path):
    [(state, text)] = _check(tmp_path / "new" / "data")
    assert state == "ok" and "will be created" in text


def test_a_world_readable_directory_is_a_problem_with_its_fix(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    os.chmod(data, 0o755)
    [(state, text)] = _check(data)
    assert state == "problem" and "mode 755" in text and f"chmod 700 {data}" in text


def test_a_file_in_its_place_is_a_problem(tmp_path):
    (tmp_path / "data").write_text("x")
    [(state, text)] = _check(tmp_path / "data")
    assert state == "problem" and "not a directory" in text


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_directory_this_user_cannot_write_is_a_problem(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o500)
    try:
        [(state, text)] = _check(data)
        assert state == "problem" and "not writable" in text
    finally:
        os.chmod(data, 0o700)


def test_the_data_directory_duban_makes_for_its_cookie_key_passes(tmp_path):
    from config.settings import Settings
    from web.auth import secret_key

    secret_key(Settings(data_dir=tmp_path / "data"))  # type: ignore[call-arg]
    assert [state for state, _ in _check(tmp_path / "data")] == ["ok"]
