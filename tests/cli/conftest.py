"""Run `duban` in-process, as a user would call it, with its exit code and output."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from config.settings import get_settings


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def duban(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Result]:
    """Call the CLI's real entry point (`cli.main.main`) against the test database."""
    from cli.main import main

    monkeypatch.setenv("DUBAN_DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()

    def run(*args: str) -> Result:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["duban", *args])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    yield run
    get_settings.cache_clear()
