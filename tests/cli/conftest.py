"""Run `duban` in-process, as a user would call it, with its exit code and output."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from config.settings import get_settings
from tests.clirun import Result, cli_runner


@pytest.fixture
def duban(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Callable[..., Result]]:
    """Call the CLI's real entry point (`cli.main.main`) against the test database, in English.

    The assertions read like the English messages in models/; tests/cli/test_words.py runs the
    default (zh-CN) too.
    """
    monkeypatch.setenv("DUBAN_DATABASE_URL", db_url)
    monkeypatch.setenv("DUBAN_LOCALE", "en")
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield cli_runner(monkeypatch, capsys)
    get_settings.cache_clear()
