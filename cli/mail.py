"""Mail (issue 4): `duban deliver`, `duban outbox`, `duban digest`, `duban mailcatcher`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    pass
