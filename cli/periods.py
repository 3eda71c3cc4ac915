"""A recurring item's periods on the command line: `duban periods ITEM [--json]`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cli.common import console, open_session, print_json, resolve_now, settings
from cli.options import JsonOption, NowOption
from cli.words import _
from models.periods import item_periods
from models.queries import find_item


def register(app: typer.Typer) -> None:
    app.command("periods")(periods)


def periods(
    item_ref: Annotated[str, typer.Argument(metavar="ITEM", help="DOCUMENT/NUMBER (e.g. 新时代意见/12) or id.")],
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """List a recurring item's periods: each due day, and whether it was reported on time, late or is missing."""
    at, tz = resolve_now(now), settings().tz
    with open_session() as session:
        item = find_item(session, item_ref)
        assert item.id is not None
        ref, frequency, found = item_ref, item.frequency, item_periods(session, item.id, at, tz)
    if as_json:
        print_json({"item": ref, "frequency": frequency, "periods": [p.as_json() for p in found]})
        return
    if not found:
        console.print(_("{item} does not recur (no frequency).", item=ref))
        return
    words = {"on_time": _("reported on time"), "late": _("reported late"), "missing": _("not reported"),
             "open": _("to report")}
    table = Table(_("Reporting period"), _("Report due"), _("Reported on"), _("Report state"))
    for period in found:
        reported = period.fulfilled_at.astimezone(tz).date().isoformat() if period.fulfilled_at else ""
        table.add_row(f"{period.starts.isoformat()} – {period.ends.isoformat()}", period.due.isoformat(),
                      reported, words[period.state])
    console.print(table)
