"""The options several commands share, as Typer declares them."""

from __future__ import annotations

from typing import Annotated

import typer

NowOption = Annotated[
    str | None,
    typer.Option("--now", help="Act as if it were this time (ISO 8601 with offset, e.g. 2024-06-30T09:00+08:00)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]
EngineOption = Annotated[
    str, typer.Option("--engine", help="auto (Prefect only if PREFECT_API_URL is set), local or prefect."),
]
