"""`duban items`, `duban show`, `duban report` as Typer declares them; what they do is in cli/views.py,
which imports no Typer (cli.launch runs a plain command line of them without it: 0.03-0.05 s of
their start, docs/benchmarks.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import views
from cli.options import JsonOption, NowOption
from models.states import Status, UnitRole


def register(app: typer.Typer) -> None:
    app.command("items")(items)
    app.command("show")(show)
    app.command("report")(report)


def items(
    document: Annotated[str | None, typer.Option(help="Only this document (short name).")] = None,
    unit: Annotated[str | None, typer.Option(
        help="Only items of this unit: its name, part of it or its code (发改委, fgw).")] = None,
    unit_role: Annotated[UnitRole, typer.Option(
        help="With --unit: items it leads (lead), works on as a co-unit (co), or either (any).")] = UnitRole.ANY,
    status: Annotated[Status | None, typer.Option(help="Only items in this state.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue items.")] = False,
    due_soon: Annotated[bool, typer.Option("--due-soon", help="Only items due within the reminder window.")] = False,
    unacknowledged: Annotated[bool, typer.Option(
        "--unacknowledged", help="Only items their lead unit has not acknowledged (未签收).")] = False,
    supervisor: Annotated[str | None, typer.Option(help="Only items this person (email) supervises.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows (0: all).")] = 0,
    now: NowOption = None,
    as_json: JsonOption = False,
    archived: Annotated[bool, typer.Option("--archived", help="Include items of archived documents.")] = False,
) -> None:
    """List items, with the filters of the items page."""
    views.items(document, unit, unit_role, status, overdue, due_soon, unacknowledged, supervisor, limit, now, as_json,
                archived)


def show(
    item_ref: Annotated[str, typer.Argument(metavar="ITEM", help="DOCUMENT/NUMBER (e.g. 新时代意见/12) or id.")],
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one item with its timeline."""
    views.show(item_ref, now, as_json)


def report(now: NowOption = None, as_json: JsonOption = False) -> None:
    """The figures per document and per lead unit: total, signed off, rate, open, overdue, 未签收, 签收率, 催办, 按时报送率."""
    views.report(now, as_json)
