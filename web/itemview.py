"""The payload each action takes, from a form or a JSON body (the item itself: models.read.views)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from models.errors import InvalidInput
from models.lifecycle import Action

_LIST = re.compile(r"[,，、;；]")


def action_payload(action: Action, fields: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments `apply` takes for `action`, from a form or a JSON body."""
    def text(name: str) -> str:
        return str(fields.get(name) or "").strip()

    if action is Action.REPORT_PROGRESS:
        percent = fields.get("percent")
        if percent in (None, ""):
            return {"text": text("text"), "percent": None}
        try:
            return {"text": text("text"), "percent": int(percent)}
        except (TypeError, ValueError):
            raise InvalidInput(f"percent must be a whole number from 0 to 100, not {percent!r}",
                               code="progress.percent_invalid", params={"percent": str(percent)}) from None
    if action is Action.SUBMIT:
        return {"evidence": text("evidence")}
    if action is Action.REQUEST_EXTENSION:
        raw = fields.get("deadline")
        if isinstance(raw, date):
            return {"deadline": raw, "reason": text("reason")}
        try:
            return {"deadline": date.fromisoformat(str(raw or "").strip()), "reason": text("reason")}
        except ValueError:
            raise InvalidInput(f"the new deadline must be a date like 2024-09-30, not {raw!r}",
                               code="extension.bad_date", params={"deadline": str(raw or "")}) from None
    if action is Action.SIGN_OFF:
        return {"comment": text("comment") or None}
    if action is Action.ACKNOWLEDGE:
        return {}
    if action in (Action.URGE, Action.INSTRUCT, Action.COMMENT):
        return {"text": text("text")}
    if action is Action.EDIT:
        return edit_payload(fields)
    return {"reason": text("reason")}


def edit_payload(fields: dict[str, Any]) -> dict[str, Any]:
    """An edit form (prefilled with the item's values; an unchanged field changes nothing) or JSON body.
    An empty supervisor, lead unit or deadline means "leave as it is"; co-units are a list or
    a comma/顿号-separated text (empty: none); an empty frequency means the item does not recur."""
    def given(name: str) -> str | None:
        value = str(fields.get(name) or "").strip()
        return value or None

    co = fields.get("co_units")
    raw = fields.get("deadline")
    deadline = raw if isinstance(raw, date) else None
    if deadline is None and given("deadline"):
        try:
            deadline = date.fromisoformat(str(raw).strip())
        except ValueError:
            raise InvalidInput(f"the new deadline must be a date like 2024-09-30, not {raw!r}",
                               code="extension.bad_date", params={"deadline": str(raw)}) from None
    return {
        "title": given("title"), "category": None if fields.get("category") is None else str(fields["category"]),
        "deadline": deadline, "reason": given("reason"), "lead_unit": given("lead_unit"),
        "supervisor": given("supervisor"),
        "frequency": None if fields.get("frequency") is None else str(fields["frequency"]),
        "co_units": None if co is None else [u.strip() for u in (co if isinstance(co, list) else _LIST.split(str(co)))
                                             if str(u).strip()],
    }
