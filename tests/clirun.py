"""Call the CLI's real entry point (`cli.main.main`) in-process, with its exit code and output."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def cli_runner(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """`run("items", "--json")` as a user would type `duban items --json`; settings read afresh."""
    from cli.common import reset_consoles
    from cli.main import main

    def run(*args: str) -> Result:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["duban", *args])
        # A command starts in a fresh process, whose consoles read COLUMNS (and the colour settings)
        # as the test set them; made once at import, they would keep whatever the first test that
        # imported cli.common had set, and the output's width would depend on the tests' order.
        reset_consoles()
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run
