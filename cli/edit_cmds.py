"""Editing an item (supervisors, admins), 批示 (leaders) and 留言 (anyone who can see the item)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.lifecycle_cmds import ByOption, ItemArg, _deadline, act
from cli.options import NowOption
from models.lifecycle import Action

TextOption = Annotated[str, typer.Option("--text")]


def register(app: typer.Typer) -> None:
    app.command("edit")(edit)
    app.command("instruct")(instruct)
    app.command("comment")(comment)


def edit(
    item: ItemArg, by: ByOption,
    title: Annotated[str | None, typer.Option(help="The new title.")] = None,
    deadline: Annotated[str | None, typer.Option(help="The new deadline, e.g. 2024-09-30 (needs --reason).")] = None,
    reason: Annotated[str | None, typer.Option(help="Why the deadline moves.")] = None,
    lead: Annotated[str | None, typer.Option("--lead", help="The new lead unit (name or code).")] = None,
    co_units: Annotated[str | None, typer.Option("--co-units", help="The co-units, comma-separated (empty: none).")] = None,
    supervisor: Annotated[str | None, typer.Option(help="The new supervisor's email.")] = None,
    category: Annotated[str | None, typer.Option(help="The new category.")] = None,
    frequency: Annotated[str | None, typer.Option(
        help="频次, e.g. 每季度, 每月25日前, 每季度首月10日前 or quarterly; empty: the item does not recur.")] = None,
    now: NowOption = None,
) -> None:
    """Change an open item (supervisors and admins): one `edited` event naming old and new values."""
    act(item, Action.EDIT, by, now, title=title, deadline=_deadline(deadline) if deadline else None,
        reason=reason, lead_unit=lead, supervisor=supervisor, category=category, frequency=frequency,
        co_units=[u.strip() for u in co_units.replace("，", ",").split(",") if u.strip()] if co_units is not None else None)


def instruct(item: ItemArg, by: ByOption, text: TextOption, now: NowOption = None) -> None:
    """批示: a leader's instruction, mailed to the lead unit and the supervisor."""
    act(item, Action.INSTRUCT, by, now, text=text)


def comment(item: ItemArg, by: ByOption, text: TextOption, now: NowOption = None) -> None:
    """留言: a comment in the item's timeline; the other parties are mailed once a delivery run."""
    act(item, Action.COMMENT, by, now, text=text)
