"""A user's environment mistakes end in one error line naming what to fix, never a traceback."""

from __future__ import annotations

import socket

import pytest

from config.settings import get_settings
from tests.clirun import cli_runner


@pytest.fixture
def run(monkeypatch, capsys):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DUBAN_LOCALE", "en")
    get_settings.cache_clear()
    yield cli_runner(monkeypatch, capsys)
    get_settings.cache_clear()


def test_an_unreachable_database_is_named_with_its_password_masked(run, monkeypatch, tmp_path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens here once closed
    monkeypatch.setenv("DUBAN_DATABASE_URL", f"postgresql://duban:s3cret@127.0.0.1:{port}/duban")
    for command in (("items",), ("init",)):
        result = run(*command)
        assert result.code == 1
        assert f"cannot connect to the database at postgresql://duban:***@127.0.0.1:{port}/duban" in result.err
        assert "s3cret" not in result.err + result.out and "Traceback" not in result.err
    monkeypatch.setenv("DUBAN_DATABASE_URL", f"sqlite:///{tmp_path}/missing/dir/duban.db")
    get_settings.cache_clear()
    result = run("items")
    assert result.code == 1 and "unable to open database file" in result.err


def test_a_path_that_cannot_be_written_is_named(run, monkeypatch, tmp_path):
    monkeypatch.setenv("DUBAN_DATABASE_URL", f"sqlite:///{tmp_path}/duban.db")
    assert run("init").code == 0
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    result = run("digest", "--preview", str(blocker / "previews"))
    assert result.code == 1 and f"error: {blocker / 'previews'}" in result.err
