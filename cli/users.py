"""People and the web app (issue 5): `duban user`, `duban token`, `duban serve`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    pass
