"""Acting on a selection, item by item through `apply`: 销号 and 退回 of submitted items, 催办 of open ones.

A supervisor chooses items on /approvals (or an urger on /items), sees them again on a confirmation
step, and confirms: `decide` then takes each item as it was when they confirmed (its version) and
either applies the action through the lifecycle (one event per item, the audit trail, its mail) or
says why it did not: the item changed meanwhile, it is closed or no longer submitted, it is not
theirs, they may not see it (said exactly as for a missing item). One comment (sign-off), one reason
(return, required) or one message (urge, required) goes with every item. The caller commits once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from models.errors import ConflictError, DubanError, InvalidInput, NotFound
from models.lifecycle import Action, apply, check, item_ref
from models.read.filters import may_see
from models.tables import Item, Person

BULK_ACTIONS = (Action.SIGN_OFF, Action.RETURN, Action.URGE)


@dataclass(frozen=True)
class Chosen:
    """An item as the person saw it when they confirmed: its id and version."""

    item_id: int
    version: int


@dataclass(frozen=True)
class Outcome:
    """What became of one chosen item: done, or refused with the reason (`error`)."""

    item_id: int
    ref: str
    title: str
    error: DubanError | None = None

    @property
    def done(self) -> bool:
        return self.error is None


def check_request(action: Action, item_ids: Sequence[int], text: str) -> None:
    """Refuse a bulk request before anything is looked up: nothing chosen, an action that is not
    taken on a selection, a return without a reason, an urge without a message."""
    if action not in BULK_ACTIONS:
        raise InvalidInput(f"{action} is not a decision taken on several items at once",
                           code="bulk.not_bulk", params={"action": action})
    if not item_ids:
        raise InvalidInput("choose at least one item", code="bulk.none_chosen", params={"action": action})
    if action is Action.RETURN and not text.strip():
        raise InvalidInput("returning items needs a reason, which every returned item is given",
                           code="bulk.return_reason")
    if action is Action.URGE and not text.strip():
        raise InvalidInput("urging items needs a message, which every urged item's lead unit is sent",
                           code="bulk.urge_text")


def _payload(action: Action, text: str) -> dict[str, str | None]:
    """The one text as the action's field: a sign-off's comment, a return's reason, an urge's text."""
    if action is Action.SIGN_OFF:
        return {"comment": text.strip() or None}
    return {"reason": text.strip()} if action is Action.RETURN else {"text": text.strip()}


def decide(session: Session, action: Action, actor: Person, now: datetime, chosen: Sequence[Chosen],
           text: str = "") -> list[Outcome]:
    """Sign off, return or urge each chosen item (`text`: the one comment, reason or message), or say why not."""
    check_request(action, [c.item_id for c in chosen], text)
    payload = _payload(action, text)
    outcomes: list[Outcome] = []
    for pick in dict.fromkeys(chosen):
        item = session.get(Item, pick.item_id)
        if item is None or not may_see(session, actor, item):
            missing = NotFound(f"no item with id {pick.item_id}", code="item.not_found", params={"id": pick.item_id})
            outcomes.append(Outcome(pick.item_id, str(pick.item_id), "", missing))
            continue
        ref = item_ref(session, item)
        error = _stale(item, pick, ref) or check(session, item, action, actor, now, dict(payload))
        if error is None:
            apply(session, item, action, actor, now, **payload)
        outcomes.append(Outcome(pick.item_id, ref, item.title, error))
    return outcomes


def _stale(item: Item, pick: Chosen, ref: str) -> DubanError | None:
    """The item changed after the person chose it: they decided on what they saw, so it is left alone."""
    if item.version == pick.version:
        return None
    return ConflictError(f"{ref} changed after you chose it (it is {item.status} now); left as it is",
                         code="bulk.changed_meanwhile", params={"ref": ref, "status": item.status})
