"""考核 scoring on the command line: `duban score --from D --to D [--json]`."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from cli.common import (
    JsonOption,
    NowOption,
    console,
    open_session,
    print_json,
    resolve_now,
    settings,
)
from cli.words import _


def register(app: typer.Typer) -> None:
    app.command("score")(score)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(_("{value!r} is not a date; write YYYY-MM-DD", value=value)) from None


def score(
    start: Annotated[date, typer.Option("--from", parser=_day, metavar="YYYY-MM-DD", help="First day of the period.")],
    end: Annotated[date, typer.Option("--to", parser=_day, metavar="YYYY-MM-DD", help="Last day of the period.")],
    explain: Annotated[bool, typer.Option("--explain", help="List each unit's deductions and additions.")] = False,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every unit's 考核 score and rank for a period, from the audit events, each point explained."""
    from config.calendar import load_calendar
    from config.scoring import RULE_WORDS, load_scoring
    from models.scoring import load_rows, period_bounds
    from models.scoring import score as compute

    model, calendar, tz, as_of = load_scoring(), load_calendar(), settings().tz, resolve_now(now)
    _opens, cutoff = period_bounds(start, end, as_of, tz)
    with open_session() as session:
        items, events, units = load_rows(session, cutoff)
    board = compute(items, events, units, model, calendar, tz, start, end, as_of)
    if as_json:
        print_json(board.as_dict())
        return
    table = Table(title=_("Scores from {start} to {end} (base {base})", start=start, end=end, base=board.base),
                  title_justify="left")
    table.add_column(_("Rank"), justify="right")
    table.add_column(_("Unit"))
    for column in (_("Score"), _("Deductions"), _("Additions")):
        table.add_column(column, justify="right")
    for unit in board.units:
        table.add_row(str(unit.rank), unit.unit, f"{unit.score:g}", f"{sum(x.points for x in unit.deductions):g}",
                      f"{sum(x.points for x in unit.additions):g}")
    console.print(table)
    if explain:
        for unit in board.units:
            lines = unit.deductions + unit.additions
            if not lines:
                continue
            console.print(f"[bold]{unit.unit}[/] {unit.score:g}", highlight=False)
            for line in sorted(lines, key=lambda x: x.on):
                capped = _(" (capped)") if line.capped else ""
                console.print(f"  {line.on}  {_(RULE_WORDS[line.rule])}  {line.points:+g}  {line.item}"
                              f"  #{line.event_id or '-'}{capped}", highlight=False)
