"""Looking at the ledger: `duban items`, `duban show`, `duban report` (declared for Typer in
cli/view_cmds.py; cli.launch runs a plain command line of them without Typer)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from cli.common import (
    local,
    open_session,
    open_sqlite,
    print_json,
    resolve_now,
    settings,
    sqlite_path,
)
from cli.words import _, actor, level, local_time, locale, n_
from config.clock import parse_instant
from models.states import Status, UnitRole

if TYPE_CHECKING:
    from models.read.timeline import TimelineLine

# The read side (models.read) is imported by the command that runs: `report` on a SQLite file reads
# through models.read.counts without SQLAlchemy (0.3 s of its start-up, docs/benchmarks.md).

STATE_STYLE = {"overdue": "bold red", "awaiting_sign_off": "yellow", "signed_off": "green", "cancelled": "dim"}


def items(document: str | None = None, unit: str | None = None, unit_role: UnitRole = UnitRole.ANY,
          status: Status | None = None, overdue: bool = False, due_soon: bool = False, unacknowledged: bool = False,
          supervisor: str | None = None, limit: int = 0, now: str | None = None, as_json: bool = False,
          archived: bool = False) -> None:
    """List items, with the filters of the items page."""
    at, tz = resolve_now(now), settings().tz
    path = sqlite_path()
    filtered = document or unit or status or overdue or due_soon or unacknowledged or supervisor
    if path is not None and not filtered:  # read without SQLAlchemy (models.read.listed)
        from models.read.listed import sqlite_items, sqlite_items_json

        with open_sqlite(path) as connection:
            if as_json:  # written from the rows' columns (0.2 s less for 10k rows), print_json's characters
                sys.stdout.writelines(sqlite_items_json(connection, at, tz, archived=archived, limit=limit))
                sys.stdout.write("\n")
                return
            data = [row.as_dict() for row in sqlite_items(connection, at, tz, archived=archived, limit=limit)]
    else:
        from models.read.views import ItemQuery, list_rows

        query = ItemQuery(document=document or "", unit=unit or "", unit_role=unit_role, status=status,
                          overdue=overdue, due_soon=due_soon, unacknowledged=unacknowledged, sort="document",
                          per_page=limit or 1, archived=archived, supervisor=supervisor or "")
        with open_session() as session:
            data = [row.as_dict() for row in list_rows(session, None, query, at, tz, everything=not limit)]
    if as_json:
        print_json(data)
        return
    from rich.table import Table  # not for --json (0.02 s of its start)
    from rich.text import Text

    from cli.common import console

    table = Table(title=n_("{n} item", "{n} items", len(data)), title_justify="left")
    for column in (_("Id"), _("Item"), _("Title"), _("Lead unit"), _("Deadline"), _("Status")):
        table.add_column(column, overflow="fold")
    for row in data:
        style = STATE_STYLE.get(row["due_state"], "")
        shown = _(row["due_state"] if row["due_state"] == "overdue" else row["status"])
        if row["unacknowledged"]:
            shown = f"{shown} · {_('Unacknowledged')}"
        table.add_row(str(row["id"]), row["ref"], row["title"][:40], row["lead_unit"], row["deadline"],
                      Text(shown, style=style) if style else shown)
    console.print(table)


def show(item_ref: str, now: str | None = None, as_json: bool = False) -> None:
    """Show one item with its timeline."""
    at, tz = resolve_now(now), settings().tz
    path = sqlite_path()
    if path is not None:  # read without SQLAlchemy (models.read.shown)
        from models.read.shown import sqlite_item_detail

        with open_sqlite(path) as connection:
            detail = sqlite_item_detail(connection, item_ref, at, tz, locale())
    else:
        from models.queries import find_item
        from models.read.views import item_detail

        with open_session() as session:
            detail = item_detail(session, None, find_item(session, item_ref), at, tz, locale())
    events = list(reversed(detail["timeline"]))  # oldest first, as a log reads
    if as_json:
        keys = ("id", "ref", "document", "number", "title", "category", "lead_unit", "co_units")
        print_json({
            **{k: detail[k] for k in keys}, "supervisor": detail["supervisor_email"],
            "original_deadline": detail["original_deadline"].isoformat(), "deadline": detail["deadline"].isoformat(),
            "status": detail["status"], "due_state": detail["due_state"],
            "escalation_level": detail["escalation_level"], "version": detail["version"],
            "next_action_at": detail["next_action_at"].isoformat() if detail["next_action_at"] else None,
            "timeline": [{"kind": e["kind"], "at": e["at"].isoformat(), "actor": e["actor"], "from": e["from"],
                          "to": e["to"], "payload": e["payload"]} for e in events],
            "attachments": [{**a, "at": a["at"].isoformat()} for a in detail["attachments"]],
        })
        return
    from rich.text import Text

    from cli.common import console

    console.print(Text.assemble((detail["ref"], "bold"), "  ", detail["title"]))
    deadline = detail["deadline"].isoformat()
    if detail["deadline"] != detail["original_deadline"]:
        deadline += _(" (originally {deadline})", deadline=detail["original_deadline"].isoformat())
    state = _(detail["status"])
    if detail["due_state"] != detail["status"]:
        state = _("{status} ({due_state})", status=state, due_state=_(detail["due_state"]))
    fields = [(_("Lead unit"), detail["lead_unit"]), (_("Co-units"), "、".join(detail["co_units"]) or "-"),
              (_("Supervisor"), detail["supervisor"] or "-"),  # as the item page: the name, else the address
              (_("Status"), state),
              (_("Deadline"), deadline), (_("Escalation level"), level(detail["escalation_level"])),
              (_("Acknowledged"), "、".join(f"{a['unit']} ({_('ledger import') if a['by_import'] else local(a['at'])})"
                                                for a in detail["acknowledgements"])
               or _("not yet")),
              (_("Urged"), str(detail["urged"]))]
    for name, value in fields:
        console.print("  " + _("{name}: {value}", name=name, value=value), highlight=False)
    from rich.table import Table

    # The time is never folded; who and the details share the rest (an address with its role fits in
    # 120 columns, a detail such as "时限：2023-06-30" too).
    table = Table(title=_("Timeline"), title_justify="left", expand=True)
    table.add_column(_("When"), no_wrap=True)
    table.add_column(_("Event"), overflow="fold")
    table.add_column(_("Who"), overflow="fold", ratio=1)
    table.add_column(_("Details"), overflow="fold", ratio=1)
    for event in events:
        table.add_row(*timeline_row(event["line"]))
    console.print(table)
    for a in detail["attachments"]:
        console.print("  " + _("Evidence file: {name} ({size} bytes, sha256 {sha256})", name=a["name"], size=a["size"],
                                sha256=a["sha256"]), highlight=False)


def timeline_row(line: TimelineLine) -> tuple[str, str, str, str]:
    """One timeline entry as the table's columns (the words: models.read.timeline). Each detail on a
    line of its own: run together (with no space in Chinese) they were folded wherever the column
    ended, a date ("时限：20" / "23-06-30") as well as a sentence."""
    event = f"{line.event} → {line.change}" if line.change else line.event
    return local(line.at), event, actor(line.actor_label), "\n".join(line.details)


def report(now: str | None = None, as_json: bool = False) -> None:
    """The figures per document and per lead unit: total, signed off, rate, open, overdue, 未签收, 签收率, 催办, 按时报送率."""
    at = resolve_now(now)
    path = sqlite_path()
    if path is not None:
        from models.read.counts import sqlite_report

        with open_sqlite(path) as connection:
            data = sqlite_report(connection, at, settings().tz)
    else:
        from models.read.figures import build_report

        with open_session() as session:
            data = build_report(session, at, settings().tz)
    if as_json:
        print_json(data)
        return
    render_report(data)


WIDE_REPORT = 120  # columns a terminal needs for the report's figures in one table per grouping


def render_report(data: dict[str, Any]) -> None:
    """Print a report built by `models.read.figures.build_report` as Rich tables: one per document and
    lead unit, or on a terminal narrower than WIDE_REPORT two each (落实 figures, then 签收/催办/报送),
    so names and headers are never cut."""
    from cli.common import console

    as_of = local_time(parse_instant(data["as_of"]))

    def cells(row: dict[str, Any]) -> list[str]:
        waiting = row["acknowledged"] + row["unacknowledged"]
        return [str(row["total"]), str(row["signed_off"]), f"{row['rate']:.1f}%", str(row["open"]), str(row["overdue"]),
                str(row["unacknowledged"]), f"{row['acknowledge_rate']:.1f}%" if waiting else "-", str(row["urged"]),
                f"{row['on_time_rate']:.1f}%" if row["periods_due"] else "-"]

    columns = [_("Total"), _("Signed off"), _("Rate"), _("Open"), _("Overdue"), _("Unacknowledged"),
               _("Acknowledgement rate"), _("Urged"), _("On-time reporting rate")]
    overdue = columns.index(_("Overdue"))
    parts = [range(len(columns))] if console.width >= WIDE_REPORT else [range(5), range(5, len(columns))]
    for key, title, name in (("documents", _("By document (as of {as_of})", as_of=as_of), _("Document")),
                             ("units", _("By lead unit (as of {as_of})", as_of=as_of), _("Lead unit"))):
        for number, part in enumerate(parts):
            header = [name, *(columns[index] for index in part)]
            rows = [[row["unit" if key == "units" else "document"], *(shown[index] for index in part)]
                    for row in data[key] for shown in [cells(row)]]
            lines = plain_table(title if number == 0 else None, header, rows)
            if lines is not None:  # no colours to show: the same text as Rich's, laid out here
                console.file.write("".join(line + "\n" for line in lines))
                continue
            from rich.table import Table
            from rich.text import Text

            table = Table(title=title if number == 0 else None, title_justify="left")
            table.add_column(name, overflow="fold", min_width=8)
            for index in part:
                table.add_column(columns[index], justify="right")
            red = 1 + list(part).index(overdue) if overdue in part else None
            for row in rows:
                if red is not None and row[red] != "0":
                    row[red] = Text(row[red], style="red")
                table.add_row(*row)
            console.print(table)


FIRST_COLUMN_MIN = 8  # the name column's least width, padding left out (Rich's min_width)


def plain_table(title: str | None, header: list[str], rows: list[list[str]]) -> list[str] | None:
    """The lines Rich prints for the report's table (first column left, the others right, a left
    title) when it writes no colours and everything fits; None when Rich must lay it out itself
    (colours, a table wider than the console, a line break in a cell).

    Rich measures and wraps every cell, about 0.35 s for 500 units; this writes the same
    characters in a few milliseconds. tests/cli/test_report_table.py compares the two.
    """
    from rich.cells import cell_len

    from cli.common import console

    if console.color_system is not None or not rows:
        return None
    texts = [*header, *(cell for row in rows for cell in row), title or ""]
    if any("\n" in text for text in texts):  # markup and emoji are off (cli.common.AS_WRITTEN)
        return None
    widths = [max(cell_len(row[column]) for row in (header, *rows)) + 2 for column in range(len(header))]
    widths[0] = max(widths[0], FIRST_COLUMN_MIN + 2)
    width = sum(widths) + len(widths) + 1
    if width > console.width or (title is not None and cell_len(title) > width):
        return None

    def line(cells: list[str], edge: str, inner: str) -> str:
        shown = [f" {cells[0]}{' ' * (widths[0] - 2 - cell_len(cells[0]))} ",
                 *(f" {' ' * (w - 2 - cell_len(c))}{c} " for c, w in zip(cells[1:], widths[1:], strict=True))]
        return edge + inner.join(shown) + edge

    lines = [] if title is None else [title + " " * (width - cell_len(title))]
    lines.append("┏" + "┳".join("━" * w for w in widths) + "┓")
    lines.append(line(header, "┃", "┃"))
    lines.append("┡" + "╇".join("━" * w for w in widths) + "┩")
    lines.extend(line(row, "│", "│") for row in rows)
    lines.append("└" + "┴".join("─" * w for w in widths) + "┘")
    return lines
