"""The payload each action takes, from a form or a JSON body (the item itself: models.read.views)."""

from __future__ import annotations

from datetime import date
from typing import Any

from models.errors import InvalidInput
from models.lifecycle import Action


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
    if action is Action.URGE:
        return {"text": text("text")}
    return {"reason": text("reason")}
