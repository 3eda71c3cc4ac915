"""Ledger import and the demo (issue 2): `duban import`, `duban demo`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    pass
