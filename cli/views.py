"""Looking at the ledger: `duban items`, `duban show`, `duban report`."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from cli.common import (
    JsonOption,
    NowOption,
    console,
    local,
    open_session,
    print_json,
    resolve_now,
    settings,
)
from cli.words import _, actor, details, level, n_
from models.attachments import attachments_of
from models.deadlines import due_state
from models.queries import ItemFilter, co_unit_names, find_item, list_items, timeline
from models.report import build_report
from models.tables import Document, Person, Status, Unit

STATE_STYLE = {"overdue": "bold red", "awaiting_sign_off": "yellow", "signed_off": "green", "cancelled": "dim"}


def register(app: typer.Typer) -> None:
    app.command("items")(items)
    app.command("show")(show)
    app.command("report")(report)


def items(
    document: Annotated[str | None, typer.Option(help="Only this document (short name).")] = None,
    unit: Annotated[str | None, typer.Option(help="Only items where this unit (name or code) is lead or co-unit.")] = None,
    status: Annotated[Status | None, typer.Option(help="Only items in this state.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue items.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many rows (0: all).")] = 0,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """List items, with filters."""
    at, tz = resolve_now(now), settings().tz
    with open_session() as session:
        rows = list_items(session, ItemFilter(document, unit, status, overdue), at, tz, limit or None)
        data: list[dict[str, Any]] = [
            {
                "id": item.id, "ref": f"{doc.short_name}/{item.number}", "title": item.title,
                "lead_unit": lead.name, "deadline": item.deadline.isoformat(), "status": item.status,
                "due_state": due_state(item.status, item.deadline, at, tz), "escalation_level": item.escalation_level,
            }
            for item, doc, lead in rows
        ]
    if as_json:
        print_json(data)
        return
    table = Table(title=n_("{n} item", "{n} items", len(data)), title_justify="left")
    for column in (_("Id"), _("Item"), _("Title"), _("Lead unit"), _("Deadline"), _("Status")):
        table.add_column(column, overflow="fold")
    for row in data:
        style = STATE_STYLE.get(row["due_state"], "")
        shown = _(row["due_state"] if row["due_state"] == "overdue" else row["status"])
        table.add_row(str(row["id"]), row["ref"], row["title"][:40], row["lead_unit"], row["deadline"],
                      f"[{style}]{shown}[/]" if style else shown)
    console.print(table)


def show(
    item_ref: Annotated[str, typer.Argument(metavar="ITEM", help="DOCUMENT/NUMBER (e.g. 新时代意见/12) or id.")],
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one item with its timeline."""
    at, tz = resolve_now(now), settings().tz
    with open_session() as session:
        item = find_item(session, item_ref)
        document = session.get(Document, item.document_id)
        lead = session.get(Unit, item.lead_unit_id)
        supervisor = session.get(Person, item.supervisor_id) if item.supervisor_id else None
        data: dict[str, Any] = {
            "id": item.id, "ref": f"{document.short_name}/{item.number}", "document": document.short_name,  # type: ignore[union-attr]
            "number": item.number, "title": item.title, "category": item.category,
            "lead_unit": lead.name, "co_units": co_unit_names(session, item),  # type: ignore[union-attr]
            "supervisor": supervisor.email if supervisor else None,
            "original_deadline": item.original_deadline.isoformat(), "deadline": item.deadline.isoformat(),
            "status": item.status, "due_state": due_state(item.status, item.deadline, at, tz),
            "escalation_level": item.escalation_level, "version": item.version,
            "next_action_at": item.next_action_at.isoformat() if item.next_action_at else None,
            "timeline": [
                {"kind": e.kind, "at": e.at.isoformat(), "actor": e.actor_label, "from": e.from_status,
                 "to": e.to_status, "payload": e.payload}
                for e in timeline(session, item)
            ],
            "attachments": [{"id": a.id, "name": a.name, "size": a.size, "sha256": a.sha256,
                             "content_type": a.content_type, "event_id": a.event_id, "at": a.at.isoformat()}
                            for a in attachments_of(session, item)],
        }
    if as_json:
        print_json(data)
        return
    console.print(f"[bold]{data['ref']}[/]  {data['title']}")
    deadline = data["deadline"]
    if deadline != data["original_deadline"]:
        deadline += _(" (originally {deadline})", deadline=data["original_deadline"])
    state = _(data["status"])
    if data["due_state"] != data["status"]:
        state = _("{status} ({due_state})", status=state, due_state=_(data["due_state"]))
    fields = [(_("Lead unit"), data["lead_unit"]), (_("Co-units"), "、".join(data["co_units"]) or "-"),
              (_("Supervisor"), data["supervisor"] or "-"),
              (_("Status"), state),
              (_("Deadline"), deadline), (_("Escalation level"), level(data["escalation_level"]))]
    for name, value in fields:
        console.print("  " + _("{name}: {value}", name=name, value=value), highlight=False)
    table = Table(title=_("Timeline"), title_justify="left")
    for column in (_("When"), _("Event"), _("Who"), _("Details")):
        table.add_column(column, overflow="fold")
    for event in timeline_rows(data["timeline"]):
        table.add_row(*event)
    console.print(table)
    for a in data["attachments"]:
        console.print("  " + _("Evidence file: {name} ({size} bytes, sha256 {sha256})", name=a["name"], size=a["size"],
                                sha256=a["sha256"]), highlight=False)


def timeline_rows(events: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    from config.clock import parse_instant

    return [(local(parse_instant(e["at"])), _(e["kind"]), actor(e["actor"]), details(e["payload"]))
            for e in events]


def report(now: NowOption = None, as_json: JsonOption = False) -> None:
    """The figures per document and per lead unit: total, signed off, rate, open, overdue."""
    at = resolve_now(now)
    with open_session() as session:
        data = build_report(session, at, settings().tz)
    if as_json:
        print_json(data)
        return
    render_report(data)


def render_report(data: dict[str, Any]) -> None:
    """Print a report built by `models.report.build_report` as two Rich tables."""
    as_of = data["as_of"][:16]
    for key, title, name in (("documents", _("By document (as of {as_of})", as_of=as_of), _("Document")),
                             ("units", _("By lead unit (as of {as_of})", as_of=as_of), _("Lead unit"))):
        table = Table(title=title, title_justify="left")
        table.add_column(name)
        for column in (_("Total"), _("Signed off"), _("Rate"), _("Open"), _("Overdue")):
            table.add_column(column, justify="right")
        for row in data[key]:
            overdue = f"[red]{row['overdue']}[/]" if row["overdue"] else "0"
            table.add_row(row["unit" if key == "units" else "document"], str(row["total"]), str(row["signed_off"]),
                          f"{row['rate']:.1f}%", str(row["open"]), overdue)
        console.print(table)
