"""考核 scoring and deadline calendars on the command line: `duban score`, `duban ical`."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.cells import cell_len

from cli.common import CliError, console, open_session, resolve_now, settings
from cli.options import JsonOption, NowOption
from cli.words import _


def register(app: typer.Typer) -> None:
    app.command("score")(score)
    app.command("ical")(ical)


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
    from models.scoring import cycle_collection_paused, number, scoreboard

    model, calendar, tz, as_of = load_scoring(), load_calendar(), settings().tz, resolve_now(now)
    with open_session() as session:
        # The table alone needs no lines: only --json and --explain build one for each point.
        board = scoreboard(session, model, calendar, tz, start, end, as_of, explain=as_json or explain)
    if as_json:
        with cycle_collection_paused():  # as while scoring: 100,000 dicts and no cycle
            _print_board(board.as_dict())
        return
    # Laid out here rather than as a rich Table: rich measures and wraps each cell, about 0.35 s of
    # CPU for 1,000 units, a fifth of the whole command. Names are shown as written (no markup).
    rows = [(_("Rank"), _("Unit"), _("Score"), _("Deductions"), _("Additions"))] + [
        (str(u.rank), u.unit, f"{number(u.score):g}", f"{number(u.deducted):g}", f"{number(u.added):g}")
        for u in board.units]
    widths = [max(cell_len(row[column]) for row in rows) for column in range(5)]
    out = [_("Scores from {start} to {end} (base {base})", start=start, end=end, base=board.base)]
    for index, row in enumerate(rows):
        out.append("  ".join(_padded(cell, width, right=column != 1)
                             for column, (cell, width) in enumerate(zip(row, widths, strict=True))).rstrip())
        if index == 0:
            out.append("  ".join("-" * width for width in widths))
    if explain:
        for unit in board.units:
            lines = unit.deductions + unit.additions
            if not lines:
                continue
            out.append(f"{unit.unit} {number(unit.score):g}")
            for line in sorted(lines, key=lambda x: x.on):
                capped = _(" (capped)") if line.capped else ""
                days = f"{line.on}~{line.until:%m-%d} x{line.weeks}" if line.until and line.weeks > 1 else str(line.on)
                out.append(f"  {days}  {_(RULE_WORDS[line.rule])}  {number(line.points):+g}  {line.item}"
                           f"  #{line.event_id or '-'}{capped}")
    sys.stdout.write("\n".join(out) + "\n")


def _padded(text: str, width: int, right: bool) -> str:
    """`text` padded to `width` terminal cells (a Chinese character takes two)."""
    gap = " " * (width - cell_len(text))
    return gap + text if right else text + gap


def _print_board(data: dict[str, Any]) -> None:
    """The --json output: a line for each unit and each point, laid out here. `json`'s indent would
    switch to its pure-Python encoder, three times slower for a year's 100,000 points (0.8 s against
    0.25 s); `{"rule"` cannot occur inside a JSON string (its quotes are escaped), so the breaks
    before each point go in by replacing it."""
    head = json.dumps({key: value for key, value in data.items() if key != "units"}, ensure_ascii=False, default=str)
    units = json.dumps(data["units"], ensure_ascii=False, default=str)
    units = units.replace(', {"unit": ', ',\n {"unit": ').replace('[{"rule": ', '[\n   {"rule": ')
    sys.stdout.write(head[:-1] + ', "units": [\n ' + units[1:-1].replace('}, {"rule": ', '},\n   {"rule": ')
                     + "\n]}\n")


def ical(
    out: Annotated[Path, typer.Option("--out", help="Write the .ics here.", dir_okay=False)],
    unit: Annotated[str | None, typer.Option("--unit", help="A unit (name or code): its open items, lead or co-unit.")] = None,
    person: Annotated[str | None, typer.Option("--person", help="A person (email): the open items they answer for.")] = None,
    now: NowOption = None,
) -> None:
    """An iCalendar (.ics) of open items' deadlines, with alarms at the policy's reminder thresholds."""
    from config.calendar import load_calendar
    from config.policy import load_policy
    from models.feeds import open_items, unreported_periods
    from models.ical import feed
    from models.queries import find_person
    from models.read.filters import match_unit

    if (unit is None) == (person is None):
        raise CliError(_("give either --unit or --person"))
    at, config = resolve_now(now), settings()
    with open_session() as session:
        if unit is not None:
            found_unit = match_unit(session, unit)
            rows, name = open_items(session, unit=found_unit), found_unit.name
        else:
            found_person = find_person(session, person or "")
            rows, name = open_items(session, person=found_person), found_person.name
        data = feed(f"督办 duban · {name}", rows, load_policy(), load_calendar(), config.tz, at, config.base_url,
                    config.locale, periods=unreported_periods(session, rows))
    out.write_bytes(data)
    console.print(_("{count} deadlines written to {path}", count=len(rows), path=out), highlight=False)
