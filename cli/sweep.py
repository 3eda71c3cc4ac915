"""The sweep and deadlines (issue 3): `duban sweep`, `duban forecast`, `duban calendar`, `duban doctor`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    pass
